//! What the rules need from the cluster: every kind is listed with pagination and bounded
//! concurrency, each object is stripped of `managedFields` and `status` and kept as one JSON
//! document, and objects run by a listed workload are left to that workload.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use futures::StreamExt;
use serde_json::Value;

use crate::api::{Api, ApiError};

/// A kind palisade lists.
#[derive(Debug, PartialEq, Eq)]
pub struct Kind {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
    /// Owns pods or other workloads: objects it controls are reported on it.
    pub workload: bool,
    /// From a CRD (Cilium, Calico, Istio): listed only when the API server serves it.
    pub optional: bool,
}

const fn kind(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
) -> Kind {
    Kind {
        group,
        version,
        kind,
        plural,
        namespaced,
        workload: false,
        optional: false,
    }
}

const fn workload(group: &'static str, kind_: &'static str, plural: &'static str) -> Kind {
    let version = "v1";
    Kind {
        workload: true,
        ..kind(group, version, kind_, plural, true)
    }
}

const fn crd(
    group: &'static str,
    version: &'static str,
    kind_: &'static str,
    plural: &'static str,
    namespaced: bool,
) -> Kind {
    Kind {
        optional: true,
        ..kind(group, version, kind_, plural, namespaced)
    }
}

/// Everything the rules read, in report order.
pub static KINDS: &[Kind] = &[
    kind("", "v1", "Namespace", "namespaces", false),
    workload("apps", "Deployment", "deployments"),
    workload("apps", "StatefulSet", "statefulsets"),
    workload("apps", "DaemonSet", "daemonsets"),
    workload("apps", "ReplicaSet", "replicasets"),
    workload("", "ReplicationController", "replicationcontrollers"),
    workload("batch", "CronJob", "cronjobs"),
    workload("batch", "Job", "jobs"),
    // CRDs with a pod template the rules read (as in manifests).
    Kind {
        workload: true,
        ..crd("argoproj.io", "v1alpha1", "Rollout", "rollouts", true)
    },
    Kind {
        workload: true,
        ..crd(
            "apps.openshift.io",
            "v1",
            "DeploymentConfig",
            "deploymentconfigs",
            true,
        )
    },
    kind("", "v1", "Pod", "pods", true),
    kind("", "v1", "Service", "services", true),
    kind("networking.k8s.io", "v1", "Ingress", "ingresses", true),
    kind(
        "networking.k8s.io",
        "v1",
        "NetworkPolicy",
        "networkpolicies",
        true,
    ),
    crd(
        "cilium.io",
        "v2",
        "CiliumNetworkPolicy",
        "ciliumnetworkpolicies",
        true,
    ),
    crd(
        "cilium.io",
        "v2",
        "CiliumClusterwideNetworkPolicy",
        "ciliumclusterwidenetworkpolicies",
        false,
    ),
    crd(
        "crd.projectcalico.org",
        "v1",
        "NetworkPolicy",
        "networkpolicies",
        true,
    ),
    crd(
        "crd.projectcalico.org",
        "v1",
        "GlobalNetworkPolicy",
        "globalnetworkpolicies",
        false,
    ),
    crd(
        "projectcalico.org",
        "v3",
        "NetworkPolicy",
        "networkpolicies",
        true,
    ),
    crd(
        "projectcalico.org",
        "v3",
        "GlobalNetworkPolicy",
        "globalnetworkpolicies",
        false,
    ),
    crd(
        "security.istio.io",
        "v1",
        "PeerAuthentication",
        "peerauthentications",
        true,
    ),
    kind("", "v1", "ServiceAccount", "serviceaccounts", true),
    kind("rbac.authorization.k8s.io", "v1", "Role", "roles", true),
    kind(
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
        true,
    ),
    kind(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
        false,
    ),
    kind(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
    ),
    kind("", "v1", "LimitRange", "limitranges", true),
    kind("", "v1", "ResourceQuota", "resourcequotas", true),
    kind(
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        false,
    ),
    kind(
        "admissionregistration.k8s.io",
        "v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        false,
    ),
    kind("", "v1", "Node", "nodes", false),
];

impl Kind {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The collection's path, cluster-wide or in one namespace.
    pub fn path(&self, namespace: Option<&str>) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match namespace {
            Some(ns) => format!("{base}/namespaces/{ns}/{}", self.plural),
            None => format!("{base}/{}", self.plural),
        }
    }

    /// `deployments.apps`, as RBAC and kubectl name it.
    pub fn resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_owned()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// The kubectl command that shows one object.
    pub fn kubectl(&self, namespace: Option<&str>, name: &str) -> String {
        let what = if self.group.is_empty() {
            self.kind.to_ascii_lowercase()
        } else {
            format!("{}.{}", self.kind.to_ascii_lowercase(), self.group)
        };
        match namespace {
            Some(ns) => format!("kubectl get -n {ns} {what} {name} -o yaml"),
            None => format!("kubectl get {what} {name} -o yaml"),
        }
    }
}

