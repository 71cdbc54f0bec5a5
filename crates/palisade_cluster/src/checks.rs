//! Cluster checks read from what was listed: versions (CMP020, CMP021) and the API server's
//! flags in its static pod (CMP022–CMP026).

use std::collections::BTreeMap;

use palisade_config::Date;
use palisade_diagnostics::{Finding, ObjectRef, Severity};
use palisade_rules::RuleMeta;
use palisade_rules::rules::components::{
    apiserver_anonymous_auth::ApiserverAnonymousAuth,
    apiserver_audit_logging::ApiserverAuditLogging,
    apiserver_authorization_mode::ApiserverAuthorizationMode,
    apiserver_encryption_at_rest::ApiserverEncryptionAtRest,
    apiserver_tls_settings::ApiserverTlsSettings,
    kubelet_version_unsupported::KubeletVersionUnsupported,
    kubernetes_version_unsupported::KubernetesVersionUnsupported,
};
use serde_json::Value;

use crate::live_finding;
use crate::releases::{Release, Support, Version, support, supported_window};

/// The API server itself, as the resource of findings about it.
pub fn api_server_ref(url: &str) -> ObjectRef {
    ObjectRef {
        api_version: String::new(),
        kind: "APIServer".to_owned(),
        namespace: None,
        name: Some(url.to_owned()),
    }
}

fn window(table: &[Release], today: Date) -> String {
    match supported_window(table, today) {
        Some((a, b)) => format!("supported on {today}: {}.{} to {}.{}", a.0, a.1, b.0, b.1),
        None => format!("no release in palisade's table is supported on {today}"),
    }
}

/// One version's verdict as (severity, what, remediation), or `None` when it is fine.
fn judge(
    table: &[Release],
    v: Version,
    today: Date,
    upgrade: &str,
) -> Option<(Severity, String, String)> {
    let minor = format!("{}.{}", v.major, v.minor);
    let window = window(table, today);
    match support(table, v, today) {
        Support::EndOfLife(Some(eol)) => Some((
            Severity::High,
            format!(
                "{v}: Kubernetes {minor} reached its end of life on {eol} and gets no security fixes ({window})"
            ),
            format!("{upgrade} to a supported minor release"),
        )),
        Support::EndOfLife(None) => Some((
            Severity::High,
            format!(
                "{v}: Kubernetes {minor} is older than every release palisade knows, all past their end of life ({window})"
            ),
            format!("{upgrade} to a supported minor release"),
        )),
        Support::EndingSoon(eol) => Some((
            Severity::Medium,
            format!("{v}: Kubernetes {minor} reaches its end of life on {eol} ({window})"),
            format!(
                "plan the {} to a newer minor release before {eol}",
                upgrade.to_ascii_lowercase()
            ),
        )),
        Support::PatchBehind(p) => Some((
            Severity::Low,
            format!("{v}: patch release {minor}.{p} is out, with fixes this version lacks"),
            format!("{upgrade} to {minor}.{p}"),
        )),
        Support::Current | Support::Unknown => None,
    }
}

/// CMP020 and CMP021.
pub fn version_findings(
    url: &str,
    server: Option<&str>,
    kubelets: &[(String, String)],
    table: &[Release],
    today: Date,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let server_v = server.and_then(Version::parse);
    if let Some(v) = server_v
        && let Some((severity, what, fix)) = judge(table, v, today, "Upgrade the control plane")
    {
        out.push(live_finding(
            &KubernetesVersionUnsupported::META,
            severity,
            api_server_ref(url),
            "version.gitVersion",
            format!("the API server runs Kubernetes {what}"),
            fix,
            "kubectl version".to_owned(),
        ));
    }
    // Nodes with the same version are reported once, on the first by name.
    let mut by_version: BTreeMap<Version, Vec<&str>> = BTreeMap::new();
    for (node, version) in kubelets {
        if let Some(v) = Version::parse(version) {
            by_version.entry(v).or_default().push(node);
        }
    }
    for (v, mut nodes) in by_version {
        nodes.sort();
        let node = nodes[0];
        let also = match nodes.len() {
            1 => String::new(),
            n => format!(" ({n} nodes: {})", nodes.join(", ")),
        };
        let node_ref = ObjectRef {
            api_version: "v1".to_owned(),
            kind: "Node".to_owned(),
            namespace: None,
            name: Some(node.to_owned()),
        };
        let kubectl = format!("kubectl get node {node} -o wide");
        if let Some((severity, what, fix)) = judge(table, v, today, "Upgrade the kubelet") {
            out.push(live_finding(
                &KubeletVersionUnsupported::META,
                severity,
                node_ref.clone(),
                "status.nodeInfo.kubeletVersion",
                format!("the kubelet of node `{node}`{also} runs Kubernetes {what}"),
                fix,
                kubectl.clone(),
            ));
        }
        if let Some(s) = server_v {
            let skew = i64::from(s.minor) - i64::from(v.minor);
            let what = if v.major != s.major || skew < 0 {
                Some(format!("is newer than the API server ({s})"))
            } else if skew > 3 {
                Some(format!(
                    "is {skew} minor releases older than the API server ({s}); the skew policy allows 3"
                ))
            } else {
                None
            };
            if let Some(what) = what {
                out.push(live_finding(
                    &KubeletVersionUnsupported::META,
                    Severity::Medium,
                    node_ref,
                    "status.nodeInfo.kubeletVersion",
                    format!("the kubelet of node `{node}`{also}, {v}, {what}"),
                    "upgrade the nodes to within three minor releases of the control plane, and never past it".to_owned(),
                    kubectl,
                ));
            }
        }
    }
    out
}

