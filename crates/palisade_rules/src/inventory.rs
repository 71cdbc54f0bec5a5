//! The inventory: every object of the input that estate-wide rules reason about (workloads,
//! network policies of every flavour, namespaces, RBAC roles, bindings and service accounts),
//! reduced to plain data with the locations to cite. The engine fills it from manifests; the
//! same structures serve any other source of objects, since nothing here refers to a parsed
//! document.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use palisade_diagnostics::{ObjectRef, RelatedLocation};
use palisade_k8s::{FieldPath, Object, PodSpec};
use palisade_yaml::{Document, NodeId};

use crate::checker::Checker;

/// Everything the estate-wide rules know about the input.
#[derive(Default, Debug)]
pub struct Inventory {
    pub workloads: Vec<WorkloadFact>,
    pub policies: Vec<PolicyFact>,
    pub namespaces: Vec<NamespaceInfo>,
    pub roles: Vec<RoleFact>,
    pub bindings: Vec<BindingFact>,
    /// ResourceQuotas and LimitRanges: their namespace and the folder of their file.
    pub resource_quotas: Vec<(Option<String>, String)>,
    pub limit_ranges: Vec<(Option<String>, String)>,
    /// Workloads that run the Kubernetes Dashboard, with their ServiceAccount.
    pub dashboards: Vec<DashboardFact>,
    /// Set once the current object has been collected (the inventory a checker holds is the
    /// current object's, and several rules ask for it).
    pub(crate) collected: bool,
    /// Indexes built on first use, once the inventory is complete.
    policy_index: OnceLock<ScopeIndex>,
    workload_index: OnceLock<ScopeIndex>,
    role_index: OnceLock<HashMap<(bool, String), Vec<usize>>>,
}

impl Inventory {
    pub fn merge(&mut self, other: Inventory) {
        self.workloads.extend(other.workloads);
        self.policies.extend(other.policies);
        self.namespaces.extend(other.namespaces);
        self.roles.extend(other.roles);
        self.bindings.extend(other.bindings);
        self.resource_quotas.extend(other.resource_quotas);
        self.limit_ranges.extend(other.limit_ranges);
        self.dashboards.extend(other.dashboards);
    }

    /// Whether a ResourceQuota (`quota`) or LimitRange covers namespace `ns`, whose Namespace
    /// object is in folder `dir`.
    pub fn has_namespace_policy(&self, quota: bool, ns: &str, dir: &str) -> bool {
        let list = if quota {
            &self.resource_quotas
        } else {
            &self.limit_ranges
        };
        list.iter().any(|(n, d)| match n {
            Some(n) => n == ns,
            None => d == dir,
        })
    }

    /// The policies (of every flavour) that may apply to pods of `namespace` whose manifest
    /// is in folder `dir`: the cluster-wide ones, those of the namespace, and those of the
    /// same folder when either side has no `metadata.namespace` (such objects land in
    /// whatever namespace they are applied to, which is the same for one folder, not for
    /// unrelated projects scanned together).
    pub fn policies_in(&self, namespace: Option<&str>, dir: &str) -> Vec<&PolicyFact> {
        let index = self.policy_index.get_or_init(|| {
            let mut index = ScopeIndex::default();
            for (i, p) in self.policies.iter().enumerate() {
                if p.flavor.cluster_wide() {
                    index.global.push(i);
                    continue;
                }
                if let Some(ns) = &p.namespace {
                    index.by_namespace.entry(ns.clone()).or_default().push(i);
                }
                index
                    .by_dir
                    .entry(dir_of(p.loc.file.as_deref()).to_owned())
                    .or_default()
                    .push(i);
            }
            index
        });
        let mut out: Vec<usize> = index.global.clone();
        if let Some(ns) = namespace {
            out.extend(index.by_namespace.get(ns).into_iter().flatten());
        }
        out.extend(
            index
                .by_dir
                .get(dir)
                .into_iter()
                .flatten()
                .filter(|&&i| namespace.is_none() || self.policies[i].namespace.is_none()),
        );
        out.sort_unstable();
        out.dedup();
        out.into_iter().map(|i| &self.policies[i]).collect()
    }

