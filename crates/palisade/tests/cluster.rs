//! `palisade cluster` against a real kube-apiserver, etcd and kube-controller-manager
//! (scripts/control-plane, shared by the tests of this binary): live objects, owner mapping,
//! the dry-run and access-review probes, the API server's flags, versions, and the messages of a
//! user with limited rights. Each test works in its own namespaces.

use std::path::{Path, PathBuf};
use std::process::Command as Std;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use palisade_testkit::{ControlPlane, control_plane};
use serde_json::Value;

/// Runs `palisade cluster ARGS --format json` with `kubeconfig`; (exit code, report, stderr).
fn audit(kubeconfig: &Path, args: &[&str]) -> (i32, Value, String) {
    let out = Command::cargo_bin("palisade")
        .unwrap()
        .env_remove("KUBECONFIG")
        .env("PALISADE_TODAY", "2026-11-28")
        .args(["cluster", "--no-config", "--format", "json", "--kubeconfig"])
        .arg(kubeconfig)
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: stdout {stdout}\nstderr {stderr}"));
    (out.status.code().unwrap_or(-1), report, stderr)
}

/// (code, severity, kind, namespace/name) of every finding, sorted.
fn summary(report: &Value) -> Vec<String> {
    let mut out: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let r = &f["resource"];
            format!(
                "{} {} {} {}/{}",
                f["code"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
                r["kind"].as_str().unwrap(),
                r["namespace"].as_str().unwrap_or("-"),
                r["name"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    out.sort();
    out
}

fn findings<'a>(report: &'a Value, code: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .collect()
}

fn wait_for(cp: &ControlPlane, what: &str, args: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = cp.kubectl(args);
        if out.status.success() && !String::from_utf8_lossy(&out.stdout).trim().is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

const SHOP: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: cl-open
---
apiVersion: v1
kind: Namespace
metadata:
  name: cl-locked
  labels:
    pod-security.kubernetes.io/enforce: restricted
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: cl-locked
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: cl-open
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27.3
          securityContext:
            privileged: true
---
apiVersion: v1
kind: Pod
metadata:
  name: lonely
  namespace: cl-open
  labels: {app: lonely}
spec:
  hostNetwork: true
  containers:
    - name: lonely
      image: busybox:1.37.0
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: secret-reader
  namespace: cl-open
rules:
  - apiGroups: [""]
    resources: [secrets]
    verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: default-reads-secrets
  namespace: cl-open
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: secret-reader
subjects:
  - kind: ServiceAccount
    name: default
    namespace: cl-open
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: default
  namespace: cl-locked
automountServiceAccountToken: false
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: cl-locked
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        runAsGroup: 10001
        seccompProfile: {type: RuntimeDefault}
        appArmorProfile: {type: RuntimeDefault}
      containers:
        - name: web
          image: registry.example.com/shop/web:1.27.3@sha256:0b970013351304af46f322da1263516b188318682b2ab1091862497591189ff1
          imagePullPolicy: Always
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {cpu: 500m, memory: 256Mi}
          securityContext:
            privileged: false
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: [ALL]
"#;

#[test]
fn live_objects_probes_and_access_reviews() {
    let cp = control_plane();
    cp.apply(SHOP);
    // The controller manager creates the ReplicaSets and their pods: they are reported on the
    // Deployment, once.
    wait_for(
        cp,
        "the pod of Deployment cl-open/web",
        &[
            "get", "pods", "-n", "cl-open", "-l", "app=web", "-o", "name",
        ],
    );
    wait_for(
        cp,
        "the pod of Deployment cl-locked/web",
        &[
            "get",
            "pods",
            "-n",
            "cl-locked",
            "-l",
            "app=web",
            "-o",
            "name",
        ],
    );
    wait_for(
        cp,
        "the default ServiceAccount of cl-open",
        &[
            "get",
            "serviceaccount",
            "default",
            "-n",
            "cl-open",
            "-o",
            "name",
        ],
    );
    let (code, report, stderr) = audit(&cp.kubeconfig, &["-n", "cl-open", "-n", "cl-locked"]);
    assert_eq!(code, 1, "{report}\n{stderr}");
    assert_eq!(report["errors"], serde_json::json!([]), "{stderr}");
    let got = summary(&report);
    let expected: Vec<String> = EXPECTED.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(got, expected, "{stderr}");
    // Two ReplicaSets and their two pods: reported on their Deployments.
    assert!(
        stderr.contains("listed 14 objects (4 of them reported on their controllers)"),
        "{stderr}"
    );

    // Live objects have no file and no line, whether the finding comes from one object or
    // from the estate-wide rules; the kubectl command shows them.
    for f in report["findings"].as_array().unwrap() {
        assert_eq!(
            (&f["file"], &f["line"]),
            (&Value::Null, &Value::Null),
            "{f}"
        );
        assert!(
            f["kubectl"].as_str().unwrap().starts_with("kubectl "),
            "{f}"
        );
    }
    let net = findings(&report, "NET001");
    assert_eq!(net[0]["kubectl"], "kubectl get namespace cl-open -o yaml");
    let privileged = findings(&report, "WKL001");
    assert_eq!(privileged.len(), 1);
    let f = privileged[0];
    assert_eq!(f["file"], Value::Null);
    assert_eq!(f["line"], Value::Null);
    assert_eq!(
        f["path"],
        "spec.template.spec.containers[0].securityContext.privileged"
    );
    assert_eq!(
        f["kubectl"],
        "kubectl get -n cl-open deployment.apps web -o yaml"
    );

    // The dry-run probe: the unlabelled namespace admits the privileged pod, the restricted one
    // does not (no finding); nothing was created.
    let probe = findings(&report, "CMP027");
    assert_eq!(probe.len(), 1);
    assert_eq!(probe[0]["resource"]["name"], "cl-open");
    assert!(
        probe[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("namespace `cl-open` admits a privileged pod"),
        "{}",
        probe[0]["message"]
    );
    let pods = cp.kubectl(&["get", "pods", "-A", "-o", "name"]);
    assert!(!String::from_utf8_lossy(&pods.stdout).contains("palisade-probe"));

    // The access review of cl-open's default ServiceAccount.
    let sar = findings(&report, "CMP028");
    assert_eq!(sar.len(), 1, "{sar:?}");
    assert_eq!(sar[0]["severity"], "high");
    assert_eq!(
        sar[0]["message"],
        "the `default` ServiceAccount of namespace `cl-open` can get secrets, list secrets (SubjectAccessReview): every pod there that names no ServiceAccount holds these rights"
    );
    assert_eq!(
        sar[0]["kubectl"],
        "kubectl auth can-i --list -n cl-open --as=system:serviceaccount:cl-open:default"
    );

    // In SARIF, a live object has a logical location and its kubectl command, no file.
    let out = Command::cargo_bin("palisade")
        .unwrap()
        .env_remove("KUBECONFIG")
        .args([
            "cluster",
            "--no-config",
            "--no-probes",
            "-q",
            "--format",
            "sarif",
        ])
        .arg("--kubeconfig")
        .arg(&cp.kubeconfig)
        .args(["-n", "cl-open", "--select", "WKL001"])
        .output()
        .unwrap();
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{sarif}");
    let location = &results[0]["locations"][0];
    assert!(location.get("physicalLocation").is_none(), "{sarif}");
    assert_eq!(
        location["logicalLocations"][0]["fullyQualifiedName"],
        "cl-open/Deployment/web"
    );
    assert_eq!(
        results[0]["properties"]["kubectl"],
        "kubectl get -n cl-open deployment.apps web -o yaml"
    );

    // The report is valid against the published schema.
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(workspace().join("schemas/report.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}

/// The exact findings of the audit of cl-open and cl-locked. cl-locked (restricted, default
/// deny, a hardened Deployment, a default ServiceAccount without token or rights) has none; the
/// Deployment's ReplicaSet and pod are not reported (their findings are the Deployment's).
const EXPECTED: &[&str] = &[
    "CMP005 high Role cl-open/secret-reader",
    "CMP006 high RoleBinding cl-open/default-reads-secrets",
    "CMP007 medium ServiceAccount cl-open/default",
    "CMP027 high Namespace -/cl-open",
    "CMP028 high ServiceAccount cl-open/default",
    "IMG005 info Deployment cl-open/web",
    "IMG005 info Pod cl-open/lonely",
    "MSC005 medium Namespace -/cl-open",
    "NET001 high Namespace -/cl-open",
    "WKL001 critical Deployment cl-open/web",
    "WKL003 medium Deployment cl-open/web",
    "WKL003 medium Pod cl-open/lonely",
    "WKL004 medium Deployment cl-open/web",
    "WKL004 medium Pod cl-open/lonely",
    "WKL005 high Deployment cl-open/web",
    "WKL005 high Pod cl-open/lonely",
    "WKL007 medium Deployment cl-open/web",
    "WKL007 medium Pod cl-open/lonely",
    "WKL009 high Pod cl-open/lonely",
    "WKL020 medium Deployment cl-open/web",
    "WKL020 medium Pod cl-open/lonely",
    "WKL027 medium Deployment cl-open/web",
    "WKL027 medium Pod cl-open/lonely",
    "WKL029 medium Deployment cl-open/web",
    "WKL029 medium Pod cl-open/lonely",
    "WKL031 low Deployment cl-open/web",
    "WKL031 low Pod cl-open/lonely",
];

fn workspace() -> PathBuf {
    palisade_testkit::workspace_root()
}

/// A kubeconfig for `user`, with an X.509 v3 client certificate signed by the cluster CA
/// (rustls, unlike Go, refuses v1 certificates).
fn user_kubeconfig(cp: &ControlPlane, user: &str) -> PathBuf {
    let dir = cp.dir.join(format!("palisade-cluster-test-{user}"));
    std::fs::create_dir_all(&dir).unwrap();
    let p = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    std::fs::write(
        dir.join("client.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = Std::new("openssl").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        &format!("/CN={user}"),
        "-keyout",
        &p("user.key"),
        "-out",
        &p("user.csr"),
    ]);
    let ca = cp.dir.join("ca.crt");
    let ca_key = cp.dir.join("ca.key");
    run(&[
        "x509",
        "-req",
        "-in",
        &p("user.csr"),
        "-CA",
        ca.to_str().unwrap(),
        "-CAkey",
        ca_key.to_str().unwrap(),
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        &p("client.ext"),
        "-out",
        &p("user.crt"),
    ]);
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: t\n  cluster:\n    server: {}\n    certificate-authority: {}\nusers:\n- name: {user}\n  user:\n    client-certificate: {}\n    client-key: {}\ncontexts:\n- name: t\n  context: {{cluster: t, user: {user}}}\ncurrent-context: t\n",
            cp.url,
            ca.display(),
            p("user.crt"),
            p("user.key"),
        ),
    )
    .unwrap();
    kubeconfig
}

#[test]
fn a_user_with_limited_rights_is_told_which_permissions_are_missing() {
    let cp = control_plane();
    cp.apply(
        r#"
apiVersion: v1
kind: Namespace
metadata:
  name: cl-limited
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: pod-reader
  namespace: cl-limited
rules:
  - apiGroups: [""]
    resources: [pods, namespaces]
    verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: pod-reader
  namespace: cl-limited
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: pod-reader
subjects:
  - apiGroup: rbac.authorization.k8s.io
    kind: User
    name: limited-auditor
---
apiVersion: v1
kind: Pod
metadata:
  name: bare
  namespace: cl-limited
spec:
  containers:
    - name: bare
      image: busybox:1.37.0
      securityContext:
        privileged: true
"#,
    );
    let kubeconfig = user_kubeconfig(cp, "limited-auditor");
    let (code, report, stderr) = audit(&kubeconfig, &["-n", "cl-limited"]);
    assert_eq!(code, 2, "{report}\n{stderr}");
    // What it could read is audited.
    assert_eq!(findings(&report, "WKL001").len(), 1, "{report}");
    let errors: Vec<(&str, &str)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap(), e["message"].as_str().unwrap()))
        .collect();
    let has = |needle: &str| {
        errors
            .iter()
            .any(|(kind, m)| *kind == "permission" && m.starts_with(needle))
    };
    for needle in [
        "missing permission: verb `list` on resource `deployments` in API group `apps` in namespace `cl-limited`",
        "missing permission: verb `list` on resource `roles` in API group `rbac.authorization.k8s.io` in namespace `cl-limited`",
        "missing permission: verb `list` on resource `networkpolicies` in API group `networking.k8s.io` in namespace `cl-limited`",
        "missing permission: verb `create` on resource `pods` in API group \"\" (core) in namespace `cl-limited`",
        "missing permission: verb `create` on resource `subjectaccessreviews` in API group `authorization.k8s.io` (cluster-scoped)",
    ] {
        assert!(
            has(needle),
            "no error starting with {needle:?} in {errors:#?}"
        );
    }
    assert!(
        stderr.contains("palisade: warning: missing permission"),
        "{stderr}"
    );
}

#[test]
fn api_server_flags_from_its_static_pod() {
    let cp = control_plane();
    // A kubeadm-style static pod, as the kubelet would mirror it (no kubelet here: an object).
    cp.apply(
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: kube-apiserver-cp-test
  namespace: kube-system
  labels: {component: kube-apiserver, tier: control-plane}
spec:
  containers:
    - name: kube-apiserver
      image: registry.k8s.io/kube-apiserver:v1.37.2
      command:
        - kube-apiserver
        - --authorization-mode=AlwaysAllow
        - --anonymous-auth=true
        - --tls-min-version=VersionTLS11
        - --tls-cert-file=/etc/kubernetes/pki/apiserver.crt
        - --tls-private-key-file=/etc/kubernetes/pki/apiserver.key
        - --client-ca-file=/etc/kubernetes/pki/ca.crt
        - --kubelet-certificate-authority=/etc/kubernetes/pki/ca.crt
        - --audit-log-path=/var/log/kubernetes/audit.log
"#,
    );
    let (_, report, stderr) = audit(
        &cp.kubeconfig,
        &[
            "-n",
            "kube-system",
            "--select",
            "CMP022,CMP023,CMP024,CMP025,CMP026",
            "--no-probes",
        ],
    );
    assert_eq!(report["errors"], serde_json::json!([]), "{stderr}");
    let got: Vec<(String, String, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
                f["path"].as_str().unwrap().to_owned(),
                f["missing"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let c = "spec.containers[0].command";
    let want: Vec<(String, String, String, String)> = [
        ("CMP022", "critical", format!("{c}[1]"), ""),
        ("CMP023", "medium", format!("{c}[2]"), ""),
        ("CMP024", "high", format!("{c}[3]"), ""),
        ("CMP025", "medium", c.to_owned(), "--audit-policy-file"),
        ("CMP025", "low", c.to_owned(), "--audit-log-maxage"),
        (
            "CMP026",
            "medium",
            c.to_owned(),
            "--encryption-provider-config",
        ),
    ]
    .into_iter()
    .map(|(a, b, p, m)| (a.to_owned(), b.to_owned(), p, m.to_owned()))
    .collect();
    assert_eq!(got, want, "{report}");
    assert!(report["findings"].as_array().unwrap().iter().all(|f| {
        f["resource"]["name"] == "kube-apiserver-cp-test"
            && f["kubectl"] == "kubectl get -n kube-system pod kube-apiserver-cp-test -o yaml"
    }));
}

#[test]
fn versions_and_fail_open_webhooks_cluster_wide() {
    let cp = control_plane();
    // Nodes accept their status on create, as when a kubelet registers.
    cp.apply(
        r#"
apiVersion: v1
kind: Node
metadata:
  name: cl-old-node
status:
  nodeInfo:
    kubeletVersion: v1.30.2
    kubeProxyVersion: v1.30.2
    architecture: amd64
    operatingSystem: linux
    bootID: ""
    containerRuntimeVersion: ""
    kernelVersion: ""
    machineID: ""
    osImage: ""
    systemUUID: ""
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: cl-fail-open
webhooks:
  - name: pods.cl-fail-open.example.com
    failurePolicy: Ignore
    admissionReviewVersions: [v1]
    sideEffects: None
    # Matches no object: the other tests' pods never reach it.
    objectSelector:
      matchLabels: {palisade-test: never}
    clientConfig:
      service: {name: nowhere, namespace: default}
    rules:
      - apiGroups: [""]
        apiVersions: [v1]
        operations: [CREATE]
        resources: [pods]
"#,
    );
    let (_, report, stderr) = audit(
        &cp.kubeconfig,
        &["--select", "CMP020,CMP021,CMP031", "--no-probes"],
    );
    assert_eq!(report["errors"], serde_json::json!([]), "{stderr}");
    let mut got: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {} {}", f["code"], f["severity"], f["message"]))
        .collect();
    got.sort();
    // The control plane runs 1.37.2, the latest patch of a supported release: no CMP020.
    assert_eq!(
        got,
        vec![
            "\"CMP021\" \"high\" \"the kubelet of node `cl-old-node` runs Kubernetes 1.30.2: Kubernetes 1.30 reached its end of life on 2025-06-28 and gets no security fixes (supported on 2026-11-28: 1.35 to 1.37)\"",
            "\"CMP021\" \"medium\" \"the kubelet of node `cl-old-node`, 1.30.2, is 7 minor releases older than the API server (1.37.2); the skew policy allows 3\"",
            "\"CMP031\" \"high\" \"validating webhook `pods.cl-fail-open.example.com` of `cl-fail-open` has `failurePolicy: Ignore` on `pods`: whenever it is down, slow or unreachable, requests are admitted unchecked\"",
        ],
        "{stderr}"
    );
}

/// The shipped reader RBAC and CronJob pass `palisade scan`: nothing above info, and what is
/// suppressed is suppressed with a reason.
#[test]
fn reader_and_cronjob_manifests_pass_scan() {
    let out = Command::cargo_bin("palisade")
        .unwrap()
        .current_dir(workspace())
        .args([
            "scan",
            "--no-config",
            "deploy/palisade-reader.yaml",
            "deploy/palisade-cronjob.yaml",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{report}");
    let s = &report["summary"];
    assert_eq!(s["objects"], 11);
    for sev in ["critical", "high", "medium", "low"] {
        assert_eq!(s[sev], 0, "{sev}: {report}");
    }
    assert_eq!(s["suppressed"], 2, "{report}");
}

/// A CRD workload (Argo Rollouts' Rollout) is discovered when its CRD is served, and its pod
/// template audited.
#[test]
fn crd_workloads_are_discovered_and_audited() {
    let cp = control_plane();
    cp.apply(
        r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: rollouts.argoproj.io
spec:
  group: argoproj.io
  names: {kind: Rollout, plural: rollouts, singular: rollout, listKind: RolloutList}
  scope: Namespaced
  versions:
    - name: v1alpha1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
"#,
    );
    wait_for(
        cp,
        "the Rollout CRD to be served",
        &["get", "--raw", "/apis/argoproj.io/v1alpha1"],
    );
    cp.apply(
        r#"
apiVersion: v1
kind: Namespace
metadata:
  name: cl-crd
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: canary
  namespace: cl-crd
spec:
  selector:
    matchLabels: {app: canary}
  template:
    metadata:
      labels: {app: canary}
    spec:
      containers:
        - name: canary
          image: nginx:1.27.3
          securityContext:
            privileged: true
"#,
    );
    let (_, report, stderr) = audit(
        &cp.kubeconfig,
        &["-n", "cl-crd", "--select", "WKL001", "--no-probes"],
    );
    assert_eq!(report["errors"], serde_json::json!([]), "{stderr}");
    let f = findings(&report, "WKL001");
    assert_eq!(f.len(), 1, "{report}");
    assert_eq!(f[0]["resource"]["kind"], "Rollout");
    assert_eq!(f[0]["resource"]["apiVersion"], "argoproj.io/v1alpha1");
    assert_eq!(
        f[0]["kubectl"],
        "kubectl get -n cl-crd rollout.argoproj.io canary -o yaml"
    );
}

/// deploy/palisade-reader.yaml is enough: palisade, as that ServiceAccount, audits the whole
/// cluster without a missing permission and runs its dry-run probe, while the policy shipped
/// with it refuses a real pod create.
#[test]
fn the_shipped_reader_role_is_enough_and_only_dry_runs() {
    let cp = control_plane();
    let manifest =
        std::fs::read_to_string(workspace().join("deploy/palisade-reader.yaml")).unwrap();
    cp.apply(&manifest);
    cp.apply(
        r#"
apiVersion: v1
kind: Namespace
metadata:
  name: cl-reader
"#,
    );
    wait_for(
        cp,
        "the default ServiceAccount of cl-reader",
        &[
            "get",
            "serviceaccount",
            "default",
            "-n",
            "cl-reader",
            "-o",
            "name",
        ],
    );
    let token = cp.kubectl(&["create", "token", "palisade-reader", "-n", "palisade"]);
    assert!(
        token.status.success(),
        "{}",
        String::from_utf8_lossy(&token.stderr)
    );
    let token = String::from_utf8(token.stdout).unwrap();
    let kubeconfig = cp.dir.join("palisade-reader.kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: t\n  cluster:\n    server: {}\n    certificate-authority: {}\nusers:\n- name: reader\n  user:\n    token: {}\ncontexts:\n- name: t\n  context: {{cluster: t, user: reader}}\ncurrent-context: t\n",
            cp.url,
            cp.dir.join("ca.crt").display(),
            token.trim()
        ),
    )
    .unwrap();
    // Every kind, cluster-wide: nothing is refused.
    let (_, report, stderr) = audit(&kubeconfig, &["--no-probes"]);
    assert_eq!(report["errors"], serde_json::json!([]), "{stderr}");
    assert!(
        report["summary"]["objects"].as_u64().unwrap() > 50,
        "{stderr}"
    );
    // The probes: the dry-run create and the access reviews are allowed.
    let (_, report, stderr) = audit(&kubeconfig, &["-n", "cl-reader"]);
    assert_eq!(report["errors"], serde_json::json!([]), "{stderr}");
    assert_eq!(findings(&report, "CMP027").len(), 1, "{report}");
    // A real create is refused by the ValidatingAdmissionPolicy (once it is in force).
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: not-a-dry-run, namespace: cl-reader}\nspec:\n  containers: [{name: c, image: busybox:1.37.0}]\n";
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = cp.kubectl_as(&kubeconfig, &["create", "-f", "-"], Some(pod));
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            assert!(
                stderr.contains("palisade-reader may create pods only with server-side dry run"),
                "{stderr}"
            );
            break;
        }
        // The policy was not yet in force: remove the pod and try again.
        cp.kubectl(&[
            "delete",
            "pod",
            "not-a-dry-run",
            "-n",
            "cl-reader",
            "--wait=false",
        ]);
        assert!(
            Instant::now() < deadline,
            "the policy never refused the create"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn kubernetes_default_rbac_objects_are_not_reported_even_by_postponed_decisions() {
    let cp = control_plane();
    // Every built-in ClusterRole (`edit`, `system:node`, `system:kube-controller-manager`, …)
    // grants something CMP002/CMP005 would flag; the API server recreates them at every start.
    let (_, report, stderr) = audit(&cp.kubeconfig, &["--no-probes"]);
    let defaults: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            matches!(
                f["resource"]["kind"].as_str(),
                Some("ClusterRole" | "ClusterRoleBinding" | "Role" | "RoleBinding")
            ) && f["resource"]["name"].as_str().is_some_and(|n| {
                n.starts_with("system:") || matches!(n, "admin" | "edit" | "view" | "cluster-admin")
            })
        })
        .map(|f| format!("{} {}", f["code"], f["resource"]["name"]))
        .collect();
    assert!(defaults.is_empty(), "{defaults:#?}\n{stderr}");
}
