//! Load test: real HTTPS AdmissionReview requests on loopback, bounded in count and time.
//!
//! ```sh
//! cargo run --release -p palisade_server --example loadtest -- \
//!     [--requests 20000] [--concurrency 32] [--seconds 60] [--endpoint validate|mutate] \
//!     [--server-threads 2] [--client-threads 2] [--http1] [--url https://127.0.0.1:8443 --ca ca.crt]
//! ```
//!
//! Without `--url` it starts the server in this process on 127.0.0.1 (an ephemeral port, a
//! fresh CA from rcgen, the default policy, the decision log off), on its own runtime with
//! `--server-threads` workers; the client runs on another runtime. It sends a typical
//! Deployment (one container with probes, resources, ports, env and a volume) and checks that
//! every answer is an AdmissionReview for the request's uid. It prints throughput and latency
//! percentiles, measured at the client, from sending the request to the end of the answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use palisade_server::{DecisionLog, Policy, ServerOptions};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde_json::{Value, json};

struct Args {
    requests: usize,
    concurrency: usize,
    seconds: u64,
    endpoint: String,
    server_threads: usize,
    client_threads: usize,
    http1: bool,
    url: Option<String>,
    ca: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        requests: 20_000,
        concurrency: 32,
        seconds: 60,
        endpoint: "validate".into(),
        server_threads: 2,
        client_threads: 2,
        http1: false,
        url: None,
        ca: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        let num = |v: String| v.parse::<usize>().map_err(|e| format!("{v}: {e}"));
        match flag.as_str() {
            "--requests" => a.requests = num(value()?)?,
            "--concurrency" => a.concurrency = num(value()?)?.max(1),
            "--seconds" => a.seconds = num(value()?)? as u64,
            "--endpoint" => a.endpoint = value()?,
            "--server-threads" => a.server_threads = num(value()?)?.max(1),
            "--client-threads" => a.client_threads = num(value()?)?.max(1),
            "--http1" => a.http1 = true,
            "--url" => a.url = Some(value()?),
            "--ca" => a.ca = Some(value()?),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if !matches!(a.endpoint.as_str(), "validate" | "mutate") {
        return Err("--endpoint is validate or mutate".into());
    }
    if a.url.is_some() != a.ca.is_some() {
        return Err("--url and --ca go together".into());
    }
    Ok(a)
}

fn typical_deployment() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "checkout", "labels": {"app.kubernetes.io/name": "checkout", "app.kubernetes.io/part-of": "shop"}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "checkout"}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": "checkout", "app.kubernetes.io/part-of": "shop"}},
                "spec": {
                    "serviceAccountName": "checkout",
                    "securityContext": {"runAsNonRoot": true, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{
                        "name": "checkout",
                        "image": "registry.example.com/shop/checkout:2.14.1",
                        "ports": [{"name": "http", "containerPort": 8080}],
                        "env": [{"name": "LOG_LEVEL", "value": "info"},
                                {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "checkout-db", "key": "password"}}}],
                        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
                        "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 5},
                        "livenessProbe": {"httpGet": {"path": "/live", "port": "http"}, "periodSeconds": 10},
                        "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}},
                        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}]
                    }],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
                }
            }
        }
    })
}

fn review(uid: usize, object: &Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": format!("load-{uid}"),
            "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "namespace": "shop", "operation": "CREATE",
            "userInfo": {"username": "system:serviceaccount:ci:deployer"},
            "object": object, "oldObject": null, "dryRun": false
        }
    }))
    .unwrap_or_default()
}

fn client(ca_pem: &str, http1: bool) -> reqwest::Client {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()).flatten() {
        let _ = roots.add(cert);
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports the default versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = if http1 {
        vec![b"http/1.1".to_vec()]
    } else {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    };
    let mut b = reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .timeout(Duration::from_secs(10));
    if http1 {
        b = b.http1_only();
    }
    b.build().expect("the client builds")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("loadtest: {e}");
            std::process::exit(2);
        }
    };
    palisade_server::tls::install_crypto_provider();
    let dir = tempfile::tempdir().expect("a temporary folder");

    // The server, unless one is given.
    let server_rt;
    let (base, ca_pem) = match (&args.url, &args.ca) {
        (Some(url), Some(ca)) => (
            url.trim_end_matches('/').to_owned(),
            std::fs::read_to_string(ca).expect("--ca is readable"),
        ),
        _ => {
            let certs =
                palisade_server::tls::self_signed(&["127.0.0.1".to_owned()]).expect("certificates");
            let cert = dir.path().join("tls.crt");
            let key = dir.path().join("tls.key");
            std::fs::write(&cert, &certs.cert).expect("write the certificate");
            std::fs::write(&key, &certs.key).expect("write the key");
            server_rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(args.server_threads)
                .enable_all()
                .build()
                .expect("server runtime");
            let options = ServerOptions::new("127.0.0.1:0".parse().expect("addr"), cert, key);
            let running = server_rt
                .block_on(palisade_server::start(
                    Policy::new(None).expect("the default policy"),
                    options,
                    DecisionLog::off(),
                ))
                .expect("the server starts");
            let url = format!("https://127.0.0.1:{}", running.addr.port());
            std::mem::forget(running);
            (url, certs.ca_cert)
        }
    };
    let url = format!("{base}/{}", args.endpoint);
    let object = typical_deployment();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads)
        .enable_all()
        .build()
        .expect("client runtime");
    let c = client(&ca_pem, args.http1);
    // Warm up: connections, TLS sessions, first-use allocations.
    rt.block_on(async {
        for i in 0..50 {
            let _ = c.post(&url).body(review(i, &object)).send().await;
        }
    });
    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let latencies: Vec<Duration> = rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..args.concurrency {
            let (c, url, object) = (c.clone(), url.clone(), object.clone());
            let (next, errors) = (next.clone(), errors.clone());
            let total = args.requests;
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total || Instant::now() >= deadline {
                        break;
                    }
                    let body = review(i, &object);
                    let t = Instant::now();
                    let ok = match c.post(&url).body(body).send().await {
                        Ok(r) if r.status().is_success() => match r.bytes().await {
                            Ok(b) => serde_json::from_slice::<Value>(&b)
                                .is_ok_and(|v| v["response"]["uid"] == format!("load-{i}")),
                            Err(_) => false,
                        },
                        _ => false,
                    };
                    mine.push(t.elapsed());
                    if !ok {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                mine
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap_or_default());
        }
        all
    });
    let elapsed = started.elapsed();
    let mut sorted = latencies;
    sorted.sort();
    let n = sorted.len();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "endpoint /{}: {n} requests in {:.2} s, concurrency {}, {} errors, {}",
        args.endpoint,
        elapsed.as_secs_f64(),
        args.concurrency,
        errors.load(Ordering::Relaxed),
        if args.http1 { "HTTP/1.1" } else { "HTTP/2" }
    );
    println!(
        "throughput {:.0} reviews/s; latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        n as f64 / elapsed.as_secs_f64(),
        ms(percentile(&sorted, 0.50)),
        ms(percentile(&sorted, 0.90)),
        ms(percentile(&sorted, 0.99)),
        ms(sorted.last().copied().unwrap_or_default()),
    );
    if errors.load(Ordering::Relaxed) > 0 {
        std::process::exit(1);
    }
}