    /// The policies (of every flavour) that may apply to pods with `labels` (see
    /// [`Inventory::policies_in`]).
    pub fn policies_for<'a>(
        &'a self,
        namespace: Option<&'a str>,
        dir: &'a str,
        labels: &'a [(String, String)],
    ) -> impl Iterator<Item = &'a PolicyFact> + 'a {
        self.policies_in(namespace, dir)
            .into_iter()
            .filter(move |p| p.selector.may_match(labels))
    }

    /// The workloads of `namespace` (for workloads without `metadata.namespace`: those of
    /// folder `dir` without one), in input order (file, line, column).
    pub fn workloads_in<'a>(
        &'a self,
        namespace: Option<&str>,
        dir: &str,
    ) -> impl Iterator<Item = &'a WorkloadFact> + 'a {
        let index = self.workload_index.get_or_init(|| {
            let mut index = ScopeIndex::default();
            let mut order: Vec<usize> = (0..self.workloads.len()).collect();
            order.sort_by(|&a, &b| {
                let key = |w: &'_ WorkloadFact| (w.file.clone(), w.line, w.column);
                key(&self.workloads[a]).cmp(&key(&self.workloads[b]))
            });
            for i in order {
                let w = &self.workloads[i];
                match w.namespace() {
                    Some(ns) => index.by_namespace.entry(ns.to_owned()).or_default().push(i),
                    None => index.by_dir.entry(w.dir().to_owned()).or_default().push(i),
                }
            }
            index
        });
        let list = match namespace {
            Some(ns) => index.by_namespace.get(ns),
            None => index.by_dir.get(dir),
        };
        list.into_iter().flatten().map(|&i| &self.workloads[i])
    }

    /// The Namespace object named `name`, if the input holds it.
    pub fn namespace(&self, name: &str) -> Option<&NamespaceInfo> {
        self.namespaces.iter().find(|n| n.name == name)
    }

    /// The role a binding refers to: for a Role, one of the binding's namespace (or of its
    /// folder when either has no namespace); for a ClusterRole, the one of the same file,
    /// else of the same folder, else any of that name.
    pub fn role_of(&self, b: &BindingFact) -> Option<&RoleFact> {
        let file = b.loc.file.as_deref();
        let dir = dir_of(file);
        let index = self.role_index.get_or_init(|| {
            let mut map: HashMap<(bool, String), Vec<usize>> = HashMap::new();
            for (i, r) in self.roles.iter().enumerate() {
                map.entry((r.cluster, r.name.clone())).or_default().push(i);
            }
            map
        });
        let mut best: Option<(u8, &RoleFact)> = None;
        let candidates = index
            .get(&(b.role_cluster, b.role_name.clone()))
            .into_iter()
            .flatten()
            .map(|&i| &self.roles[i]);
        for r in candidates {
            let same_dir = dir_of(r.loc.file.as_deref()) == dir;
            let rank = if r.loc.file.as_deref() == file {
                0
            } else if same_dir {
                1
            } else {
                2
            };
            if !r.cluster {
                let ok = match (r.namespace.as_deref(), b.namespace.as_deref()) {
                    (Some(x), Some(y)) => x == y,
                    _ => same_dir,
                };
                if !ok {
                    continue;
                }
            }
            if best.is_none_or(|(k, _)| rank < k) {
                best = Some((rank, r));
            }
        }
        best.map(|(_, r)| r)
    }

    /// The rules a role grants, with the rules of the ClusterRoles it aggregates (by their
    /// labels, as the controller manager does), each with the role that holds it.
    pub fn effective_rules<'a>(&'a self, role: &'a RoleFact) -> Vec<(&'a RoleFact, &'a RbacRule)> {
        let mut out: Vec<(&RoleFact, &RbacRule)> = role.rules.iter().map(|r| (role, r)).collect();
        if role.cluster && !role.aggregation.is_empty() {
            for other in self
                .roles
                .iter()
                .filter(|o| o.cluster && o.name != role.name)
            {
                if role
                    .aggregation
                    .iter()
                    .any(|sel| !sel.is_empty() && sel.matches(&other.labels))
                {
                    out.extend(other.rules.iter().map(|r| (other, r)));
                }
            }
        }
        out
    }
}

/// A controller whose pod template has no labels: the API server rejects it (its selector
/// must be non-empty and match them), so it is a kustomize base or patch completed later.
/// Estate-wide rules leave such fragments out.
pub fn is_partial_workload(object: &Object<'_>, pod: &PodSpec<'_>) -> bool {
    let controller = match object.group() {
        "apps" | "extensions" => matches!(
            object.kind,
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet"
        ),
        "" => object.kind == "ReplicationController",
        _ => false,
    };
    controller
        && pod
            .metadata
            .and_then(|m| object.doc.get(m, "labels"))
            .is_none_or(|l| object.doc.entries(l).is_empty())
}

/// The folder of a reported file path (`""` for stdin or a file at the top).
pub fn dir_of(file: Option<&str>) -> &str {
    file.and_then(|f| f.rsplit_once('/')).map_or("", |(d, _)| d)
}

/// Object indexes by namespace and by folder.
#[derive(Debug, Default)]
struct ScopeIndex {
    global: Vec<usize>,
    by_namespace: HashMap<String, Vec<usize>>,
    by_dir: HashMap<String, Vec<usize>>,
}

/// An object as the estate-wide decisions see it: its identity, the labels of its pods and
/// where its `metadata.name` is. One copy per object, shared by the inventory and by every
/// decision postponed for the object.
#[derive(Debug)]
pub struct Subject {
    pub resource: ObjectRef,
    /// The labels its pods get (the template's, or the Pod's own); none without pods.
    pub labels: Vec<(String, String)>,
    /// The location of its `metadata.name` (or of the object itself, without one).
    pub file: Option<Arc<str>>,
    pub path: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

impl Subject {
    pub fn namespace(&self) -> Option<&str> {
        self.resource.namespace.as_deref()
    }

    /// The folder of its file (see [`Inventory::policies_in`]).
    pub fn dir(&self) -> &str {
        dir_of(self.file.as_deref())
    }

    /// How messages name it: "Deployment `shop/web`".
    pub fn who(&self) -> String {
        let name = self.resource.name.as_deref().unwrap_or("(unnamed)");
        match self.namespace() {
            Some(ns) => format!("{} `{ns}/{name}`", self.resource.kind),
            None => format!("{} `{name}`", self.resource.kind),
        }
    }

    /// Its `metadata.name` as a related location (without a message).
    pub fn loc(&self) -> RelatedLocation {
        RelatedLocation {
            message: String::new(),
            resource: self.resource.clone(),
            path: self.path.clone(),
            file: self.file.as_deref().map(str::to_owned),
            line: self.line,
            column: self.column,
        }
    }

    /// Whether both are located at the same place (the same object).
    pub fn same_place(&self, other: &Subject) -> bool {
        (self.file.as_deref(), self.line, self.column)
            == (other.file.as_deref(), other.line, other.column)
    }
}

/// The current object as the estate-wide decisions see it, read on first use.
pub(crate) fn subject(cx: &mut Checker<'_, '_>) -> Arc<Subject> {
    if let Some(s) = &cx.subject {
        return s.clone();
    }
    let object = cx.object;
    let me = name_loc(cx, object);
    let s = Arc::new(Subject {
        resource: me.resource,
        labels: cx.pod.map(|p| pairs(p.pod_labels())).unwrap_or_default(),
        // The file name is shared by every subject of the file.
        file: me.file.and(cx.file.shared_path()),
        path: me.path,
        line: me.line,
        column: me.column,
    });
    cx.subject = Some(s.clone());
    s
}

/// A workload (any object with a pod template, or a Pod): its [`Subject`] (identity,
/// namespace, pod labels, location).
#[derive(Clone, Debug)]
pub struct WorkloadFact {
    pub subject: Arc<Subject>,
    /// Whether the pod template has a `labels` map at all.
    pub has_labels_field: bool,
}

impl std::ops::Deref for WorkloadFact {
    type Target = Subject;

