//! The test control plane is a real one: PodSecurity admission, RBAC, the controller manager and
//! the audit log all work, and two of them can run side by side.

use palisade_testkit::{ControlPlane, control_plane, workspace_root};

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn serves_the_pinned_release() {
    let cp = control_plane();
    let out = cp.kubectl(&["version", "-o", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let version = text(&out);
    let pinned = cp.env("K8S_VERSION").expect("K8S_VERSION in env");
    assert!(
        version.contains(&format!("\"gitVersion\": \"v{pinned}\"")),
        "{version}"
    );
}

#[test]
fn pod_security_admission_rejects_privileged_pods_where_enforced() {
    let cp = control_plane();
    cp.apply(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: cp-restricted\n  labels:\n    pod-security.kubernetes.io/enforce: restricted\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: cp-open\n",
    );
    let pod = |ns: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: probe\n  namespace: {ns}\nspec:\n  containers:\n  - name: c\n    image: registry.k8s.io/pause:3.10\n    securityContext:\n      privileged: true\n"
        )
    };
    let create = |ns: &str| {
        cp.kubectl_as(
            &cp.kubeconfig,
            &["create", "--dry-run=server", "-f", "-"],
            Some(&pod(ns)),
        )
    };
    let restricted = create("cp-restricted");
    assert!(!restricted.status.success());
    assert!(
        text(&restricted).contains("violates PodSecurity \"restricted:latest\""),
        "{}",
        text(&restricted)
    );
    let open = create("cp-open");
    assert!(open.status.success(), "{}", text(&open));
}

#[test]
fn rbac_decides_for_other_users_and_requests_are_audited() {
    let cp = control_plane();
    let kubeconfig = cp.user_kubeconfig("jane", &["qa"]);
    let denied = cp.kubectl_as(&kubeconfig, &["get", "secrets", "-n", "default"], None);
    assert!(!denied.status.success());
    assert!(
        text(&denied).contains("User \"jane\" cannot list resource \"secrets\""),
        "{}",
        text(&denied)
    );
    cp.apply(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: jane-view\n  namespace: default\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: view\nsubjects:\n- kind: Group\n  name: qa\n  apiGroup: rbac.authorization.k8s.io\n",
    );
    let allowed = cp.kubectl_as(&kubeconfig, &["get", "pods", "-n", "default"], None);
    assert!(allowed.status.success(), "{}", text(&allowed));
    let audit = std::fs::read_to_string(&cp.audit_log).expect("audit log written");
    assert!(
        audit.contains("\"username\":\"jane\""),
        "jane's requests are audited"
    );
}

#[test]
fn the_controller_manager_runs_deployments() {
    let cp = control_plane();
    cp.apply(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: default\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: registry.k8s.io/pause:3.10\n",
    );
    let out = cp.kubectl(&[
        "wait",
        "--for=jsonpath={.status.replicas}=2",
        "deployment/web",
        "-n",
        "default",
        "--timeout=60s",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let pods = cp.kubectl(&[
        "get", "pods", "-n", "default", "-l", "app=web", "-o", "name",
    ]);
    assert_eq!(text(&pods).lines().count(), 2, "{}", text(&pods));
}

#[test]
fn two_control_planes_run_at_once_and_stop_cleanly() {
    let first = control_plane();
    let second = ControlPlane::start().expect("a second control plane starts");
    assert_ne!(first.url, second.url);
    let out = second.kubectl(&["get", "namespaces", "-o", "name"]);
    assert!(out.status.success(), "{}", text(&out));
    let status = std::process::Command::new(workspace_root().join("scripts/control-plane"))
        .arg("stop")
        .arg(&second.dir)
        .status()
        .expect("stop runs");
    assert!(status.success());
    assert!(!second.dir.exists(), "stop removes the state folder");
    let pid = second.env("APISERVER_PID").expect("APISERVER_PID");
    // Gone, or a zombie waiting for whoever adopted it to reap it.
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    assert!(
        state.is_empty() || state.contains(") Z "),
        "the API server process is gone: {state}"
    );
    let still = first.kubectl(&["get", "namespaces", "-o", "name"]);
    assert!(still.status.success(), "{}", text(&still));
}
