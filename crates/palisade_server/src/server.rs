//! The HTTPS server: `/validate`, `/mutate`, `/healthz`, `/readyz`, `/metrics`.

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request as HttpRequest, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::{get, post};
use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;

use crate::log::{DecisionLine, DecisionLog, EventLine};
use crate::metrics::{
    DecisionLabels, EndpointLabels, FindingLabels, FixLabels, Metrics, RequestLabels,
};
use crate::policy::{Endpoint, Policy};
use crate::review;

/// Bodies larger than this are reviewed on the blocking pool, not on the async workers.
const BLOCKING_BYTES: usize = 256 * 1024;

/// How the server runs.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    pub listen: SocketAddr,
    pub tls_cert: PathBuf,
    pub tls_key: PathBuf,
    /// Requests with a larger body get 413.
    pub max_body_bytes: usize,
    /// How often the certificate files are checked for changes.
    pub reload_interval: Duration,
    /// How long a graceful shutdown waits for requests in progress.
    pub shutdown_grace: Duration,
    /// A body that takes longer than this to arrive gets 408, so a slow client cannot hold
    /// a worker (the API server gives a webhook at most 30 s, usually a few).
    pub body_timeout: Duration,
}

impl ServerOptions {
    pub fn new(listen: SocketAddr, tls_cert: PathBuf, tls_key: PathBuf) -> Self {
        Self {
            listen,
            tls_cert,
            tls_key,
            max_body_bytes: 8 * 1024 * 1024,
            reload_interval: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(20),
            body_timeout: Duration::from_secs(10),
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot load the TLS certificate {cert} and key {key}: {source}")]
    Tls {
        cert: String,
        key: String,
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

struct AppState {
    policy: Policy,
    metrics: Arc<Metrics>,
    log: Arc<DecisionLog>,
    ready: AtomicBool,
    max_body: usize,
    body_timeout: Duration,
}

/// A running server.
pub struct Running {
    /// The address it listens on (the real port when the options asked for port 0).
    pub addr: SocketAddr,
    handle: Handle<SocketAddr>,
    state: Arc<AppState>,
    grace: Duration,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    watcher: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops accepting, turns `/readyz` to 503, lets requests in progress finish (up to the
    /// grace period) and waits for the server to end.
    pub async fn shutdown(self) -> std::io::Result<()> {
        self.state.ready.store(false, Ordering::SeqCst);
        self.handle.graceful_shutdown(Some(self.grace));
        self.watcher.abort();
        match self.server.await {
            Ok(r) => r,
            Err(e) => Err(std::io::Error::other(e)),
        }
    }

    /// Waits until the server ends by itself (it does not, unless it fails).
    pub async fn wait(&mut self) -> std::io::Result<()> {
        match (&mut self.server).await {
            Ok(r) => r,
            Err(e) => Err(std::io::Error::other(e)),
        }
    }

    pub fn metrics(&self) -> &Metrics {
        &self.state.metrics
    }
}

/// Starts the server on the current tokio runtime.
pub async fn start(
    policy: Policy,
    options: ServerOptions,
    log: DecisionLog,
) -> Result<Running, ServerError> {
    crate::tls::install_crypto_provider();
    let tls = RustlsConfig::from_pem_file(&options.tls_cert, &options.tls_key)
        .await
        .map_err(|source| ServerError::Tls {
            cert: options.tls_cert.display().to_string(),
            key: options.tls_key.display().to_string(),
            source,
        })?;
    let listener =
        std::net::TcpListener::bind(options.listen).map_err(|source| ServerError::Listen {
            addr: options.listen,
            source,
        })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| ServerError::Listen {
            addr: options.listen,
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|source| ServerError::Listen {
            addr: options.listen,
            source,
        })?;
    let metrics = Arc::new(Metrics::new());
    let log = Arc::new(log);
    let state = Arc::new(AppState {
        policy,
        metrics: metrics.clone(),
        log: log.clone(),
        ready: AtomicBool::new(true),
        max_body: options.max_body_bytes,
        body_timeout: options.body_timeout,
    });
    let app = router(state.clone());
    let handle: Handle<SocketAddr> = Handle::new();
    // TCP_NODELAY: an answer goes out whole at once, not held back by Nagle's algorithm
    // waiting for the client's delayed ACK (a 40 ms stall per exchange otherwise).
    let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(tls.clone())
        .acceptor(axum_server::accept::NoDelayAcceptor::new());
    let server = axum_server::from_tcp(listener)
        .map_err(|source| ServerError::Listen {
            addr: options.listen,
            source,
        })?
        .acceptor(acceptor)
        .handle(handle.clone());
    let server = tokio::spawn(async move {
        server
            .serve(app.into_make_service_with_connect_info::<SocketAddr>())
            .await
    });
    let watcher = tokio::spawn(crate::tls::watch(
        tls,
        options.tls_cert.clone(),
        options.tls_key.clone(),
        options.reload_interval,
        metrics,
        log.clone(),
    ));
    log.write(&EventLine::new(
        "start",
        &format!(
            "listening on https://{addr} with {} rules, deny threshold {}",
            state.policy.rules(),
            state.policy.threshold()
        ),
    ));
    Ok(Running {
        addr,
        handle,
        state,
        grace: options.shutdown_grace,
        server,
        watcher,
    })
}

fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/validate", post(validate))
        .route("/mutate", post(mutate))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn readyz(State(s): State<Arc<AppState>>) -> HttpResponse {
    if s.ready.load(Ordering::SeqCst) {
        (StatusCode::OK, "ok\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response()
    }
}

async fn metrics(State(s): State<Arc<AppState>>) -> HttpResponse {
    let mut r = s.metrics.encode().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    r
}

async fn validate(State(s): State<Arc<AppState>>, req: HttpRequest) -> HttpResponse {
    admit(s, Endpoint::Validate, req).await
}

async fn mutate(State(s): State<Arc<AppState>>, req: HttpRequest) -> HttpResponse {
    admit(s, Endpoint::Mutate, req).await
}

fn plain(status: StatusCode, message: String) -> HttpResponse {
    (status, format!("{message}\n")).into_response()
}

/// Reads the body, within the size limit.
async fn read_body(s: &AppState, req: HttpRequest) -> Result<Bytes, (StatusCode, String)> {
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the request body is larger than the limit of {} bytes (--max-body-bytes)",
                s.max_body
            ),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > s.max_body as u64) {
        return Err(too_large());
    }
    let body: Body = req.into_body();
    let read = tokio::time::timeout(s.body_timeout, axum::body::to_bytes(body, s.max_body));
    let Ok(read) = read.await else {
        return Err((
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request body did not arrive within {:.1} s",
                s.body_timeout.as_secs_f64()
            ),
        ));
    };
    match read {
        Ok(b) => Ok(b),
        Err(e) => {
            let length_limit = std::error::Error::source(&e)
                .is_some_and(|src| src.to_string().contains("length limit"))
                || e.to_string().contains("length limit");
            if length_limit {
                Err(too_large())
            } else {
                Err((
                    StatusCode::BAD_REQUEST,
                    format!("the request body could not be read: {e}"),
                ))
            }
        }
    }
}

async fn admit(s: Arc<AppState>, endpoint: Endpoint, req: HttpRequest) -> HttpResponse {
    s.metrics.in_flight.inc();
    let response = match read_body(&s, req).await {
        Err((status, message)) => {
            count(&s, endpoint, "bad-request");
            s.log.write(&EventLine::new("bad-request", &message));
            plain(status, message)
        }
        Ok(body) => {
            if body.len() > BLOCKING_BYTES {
                let state = s.clone();
                match tokio::task::spawn_blocking(move || answer(&state, endpoint, &body)).await {
                    Ok(r) => r,
                    Err(e) => plain(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
                }
            } else {
                answer(&s, endpoint, &body)
            }
        }
    };
    s.metrics.in_flight.dec();
    response
}

fn count(s: &AppState, endpoint: Endpoint, outcome: &'static str) {
    s.metrics
        .requests
        .get_or_create(&RequestLabels {
            endpoint: endpoint.as_str(),
            outcome,
        })
        .inc();
}

fn json(bytes: Vec<u8>) -> HttpResponse {
    let mut r = (StatusCode::OK, bytes).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// Decodes, reviews and answers one AdmissionReview.
fn answer(s: &AppState, endpoint: Endpoint, body: &[u8]) -> HttpResponse {
    let started = Instant::now();
    let req = match review::decode(body) {
        Ok(r) => r,
        Err(e) => {
            s.log.write(&EventLine::new("bad-request", &e.message));
            return match &e.uid {
                // Well-formed enough to answer: the failure setting decides.
                Some(uid) => {
                    count(s, endpoint, "failed");
                    json(review::encode(
                        e.api_version,
                        uid,
                        &s.policy.failure(&e.message),
                    ))
                }
                None => {
                    count(s, endpoint, "bad-request");
                    plain(StatusCode::BAD_REQUEST, e.message)
                }
            };
        }
    };
    let decision =
        match std::panic::catch_unwind(AssertUnwindSafe(|| s.policy.review(endpoint, &req))) {
            Ok(d) => d,
            Err(_) => {
                let why = "internal error while reviewing the object".to_owned();
                let mut d = crate::policy::Decision {
                    response: s.policy.failure(&why),
                    outcome: crate::policy::Outcome::Failed,
                    mode: s.policy.serve().mode_for(req.namespace.as_deref()),
                    findings: Vec::new(),
                    blocking: 0,
                    suppressed: 0,
                    fixes: Vec::new(),
                    kept: 0,
                    note: None,
                };
                d.note = Some(why);
                d
            }
        };
    let bytes = review::encode(req.api_version, &req.uid, &decision.response);
    let elapsed = started.elapsed();
    let namespace = req.namespace.clone().unwrap_or_default();
    count(s, endpoint, decision.outcome.as_str());
    s.metrics
        .duration
        .get_or_create(&EndpointLabels {
            endpoint: endpoint.as_str(),
        })
        .observe(elapsed.as_secs_f64());
    s.metrics
        .decisions
        .get_or_create(&DecisionLabels {
            endpoint: endpoint.as_str(),
            outcome: decision.outcome.as_str(),
            mode: decision.mode.as_str(),
            namespace: namespace.clone(),
        })
        .inc();
    if endpoint == Endpoint::Validate {
        for (i, f) in decision.findings.iter().enumerate() {
            s.metrics
                .findings
                .get_or_create(&FindingLabels {
                    rule: f.code,
                    severity: f.severity.as_str(),
                    namespace: namespace.clone(),
                    blocking: if i < decision.blocking {
                        "true"
                    } else {
                        "false"
                    },
                })
                .inc();
        }
    } else if decision.response.patch.is_some() {
        for (code, _) in &decision.fixes {
            s.metrics
                .fixes
                .get_or_create(&FixLabels {
                    rule: code,
                    namespace: namespace.clone(),
                })
                .inc();
        }
    }
    s.log
        .write(&DecisionLine::new(endpoint, &req, &decision, elapsed));
    json(bytes)
}