    fn deref(&self) -> &Subject {
        &self.subject
    }
}

/// A workload running the Kubernetes Dashboard (or one of its v3+ modules).
#[derive(Clone, Debug)]
pub struct DashboardFact {
    pub workload: Arc<Subject>,
    /// `serviceAccountName` (or the deprecated `serviceAccount`); `default` when unset.
    pub service_account: String,
    pub image: String,
    /// The dashboard container's `image`.
    pub loc: RelatedLocation,
}

/// A namespace named by a `v1` Namespace object.
#[derive(Clone, Debug)]
pub struct NamespaceInfo {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub loc: RelatedLocation,
}

/// Which engine a network policy belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyFlavor {
    Kubernetes,
    Cilium,
    CiliumClusterwide,
    Calico,
    CalicoGlobal,
}

impl PolicyFlavor {
    pub fn describe(self) -> &'static str {
        match self {
            PolicyFlavor::Kubernetes => "NetworkPolicy",
            PolicyFlavor::Cilium => "CiliumNetworkPolicy",
            PolicyFlavor::CiliumClusterwide => "CiliumClusterwideNetworkPolicy",
            PolicyFlavor::Calico => "Calico NetworkPolicy",
            PolicyFlavor::CalicoGlobal => "Calico GlobalNetworkPolicy",
        }
    }

    fn cluster_wide(self) -> bool {
        matches!(
            self,
            PolicyFlavor::CiliumClusterwide | PolicyFlavor::CalicoGlobal
        )
    }
}

/// Which pods a policy selects.
#[derive(Clone, Debug)]
pub enum PodSelection {
    /// Every pod (of the namespace, or of the cluster for cluster-wide policies).
    All,
    Labels(LabelSelector),
    /// A selector this tool does not evaluate (a Calico expression beyond `k == 'v'`): it
    /// may select anything.
    Unknown,
}

impl PodSelection {
    pub fn is_all(&self) -> bool {
        match self {
            PodSelection::All => true,
            PodSelection::Labels(s) => s.is_empty(),
            PodSelection::Unknown => false,
        }
    }

    /// Whether the selection may include pods with `labels` (unknown selectors may).
    pub fn may_match(&self, labels: &[(String, String)]) -> bool {
        match self {
            PodSelection::All | PodSelection::Unknown => true,
            PodSelection::Labels(s) => s.matches(labels),
        }
    }

    /// Whether the selection certainly includes pods with `labels`.
    pub fn surely_matches(&self, labels: &[(String, String)]) -> bool {
        match self {
            PodSelection::All => true,
            PodSelection::Labels(s) => s.matches(labels),
            PodSelection::Unknown => false,
        }
    }
}

/// A Kubernetes label selector: `matchLabels` and `matchExpressions`.
#[derive(Clone, Debug, Default)]
pub struct LabelSelector {
    pub match_labels: Vec<(String, String)>,
    pub expressions: Vec<Requirement>,
}

#[derive(Clone, Debug)]
pub struct Requirement {
    pub key: String,
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`.
    pub operator: String,
    pub values: Vec<String>,
}

impl LabelSelector {
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.expressions.is_empty()
    }

    pub fn matches(&self, labels: &[(String, String)]) -> bool {
        let get = |k: &str| labels.iter().rev().find(|(lk, _)| lk == k).map(|(_, v)| v);
        self.match_labels
            .iter()
            .all(|(k, v)| get(k).is_some_and(|x| x == v))
            && self.expressions.iter().all(|r| {
                let value = get(&r.key);
                match r.operator.as_str() {
                    "In" => value.is_some_and(|v| r.values.contains(v)),
                    "NotIn" => value.is_none_or(|v| !r.values.contains(v)),
                    "Exists" => value.is_some(),
                    "DoesNotExist" => value.is_none(),
                    // The API server rejects other operators: such a selector selects nothing.
                    _ => false,
                }
            })
    }

    /// Reads a `LabelSelector` mapping. `strip_source` removes Cilium's `k8s:`/`any:` label
    /// source prefixes.
    pub fn read(doc: &Document<'_>, node: NodeId, strip_source: bool) -> Self {
        let key = |k: &str| -> String {
            let k = if strip_source {
                k.strip_prefix("k8s:")
                    .or_else(|| k.strip_prefix("any:"))
                    .unwrap_or(k)
            } else {
                k
            };
            k.to_owned()
        };
        let mut sel = LabelSelector::default();
        if let Some(ml) = doc.get(node, "matchLabels") {
            for &(k, v) in doc.entries(ml) {
                if let (Some(k), Some(v)) = (doc.text_of(k), doc.text_of(v)) {
                    sel.match_labels.push((key(k), v.to_owned()));
                }
            }
        }
        if let Some(me) = doc.get(node, "matchExpressions") {
            for &e in doc.items(me) {
                let text = |f: &str| doc.get(e, f).and_then(|n| doc.text_of(n));
                let (Some(k), Some(op)) = (text("key"), text("operator")) else {
                    continue;
                };
                let values = doc.get(e, "values").map_or_else(Vec::new, |v| {
                    doc.items(v)
                        .iter()
                        .filter_map(|&n| doc.text_of(n).map(str::to_owned))
                        .collect()
                });
                sel.expressions.push(Requirement {
                    key: key(k),
                    operator: op.to_owned(),
                    values,
                });
            }
        }
        sel
    }
}

/// An IPv4 or IPv6 network in CIDR notation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    v6: bool,
    addr: u128,
    prefix: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/n`, `x::y/n`, or a bare address (a host route).
    pub fn parse(text: &str) -> Option<Cidr> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().ok()?)),
            None => (text, None),
        };
        let ip: IpAddr = addr.parse().ok()?;
        let (v6, bits, value) = match ip {
            IpAddr::V4(a) => (false, 32u8, u128::from(u32::from(a))),
            IpAddr::V6(a) => (true, 128u8, u128::from(a)),
        };
        let prefix = prefix.unwrap_or(bits);
        if prefix > bits {
            return None;
        }
        Some(Cidr {
            v6,
            addr: value & Self::mask(bits, prefix),
            prefix,
        })
    }

    fn bits(self) -> u8 {
        if self.v6 { 128 } else { 32 }
    }

    fn mask(bits: u8, prefix: u8) -> u128 {
        if prefix == 0 {
            return 0;
        }
        let all = if bits == 128 {
            u128::MAX
        } else {
            (1u128 << bits) - 1
        };
        all & !((1u128 << (bits - prefix)) - 1)
    }

    /// Whether `other` lies entirely inside this network.
    pub fn contains(self, other: Cidr) -> bool {
        self.v6 == other.v6
            && self.prefix <= other.prefix
            && other.addr & Self::mask(self.bits(), self.prefix) == self.addr
    }

    /// Whether the two networks share an address (CIDR blocks nest or are disjoint).
    pub fn overlaps(self, other: Cidr) -> bool {
        self.contains(other) || other.contains(self)
    }

    /// The smaller of two overlapping networks: their intersection.
    pub fn intersection(self, other: Cidr) -> Option<Cidr> {
        if self.contains(other) {
            Some(other)
        } else if other.contains(self) {
            Some(self)
        } else {
            None
        }
    }
}

