//! Enforcement probes: what the API server really does, asked without changing anything
//! (server-side dry run, access reviews, requests without credentials, a TLS 1.1 handshake).

use std::time::Duration;

use futures::StreamExt;
use palisade_diagnostics::{Finding, ObjectRef, Severity};
use palisade_rules::rules::components::{
    anonymous_request_allowed::AnonymousRequestAllowed,
    api_server_accepts_old_tls::ApiServerAcceptsOldTls,
    default_service_account_permissions::DefaultServiceAccountPermissions,
    privileged_pod_admitted::PrivilegedPodAdmitted,
};
use serde_json::{Value, json};

use crate::api::{Api, ApiError};
use crate::checks::api_server_ref;
use crate::{Problem, live_finding};

/// Namespaces the privileged-pod probe leaves out: node agents and the control plane run
/// privileged there by design.
pub const PRIVILEGED_EXPECTED: &[&str] = &["kube-system"];

/// The pod a namespace should refuse. `dryRun=All`: admission runs, nothing is stored.
pub fn privileged_pod() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": "palisade-probe-privileged-",
            "labels": {"app.kubernetes.io/managed-by": "palisade"}
        },
        "spec": {
            "automountServiceAccountToken": false,
            "hostNetwork": true,
            "hostPID": true,
            "hostIPC": true,
            "containers": [{
                "name": "probe",
                "image": "registry.k8s.io/pause:3.10",
                "securityContext": {"privileged": true},
                "volumeMounts": [{"name": "host", "mountPath": "/host"}]
            }],
            "volumes": [{"name": "host", "hostPath": {"path": "/"}}]
        }
    })
}

/// What the API server did with the privileged pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    Admitted,
    Rejected(String),
    /// The credentials may not create pods there.
    NotAllowedToProbe(String),
    /// Something else stopped the probe (no `default` ServiceAccount, a namespace being
    /// deleted, a failing webhook).
    Inconclusive(String),
}

/// Sorts an answer to the dry-run create.
pub fn classify_admission(result: &Result<Value, ApiError>) -> Admission {
    match result {
        Ok(_) => Admission::Admitted,
        Err(e) => {
            let m = e.message();
            match e.code() {
                Some(401) => Admission::NotAllowedToProbe(m),
                Some(403) if m.contains("cannot create resource") => {
                    Admission::NotAllowedToProbe(m)
                }
                Some(403) if m.contains("being terminated") => Admission::Inconclusive(m),
                _ if m.contains("error looking up service account") => Admission::Inconclusive(m),
                Some(code) if (400..500).contains(&code) && code != 404 && code != 429 => {
                    Admission::Rejected(m)
                }
                _ => Admission::Inconclusive(e.to_string()),
            }
        }
    }
}

/// One access review of the default ServiceAccount.
#[derive(Debug, Clone, Copy)]
pub struct Access {
    pub verb: &'static str,
    pub group: &'static str,
    pub resource: &'static str,
    pub subresource: &'static str,
    /// Cluster-scoped resource.
    pub cluster: bool,
    /// Reported `high` (secrets, exec) rather than `medium`.
    pub sensitive: bool,
}

const fn access(verb: &'static str, group: &'static str, resource: &'static str) -> Access {
    Access {
        verb,
        group,
        resource,
        subresource: "",
        cluster: false,
        sensitive: false,
    }
}

/// What is asked for each namespace's `default` ServiceAccount.
pub static ACCESSES: &[Access] = &[
    Access {
        sensitive: true,
        ..access("get", "", "secrets")
    },
    Access {
        sensitive: true,
        ..access("list", "", "secrets")
    },
    Access {
        sensitive: true,
        subresource: "exec",
        ..access("create", "", "pods")
    },
    access("list", "", "pods"),
    access("create", "", "pods"),
    access("delete", "", "pods"),
    access("get", "", "configmaps"),
    Access {
        subresource: "token",
        ..access("create", "", "serviceaccounts")
    },
    access("create", "apps", "deployments"),
    access("update", "apps", "deployments"),
    access("create", "rbac.authorization.k8s.io", "rolebindings"),
    Access {
        cluster: true,
        ..access("list", "", "nodes")
    },
];