/// The flags of a kube-apiserver static pod.
#[derive(Debug)]
pub struct ApiserverPod {
    pub name: String,
    pub namespace: String,
    /// `spec.containers[N]`.
    pub container_path: String,
    /// The list holding the flags: `command` or `args`.
    pub list: &'static str,
    /// Flag name (without `--`) → (value, index in `list`).
    pub flags: BTreeMap<String, (Option<String>, usize)>,
}

impl ApiserverPod {
    /// Reads a pod object (JSON) that runs kube-apiserver; `None` for any other pod.
    pub fn from_pod(pod: &Value) -> Option<ApiserverPod> {
        let name = pod["metadata"]["name"].as_str()?;
        let namespace = pod["metadata"]["namespace"]
            .as_str()
            .unwrap_or("kube-system");
        let containers = pod["spec"]["containers"].as_array()?;
        let runs_apiserver = |c: &Value| {
            c["command"]
                .as_array()
                .and_then(|a| a.first())
                .and_then(Value::as_str)
                .is_some_and(|s| s.rsplit('/').next() == Some("kube-apiserver"))
                || c["name"].as_str() == Some("kube-apiserver")
        };
        let (index, container) = containers
            .iter()
            .enumerate()
            .find(|(_, c)| runs_apiserver(c))?;
        let mut flags = BTreeMap::new();
        let mut list = "command";
        for field in ["command", "args"] {
            let Some(items) = container[field].as_array() else {
                continue;
            };
            let texts: Vec<&str> = items.iter().map(|i| i.as_str().unwrap_or("")).collect();
            if texts.iter().any(|t| t.starts_with("--")) {
                list = field;
            }
            let mut i = 0;
            while i < texts.len() {
                if let Some(flag) = texts[i].strip_prefix("--") {
                    let (name, value) = match flag.split_once('=') {
                        Some((n, v)) => (n, Some(v.to_owned())),
                        None => match texts.get(i + 1) {
                            Some(next) if !next.starts_with('-') => {
                                let v = (*next).to_owned();
                                flags.insert(flag.to_owned(), (Some(v), i));
                                i += 2;
                                continue;
                            }
                            _ => (flag, None),
                        },
                    };
                    flags.insert(name.to_owned(), (value, i));
                }
                i += 1;
            }
        }
        Some(ApiserverPod {
            name: name.to_owned(),
            namespace: namespace.to_owned(),
            container_path: format!("spec.containers[{index}]"),
            list,
            flags,
        })
    }

    fn value(&self, flag: &str) -> Option<&str> {
        self.flags
            .get(flag)
            .map(|(v, _)| v.as_deref().unwrap_or("true"))
    }

    fn has(&self, flag: &str) -> bool {
        self.value(flag).is_some_and(|v| !v.trim().is_empty())
    }

    fn path(&self, flag: &str) -> String {
        match self.flags.get(flag) {
            Some((_, i)) => format!("{}.{}[{i}]", self.container_path, self.list),
            None => format!("{}.{}", self.container_path, self.list),
        }
    }
}

struct FlagReport<'a> {
    pod: &'a ApiserverPod,
    out: Vec<Finding>,
}