/// Address ranges that are not on the public internet (RFC 1918, shared, loopback,
/// link-local, documentation, multicast and their IPv6 counterparts).
pub const NON_PUBLIC_RANGES: &[&str] = &[
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "224.0.0.0/3",
    "::/128",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
    "ff00::/8",
];

/// An `ipBlock` peer.
#[derive(Clone, Debug)]
pub struct IpBlock {
    pub cidr: Cidr,
    pub cidr_text: String,
    pub except: Vec<Cidr>,
    /// The `cidr` field.
    pub loc: RelatedLocation,
}

impl IpBlock {
    /// Whether the block lets traffic reach some address of `target`.
    pub fn reaches(&self, target: Cidr) -> bool {
        self.cidr
            .intersection(target)
            .is_some_and(|part| !self.except.iter().any(|e| e.contains(part)))
    }

    /// Whether the block includes public addresses that no `except` removes.
    pub fn reaches_public(&self) -> bool {
        let private: Vec<Cidr> = NON_PUBLIC_RANGES
            .iter()
            .filter_map(|r| Cidr::parse(r))
            .collect();
        if private.iter().any(|p| p.contains(self.cidr)) {
            return false;
        }
        // The block is public or spans public space: it stays open to the internet unless its
        // excepts cover it whole, or cover everything public it spans.
        if self.except.iter().any(|e| e.contains(self.cidr)) {
            return false;
        }
        true
    }
}

/// One peer of a rule.
#[derive(Clone, Debug)]
pub enum Peer {
    IpBlock(Box<IpBlock>),
    /// A podSelector and/or namespaceSelector: in-cluster pods only.
    Pods,
}

/// One ingress or egress rule of a Kubernetes NetworkPolicy.
#[derive(Clone, Debug)]
pub struct PolicyRule {
    /// `None` when the rule lists no peers: every peer is allowed.
    pub peers: Option<Vec<Peer>>,
    /// The ports; empty means every port.
    pub ports: Vec<PortSpec>,
    /// The rule itself.
    pub loc: RelatedLocation,
}

#[derive(Clone, Debug)]
pub struct PortSpec {
    /// `TCP` when omitted.
    pub protocol: String,
    /// `None`: every port of the protocol.
    pub port: Option<PortValue>,
    pub end_port: Option<i64>,
}

#[derive(Clone, Debug)]
pub enum PortValue {
    Number(i64),
    Named(String),
}

impl PolicyRule {
    /// Whether the rule admits TCP traffic on `port` (named ports name pod ports, never an
    /// address outside the cluster).
    pub fn admits_tcp_port(&self, port: i64) -> bool {
        self.ports.is_empty()
            || self.ports.iter().any(|p| {
                p.protocol.eq_ignore_ascii_case("TCP")
                    && match &p.port {
                        None => true,
                        Some(PortValue::Number(n)) => {
                            *n == port || p.end_port.is_some_and(|e| *n <= port && port <= e)
                        }
                        Some(PortValue::Named(_)) => false,
                    }
            })
    }
}

/// A network policy of any flavour, reduced to what the rules ask of it.
#[derive(Clone, Debug)]
pub struct PolicyFact {
    pub flavor: PolicyFlavor,
    pub namespace: Option<String>,
    pub name: String,
    pub selector: PodSelection,
    /// Whether the policy isolates the pods it selects for ingress / egress: listed in
    /// `policyTypes` (or defaulted as the API server does when it is omitted).
    pub isolates_ingress: bool,
    pub isolates_egress: bool,
    /// Whether `policyTypes` is written out.
    pub types_explicit: bool,
    /// The rules, for Kubernetes NetworkPolicies; other flavours are not evaluated rule by rule.
    pub ingress: Vec<PolicyRule>,
    pub egress: Vec<PolicyRule>,
    /// The object's `metadata.name`.
    pub loc: RelatedLocation,
}

impl PolicyFact {
    /// A default-deny for the direction: selects every pod, isolates it, and allows nothing
    /// (Cilium and Calico policies are counted when they select everything and isolate).
    pub fn denies_all(&self, ingress: bool) -> bool {
        let (isolates, rules) = if ingress {
            (self.isolates_ingress, &self.ingress)
        } else {
            (self.isolates_egress, &self.egress)
        };
        self.selector.is_all() && isolates && rules.is_empty()
    }

    /// Whether the policy isolates the pods it selects in the direction.
    pub fn isolates(&self, ingress: bool) -> bool {
        if ingress {
            self.isolates_ingress
        } else {
            self.isolates_egress
        }
    }

