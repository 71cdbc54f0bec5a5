//! The webhook over real TLS on 127.0.0.1: a CA and serving certificate made with rcgen, an
//! HTTPS client (reqwest on rustls with ring) that trusts only that CA.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use palisade_server::tls::Ca;
use palisade_server::{DecisionLog, Policy, Running, ServerOptions};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde_json::{Value, json};

struct Fixture {
    dir: tempfile::TempDir,
    ca: Ca,
    running: Option<Running>,
}

impl Fixture {
    fn cert(&self) -> PathBuf {
        self.dir.path().join("tls.crt")
    }
    fn key(&self) -> PathBuf {
        self.dir.path().join("tls.key")
    }
    fn log(&self) -> PathBuf {
        self.dir.path().join("decisions.jsonl")
    }
    fn url(&self, path: &str) -> String {
        let addr = self.running.as_ref().unwrap().addr;
        format!("https://127.0.0.1:{}{path}", addr.port())
    }
    fn log_lines(&self) -> Vec<Value> {
        std::fs::read_to_string(self.log())
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("every decision line is JSON"))
            .collect()
    }
}

fn names() -> Vec<String> {
    vec!["localhost".into(), "127.0.0.1".into()]
}

async fn start(config: &str, max_body: Option<usize>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("test CA").unwrap();
    let (cert, key) = ca.serving(&names()).unwrap();
    std::fs::write(dir.path().join("tls.crt"), cert).unwrap();
    std::fs::write(dir.path().join("tls.key"), key).unwrap();
    let config = palisade_config::parse(config, "test.yaml", Path::new("/")).unwrap();
    let policy = Policy::new(Some(config)).unwrap();
    let mut options = ServerOptions::new(
        "127.0.0.1:0".parse().unwrap(),
        dir.path().join("tls.crt"),
        dir.path().join("tls.key"),
    );
    options.reload_interval = Duration::from_millis(100);
    options.shutdown_grace = Duration::from_secs(2);
    options.body_timeout = Duration::from_millis(800);
    if let Some(m) = max_body {
        options.max_body_bytes = m;
    }
    let log = std::fs::File::create(dir.path().join("decisions.jsonl")).unwrap();
    let running = palisade_server::start(policy, options, DecisionLog::new(Box::new(log)))
        .await
        .unwrap();
    Fixture {
        dir,
        ca,
        running: Some(running),
    }
}

fn client(ca_pem: &str) -> reqwest::Client {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

fn deployment(name: &str, security_context: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {"selector": {"matchLabels": {"app": name}}, "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"containers": [{
                "name": "app", "image": "registry.example.com/app:1.4.2",
                "securityContext": security_context,
                "resources": {"requests": {"cpu": "100m", "memory": "64Mi"},
                              "limits": {"cpu": "500m", "memory": "128Mi"}},
            }]}
        }}
    })
}

fn hardened_sc() -> Value {
    json!({
        "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
        "runAsNonRoot": true, "runAsUser": 10001, "privileged": false,
        "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}
    })
}

fn review(uid: &str, namespace: &str, object: Value) -> Value {
    json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "requestKind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "name": object["metadata"]["name"], "namespace": namespace,
            "operation": "CREATE",
            "userInfo": {"username": "alice", "groups": ["dev", "system:authenticated"]},
            "object": object, "oldObject": null, "dryRun": false,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}
        }
    })
}