/// One live object, ready for the rule engine.
#[derive(Debug)]
pub struct LiveObject {
    pub kind: &'static Kind,
    pub namespace: Option<String>,
    pub name: String,
    pub uid: String,
    /// The uid of the object's controller (`ownerReferences[].controller: true`).
    pub controller: Option<String>,
    /// The object as JSON, without `managedFields` and `status`.
    pub text: String,
    /// One of Kubernetes' own default RBAC objects (label `kubernetes.io/bootstrapping:
    /// rbac-defaults`), which the API server recreates at every start: read for what it grants,
    /// not reported.
    pub bootstrap: bool,
}

impl LiveObject {
    pub fn kubectl(&self) -> String {
        self.kind.kubectl(self.namespace.as_deref(), &self.name)
    }
}

/// A list the credentials may not make, or that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListFailure {
    /// `permission` (401/403) or `api`.
    pub kind: &'static str,
    pub message: String,
}

/// Facts read on the way that the cluster checks need (the rules never see `status`).
#[derive(Debug, Default)]
pub struct Facts {
    /// Node name → kubelet version.
    pub kubelets: Vec<(String, String)>,
    /// Namespaces listed (or named with `-n`), with their labels.
    pub namespaces: Vec<String>,
}

/// Everything listed.
#[derive(Debug, Default)]
pub struct Inventory {
    /// Objects for the engine, in report order, without those run by a listed workload.
    pub objects: Vec<LiveObject>,
    /// Objects left to their controlling workload.
    pub owned: usize,
    pub failures: Vec<ListFailure>,
    pub facts: Facts,
    /// Optional kinds the API server does not serve.
    pub absent: Vec<&'static Kind>,
}

/// What to list.
#[derive(Debug, Clone)]
pub struct Scope {
    /// Empty: every namespace and the cluster-scoped kinds. Otherwise these namespaces only.
    pub namespaces: Vec<String>,
    pub exclude: Vec<String>,
    pub page_size: u32,
    pub concurrency: usize,
}

impl Scope {
    fn wants(&self, namespace: Option<&str>) -> bool {
        match namespace {
            Some(ns) => {
                !self.exclude.iter().any(|e| e == ns)
                    && (self.namespaces.is_empty() || self.namespaces.iter().any(|n| n == ns))
            }
            None => true,
        }
    }
}