    pub fn title(&self) -> String {
        format!("{} `{}`", self.flavor.describe(), self.name)
    }
}

/// A Role or ClusterRole.
#[derive(Clone, Debug)]
pub struct RoleFact {
    pub cluster: bool,
    pub namespace: Option<String>,
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub rules: Vec<RbacRule>,
    /// `aggregationRule.clusterRoleSelectors`.
    pub aggregation: Vec<LabelSelector>,
    pub loc: RelatedLocation,
}

impl RoleFact {
    pub fn kind(&self) -> &'static str {
        if self.cluster { "ClusterRole" } else { "Role" }
    }
}

/// One rule of a role.
#[derive(Clone, Debug)]
pub struct RbacRule {
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub verbs: Vec<String>,
    pub resource_names: Vec<String>,
    pub non_resource_urls: Vec<String>,
    pub loc: RelatedLocation,
}

impl RbacRule {
    /// Whether the rule grants `verb` on `resource` (`pods/exec` for subresources) in
    /// `group`; `*` in the rule matches anything, and `resource/*` every subresource.
    pub fn grants(&self, group: &str, verb: &str, resource: &str) -> bool {
        let any = |list: &[String], want: &str| list.iter().any(|x| x == "*" || x == want);
        let resource_ok = self.resources.iter().any(|r| {
            r == "*"
                || r == resource
                || r.strip_suffix("/*")
                    .is_some_and(|base| resource.split_once('/').is_some_and(|(b, _)| b == base))
        });
        any(&self.api_groups, group) && any(&self.verbs, verb) && resource_ok
    }

    /// Whether the rule is limited to named objects.
    pub fn named_only(&self) -> bool {
        !self.resource_names.is_empty()
    }

    pub fn describe(&self) -> String {
        let list = |l: &[String]| {
            if l.is_empty() {
                "-".to_owned()
            } else {
                l.join(",")
            }
        };
        if !self.non_resource_urls.is_empty() {
            return format!("{} on {}", list(&self.verbs), list(&self.non_resource_urls));
        }
        let groups: Vec<String> = self
            .api_groups
            .iter()
            .map(|g| {
                if g.is_empty() {
                    "core".to_owned()
                } else {
                    g.clone()
                }
            })
            .collect();
        let mut s = format!(
            "{} on {} ({})",
            list(&self.verbs),
            list(&self.resources),
            list(&groups)
        );
        if !self.resource_names.is_empty() {
            s.push_str(&format!(" named {}", self.resource_names.join(",")));
        }
        s
    }
}

/// A RoleBinding or ClusterRoleBinding.
#[derive(Clone, Debug)]
pub struct BindingFact {
    pub cluster: bool,
    pub namespace: Option<String>,
    pub name: String,
    /// `roleRef.kind` is ClusterRole.
    pub role_cluster: bool,
    pub role_name: String,
    pub subjects: Vec<SubjectFact>,
    /// `roleRef.name`.
    pub loc: RelatedLocation,
}

impl BindingFact {
    pub fn kind(&self) -> &'static str {
        if self.cluster {
            "ClusterRoleBinding"
        } else {
            "RoleBinding"
        }
    }

    /// The namespace the binding grants in; `None` for cluster-wide.
    pub fn scope(&self) -> Option<&str> {
        if self.cluster {
            None
        } else {
            Some(self.namespace.as_deref().unwrap_or("(its namespace)"))
        }
    }
}

#[derive(Clone, Debug)]
pub struct SubjectFact {
    /// `User`, `Group` or `ServiceAccount`.
    pub kind: String,
    pub name: String,
    /// For ServiceAccounts: the subject's namespace (the binding's when omitted in a
    /// RoleBinding).
    pub namespace: Option<String>,
    pub loc: RelatedLocation,
}

impl SubjectFact {
    /// `system:serviceaccount:ns:name`, or the user or group name.
    pub fn describe(&self) -> String {
        match self.kind.as_str() {
            "ServiceAccount" => format!(
                "ServiceAccount {}/{}",
                self.namespace.as_deref().unwrap_or("(its namespace)"),
                self.name
            ),
            k => format!("{k} {}", self.name),
        }
    }
}

/// Records the current object in the checker's inventory, once per object.
pub fn collect(cx: &mut Checker<'_, '_>) {
    if cx.estate.inventory.collected || cx.is_fragment() {
        return;
    }
    cx.estate.inventory.collected = true;
    let object = cx.object;
    if let Some(pod) = cx.pod {
        if is_partial_workload(object, pod) {
            return;
        }
        let w = workload(cx, pod);
        cx.estate.inventory.workloads.push(w);
        return;
    }
    let group = object.group();
    match (group, object.kind) {
        ("", "Namespace") => {
            if let Some(name) = object.name() {
                let loc = name_loc(cx, object);
                let labels = pairs(object.labels());
                cx.estate.inventory.namespaces.push(NamespaceInfo {
                    name: name.to_owned(),
                    labels,
                    loc,
                });
            }
        }
        ("networking.k8s.io", "NetworkPolicy") => {
            if let Some(p) = kubernetes_policy(cx, object) {
                cx.estate.inventory.policies.push(p);
            }
        }
        ("cilium.io", "CiliumNetworkPolicy" | "CiliumClusterwideNetworkPolicy") => {
            cilium_policies(cx, object);
        }
        (
            "projectcalico.org" | "crd.projectcalico.org",
            "NetworkPolicy" | "GlobalNetworkPolicy",
        ) => {
            if let Some(p) = calico_policy(cx, object) {
                cx.estate.inventory.policies.push(p);
            }
        }
        ("", "ResourceQuota" | "LimitRange") => {
            let entry = (
                object.namespace().map(str::to_owned),
                dir_of(cx.file.path).to_owned(),
            );
            if object.kind == "ResourceQuota" {
                cx.estate.inventory.resource_quotas.push(entry);
            } else {
                cx.estate.inventory.limit_ranges.push(entry);
            }
        }
        ("rbac.authorization.k8s.io", "Role" | "ClusterRole") => {
            if let Some(r) = role(cx, object) {
                cx.estate.inventory.roles.push(r);
            }
        }
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
            if let Some(b) = binding(cx, object) {
                cx.estate.inventory.bindings.push(b);
            }
        }
        _ => {}
    }
}