impl Access {
    /// `get secrets`, `create pods/exec`, `create deployments.apps`.
    pub fn describe(&self) -> String {
        let mut r = self.resource.to_owned();
        if !self.subresource.is_empty() {
            r = format!("{r}/{}", self.subresource);
        }
        if !self.group.is_empty() {
            r = format!("{r}.{}", self.group);
        }
        let scope = if self.cluster { " (cluster-wide)" } else { "" };
        format!("{} {r}{scope}", self.verb)
    }

    fn review(&self, namespace: &str) -> Value {
        let user = format!("system:serviceaccount:{namespace}:default");
        let mut attrs = json!({
            "verb": self.verb,
            "group": self.group,
            "resource": self.resource,
        });
        if !self.subresource.is_empty() {
            attrs["subresource"] = json!(self.subresource);
        }
        if !self.cluster {
            attrs["namespace"] = json!(namespace);
        }
        json!({
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {
                "user": user,
                "groups": [
                    "system:serviceaccounts",
                    format!("system:serviceaccounts:{namespace}"),
                    "system:authenticated"
                ],
                "resourceAttributes": attrs
            }
        })
    }
}

fn namespace_ref(ns: &str) -> ObjectRef {
    ObjectRef {
        api_version: "v1".to_owned(),
        kind: "Namespace".to_owned(),
        namespace: None,
        name: Some(ns.to_owned()),
    }
}

/// What the probes found.
#[derive(Debug, Default)]
pub struct ProbeResults {
    pub findings: Vec<Finding>,
    pub problems: Vec<Problem>,
    /// One line per probe, for `--verbose`.
    pub log: Vec<String>,
}