impl FlagReport<'_> {
    fn push(
        &mut self,
        meta: &'static RuleMeta,
        severity: Severity,
        flag: &str,
        message: String,
        remediation: &str,
    ) {
        let pod = self.pod;
        let mut f = live_finding(
            meta,
            severity,
            ObjectRef {
                api_version: "v1".to_owned(),
                kind: "Pod".to_owned(),
                namespace: Some(pod.namespace.clone()),
                name: Some(pod.name.clone()),
            },
            &pod.path(flag),
            format!("kube-apiserver (static pod `{}`): {message}", pod.name),
            remediation.to_owned(),
            format!("kubectl get -n {} pod {} -o yaml", pod.namespace, pod.name),
        );
        if !pod.flags.contains_key(flag) {
            f.missing = Some(format!("--{flag}"));
        }
        self.out.push(f);
    }
}

/// CMP022–CMP026 for one kube-apiserver pod.
pub fn apiserver_findings(pod: &ApiserverPod) -> Vec<Finding> {
    let mut r = FlagReport {
        pod,
        out: Vec::new(),
    };
    // Authorization.
    if !pod.has("authorization-config") {
        let modes: Vec<&str> = pod
            .value("authorization-mode")
            .map(|m| m.split(',').map(str::trim).collect())
            .unwrap_or_default();
        let fix = "set `--authorization-mode=Node,RBAC`";
        if modes.is_empty() {
            r.push(
                &ApiserverAuthorizationMode::META,
                Severity::Critical,
                "authorization-mode",
                "`--authorization-mode` is not set and defaults to `AlwaysAllow`: every authenticated request is allowed".to_owned(),
                fix,
            );
        } else if modes.contains(&"AlwaysAllow") {
            r.push(
                &ApiserverAuthorizationMode::META,
                Severity::Critical,
                "authorization-mode",
                format!("`--authorization-mode={}` includes `AlwaysAllow`: every authenticated request is allowed", modes.join(",")),
                fix,
            );
        } else {
            let missing: Vec<&str> = ["Node", "RBAC"]
                .into_iter()
                .filter(|m| !modes.contains(m))
                .collect();
            if !missing.is_empty() {
                r.push(
                    &ApiserverAuthorizationMode::META,
                    Severity::High,
                    "authorization-mode",
                    format!(
                        "`--authorization-mode={}` lacks {}",
                        modes.join(","),
                        missing
                            .iter()
                            .map(|m| format!("`{m}`"))
                            .collect::<Vec<_>>()
                            .join(" and ")
                    ),
                    fix,
                );
            }
        }
    }
    // Anonymous requests.
    if !pod.has("authentication-config") {
        match pod.value("anonymous-auth") {
            Some(v) if v.eq_ignore_ascii_case("false") => {}
            Some(v) => r.push(
                &ApiserverAnonymousAuth::META,
                Severity::Medium,
                "anonymous-auth",
                format!("`--anonymous-auth={v}` lets unauthenticated requests in as `system:anonymous`"),
                "set `--anonymous-auth=false`",
            ),
            None => r.push(
                &ApiserverAnonymousAuth::META,
                Severity::Medium,
                "anonymous-auth",
                "`--anonymous-auth` is not set and defaults to `true`: unauthenticated requests come in as `system:anonymous`".to_owned(),
                "set `--anonymous-auth=false`",
            ),
        }
    }
    // TLS.
    if let Some(v) = pod.value("tls-min-version")
        && matches!(v, "VersionTLS10" | "VersionTLS11")
    {
        r.push(
            &ApiserverTlsSettings::META,
            Severity::High,
            "tls-min-version",
            format!("`--tls-min-version={v}` accepts TLS below 1.2"),
            "set `--tls-min-version=VersionTLS12` (or VersionTLS13)",
        );
    }
    if let Some(suites) = pod.value("tls-cipher-suites") {
        let weak: Vec<&str> = suites
            .split(',')
            .map(str::trim)
            .filter(|s| s.contains("RC4") || s.contains("3DES") || s.ends_with("_CBC_SHA"))
            .collect();
        if !weak.is_empty() {
            r.push(
                &ApiserverTlsSettings::META,
                Severity::Medium,
                "tls-cipher-suites",
                format!(
                    "`--tls-cipher-suites` allows weak suites: {}",
                    weak.join(", ")
                ),
                "keep only ECDHE suites with AES-GCM or ChaCha20-Poly1305",
            );
        }
    }
    for (flag, what) in [
        (
            "tls-cert-file",
            "the server uses a generated self-signed certificate that clients cannot verify",
        ),
        (
            "tls-private-key-file",
            "the server uses a generated self-signed certificate that clients cannot verify",
        ),
        ("client-ca-file", "client certificates are not verified"),
    ] {
        if !pod.has(flag) {
            r.push(
                &ApiserverTlsSettings::META,
                Severity::Medium,
                flag,
                format!("`--{flag}` is not set: {what}"),
                &format!("set `--{flag}`"),
            );
        }
    }
    if !pod.has("kubelet-certificate-authority") {
        r.push(
            &ApiserverTlsSettings::META,
            Severity::Low,
            "kubelet-certificate-authority",
            "`--kubelet-certificate-authority` is not set: the API server does not verify the kubelets' serving certificates".to_owned(),
            "set `--kubelet-certificate-authority` to the CA of the kubelet serving certificates",
        );
    }
    // Audit.
    let log = pod.value("audit-log-path").filter(|v| !v.is_empty());
    if log.is_none() && !pod.has("audit-webhook-config-file") {
        r.push(
            &ApiserverAuditLogging::META,
            Severity::Medium,
            "audit-log-path",
            "neither `--audit-log-path` nor `--audit-webhook-config-file` is set: no audit trail is kept".to_owned(),
            "set `--audit-log-path` (with `--audit-policy-file`)",
        );
    }
    if !pod.has("audit-policy-file") {
        r.push(
            &ApiserverAuditLogging::META,
            Severity::Medium,
            "audit-policy-file",
            "`--audit-policy-file` is not set: without a policy no request is audited".to_owned(),
            "set `--audit-policy-file` to a policy that records at least Metadata for every request",
        );
    }
    if let Some(path) = log.filter(|p| *p != "-") {
        let missing: Vec<&str> = [
            "audit-log-maxage",
            "audit-log-maxbackup",
            "audit-log-maxsize",
        ]
        .into_iter()
        .filter(|f| !pod.has(f))
        .collect();
        if !missing.is_empty() {
            let first = missing[0];
            r.push(
                &ApiserverAuditLogging::META,
                Severity::Low,
                first,
                format!(
                    "the audit log `{path}` has no {}: it is lost early or fills the disk",
                    missing.iter().map(|m| format!("`--{m}`")).collect::<Vec<_>>().join(", ")
                ),
                "set `--audit-log-maxage=30`, `--audit-log-maxbackup=10` and `--audit-log-maxsize=100`",
            );
        }
    }
    // Encryption at rest.
    if !pod.has("encryption-provider-config") {
        r.push(
            &ApiserverEncryptionAtRest::META,
            Severity::Medium,
            "encryption-provider-config",
            "`--encryption-provider-config` is not set: Secrets are stored in etcd in plain text".to_owned(),
            "set `--encryption-provider-config` to an EncryptionConfiguration with a KMS v2 or aescbc/secretbox provider first",
        );
    }
    r.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::releases::parse_table;

    fn pod(args: &[&str]) -> ApiserverPod {
        let mut command = vec!["kube-apiserver"];
        command.extend_from_slice(args);
        ApiserverPod::from_pod(&serde_json::json!({
            "metadata": {"name": "kube-apiserver-cp1", "namespace": "kube-system"},
            "spec": {"containers": [{"name": "kube-apiserver", "command": command}]}
        }))
        .unwrap()
    }

    fn codes(f: &[Finding]) -> Vec<(&str, Severity, &str)> {
        f.iter()
            .map(|f| (f.code, f.severity, f.path.as_str()))
            .collect()
    }

    const HARDENED: &[&str] = &[
        "--authorization-mode=Node,RBAC",
        "--anonymous-auth=false",
        "--tls-min-version=VersionTLS12",
        "--tls-cert-file=/pki/apiserver.crt",
        "--tls-private-key-file=/pki/apiserver.key",
        "--client-ca-file=/pki/ca.crt",
        "--kubelet-certificate-authority=/pki/ca.crt",
        "--audit-policy-file=/etc/audit.yaml",
        "--audit-log-path=/var/log/audit.log",
        "--audit-log-maxage=30",
        "--audit-log-maxbackup=10",
        "--audit-log-maxsize=100",
        "--encryption-provider-config=/etc/enc.yaml",
    ];

    #[test]
    fn a_hardened_apiserver_has_no_finding() {
        assert_eq!(codes(&apiserver_findings(&pod(HARDENED))), vec![]);
    }

    #[test]
    fn separate_values_and_structured_config_files() {
        let mut args: Vec<&str> = HARDENED
            .iter()
            .copied()
            .filter(|a| !a.starts_with("--authorization-mode") && !a.starts_with("--anonymous"))
            .collect();
        args.extend([
            "--authorization-config",
            "/etc/authz.yaml",
            "--authentication-config",
            "/etc/authn.yaml",
        ]);
        let p = pod(&args);
        assert_eq!(p.value("authorization-config"), Some("/etc/authz.yaml"));
        assert_eq!(codes(&apiserver_findings(&p)), vec![]);
    }

    #[test]
    fn an_insecure_apiserver() {
        let p = pod(&[
            "--authorization-mode=AlwaysAllow",
            "--anonymous-auth=true",
            "--tls-min-version=VersionTLS11",
            "--tls-cipher-suites=TLS_RSA_WITH_3DES_EDE_CBC_SHA,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "--audit-log-path=/var/log/audit.log",
        ]);
        let f = apiserver_findings(&p);
        assert_eq!(
            codes(&f),
            vec![
                (
                    "CMP022",
                    Severity::Critical,
                    "spec.containers[0].command[1]"
                ),
                ("CMP023", Severity::Medium, "spec.containers[0].command[2]"),
                ("CMP024", Severity::High, "spec.containers[0].command[3]"),
                ("CMP024", Severity::Medium, "spec.containers[0].command[4]"),
                ("CMP024", Severity::Medium, "spec.containers[0].command"),
                ("CMP024", Severity::Medium, "spec.containers[0].command"),
                ("CMP024", Severity::Medium, "spec.containers[0].command"),
                ("CMP024", Severity::Low, "spec.containers[0].command"),
                ("CMP025", Severity::Medium, "spec.containers[0].command"),
                ("CMP025", Severity::Low, "spec.containers[0].command"),
                ("CMP026", Severity::Medium, "spec.containers[0].command"),
            ]
        );
        assert_eq!(f[4].missing.as_deref(), Some("--tls-cert-file"));
        assert_eq!(
            f[3].message,
            "kube-apiserver (static pod `kube-apiserver-cp1`): `--tls-cipher-suites` allows weak suites: TLS_RSA_WITH_3DES_EDE_CBC_SHA"
        );
        assert_eq!(
            f[0].kubectl.as_deref(),
            Some("kubectl get -n kube-system pod kube-apiserver-cp1 -o yaml")
        );
        assert!(f.iter().all(|f| f.file.is_none() && f.line.is_none()));
    }

    #[test]
    fn default_authorization_and_missing_node() {
        let f = apiserver_findings(&pod(&[]));
        assert_eq!(f[0].code, "CMP022");
        assert_eq!(f[0].severity, Severity::Critical);
        assert!(f[0].message.contains("defaults to `AlwaysAllow`"));
        let f = apiserver_findings(&pod(&["--authorization-mode=RBAC"]));
        assert_eq!(
            f[0].message,
            "kube-apiserver (static pod `kube-apiserver-cp1`): `--authorization-mode=RBAC` lacks `Node`"
        );
        assert_eq!(f[0].severity, Severity::High);
    }

    #[test]
    fn other_pods_are_not_apiservers() {
        let v = serde_json::json!({"metadata": {"name": "web"}, "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}});
        assert!(ApiserverPod::from_pod(&v).is_none());
    }

    #[test]
    fn versions_of_server_and_kubelets() {
        let t = parse_table(
            "1.33\t2026-06-28\t-\n1.36\t2027-06-28\t1.36.3\n1.37\t2027-10-28\t1.37.2\n",
        )
        .unwrap();
        let today = Date::parse("2026-11-28").unwrap();
        let kubelets = vec![
            ("b".to_owned(), "v1.33.1".to_owned()),
            ("a".to_owned(), "v1.33.1".to_owned()),
            ("c".to_owned(), "v1.37.2".to_owned()),
        ];
        let f = version_findings("https://h:6443", Some("v1.36.1"), &kubelets, &t, today);
        let got: Vec<(&str, Severity, &str)> = f
            .iter()
            .map(|f| (f.code, f.severity, f.message.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "CMP020",
                    Severity::Low,
                    "the API server runs Kubernetes 1.36.1: patch release 1.36.3 is out, with fixes this version lacks"
                ),
                (
                    "CMP021",
                    Severity::High,
                    "the kubelet of node `a` (2 nodes: a, b) runs Kubernetes 1.33.1: Kubernetes 1.33 reached its end of life on 2026-06-28 and gets no security fixes (supported on 2026-11-28: 1.36 to 1.37)"
                ),
                (
                    "CMP021",
                    Severity::Medium,
                    "the kubelet of node `c`, 1.37.2, is newer than the API server (1.36.1)"
                ),
            ]
        );
        assert_eq!(f[1].resource.name.as_deref(), Some("a"));
        assert_eq!(f[0].kubectl.as_deref(), Some("kubectl version"));
    }
}