fn pairs(entries: Vec<palisade_k8s::Entry<'_>>) -> Vec<(String, String)> {
    entries
        .into_iter()
        .map(|e| (e.key.to_owned(), e.value.unwrap_or("").to_owned()))
        .collect()
}

fn name_loc(cx: &Checker<'_, '_>, object: &Object<'_>) -> RelatedLocation {
    match object.get(&["metadata", "name"]) {
        Some(n) => cx.locate(n, object.path(&["metadata", "name"])),
        None => cx.locate(object.node, object.path(&[])),
    }
}

fn workload(cx: &mut Checker<'_, '_>, pod: &PodSpec<'_>) -> WorkloadFact {
    let doc = cx.object.doc;
    let has_labels_field = pod
        .metadata
        .and_then(|m| doc.get(m, "labels"))
        .is_some_and(|l| !doc.entries(l).is_empty());
    WorkloadFact {
        subject: subject(cx),
        has_labels_field,
    }
}

fn strings(doc: &Document<'_>, node: Option<NodeId>) -> Vec<String> {
    node.map_or_else(Vec::new, |n| {
        doc.items(n)
            .iter()
            .filter_map(|&i| doc.text_of(i).map(str::to_owned))
            .collect()
    })
}

fn kubernetes_policy(cx: &Checker<'_, '_>, object: &Object<'_>) -> Option<PolicyFact> {
    if object.api_version != "networking.k8s.io/v1" {
        return None;
    }
    let doc = object.doc;
    let spec = object.get(&["spec"])?;
    let selector = match doc.get(spec, "podSelector") {
        Some(n) if doc.is_mapping(n) => PodSelection::Labels(LabelSelector::read(doc, n, false)),
        _ => PodSelection::All,
    };
    let base = object.path(&["spec"]);
    let rules = |field: &str, peers_key: &str| -> Vec<PolicyRule> {
        let Some(list) = doc.get(spec, field) else {
            return Vec::new();
        };
        doc.items(list)
            .iter()
            .enumerate()
            .map(|(i, &rule)| {
                let path = base.key(field).index(i);
                policy_rule(cx, doc, rule, peers_key, &path)
            })
            .collect()
    };
    let ingress = rules("ingress", "from");
    let egress = rules("egress", "to");
    let types = doc.get(spec, "policyTypes").filter(|&n| !doc.is_null(n));
    let (isolates_ingress, isolates_egress) = match types {
        Some(t) => {
            let listed = strings(doc, Some(t));
            (
                listed.iter().any(|x| x == "Ingress"),
                listed.iter().any(|x| x == "Egress"),
            )
        }
        // The API server's defaulting: Ingress always, Egress when there are egress rules.
        None => (true, !egress.is_empty()),
    };
    Some(PolicyFact {
        flavor: PolicyFlavor::Kubernetes,
        namespace: object.namespace().map(str::to_owned),
        name: object.name().unwrap_or("(unnamed)").to_owned(),
        selector,
        isolates_ingress,
        isolates_egress,
        types_explicit: types.is_some(),
        ingress,
        egress,
        loc: name_loc(cx, object),
    })
}

fn policy_rule(
    cx: &Checker<'_, '_>,
    doc: &Document<'_>,
    rule: NodeId,
    peers_key: &str,
    path: &FieldPath,
) -> PolicyRule {
    let peers = doc
        .get(rule, peers_key)
        .filter(|&p| !doc.items(p).is_empty())
        .map(|list| {
            doc.items(list)
                .iter()
                .enumerate()
                .map(|(j, &peer)| {
                    let block = doc.get(peer, "ipBlock");
                    let cidr_node = block.and_then(|b| doc.get(b, "cidr"));
                    match (block, cidr_node) {
                        (Some(b), Some(c)) => {
                            let text = doc.text_of(c).unwrap_or("");
                            match Cidr::parse(text) {
                                Some(cidr) => Peer::IpBlock(Box::new(IpBlock {
                                    cidr,
                                    cidr_text: text.to_owned(),
                                    except: strings(doc, doc.get(b, "except"))
                                        .iter()
                                        .filter_map(|e| Cidr::parse(e))
                                        .collect(),
                                    loc: cx.locate(
                                        c,
                                        path.key(peers_key).index(j).keys(&["ipBlock", "cidr"]),
                                    ),
                                })),
                                // An invalid CIDR is rejected by the API server.
                                None => Peer::Pods,
                            }
                        }
                        _ => Peer::Pods,
                    }
                })
                .collect()
        });
    let ports = doc.get(rule, "ports").map_or_else(Vec::new, |list| {
        doc.items(list)
            .iter()
            .map(|&p| {
                let protocol = doc
                    .get(p, "protocol")
                    .and_then(|n| doc.text_of(n))
                    .unwrap_or("TCP")
                    .to_owned();
                let port = doc.get(p, "port").and_then(|n| match doc.int(n) {
                    Some(i) => Some(PortValue::Number(i)),
                    None => doc.text_of(n).map(|s| PortValue::Named(s.to_owned())),
                });
                PortSpec {
                    protocol,
                    port,
                    end_port: doc.get(p, "endPort").and_then(|n| doc.int(n)),
                }
            })
            .collect()
    });
    PolicyRule {
        peers,
        ports,
        loc: cx.locate(rule, path.clone()),
    }
}