async fn post(c: &reqwest::Client, url: &str, body: Vec<u8>) -> (u16, String) {
    let r = c
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

async fn admit(c: &reqwest::Client, url: &str, review: &Value) -> Value {
    let (status, text) = post(c, url, serde_json::to_vec(review).unwrap()).await;
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(v["kind"], "AdmissionReview");
    assert_eq!(v["response"]["uid"], review["request"]["uid"]);
    v["response"].clone()
}

const CONFIG: &str =
    "serve:\n  unsafe-fixes: true\n  namespaces:\n    legacy: warn\n    lab: dry-run\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_denies_allows_and_warns() {
    let mut fx = start(CONFIG, None).await;
    let c = client(&fx.ca.cert_pem);
    let url = fx.url("/validate");

    let privileged = deployment("web", json!({"privileged": true}));
    let r = admit(&c, &url, &review("u-1", "shop", privileged.clone())).await;
    assert_eq!(r["allowed"], false, "{r}");
    assert_eq!(r["status"]["code"], 403);
    let message = r["status"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("palisade: Deployment shop/web has "),
        "{message}"
    );
    assert!(
        message.contains(
            "- WKL001 critical spec.template.spec.containers[0].securityContext.privileged: container `app` runs privileged"
        ),
        "{message}"
    );
    assert!(message.contains("(fix: set `securityContext.privileged: false`"));

    let r = admit(
        &c,
        &url,
        &review("u-2", "shop", deployment("ok", hardened_sc())),
    )
    .await;
    assert_eq!(r["allowed"], true, "{r}");
    assert!(r.get("status").is_none());

    let r = admit(&c, &url, &review("u-3", "legacy", privileged.clone())).await;
    assert_eq!(r["allowed"], true, "{r}");
    let warnings: Vec<&str> = r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        warnings.iter().any(|w| w.starts_with(
            "palisade WKL001 critical spec.template.spec.containers[0].securityContext.privileged"
        )),
        "{warnings:?}"
    );

    let r = admit(&c, &url, &review("u-4", "lab", privileged)).await;
    assert_eq!(r["allowed"], true);
    assert!(r.get("warnings").is_none(), "{r}");

    fx.running.take().unwrap().shutdown().await.unwrap();
    let lines = fx.log_lines();
    let decisions: Vec<&Value> = lines.iter().filter(|l| l["event"] == "admission").collect();
    assert_eq!(decisions.len(), 4, "{lines:#?}");
    let d = decisions.iter().find(|l| l["uid"] == "u-1").unwrap();
    assert_eq!(d["decision"], "denied");
    assert_eq!(d["mode"], "enforce");
    assert_eq!(d["namespace"], "shop");
    assert_eq!(d["name"], "web");
    assert_eq!(d["user"]["username"], "alice");
    assert_eq!(d["kind"]["kind"], "Deployment");
    assert!(
        d["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "WKL001"
                && f["path"] == "spec.template.spec.containers[0].securityContext.privileged")
    );
    let would = decisions.iter().find(|l| l["uid"] == "u-4").unwrap();
    assert_eq!(would["decision"], "would-deny");
    assert_eq!(would["mode"], "dry-run");
    assert!(lines.iter().any(|l| l["event"] == "start"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutate_patches_only_what_is_missing() {
    let mut fx = start(CONFIG, None).await;
    let c = client(&fx.ca.cert_pem);
    let object = deployment("web", json!({"runAsNonRoot": false}));
    let r = admit(
        &c,
        &fx.url("/mutate"),
        &review("m-1", "shop", object.clone()),
    )
    .await;
    assert_eq!(r["allowed"], true);
    assert_eq!(r["patchType"], "JSONPatch");
    let patch = base64::engine::general_purpose::STANDARD
        .decode(r["patch"].as_str().unwrap())
        .unwrap();
    let patch: json_patch::Patch = serde_json::from_slice(&patch).unwrap();
    let mut patched = object.clone();
    json_patch::patch(&mut patched, &patch).unwrap();
    let sc = &patched["spec"]["template"]["spec"]["containers"][0]["securityContext"];
    assert_eq!(sc["allowPrivilegeEscalation"], false, "{sc}");
    assert_eq!(sc["readOnlyRootFilesystem"], true, "{sc}");
    assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]), "{sc}");
    assert_eq!(sc["runAsNonRoot"], false, "the user's value is kept: {sc}");
    // Nothing outside the fixes changes; the namespace the server saw is not written back.
    assert_eq!(patched["metadata"], object["metadata"]);
    for op in patch.0.iter() {
        let v = serde_json::to_value(op).unwrap();
        assert!(
            v["path"]
                .as_str()
                .unwrap()
                .starts_with("/spec/template/spec"),
            "{v}"
        );
    }
    assert!(r["warnings"].as_array().unwrap().iter().any(|w| {
        w.as_str()
            .unwrap()
            .starts_with("palisade hardened the object: ")
    }));
    // A hardened object needs no patch.
    let r = admit(
        &c,
        &fx.url("/mutate"),
        &review("m-2", "shop", deployment("ok", hardened_sc())),
    )
    .await;
    assert_eq!(r["allowed"], true);
    assert!(r.get("patch").is_none(), "{r}");
    fx.running.take().unwrap().shutdown().await.unwrap();
    let lines = fx.log_lines();
    let m1 = lines.iter().find(|l| l["uid"] == "m-1").unwrap();
    assert_eq!(m1["endpoint"], "mutate");
    assert!(m1["patch_operations"].as_u64().unwrap() >= 3, "{m1}");
    assert!(
        m1["fixes_kept_for_user_fields"].as_u64().unwrap() >= 1,
        "{m1}"
    );
}

/// A TLS connection to the server that trusts only the fixture's first CA.
async fn connect(fx: &Fixture) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(fx.ca.cert_pem.as_bytes()).unwrap())
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let addr = fx.running.as_ref().unwrap().addr;
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    connector
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap()
}

