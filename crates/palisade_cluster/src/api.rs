//! The connection to the API server: kubeconfig rules, raw JSON requests, and a count of every
//! request made.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::Value;

/// Where the credentials come from.
#[derive(Clone, Debug, Default)]
pub struct Connect {
    /// A kubeconfig file; `None`: `$KUBECONFIG`, else `~/.kube/config`, else in-cluster.
    pub kubeconfig: Option<PathBuf>,
    /// A kubeconfig context; `None`: the current one.
    pub context: Option<String>,
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The API server answered with an error status.
    #[error("{code} {reason}: {message}")]
    Status {
        code: u16,
        reason: String,
        message: String,
    },
    /// The request did not get an answer, or the answer was not what the API promises.
    #[error("{0}")]
    Transport(String),
}

impl ApiError {
    pub fn code(&self) -> Option<u16> {
        match self {
            ApiError::Status { code, .. } => Some(*code),
            ApiError::Transport(_) => None,
        }
    }

    pub fn message(&self) -> String {
        match self {
            ApiError::Status { message, .. } => message.clone(),
            ApiError::Transport(m) => m.clone(),
        }
    }

    fn from_kube(e: kube::Error) -> Self {
        match e {
            kube::Error::Api(s) => ApiError::Status {
                code: s.code,
                reason: s.reason.clone(),
                message: s.message.clone(),
            },
            other => ApiError::Transport(format!("{other}")),
        }
    }
}

/// The kube configuration by the usual rules.
pub async fn load_config(connect: &Connect) -> Result<Config, String> {
    let options = KubeConfigOptions {
        context: connect.context.clone(),
        cluster: None,
        user: None,
    };
    match (&connect.kubeconfig, &connect.context) {
        (Some(path), _) => {
            let kc = Kubeconfig::read_from(path)
                .map_err(|e| format!("cannot read kubeconfig {}: {e}", path.display()))?;
            Config::from_custom_kubeconfig(kc, &options)
                .await
                .map_err(|e| format!("kubeconfig {}: {e}", path.display()))
        }
        (None, Some(_)) => Config::from_kubeconfig(&options)
            .await
            .map_err(|e| format!("kubeconfig: {e}")),
        (None, None) => Config::infer().await.map_err(|e| {
            format!("no cluster to connect to (no $KUBECONFIG, ~/.kube/config or in-cluster ServiceAccount): {e}")
        }),
    }
}

/// A client that counts its requests.
pub struct Api {
    pub client: Client,
    pub config: Config,
    requests: AtomicUsize,
}

impl Api {
    pub fn new(config: Config) -> Result<Self, String> {
        let client = Client::try_from(config.clone())
            .map_err(|e| format!("cannot build a client for {}: {e}", config.cluster_url))?;
        Ok(Self {
            client,
            config,
            requests: AtomicUsize::new(0),
        })
    }

    /// Requests made so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// Counts a request made outside [`Api::get`]/[`Api::post`] (probes with their own client).
    pub fn count(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    pub async fn get(&self, path: &str) -> Result<Value, ApiError> {
        let request = http::Request::get(path)
            .header(http::header::ACCEPT, "application/json")
            .body(Vec::new())
            .map_err(|e| ApiError::Transport(format!("bad request {path}: {e}")))?;
        self.count();
        self.client
            .request::<Value>(request)
            .await
            .map_err(ApiError::from_kube)
    }

    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        let body = serde_json::to_vec(body).map_err(|e| ApiError::Transport(e.to_string()))?;
        let request = http::Request::post(path)
            .header(http::header::ACCEPT, "application/json")
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body)
            .map_err(|e| ApiError::Transport(format!("bad request {path}: {e}")))?;
        self.count();
        self.client
            .request::<Value>(request)
            .await
            .map_err(ApiError::from_kube)
    }
}