fn cilium_policies(cx: &mut Checker<'_, '_>, object: &Object<'_>) {
    let doc = object.doc;
    let flavor = if object.kind == "CiliumClusterwideNetworkPolicy" {
        PolicyFlavor::CiliumClusterwide
    } else {
        PolicyFlavor::Cilium
    };
    let mut specs: Vec<NodeId> = object.get(&["spec"]).into_iter().collect();
    if let Some(list) = object.get(&["specs"]) {
        specs.extend(doc.items(list));
    }
    let loc = name_loc(cx, object);
    for spec in specs {
        // Host policies (nodeSelector) protect nodes, not pods.
        let Some(sel) = doc.get(spec, "endpointSelector") else {
            continue;
        };
        let has = |keys: &[&str]| keys.iter().any(|k| doc.get(spec, k).is_some());
        let default_deny = |dir: &str| {
            doc.path(spec, &["enableDefaultDeny", dir])
                .and_then(|n| doc.bool(n))
        };
        let isolates_ingress =
            has(&["ingress", "ingressDeny"]) && default_deny("ingress") != Some(false);
        let isolates_egress =
            has(&["egress", "egressDeny"]) && default_deny("egress") != Some(false);
        // `ingress: [{}]` is Cilium's documented deny-all: a rule that selects no peer.
        let rules_empty = |k: &str| {
            doc.get(spec, k).is_none_or(|l| {
                doc.items(l)
                    .iter()
                    .all(|&r| doc.entries(r).is_empty() || doc.is_null(r))
            })
        };
        let placeholder = |k: &str| {
            if rules_empty(k) {
                Vec::new()
            } else {
                vec![PolicyRule {
                    peers: Some(Vec::new()),
                    ports: Vec::new(),
                    loc: loc.clone(),
                }]
            }
        };
        cx.estate.inventory.policies.push(PolicyFact {
            flavor,
            namespace: object.namespace().map(str::to_owned),
            name: object.name().unwrap_or("(unnamed)").to_owned(),
            selector: PodSelection::Labels(LabelSelector::read(doc, sel, true)),
            isolates_ingress,
            isolates_egress,
            types_explicit: true,
            ingress: placeholder("ingress"),
            egress: placeholder("egress"),
            loc: loc.clone(),
        });
    }
}

/// Calico selectors: `all()`, empty, or `k == 'v'` joined with `&&`; anything else is unknown.
fn calico_selector(text: Option<&str>) -> PodSelection {
    let text = text.map(str::trim).unwrap_or("");
    if text.is_empty() || text == "all()" {
        return PodSelection::All;
    }
    let mut sel = LabelSelector::default();
    for part in text.split("&&") {
        let Some((k, v)) = part.split_once("==") else {
            return PodSelection::Unknown;
        };
        let v = v.trim();
        let unquoted = v
            .strip_prefix('\'')
            .and_then(|x| x.strip_suffix('\''))
            .or_else(|| v.strip_prefix('"').and_then(|x| x.strip_suffix('"')));
        match unquoted {
            Some(v) if !k.trim().is_empty() => {
                sel.match_labels.push((k.trim().to_owned(), v.to_owned()))
            }
            _ => return PodSelection::Unknown,
        }
    }
    PodSelection::Labels(sel)
}

fn calico_policy(cx: &Checker<'_, '_>, object: &Object<'_>) -> Option<PolicyFact> {
    let doc = object.doc;
    let spec = object.get(&["spec"])?;
    let flavor = if object.kind == "GlobalNetworkPolicy" {
        PolicyFlavor::CalicoGlobal
    } else {
        PolicyFlavor::Calico
    };
    let text = |k: &str| doc.get(spec, k).and_then(|n| doc.text_of(n));
    let mut selector = calico_selector(text("selector"));
    if flavor == PolicyFlavor::CalicoGlobal
        && text("namespaceSelector").is_some_and(|s| !s.trim().is_empty() && s.trim() != "all()")
    {
        // Limited to some namespaces: not a cluster-wide default deny.
        selector = PodSelection::Unknown;
    }
    let count = |k: &str| doc.get(spec, k).map_or(0, |l| doc.items(l).len());
    let egress_n = count("egress");
    let (isolates_ingress, isolates_egress) = match doc.get(spec, "types") {
        Some(t) => {
            let listed = strings(doc, Some(t));
            (
                listed.iter().any(|x| x == "Ingress"),
                listed.iter().any(|x| x == "Egress"),
            )
        }
        None => (true, egress_n > 0),
    };
    let loc = name_loc(cx, object);
    // Rules ending in `action: Deny` with no match keep the pods denied; other rules open
    // something, which is all the rules here need to know.
    let opening = |k: &str| -> Vec<PolicyRule> {
        let Some(list) = doc.get(spec, k) else {
            return Vec::new();
        };
        let opens = doc.items(list).iter().any(|&r| {
            doc.get(r, "action")
                .and_then(|a| doc.text_of(a))
                .is_none_or(|a| a != "Deny")
        });
        if opens {
            vec![PolicyRule {
                peers: Some(Vec::new()),
                ports: Vec::new(),
                loc: loc.clone(),
            }]
        } else {
            Vec::new()
        }
    };
    Some(PolicyFact {
        flavor,
        namespace: object.namespace().map(str::to_owned),
        name: object.name().unwrap_or("(unnamed)").to_owned(),
        selector,
        isolates_ingress,
        isolates_egress,
        types_explicit: true,
        ingress: opening("ingress"),
        egress: opening("egress"),
        loc,
    })
}

fn role(cx: &Checker<'_, '_>, object: &Object<'_>) -> Option<RoleFact> {
    let doc = object.doc;
    let name = object.name()?;
    let base = object.path(&["rules"]);
    let rules = object.get(&["rules"]).map_or_else(Vec::new, |list| {
        doc.items(list)
            .iter()
            .enumerate()
            .map(|(i, &r)| {
                let field = |k: &str| strings(doc, doc.get(r, k));
                RbacRule {
                    api_groups: field("apiGroups"),
                    resources: field("resources"),
                    verbs: field("verbs"),
                    resource_names: field("resourceNames"),
                    non_resource_urls: field("nonResourceURLs"),
                    loc: cx.locate(r, base.index(i)),
                }
            })
            .collect()
    });
    let aggregation = object
        .get(&["aggregationRule", "clusterRoleSelectors"])
        .map_or_else(Vec::new, |list| {
            doc.items(list)
                .iter()
                .map(|&s| LabelSelector::read(doc, s, false))
                .collect()
        });
    Some(RoleFact {
        cluster: object.kind == "ClusterRole",
        namespace: object.namespace().map(str::to_owned),
        name: name.to_owned(),
        labels: pairs(object.labels()),
        rules,
        aggregation,
        loc: name_loc(cx, object),
    })
}