/// Sends raw bytes over TLS (for a body cut short) and returns what came back.
async fn raw(fx: &Fixture, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tls = connect(fx).await;
    tls.write_all(request).await.unwrap();
    tls.shutdown().await.ok();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tls.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_clean_answers_and_the_server_keeps_serving() {
    let mut fx = start("serve:\n  failure: allow\n", Some(64 * 1024)).await;
    let c = client(&fx.ca.cert_pem);
    let url = fx.url("/validate");
    let good = review("g", "shop", deployment("web", json!({"privileged": true})));

    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("empty", Vec::new(), 400, "truncated"),
        ("garbage", b"\x00\xffnot json".to_vec(), 400, "not JSON"),
        (
            "truncated",
            serde_json::to_vec(&good).unwrap()[..200].to_vec(),
            400,
            "truncated",
        ),
        ("array", b"[1,2]".to_vec(), 400, "not a JSON object"),
        (
            "wrong kind",
            br#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"}}"#.to_vec(),
            400,
            "not served",
        ),
        (
            "deep",
            "[".repeat(50_000).into_bytes(),
            400,
            "recursion limit",
        ),
    ];
    for (name, body, status, needle) in cases {
        let (got, text) = post(&c, &url, body).await;
        assert_eq!(got, status, "{name}: {text}");
        assert!(text.contains(needle), "{name}: {text}");
    }

    // A request with a uid but an object that is not one: an AdmissionReview, by the
    // failure setting (allow here), with the reason as a warning.
    let mut odd = good.clone();
    odd["request"]["object"] = json!("a string");
    let r = admit(&c, &url, &odd).await;
    assert_eq!(r["allowed"], true);
    assert!(r["warnings"][0].as_str().unwrap().contains("not an object"));
    let mut kindless = good.clone();
    kindless["request"]["object"] = json!({"metadata": {"name": "x"}});
    let r = admit(&c, &url, &kindless).await;
    assert_eq!(r["allowed"], true);
    assert!(
        r["warnings"][0]
            .as_str()
            .unwrap()
            .contains("no `apiVersion` and `kind`")
    );

    // Wrong method, unknown path.
    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 405);
    let r = c.get(fx.url("/nope")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);

    // A body cut short: the connection ends before Content-Length bytes arrive.
    let head = format!(
        "POST /validate HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 5000\r\n\r\n{}",
        &serde_json::to_string(&good).unwrap()[..300]
    );
    let answer = raw(&fx, head.as_bytes()).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 400"),
        "{answer}"
    );
    // A body over the limit with no declared length (chunked): 413 once the limit is passed.
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut tls = connect(&fx).await;
        let chunk = vec![b' '; 70 * 1024];
        let mut request = format!(
            "POST /validate HTTP/1.1\r\nhost: localhost\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n",
            chunk.len()
        )
        .into_bytes();
        request.extend_from_slice(&chunk);
        request.extend_from_slice(b"\r\n");
        tls.write_all(&request).await.unwrap();
        let mut got = Vec::new();
        let mut buf = vec![0u8; 4096];
        while !String::from_utf8_lossy(&got).contains("(--max-body-bytes)") {
            let n = tokio::time::timeout(Duration::from_secs(10), tls.read(&mut buf))
                .await
                .expect("answered")
                .unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        let answer = String::from_utf8_lossy(&got);
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(
            answer.contains("larger than the limit of 65536 bytes"),
            "{answer}"
        );
    }
    // A body that stops arriving (the connection stays open): 408 after the body timeout.
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut tls = connect(&fx).await;
        let head = "POST /validate HTTP/1.1\r\nhost: localhost\r\ncontent-length: 5000\r\n\r\n{\"apiVersion\"";
        tls.write_all(head.as_bytes()).await.unwrap();
        let mut got = Vec::new();
        let mut buf = vec![0u8; 4096];
        while !String::from_utf8_lossy(&got).contains(" s\n") {
            let n = tokio::time::timeout(Duration::from_secs(10), tls.read(&mut buf))
                .await
                .expect("answered within the body timeout")
                .unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        let answer = String::from_utf8_lossy(&got);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("did not arrive within 0.8 s"), "{answer}");
    }
    // A declared length over the limit is refused before the body is read.
    let head = "POST /validate HTTP/1.1\r\nhost: localhost\r\ncontent-length: 99999999\r\n\r\n";
    let answer = raw(&fx, head.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // Still serving, and still deciding correctly.
    let r = admit(&c, &url, &good).await;
    assert_eq!(r["allowed"], false);
    let health = c.get(fx.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);

    let metrics = c
        .get(fx.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            r#"palisade_admission_requests_total{endpoint="validate",outcome="bad-request"} "#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            r#"palisade_admission_requests_total{endpoint="validate",outcome="failed"} 2"#
        )
    );
    fx.running.take().unwrap().shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_decisions_findings_and_latency() {
    let mut fx = start(CONFIG, None).await;
    let c = client(&fx.ca.cert_pem);
    let privileged = deployment("web", json!({"privileged": true}));
    admit(
        &c,
        &fx.url("/validate"),
        &review("a", "shop", privileged.clone()),
    )
    .await;
    admit(
        &c,
        &fx.url("/validate"),
        &review("b", "legacy", privileged.clone()),
    )
    .await;
    admit(&c, &fx.url("/mutate"), &review("c", "shop", privileged)).await;
    let r = c.get(fx.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = r.text().await.unwrap();
    for needle in [
        r#"palisade_admission_requests_total{endpoint="validate",outcome="denied"} 1"#,
        r#"palisade_admission_requests_total{endpoint="validate",outcome="allowed"} 1"#,
        r#"palisade_admission_requests_total{endpoint="mutate",outcome="allowed"} 1"#,
        r#"palisade_admission_decisions_total{endpoint="validate",outcome="denied",mode="enforce",namespace="shop"} 1"#,
        r#"palisade_admission_decisions_total{endpoint="validate",outcome="allowed",mode="warn",namespace="legacy"} 1"#,
        r#"palisade_admission_findings_total{rule="WKL001",severity="critical",namespace="shop",blocking="true"} 1"#,
        r#"palisade_admission_request_duration_seconds_count{endpoint="validate"} 2"#,
        r#"palisade_admission_request_duration_seconds_bucket{le="+Inf",endpoint="mutate"} 1"#,
        "# TYPE palisade_admission_request_duration_seconds histogram",
        "# EOF",
    ] {
        assert!(text.contains(needle), "{needle}\n{text}");
    }
    assert!(
        text.contains(r#"palisade_admission_fixes_total{rule=""#),
        "{text}"
    );
    let ready = c.get(fx.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    fx.running.take().unwrap().shutdown().await.unwrap();
}

/// `GET /healthz` on an open HTTP/1.1 connection, reading exactly one response.
async fn get_healthz(
    tls: &mut tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
) -> Result<(), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    tls.write_all(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .await
        .map_err(|e| e.to_string())?;
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.ends_with(b"\r\n\r\nok\n") {
        let n = tokio::time::timeout(Duration::from_secs(5), tls.read(&mut buf))
            .await
            .map_err(|_| "timed out".to_owned())?
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err(format!("closed: {}", String::from_utf8_lossy(&got)));
        }
        got.extend_from_slice(&buf[..n]);
    }
    if got.starts_with(b"HTTP/1.1 200") {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&got).into_owned())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_are_reloaded_when_the_files_change() {
    let mut fx = start(CONFIG, None).await;
    let old = client(&fx.ca.cert_pem);
    let health = fx.url("/healthz");
    assert_eq!(
        old.get(&health).send().await.unwrap().status().as_u16(),
        200
    );
    // A keep-alive connection opened before the rotation.
    let mut kept = connect(&fx).await;
    assert!(get_healthz(&mut kept).await.is_ok());

    // A half-written pair: reported, the old certificate stays.
    std::fs::write(fx.cert(), "-----BEGIN CERTIFICATE-----\nnope\n").unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        old.get(&health).send().await.unwrap().status().as_u16(),
        200
    );

    // Rotation to a certificate from another CA.
    let ca2 = Ca::new("rotated CA").unwrap();
    let (cert, key) = ca2.serving(&names()).unwrap();
    std::fs::write(fx.key(), key).unwrap();
    std::fs::write(fx.cert(), cert).unwrap();
    let new = client(&ca2.cert_pem);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(r) = new.get(&health).send().await {
            assert_eq!(r.status().as_u16(), 200);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new certificate was never served"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A client that trusts only the old CA no longer connects...
    assert!(old.get(&health).send().await.is_err());
    // ...but the connection opened before the rotation was not dropped.
    assert!(
        get_healthz(&mut kept).await.is_ok(),
        "the open connection was dropped"
    );
    let metrics = new
        .get(fx.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"palisade_tls_reloads_total{result="ok"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"palisade_tls_reloads_total{result="error"} "#));
    fx.running.take().unwrap().shutdown().await.unwrap();
    let lines = fx.log_lines();
    assert!(lines.iter().any(|l| l["event"] == "tls-reload"));
    assert!(lines.iter().any(|l| l["event"] == "tls-reload-error"));
}