/// Percent-encodes a query value (continue tokens are base64, with `=`, `+` and `/`).
pub fn encode_query(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The group versions the API server serves (`/apis`), and for CRD groups their resources.
async fn served(api: &Api) -> Result<HashSet<String>, ApiError> {
    let groups = api.get("/apis").await?;
    let mut served: HashSet<String> = HashSet::new();
    served.insert("v1".to_owned());
    for g in groups["groups"].as_array().into_iter().flatten() {
        for v in g["versions"].as_array().into_iter().flatten() {
            if let Some(gv) = v["groupVersion"].as_str() {
                served.insert(gv.to_owned());
            }
        }
    }
    // CRD kinds: the group may serve other resources only; ask for the version's resources.
    let mut optional: Vec<String> = KINDS
        .iter()
        .filter(|k| k.optional && served.contains(&k.api_version()))
        .map(|k| k.api_version())
        .collect();
    optional.sort();
    optional.dedup();
    for gv in optional {
        let list = api.get(&format!("/apis/{gv}")).await?;
        for r in list["resources"].as_array().into_iter().flatten() {
            if let Some(name) = r["name"].as_str() {
                served.insert(format!("{gv}/{name}"));
            }
        }
    }
    Ok(served)
}

fn is_served(served: &HashSet<String>, k: &Kind) -> bool {
    let gv = k.api_version();
    if k.optional {
        served.contains(&format!("{gv}/{}", k.plural))
    } else {
        served.contains(&gv)
    }
}

/// One list call, page by page.
struct Task {
    kind: &'static Kind,
    namespace: Option<String>,
    /// Get this one object instead of listing (a Namespace named with `-n`).
    get: Option<String>,
}

struct Listed {
    kind: &'static Kind,
    objects: Vec<LiveObject>,
    kubelets: Vec<(String, String)>,
    failure: Option<ListFailure>,
    requests: usize,
    millis: u128,
}

fn describe_scope(namespace: Option<&str>, kind: &Kind) -> String {
    match namespace {
        Some(ns) => format!("in namespace `{ns}`"),
        None if kind.namespaced => "in all namespaces".to_owned(),
        None => "(cluster-scoped)".to_owned(),
    }
}

/// The message for a refused list: which permission is missing.
pub fn missing_permission(
    verb: &str,
    kind: &Kind,
    namespace: Option<&str>,
    error: &ApiError,
) -> ListFailure {
    let group = if kind.group.is_empty() {
        "\"\" (core)".to_owned()
    } else {
        format!("`{}`", kind.group)
    };
    let scope = describe_scope(namespace, kind);
    if error.code() == Some(401) {
        return ListFailure {
            kind: "permission",
            message: format!(
                "cannot {verb} {} {scope}: the API server did not accept the credentials (401 Unauthorized: {})",
                kind.resource(),
                error.message()
            ),
        };
    }
    ListFailure {
        kind: "permission",
        message: format!(
            "missing permission: verb `{verb}` on resource `{}` in API group {group} {scope}; {} objects there were not audited (the API server said: {})",
            kind.plural,
            kind.kind,
            error.message()
        ),
    }
}

/// Turns one list item into a live object; node kubelet versions go to `kubelets`.
fn live_object(
    kind: &'static Kind,
    mut item: Value,
    kubelets: &mut Vec<(String, String)>,
) -> Option<LiveObject> {
    let meta = item.get_mut("metadata")?.as_object_mut()?;
    meta.remove("managedFields");
    let name = meta.get("name")?.as_str()?.to_owned();
    let namespace = meta
        .get("namespace")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let uid = meta
        .get("uid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let controller = meta
        .get("ownerReferences")
        .and_then(Value::as_array)
        .and_then(|refs| {
            refs.iter()
                .find(|r| r["controller"].as_bool() == Some(true))
                .and_then(|r| r["uid"].as_str())
                .map(str::to_owned)
        });
    let bootstrap = meta
        .get("labels")
        .and_then(|l| l.get("kubernetes.io/bootstrapping"))
        .and_then(Value::as_str)
        == Some("rbac-defaults")
        && kind.group == "rbac.authorization.k8s.io";
    let obj = item.as_object_mut()?;
    if let Some(status) = obj.remove("status")
        && kind.kind == "Node"
        && let Some(v) = status["nodeInfo"]["kubeletVersion"].as_str()
    {
        kubelets.push((name.clone(), v.to_owned()));
    }
    obj.insert("apiVersion".to_owned(), Value::String(kind.api_version()));
    obj.insert("kind".to_owned(), Value::String(kind.kind.to_owned()));
    // One field per line: findings keep their source line, which must not be the whole object.
    let text = serde_json::to_string_pretty(&item).ok()?;
    Some(LiveObject {
        kind,
        namespace,
        name,
        uid,
        controller,
        text,
        bootstrap,
    })
}

async fn run_task(api: &Api, task: Task, scope: &Scope) -> Listed {
    let started = Instant::now();
    let mut listed = Listed {
        kind: task.kind,
        objects: Vec::new(),
        kubelets: Vec::new(),
        failure: None,
        requests: 0,
        millis: 0,
    };
    let base = task.kind.path(task.namespace.as_deref());
    if let Some(name) = &task.get {
        listed.requests += 1;
        match api.get(&format!("{base}/{name}")).await {
            Ok(item) => {
                if let Some(o) = live_object(task.kind, item, &mut listed.kubelets) {
                    listed.objects.push(o);
                }
            }
            Err(e) if e.code() == Some(404) => {
                listed.failure = Some(ListFailure {
                    kind: "api",
                    message: format!("namespace `{name}` (from -n) does not exist"),
                });
            }
            Err(e) if matches!(e.code(), Some(401 | 403)) => {
                listed.failure = Some(missing_permission("get", task.kind, None, &e));
            }
            Err(e) => {
                listed.failure = Some(ListFailure {
                    kind: "api",
                    message: format!("cannot get namespace `{name}`: {e}"),
                });
            }
        }
    } else {
        let mut cont: Option<String> = None;
        loop {
            let mut url = format!("{base}?limit={}", scope.page_size.max(1));
            if let Some(c) = &cont {
                url.push_str("&continue=");
                url.push_str(&encode_query(c));
            }
            listed.requests += 1;
            let page = match api.get(&url).await {
                Ok(page) => page,
                Err(e) => {
                    listed.failure = Some(if matches!(e.code(), Some(401 | 403)) {
                        missing_permission("list", task.kind, task.namespace.as_deref(), &e)
                    } else {
                        ListFailure {
                            kind: "api",
                            message: format!(
                                "cannot list {} {}: {e}",
                                task.kind.resource(),
                                describe_scope(task.namespace.as_deref(), task.kind)
                            ),
                        }
                    });
                    break;
                }
            };
            let mut page = page;
            if let Some(items) = page.get_mut("items").and_then(Value::as_array_mut) {
                for item in items.drain(..) {
                    if let Some(o) = live_object(task.kind, item, &mut listed.kubelets)
                        && scope.wants(o.namespace.as_deref())
                        && (o.kind.kind != "Namespace" || scope.wants(Some(&o.name)))
                    {
                        listed.objects.push(o);
                    }
                }
            }
            cont = page["metadata"]["continue"]
                .as_str()
                .filter(|c| !c.is_empty())
                .map(str::to_owned);
            if cont.is_none() {
                break;
            }
        }
    }
    listed.millis = started.elapsed().as_millis();
    listed
}

/// Lists everything the rules need. `progress` gets one detail line per kind listed.
pub async fn collect(
    api: &Api,
    scope: &Scope,
    progress: &(dyn Fn(bool, String) + Sync),
) -> Inventory {
    let mut inventory = Inventory::default();
    let served = match served(api).await {
        Ok(s) => s,
        Err(e) => {
            inventory.failures.push(ListFailure {
                kind: if matches!(e.code(), Some(401 | 403)) {
                    "permission"
                } else {
                    "api"
                },
                message: format!("cannot discover the API groups (GET /apis): {e}"),
            });
            return inventory;
        }
    };
    let mut tasks = Vec::new();
    for k in KINDS {
        if !is_served(&served, k) {
            inventory.absent.push(k);
            continue;
        }
        if scope.namespaces.is_empty() {
            tasks.push(Task {
                kind: k,
                namespace: None,
                get: None,
            });
        } else if k.namespaced {
            for ns in scope.namespaces.iter().filter(|ns| scope.wants(Some(ns))) {
                tasks.push(Task {
                    kind: k,
                    namespace: Some(ns.clone()),
                    get: None,
                });
            }
        } else if k.kind == "Namespace" {
            for ns in scope.namespaces.iter().filter(|ns| scope.wants(Some(ns))) {
                tasks.push(Task {
                    kind: k,
                    namespace: None,
                    get: Some(ns.clone()),
                });
            }
        }
    }
    let mut results: Vec<Listed> = futures::stream::iter(
        tasks
            .into_iter()
            .map(|t| async move { run_task(api, t, scope).await }),
    )
    .buffer_unordered(scope.concurrency.max(1))
    .inspect(|l| {
        progress(
            true,
            format!(
                "listed {} {}{} in {} request{} ({} ms)",
                l.objects.len(),
                l.kind.resource(),
                if l.failure.is_some() { " (failed)" } else { "" },
                l.requests,
                if l.requests == 1 { "" } else { "s" },
                l.millis
            ),
        )
    })
    .collect()
    .await;
    let order: HashMap<*const Kind, usize> = KINDS
        .iter()
        .enumerate()
        .map(|(i, k)| (k as *const Kind, i))
        .collect();
    results.sort_by_key(|l| order.get(&(l.kind as *const Kind)).copied());
    let mut objects = Vec::new();
    for l in results {
        inventory.facts.kubelets.extend(l.kubelets);
        if let Some(f) = l.failure {
            inventory.failures.push(f);
        }
        objects.extend(l.objects);
    }
    // Pods, ReplicaSets, ReplicationControllers and Jobs run by a listed workload are reported
    // on that workload.
    let workloads: HashSet<&str> = objects
        .iter()
        .filter(|o| o.kind.workload)
        .map(|o| o.uid.as_str())
        .collect();
    let owned: Vec<bool> = objects
        .iter()
        .map(|o| {
            matches!(
                o.kind.kind,
                "Pod" | "ReplicaSet" | "ReplicationController" | "Job"
            ) && o
                .controller
                .as_deref()
                .is_some_and(|c| workloads.contains(c))
        })
        .collect();
    let mut kept = Vec::with_capacity(objects.len());
    for (o, owned) in objects.into_iter().zip(owned) {
        if owned {
            inventory.owned += 1;
        } else {
            kept.push(o);
        }
    }
    kept.sort_by(|a, b| {
        let ka = order.get(&(a.kind as *const Kind));
        let kb = order.get(&(b.kind as *const Kind));
        (ka, &a.namespace, &a.name).cmp(&(kb, &b.namespace, &b.name))
    });
    inventory.facts.namespaces = if scope.namespaces.is_empty() {
        kept.iter()
            .filter(|o| o.kind.kind == "Namespace")
            .map(|o| o.name.clone())
            .filter(|n| scope.wants(Some(n)))
            .collect()
    } else {
        scope
            .namespaces
            .iter()
            .filter(|n| scope.wants(Some(n)))
            .cloned()
            .collect()
    };
    inventory.facts.kubelets.sort();
    inventory.objects = kept;
    inventory
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(kind_: &str) -> &'static Kind {
        KINDS.iter().find(|k| k.kind == kind_).unwrap()
    }

    #[test]
    fn paths_and_names() {
        let d = k("Deployment");
        assert_eq!(d.path(None), "/apis/apps/v1/deployments");
        assert_eq!(
            d.path(Some("shop")),
            "/apis/apps/v1/namespaces/shop/deployments"
        );
        assert_eq!(d.resource(), "deployments.apps");
        assert_eq!(
            d.kubectl(Some("shop"), "web"),
            "kubectl get -n shop deployment.apps web -o yaml"
        );
        let n = k("Namespace");
        assert_eq!(n.path(None), "/api/v1/namespaces");
        assert_eq!(
            n.kubectl(None, "shop"),
            "kubectl get namespace shop -o yaml"
        );
    }

    #[test]
    fn crd_workloads_are_optional_and_own_their_pods() {
        for name in ["Rollout", "DeploymentConfig"] {
            let k = k(name);
            assert!(k.optional && k.workload && k.namespaced, "{name}");
        }
        assert_eq!(
            k("Rollout").path(Some("a")),
            "/apis/argoproj.io/v1alpha1/namespaces/a/rollouts"
        );
    }

    #[test]
    fn continue_tokens_are_encoded() {
        assert_eq!(encode_query("eyJ2Ijo+/x=="), "eyJ2Ijo%2B%2Fx%3D%3D");
    }

    #[test]
    fn live_objects_lose_status_and_managed_fields() {
        let item = serde_json::json!({
            "metadata": {"name": "n1", "uid": "u1", "managedFields": [{"manager": "x"}]},
            "spec": {"podCIDR": "10.0.0.0/24"},
            "status": {"nodeInfo": {"kubeletVersion": "v1.30.2"}}
        });
        let mut kubelets = Vec::new();
        let o = live_object(k("Node"), item, &mut kubelets).unwrap();
        assert_eq!(kubelets, vec![("n1".to_owned(), "v1.30.2".to_owned())]);
        let v: Value = serde_json::from_str(&o.text).unwrap();
        assert_eq!(v["kind"], "Node");
        assert_eq!(v["apiVersion"], "v1");
        assert!(v.get("status").is_none());
        assert!(v["metadata"].get("managedFields").is_none());
        assert_eq!(o.controller, None);
    }

    #[test]
    fn controller_owner_is_read() {
        let item = serde_json::json!({
            "metadata": {"name": "p", "namespace": "a", "uid": "u2", "ownerReferences": [
                {"kind": "Node", "uid": "n", "controller": false},
                {"kind": "ReplicaSet", "uid": "rs1", "controller": true}
            ]},
            "spec": {}
        });
        let o = live_object(k("Pod"), item, &mut Vec::new()).unwrap();
        assert_eq!(o.controller.as_deref(), Some("rs1"));
        assert_eq!(o.namespace.as_deref(), Some("a"));
    }

    #[test]
    fn missing_permission_names_verb_resource_group_and_namespace() {
        let e = ApiError::Status {
            code: 403,
            reason: "Forbidden".into(),
            message: "nope".into(),
        };
        let f = missing_permission("list", k("Deployment"), Some("shop"), &e);
        assert_eq!(f.kind, "permission");
        assert_eq!(
            f.message,
            "missing permission: verb `list` on resource `deployments` in API group `apps` in namespace `shop`; Deployment objects there were not audited (the API server said: nope)"
        );
        let f = missing_permission("list", k("Node"), None, &e);
        assert!(
            f.message
                .contains("in API group \"\" (core) (cluster-scoped)"),
            "{}",
            f.message
        );
    }

    #[test]
    fn scope_filters_namespaces() {
        let s = Scope {
            namespaces: vec![],
            exclude: vec!["kube-system".into()],
            page_size: 10,
            concurrency: 1,
        };
        assert!(s.wants(Some("shop")));
        assert!(!s.wants(Some("kube-system")));
        assert!(s.wants(None));
    }
}
