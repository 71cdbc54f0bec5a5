//! The old-TLS probe (CMP030) against real TLS servers: `openssl s_server` speaking only
//! TLS 1.1 must be reported, one speaking only TLS 1.2 and up must not.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use palisade_cluster::Api;
use palisade_cluster::probes::{ProbeResults, old_tls};
use palisade_testkit::{KillOnDrop as Server, free_port};

/// `openssl s_server` on a free port with a fresh self-signed certificate and `versions`.
fn server(dir: &std::path::Path, versions: &[&str]) -> (Server, u16) {
    let key = dir.join("key.pem");
    let crt = dir.join("crt.pem");
    if !crt.exists() {
        let out = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args(["-subj", "/CN=127.0.0.1", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&crt)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let port = free_port();
    let child = Command::new("openssl")
        .args(["s_server", "-accept", &format!("127.0.0.1:{port}")])
        .arg("-cert")
        .arg(&crt)
        .arg("-key")
        .arg(&key)
        .args(versions)
        .args(["-cipher", "DEFAULT:@SECLEVEL=0", "-www"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_server starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "s_server did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    (Server(child), port)
}

fn probe(port: u16) -> ProbeResults {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // The client is built inside the runtime: its connection pool needs one.
        let config = kube::Config::new(format!("https://127.0.0.1:{port}").parse().unwrap());
        let api = Api::new(config).unwrap();
        let mut out = ProbeResults::default();
        old_tls(&api, &mut out).await;
        out
    })
}

#[test]
fn a_server_that_speaks_tls_1_1_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, port) = server(dir.path(), &["-tls1_1"]);
    let out = probe(port);
    assert_eq!(out.problems, vec![], "{:?}", out.log);
    assert_eq!(out.findings.len(), 1, "{:?}", out.log);
    let f = &out.findings[0];
    assert_eq!(f.code, "CMP030");
    assert!(
        f.message.starts_with(&format!(
            "the API server at 127.0.0.1:{port} completed a TLS 1.1 handshake (cipher "
        )),
        "{}",
        f.message
    );
}

#[test]
fn a_server_that_requires_tls_1_2_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, port) = server(dir.path(), &["-no_tls1", "-no_tls1_1"]);
    let out = probe(port);
    assert_eq!(out.problems, vec![], "{:?}", out.log);
    assert!(out.findings.is_empty(), "{:?}", out.log);
    assert_eq!(
        out.log,
        vec![
            format!("TLS 1.1 handshake with 127.0.0.1:{port}: refused"),
            format!("TLS 1.0 handshake with 127.0.0.1:{port}: refused"),
        ]
    );
}
