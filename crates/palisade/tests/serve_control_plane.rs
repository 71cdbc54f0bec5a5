//! End to end on the real control plane (`scripts/control-plane`): `palisade serve` runs on
//! 127.0.0.1 with a CA it generates itself (`--self-signed`); both webhook configurations are
//! registered in the test kube-apiserver with `clientConfig.url`; kubectl then meets them.

use std::io::Read;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use palisade_testkit::{ControlPlane, KillOnDrop as Server, control_plane, free_port};
use serde_json::Value;

fn start_server(dir: &Path, port: u16) -> Server {
    std::fs::write(
        dir.join("palisade.yaml"),
        "serve:\n  unsafe-fixes: true\n  namespaces:\n    e2e-warn: warn\n",
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["serve", "--self-signed", "--dns-name", "127.0.0.1"])
        .arg("--tls-cert")
        .arg(dir.join("tls.crt"))
        .arg("--tls-key")
        .arg(dir.join("tls.key"))
        .arg("--ca-cert-out")
        .arg(dir.join("ca.crt"))
        .arg("--config")
        .arg(dir.join("palisade.yaml"))
        .arg("--decision-log")
        .arg(dir.join("decisions.jsonl"))
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("-j2")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = server.0.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = server.0.stderr.take() {
                e.read_to_string(&mut err).ok();
            }
            panic!("palisade serve exited ({status}): {err}");
        }
        assert!(Instant::now() < deadline, "palisade serve did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

fn webhooks(port: u16, ca_bundle: &str) -> String {
    let rules = r#"
    rules:
      - apiGroups: [""]
        apiVersions: [v1]
        operations: [CREATE, UPDATE]
        resources: [pods]
      - apiGroups: [apps]
        apiVersions: [v1]
        operations: [CREATE, UPDATE]
        resources: [deployments]"#;
    format!(
        r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: palisade-e2e
webhooks:
  - name: validate.palisade.dev
    admissionReviewVersions: [v1]
    sideEffects: None
    failurePolicy: Fail
    timeoutSeconds: 10
    clientConfig:
      url: https://127.0.0.1:{port}/validate
      caBundle: {ca_bundle}
    namespaceSelector:
      matchLabels:
        palisade-e2e: "true"{rules}
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: palisade-e2e
webhooks:
  - name: mutate.palisade.dev
    admissionReviewVersions: [v1]
    sideEffects: None
    failurePolicy: Fail
    reinvocationPolicy: IfNeeded
    timeoutSeconds: 10
    clientConfig:
      url: https://127.0.0.1:{port}/mutate
      caBundle: {ca_bundle}
    namespaceSelector:
      matchLabels:
        palisade-e2e: "true"{rules}
"#
    )
}

fn privileged_deployment(namespace: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: root-web
  namespace: {namespace}
spec:
  replicas: 1
  selector:
    matchLabels: {{app: root-web}}
  template:
    metadata:
      labels: {{app: root-web}}
    spec:
      containers:
        - name: web
          image: registry.example.com/web:1.0.0
          securityContext:
            privileged: true
"#
    )
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `kubectl create -f -` of `manifest`, as cluster-admin.
fn create(cp: &ControlPlane, manifest: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["create", "-f", "-"];
    args.extend_from_slice(extra);
    cp.kubectl_as(&cp.kubeconfig, &args, Some(manifest))
}

#[test]
fn webhook_on_the_real_api_server() {
    let cp = control_plane();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _server = start_server(dir.path(), port);
    let ca = std::fs::read(dir.path().join("ca.crt")).unwrap();
    let ca_bundle = base64::engine::general_purpose::STANDARD.encode(ca);

    cp.apply(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: e2e-enforce\n  labels:\n    palisade-e2e: \"true\"\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: e2e-warn\n  labels:\n    palisade-e2e: \"true\"\n",
    );
    cp.apply(&webhooks(port, &ca_bundle));

    // The API server picks webhook configurations up asynchronously: wait until a
    // server-side dry run (which runs admission, and stores nothing) is denied.
    let deadline = Instant::now() + Duration::from_secs(60);
    let denied = loop {
        let out = create(
            cp,
            &privileged_deployment("e2e-enforce"),
            &["--dry-run=server"],
        );
        if !out.status.success() {
            break text(&out);
        }
        assert!(
            Instant::now() < deadline,
            "the webhook never denied: {}",
            text(&out)
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    assert!(denied.contains("validate.palisade.dev"), "{denied}");

    // Enforced namespace: rejected with palisade's message.
    let out = create(cp, &privileged_deployment("e2e-enforce"), &[]);
    let message = text(&out);
    assert!(!out.status.success(), "{message}");
    assert!(
        message.contains("admission webhook \"validate.palisade.dev\" denied the request: palisade: Deployment e2e-enforce/root-web has "),
        "{message}"
    );
    assert!(
        message.contains(
            "- WKL001 critical spec.template.spec.containers[0].securityContext.privileged: container `web` runs privileged"
        ),
        "{message}"
    );
    let get = cp.kubectl(&["get", "deployment", "root-web", "-n", "e2e-enforce"]);
    assert!(!get.status.success(), "it was not stored: {}", text(&get));

    // Warn namespace: created, with the findings as warnings.
    let out = create(cp, &privileged_deployment("e2e-warn"), &[]);
    let output = text(&out);
    assert!(out.status.success(), "{output}");
    assert!(
        output.contains(
            "Warning: palisade WKL001 critical spec.template.spec.containers[0].securityContext.privileged"
        ),
        "{output}"
    );
    assert!(
        output.contains("deployment.apps/root-web created"),
        "{output}"
    );

    // A pod that says nothing about its security context, in the enforced namespace: the
    // mutating webhook hardens it on the way in, and the API holds the hardened version.
    let pod = r#"apiVersion: v1
kind: Pod
metadata:
  name: plain
  namespace: e2e-enforce
spec:
  containers:
    - name: app
      image: registry.example.com/app:2.1.0
      resources:
        requests: {cpu: 100m, memory: 64Mi}
        limits: {cpu: 500m, memory: 128Mi}
"#;
    let out = create(cp, pod, &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("Warning: palisade hardened the object: "),
        "{}",
        text(&out)
    );
    let out = cp.kubectl(&["get", "pod", "plain", "-n", "e2e-enforce", "-o", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let stored: Value = serde_json::from_slice(&out.stdout).unwrap();
    let sc = &stored["spec"]["containers"][0]["securityContext"];
    assert_eq!(sc["allowPrivilegeEscalation"], false, "{sc}");
    assert_eq!(sc["readOnlyRootFilesystem"], true, "{sc}");
    assert_eq!(sc["runAsNonRoot"], true, "{sc}");
    assert_eq!(
        sc["capabilities"]["drop"],
        serde_json::json!(["ALL"]),
        "{sc}"
    );

    // Every decision is in the log, with who asked.
    let log = std::fs::read_to_string(dir.path().join("decisions.jsonl")).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.iter().any(|l| {
        l["decision"] == "denied"
            && l["namespace"] == "e2e-enforce"
            && l["name"] == "root-web"
            && l["user"]["username"]
                .as_str()
                .is_some_and(|u| !u.is_empty())
    }));
    assert!(lines.iter().any(|l| l["endpoint"] == "mutate"
        && l["name"] == "plain"
        && l["patch_operations"].as_u64() > Some(0)));

    // Clean up what other tests of this binary could trip over.
    let _ = cp.kubectl(&["delete", "validatingwebhookconfiguration", "palisade-e2e"]);
    let _ = cp.kubectl(&["delete", "mutatingwebhookconfiguration", "palisade-e2e"]);
}