async fn privileged(api: &Api, namespaces: &[String], concurrency: usize, out: &mut ProbeResults) {
    let body = privileged_pod();
    let probed: Vec<&String> = namespaces
        .iter()
        .filter(|n| !PRIVILEGED_EXPECTED.contains(&n.as_str()))
        .collect();
    let results: Vec<(String, Admission)> = futures::stream::iter(probed.into_iter().map(|ns| {
        let body = &body;
        async move {
            let path = format!("/api/v1/namespaces/{ns}/pods?dryRun=All");
            (ns.clone(), classify_admission(&api.post(&path, body).await))
        }
    }))
    .buffered(concurrency.max(1))
    .collect()
    .await;
    let mut denied_to_probe = Vec::new();
    for (ns, verdict) in results {
        match verdict {
            Admission::Admitted => {
                out.log
                    .push(format!("namespace {ns}: privileged pod admitted (dry run)"));
                out.findings.push(live_finding(
                    &PrivilegedPodAdmitted::META,
                    Severity::High,
                    namespace_ref(&ns),
                    "metadata.labels",
                    format!(
                        "namespace `{ns}` admits a privileged pod (privileged container, hostNetwork, hostPID, hostIPC, hostPath `/`): the API server accepted it in a server-side dry run, so no admission control stops it there"
                    ),
                    format!(
                        "enforce a Pod Security Standard: `kubectl label namespace {ns} pod-security.kubernetes.io/enforce=restricted` (or baseline), or an equivalent admission policy"
                    ),
                    format!("kubectl get namespace {ns} --show-labels"),
                ));
            }
            Admission::Rejected(why) => {
                out.log
                    .push(format!("namespace {ns}: privileged pod rejected: {why}"));
            }
            Admission::NotAllowedToProbe(_) => denied_to_probe.push(ns),
            Admission::Inconclusive(why) => {
                out.log.push(format!(
                    "namespace {ns}: privileged-pod probe inconclusive: {why}"
                ));
                out.problems.push(Problem {
                    kind: "api",
                    message: format!(
                        "the privileged-pod probe could not run in namespace `{ns}`: {why}"
                    ),
                });
            }
        }
    }
    if !denied_to_probe.is_empty() {
        out.problems.push(Problem {
            kind: "permission",
            message: format!(
                "missing permission: verb `create` on resource `pods` in API group \"\" (core) in namespace{} {}; the privileged-pod probe (server-side dry run) did not run there",
                if denied_to_probe.len() == 1 { "" } else { "s" },
                denied_to_probe
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
}

async fn default_accounts(
    api: &Api,
    namespaces: &[String],
    concurrency: usize,
    out: &mut ProbeResults,
) {
    let mut reviews = Vec::new();
    for ns in namespaces {
        for a in ACCESSES {
            reviews.push((ns.clone(), *a));
        }
    }
    let path = "/apis/authorization.k8s.io/v1/subjectaccessreviews";
    let results: Vec<(String, Access, Result<Value, ApiError>)> =
        futures::stream::iter(reviews.into_iter().map(|(ns, a)| async move {
            let r = api.post(path, &a.review(&ns)).await;
            (ns, a, r)
        }))
        .buffered(concurrency.max(1))
        .collect()
        .await;
    let mut refused = None;
    let mut current: Option<String> = None;
    let mut allowed: Vec<Access> = Vec::new();
    let flush = |ns: &str, allowed: &mut Vec<Access>, out: &mut ProbeResults| {
        let account = ObjectRef {
            api_version: "v1".to_owned(),
            kind: "ServiceAccount".to_owned(),
            namespace: Some(ns.to_owned()),
            name: Some("default".to_owned()),
        };
        let kubectl =
            format!("kubectl auth can-i --list -n {ns} --as=system:serviceaccount:{ns}:default");
        let (sensitive, other): (Vec<Access>, Vec<Access>) =
            allowed.drain(..).partition(|a| a.sensitive);
        for (list, severity, why) in [
            (
                sensitive,
                Severity::High,
                "every pod there that names no ServiceAccount holds these rights",
            ),
            (
                other,
                Severity::Medium,
                "more than discovery: every pod there that names no ServiceAccount holds these rights",
            ),
        ] {
            if list.is_empty() {
                continue;
            }
            let what = list
                .iter()
                .map(Access::describe)
                .collect::<Vec<_>>()
                .join(", ");
            out.log
                .push(format!("namespace {ns}: default ServiceAccount can {what}"));
            out.findings.push(live_finding(
                &DefaultServiceAccountPermissions::META,
                severity,
                account.clone(),
                "",
                format!(
                    "the `default` ServiceAccount of namespace `{ns}` can {what} (SubjectAccessReview): {why}"
                ),
                "remove the bindings that grant these rights to the `default` ServiceAccount (or to all ServiceAccounts), and give the workloads that need them their own ServiceAccount".to_owned(),
                kubectl.clone(),
            ));
        }
    };
    for (ns, a, r) in results {
        if current.as_deref() != Some(ns.as_str()) {
            if let Some(prev) = current.take() {
                flush(&prev, &mut allowed, out);
            }
            current = Some(ns.clone());
        }
        match r {
            Ok(v) => {
                if v["status"]["allowed"].as_bool() == Some(true) {
                    allowed.push(a);
                }
            }
            Err(e) if matches!(e.code(), Some(401 | 403)) => {
                refused.get_or_insert(e.message());
            }
            Err(e) => out.problems.push(Problem {
                kind: "api",
                message: format!(
                    "the access review `{}` of the default ServiceAccount of namespace `{ns}` failed: {e}",
                    a.describe()
                ),
            }),
        }
    }
    if let Some(prev) = current.take() {
        flush(&prev, &mut allowed, out);
    }
    if let Some(message) = refused {
        out.problems.push(Problem {
            kind: "permission",
            message: format!(
                "missing permission: verb `create` on resource `subjectaccessreviews` in API group `authorization.k8s.io` (cluster-scoped); the default ServiceAccount probes did not run (the API server said: {message})"
            ),
        });
    }
}

/// Requests without credentials: anything but 401/403 is a finding.
async fn anonymous(api: &Api, out: &mut ProbeResults) {
    let mut config = api.config.clone();
    config.auth_info = Default::default();
    config.headers.clear();
    let url = api.config.cluster_url.to_string();
    let url = url.trim_end_matches('/').to_owned();
    let client = match kube::Client::try_from(config) {
        Ok(c) => c,
        Err(e) => {
            out.problems.push(Problem {
                kind: "api",
                message: format!("the anonymous-request probe could not build a client: {e}"),
            });
            return;
        }
    };
    for path in ["/api/v1/namespaces", "/api/v1/namespaces/default/secrets"] {
        let Ok(request) = http::Request::get(path).body(kube::client::Body::empty()) else {
            continue;
        };
        api.count();
        match tokio::time::timeout(Duration::from_secs(20), client.send(request)).await {
            Ok(Ok(response)) => {
                let status = response.status().as_u16();
                out.log.push(format!("anonymous GET {path}: {status}"));
                if status == 401 || status == 403 {
                    continue;
                }
                let (severity, what) = if (200..300).contains(&status) {
                    (Severity::Critical, "answered with data")
                } else {
                    (Severity::High, "did not refuse it")
                };
                out.findings.push(live_finding(
                    &AnonymousRequestAllowed::META,
                    severity,
                    api_server_ref(&url),
                    "",
                    format!(
                        "a request without credentials to `GET {path}` got {status}: the API server {what} (expected 401 or 403)"
                    ),
                    "remove the bindings of `system:anonymous` and `system:unauthenticated` beyond `system:public-info-viewer`, and set `--anonymous-auth=false`".to_owned(),
                    format!("curl -sk {url}{path}"),
                ));
            }
            Ok(Err(e)) => out.problems.push(Problem {
                kind: "api",
                message: format!("the anonymous-request probe `GET {path}` failed: {e}"),
            }),
            Err(_) => out.problems.push(Problem {
                kind: "api",
                message: format!("the anonymous-request probe `GET {path}` timed out"),
            }),
        }
    }
}

/// The outcome of an `openssl s_client` handshake attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum Handshake {
    Completed(String),
    Refused,
    /// openssl itself would not offer the version.
    Unavailable(String),
}

/// Reads `openssl s_client`'s output.
pub fn classify_handshake(success: bool, output: &str) -> Handshake {
    if output.contains("no protocols available") || output.contains("unsupported protocol") {
        return Handshake::Unavailable(
            "openssl refuses to offer this TLS version on this machine".to_owned(),
        );
    }
    let cipher = output.lines().find_map(|l| {
        l.split_once(", Cipher is ")
            .map(|(_, c)| c.trim().to_owned())
    });
    match cipher {
        Some(c) if success && c != "(NONE)" && !c.is_empty() => Handshake::Completed(c),
        _ => Handshake::Refused,
    }
}

/// The TLS 1.1/1.0 probe (CMP030) of the API server `api` connects to.
pub async fn old_tls(api: &Api, out: &mut ProbeResults) {
    let uri = &api.config.cluster_url;
    if uri.scheme_str() != Some("https") || api.config.proxy_url.is_some() {
        out.log
            .push("old-TLS probe skipped: not a direct https connection".to_owned());
        return;
    }
    let Some(host) = uri.host() else {
        return;
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = uri.port_u16().unwrap_or(443);
    let url = uri.to_string().trim_end_matches('/').to_owned();
    let connect = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    for (flag, name) in [("-tls1_1", "TLS 1.1"), ("-tls1", "TLS 1.0")] {
        let mut cmd = tokio::process::Command::new("openssl");
        cmd.args([
            "s_client",
            "-connect",
            &connect,
            flag,
            "-cipher",
            "DEFAULT:@SECLEVEL=0",
        ]);
        if host.parse::<std::net::IpAddr>().is_err() {
            cmd.args(["-servername", &host]);
        }
        cmd.stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let output = match tokio::time::timeout(Duration::from_secs(20), cmd.output()).await {
            Ok(Ok(o)) => o,
            Ok(Err(e)) => {
                out.problems.push(Problem {
                    kind: "api",
                    message: format!(
                        "the old-TLS probe needs `openssl` (Rust's TLS library cannot speak TLS 1.0/1.1): {e}"
                    ),
                });
                return;
            }
            Err(_) => {
                out.problems.push(Problem {
                    kind: "api",
                    message: format!("the {name} probe of {connect} timed out"),
                });
                continue;
            }
        };
        api.count();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        match classify_handshake(output.status.success(), &text) {
            Handshake::Completed(cipher) => {
                out.log.push(format!(
                    "{name} handshake with {connect}: completed ({cipher})"
                ));
                out.findings.push(live_finding(
                    &ApiServerAcceptsOldTls::META,
                    Severity::High,
                    api_server_ref(&url),
                    "",
                    format!("the API server at {connect} completed a {name} handshake (cipher {cipher})"),
                    "set `--tls-min-version=VersionTLS12` (or VersionTLS13) on kube-apiserver, and on any proxy or load balancer in front of it".to_owned(),
                    format!("openssl s_client -connect {connect} {flag} -cipher 'DEFAULT:@SECLEVEL=0' </dev/null"),
                ));
                return;
            }
            Handshake::Refused => {
                out.log
                    .push(format!("{name} handshake with {connect}: refused"));
            }
            Handshake::Unavailable(why) => {
                out.problems.push(Problem {
                    kind: "api",
                    message: format!("the {name} probe could not run: {why}"),
                });
            }
        }
    }
}

/// Runs every probe.
pub async fn run(api: &Api, namespaces: &[String], concurrency: usize) -> ProbeResults {
    let mut out = ProbeResults::default();
    privileged(api, namespaces, concurrency, &mut out).await;
    default_accounts(api, namespaces, concurrency, &mut out).await;
    anonymous(api, &mut out).await;
    old_tls(api, &mut out).await;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, message: &str) -> Result<Value, ApiError> {
        Err(ApiError::Status {
            code,
            reason: String::new(),
            message: message.to_owned(),
        })
    }

    #[test]
    fn admission_answers() {
        assert_eq!(classify_admission(&Ok(json!({}))), Admission::Admitted);
        let psa = "pods \"x\" is forbidden: violates PodSecurity \"restricted:latest\": privileged";
        assert_eq!(
            classify_admission(&status(403, psa)),
            Admission::Rejected(psa.to_owned())
        );
        let rbac = "pods is forbidden: User \"bob\" cannot create resource \"pods\" in API group \"\" in the namespace \"a\"";
        assert!(matches!(
            classify_admission(&status(403, rbac)),
            Admission::NotAllowedToProbe(_)
        ));
        let sa = "pods \"x\" is forbidden: error looking up service account a/default: serviceaccount \"default\" not found";
        assert!(matches!(
            classify_admission(&status(403, sa)),
            Admission::Inconclusive(_)
        ));
        let webhook = "admission webhook \"policy.example\" denied the request: no privileged pods";
        assert!(matches!(
            classify_admission(&status(400, webhook)),
            Admission::Rejected(_)
        ));
        assert!(matches!(
            classify_admission(&status(500, "failed calling webhook")),
            Admission::Inconclusive(_)
        ));
    }

    #[test]
    fn access_reviews() {
        assert_eq!(ACCESSES[2].describe(), "create pods/exec");
        assert_eq!(ACCESSES[8].describe(), "create deployments.apps");
        assert_eq!(ACCESSES[11].describe(), "list nodes (cluster-wide)");
        let r = ACCESSES[2].review("shop");
        assert_eq!(r["spec"]["user"], "system:serviceaccount:shop:default");
        assert_eq!(r["spec"]["resourceAttributes"]["subresource"], "exec");
        assert_eq!(r["spec"]["resourceAttributes"]["namespace"], "shop");
        assert!(
            ACCESSES[11].review("shop")["spec"]["resourceAttributes"]
                .get("namespace")
                .is_none()
        );
    }

    #[test]
    fn handshake_outputs() {
        let ok = "CONNECTED(00000003)\n---\nNew, TLSv1.1, Cipher is ECDHE-RSA-AES256-SHA\n";
        assert_eq!(
            classify_handshake(true, ok),
            Handshake::Completed("ECDHE-RSA-AES256-SHA".into())
        );
        let refused = "CONNECTED(00000003)\n4007:error:0A00042E:SSL routines:ssl3_read_bytes:tlsv1 alert protocol version\n---\nNew, (NONE), Cipher is (NONE)\n";
        assert_eq!(classify_handshake(false, refused), Handshake::Refused);
        let unavailable =
            "4007:error:0A0000BF:SSL routines:tls_setup_handshake:no protocols available\n";
        assert!(matches!(
            classify_handshake(false, unavailable),
            Handshake::Unavailable(_)
        ));
    }

    #[test]
    fn the_probe_pod_is_privileged_and_dry_run_only() {
        let p = privileged_pod();
        assert_eq!(
            p["spec"]["containers"][0]["securityContext"]["privileged"],
            true
        );
        assert_eq!(p["spec"]["hostPID"], true);
        assert!(
            p["metadata"].get("name").is_none(),
            "generateName, so no clash"
        );
    }
}