fn binding(cx: &Checker<'_, '_>, object: &Object<'_>) -> Option<BindingFact> {
    let doc = object.doc;
    let role_ref = object.get(&["roleRef"])?;
    let ref_text = |k: &str| doc.get(role_ref, k).and_then(|n| doc.text_of(n));
    let role_name_node = doc.get(role_ref, "name")?;
    let namespace = object.namespace().map(str::to_owned);
    let cluster = object.kind == "ClusterRoleBinding";
    let base = object.path(&["subjects"]);
    let subjects = object.get(&["subjects"]).map_or_else(Vec::new, |list| {
        doc.items(list)
            .iter()
            .enumerate()
            .filter_map(|(i, &s)| {
                let text = |k: &str| doc.get(s, k).and_then(|n| doc.text_of(n));
                let kind = text("kind")?.to_owned();
                let name = text("name")?.to_owned();
                let sub_ns = text("namespace").map(str::to_owned).or_else(|| {
                    (kind == "ServiceAccount" && !cluster)
                        .then(|| namespace.clone())
                        .flatten()
                });
                Some(SubjectFact {
                    kind,
                    name,
                    namespace: sub_ns,
                    loc: cx.locate(s, base.index(i)),
                })
            })
            .collect()
    });
    Some(BindingFact {
        cluster,
        namespace,
        name: object.name().unwrap_or("(unnamed)").to_owned(),
        role_cluster: ref_text("kind") == Some("ClusterRole"),
        role_name: doc.text_of(role_name_node)?.to_owned(),
        subjects,
        loc: cx.locate(role_name_node, object.path(&["roleRef", "name"])),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_containment() {
        let all = Cidr::parse("0.0.0.0/0").unwrap();
        let md = Cidr::parse("169.254.169.254/32").unwrap();
        let ll = Cidr::parse("169.254.0.0/16").unwrap();
        assert!(all.contains(md));
        assert!(ll.contains(md));
        assert!(!md.contains(ll));
        assert!(!Cidr::parse("10.0.0.0/8").unwrap().overlaps(md));
        let v6 = Cidr::parse("::/0").unwrap();
        assert!(v6.contains(Cidr::parse("fd00:ec2::254").unwrap()));
        assert!(!v6.contains(md));
        assert_eq!(Cidr::parse("10.1.2.3/8"), Cidr::parse("10.0.0.0/8"));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert!(Cidr::parse("nonsense").is_none());
    }

    fn block(cidr: &str, except: &[&str]) -> IpBlock {
        IpBlock {
            cidr: Cidr::parse(cidr).unwrap(),
            cidr_text: cidr.to_owned(),
            except: except.iter().map(|e| Cidr::parse(e).unwrap()).collect(),
            loc: RelatedLocation {
                message: String::new(),
                resource: ObjectRef::default(),
                path: String::new(),
                file: None,
                line: None,
                column: None,
            },
        }
    }

    #[test]
    fn ip_block_reach() {
        let md = Cidr::parse("169.254.169.254").unwrap();
        assert!(block("0.0.0.0/0", &[]).reaches(md));
        assert!(!block("0.0.0.0/0", &["169.254.169.254/32"]).reaches(md));
        assert!(!block("0.0.0.0/0", &["169.254.0.0/16"]).reaches(md));
        assert!(!block("10.0.0.0/8", &[]).reaches(md));
        assert!(block("0.0.0.0/0", &["10.0.0.0/8"]).reaches_public());
        assert!(!block("10.0.0.0/8", &[]).reaches_public());
        assert!(!block("0.0.0.0/0", &["0.0.0.0/0"]).reaches_public());
        assert!(block("8.8.8.8/32", &[]).reaches_public());
        assert!(block("::/0", &[]).reaches_public());
        assert!(!block("fd00::/8", &[]).reaches_public());
    }

    #[test]
    fn selectors() {
        let labels = vec![("app".to_owned(), "web".to_owned())];
        let mut s = LabelSelector::default();
        assert!(s.matches(&labels));
        s.expressions.push(Requirement {
            key: "app".into(),
            operator: "In".into(),
            values: vec!["web".into(), "api".into()],
        });
        assert!(s.matches(&labels));
        s.expressions.push(Requirement {
            key: "tier".into(),
            operator: "DoesNotExist".into(),
            values: vec![],
        });
        assert!(s.matches(&labels));
        s.match_labels.push(("app".into(), "api".into()));
        assert!(!s.matches(&labels));
        assert!(matches!(calico_selector(Some("all()")), PodSelection::All));
        assert!(calico_selector(Some("app == 'web'")).surely_matches(&labels));
        assert!(!calico_selector(Some("app == \"db\"")).may_match(&labels));
        assert!(matches!(
            calico_selector(Some("has(app)")),
            PodSelection::Unknown
        ));
    }

    #[test]
    fn rbac_rule_grants() {
        let rule = RbacRule {
            api_groups: vec![String::new()],
            resources: vec!["pods/*".into(), "secrets".into()],
            verbs: vec!["get".into(), "create".into()],
            resource_names: vec![],
            non_resource_urls: vec![],
            loc: block("0.0.0.0/0", &[]).loc,
        };
        assert!(rule.grants("", "create", "pods/exec"));
        assert!(rule.grants("", "get", "secrets"));
        assert!(!rule.grants("", "list", "secrets"));
        assert!(!rule.grants("apps", "get", "secrets"));
        assert!(!rule.grants("", "create", "pods"));
    }
}
