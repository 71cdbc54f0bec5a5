//! What the engine knows about the whole input once every object has been read: the facts
//! that rules about one object need from others (ServiceAccounts, NetworkPolicies).

use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use palisade_diagnostics::{
    ContainerRef, Finding, Fix, ObjectRef, PssRef, RelatedLocation, Section, Severity, Suppression,
    TextRange,
};
use palisade_k8s::Object;

/// The function that picks which candidates of a postponed decision stand.
/// `Sync` so that the estate can be shared by the threads that run the decisions.
pub type Decide = Box<dyn FnOnce(&Estate, Vec<Finding>) -> Vec<Finding> + Send + Sync>;

/// A decision postponed until the whole estate is known, while its object is being checked:
/// findings prepared while reading the object (so they keep their locations, and the
/// object's suppressions apply to them), and the function that picks which of them stand.
pub struct Pending {
    pub candidates: Vec<Finding>,
    pub decide: Decide,
}

impl Pending {
    /// The decision as it waits for the end of the input: the candidates packed, so that
    /// what they repeat (messages, remediations, paths, file names, the object's identity)
    /// is held once, in an allocation of their exact number.
    pub(crate) fn pack(self, pool: &mut Pool) -> Deferred {
        Deferred {
            packed: self
                .candidates
                .into_iter()
                .map(|f| Packed::new(f, pool))
                .collect(),
            decide: self.decide,
        }
    }
}

/// A postponed decision waiting for the end of the input (see [`Pending`]).
pub struct Deferred {
    packed: Box<[Packed]>,
    decide: Decide,
}

impl Deferred {
    fn decide(self, estate: &Estate) -> Vec<Finding> {
        let candidates = self
            .packed
            .into_vec()
            .into_iter()
            .map(Packed::unpack)
            .collect();
        (self.decide)(estate, candidates)
    }
}

/// Postponed decisions in the order they were made, in chunks of at most [`DeferredList::CHUNK`].
/// A large input postpones hundreds of thousands: one vector would be copied each time it
/// doubled, and hold up to half its room empty at the end of the input, when memory peaks.
#[derive(Default)]
pub(crate) struct DeferredList {
    chunks: Vec<Vec<Deferred>>,
    /// How many candidate findings the decisions hold.
    candidates: usize,
}

impl DeferredList {
    const CHUNK: usize = 4096;

    pub(crate) fn push(&mut self, deferred: Deferred) {
        self.candidates += deferred.packed.len();
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < Self::CHUNK => chunk.push(deferred),
            _ => self.chunks.push(vec![deferred]),
        }
    }

    pub(crate) fn append(&mut self, other: DeferredList) {
        other.into_iter().for_each(|d| self.push(d));
    }

    pub(crate) fn clear(&mut self) {
        self.chunks.clear();
        self.candidates = 0;
    }

    pub(crate) fn candidates(&self) -> usize {
        self.candidates
    }

    pub(crate) fn into_iter(self) -> impl Iterator<Item = Deferred> {
        self.chunks.into_iter().flatten()
    }
}

/// Shared copies of the values that postponed findings repeat. It only saves memory: a value
/// missing from it is simply stored again.
#[derive(Default)]
pub(crate) struct Pool {
    // Interning hashes every postponed finding's parts: a fast hash, as nothing here is
    // chosen by an attacker in a way that matters (a collision costs time, not correctness).
    heads: FxHashSet<Arc<Head>>,
    places: FxHashSet<Arc<Place>>,
    strings: FxHashSet<Arc<str>>,
    objects: FxHashSet<Arc<ObjectRef>>,
    /// Fixes by title; only the last few of each title are compared.
    fixes: FxHashMap<Arc<str>, Vec<Arc<Fix>>>,
}

fn shared<T: std::hash::Hash + Eq>(set: &mut FxHashSet<Arc<T>>, value: T) -> Arc<T> {
    if let Some(found) = set.get(&value) {
        return found.clone();
    }
    let value = Arc::new(value);
    set.insert(value.clone());
    value
}

/// [`shared`], for a value already behind an `Arc`.
fn shared_arc<T: std::hash::Hash + Eq>(set: &mut FxHashSet<Arc<T>>, value: Arc<T>) -> Arc<T> {
    if let Some(found) = set.get(&*value) {
        return found.clone();
    }
    set.insert(value.clone());
    value
}

impl Pool {
    fn string(&mut self, s: String) -> Arc<str> {
        if let Some(found) = self.strings.get(s.as_str()) {
            return found.clone();
        }
        let shared: Arc<str> = Arc::from(s);
        self.strings.insert(shared.clone());
        shared
    }

    /// [`Pool::string`], for a string already shared.
    fn shared_string(&mut self, s: Arc<str>) -> Arc<str> {
        if let Some(found) = self.strings.get(&*s) {
            return found.clone();
        }
        self.strings.insert(s.clone());
        s
    }

    fn fix(&mut self, fix: Fix) -> Arc<Fix> {
        const COMPARED: usize = 8;
        let list = match self.fixes.get_mut(fix.title.as_ref()) {
            Some(list) => list,
            None => self.fixes.entry(Arc::from(fix.title.as_ref())).or_default(),
        };
        if let Some(found) = list.iter().rev().take(COMPARED).find(|f| ***f == fix) {
            return found.clone();
        }
        let shared = Arc::new(fix);
        list.push(shared.clone());
        shared
    }

    /// Forgets every shared value (those in use stay alive where they are used).
    pub(crate) fn clear(&mut self) {
        *self = Pool::default();
    }
}

/// What a rule says in a finding: the same for many findings (the message of a postponed
/// finding is often written when it is decided).
#[derive(PartialEq, Eq, Hash)]
struct Head {
    code: &'static str,
    name: &'static str,
    severity: Severity,
    section: Section,
    message: String,
    remediation: std::borrow::Cow<'static, str>,
    missing: Option<String>,
    kubeaudit_code: Option<std::borrow::Cow<'static, str>>,
    pss: Option<PssRef>,
}

/// Where a finding is: the same for the findings of several rules about one field. The
/// object and the file are shared with the other places in them.
#[derive(PartialEq, Eq, Hash)]
struct Place {
    resource: Arc<ObjectRef>,
    file: Option<Arc<str>>,
    line: Option<u32>,
    column: Option<u32>,
    end_line: Option<u32>,
    end_column: Option<u32>,
    range: Option<TextRange>,
    path: Arc<str>,
    source_line: Option<Box<str>>,
    kubectl: Option<Arc<str>>,
}

/// A [`Finding`] waiting for its decision (or, decided, for its turn to be reported), its
/// repeated parts shared through a [`Pool`].
pub(crate) struct Packed {
    head: Arc<Head>,
    place: Arc<Place>,
    container: Option<Box<ContainerRef>>,
    suppressed: Option<Box<Suppression>>,
    related: Box<[PackedRelated]>,
    fix: Option<Arc<Fix>>,
}

struct PackedRelated {
    message: Arc<str>,
    resource: Arc<ObjectRef>,
    path: Arc<str>,
    file: Option<Arc<str>>,
    line: Option<u32>,
    column: Option<u32>,
}

impl Packed {
    /// The order findings are reported in: file, line, column, rule.
    pub(crate) fn order(&self) -> (Option<&str>, Option<u32>, Option<u32>, &'static str) {
        let place = &*self.place;
        (
            place.file.as_deref(),
            place.line,
            place.column,
            self.head.code,
        )
    }

    pub(crate) fn new(f: Finding, pool: &mut Pool) -> Self {
        // Every field is named, so that a new field of `Finding` cannot be forgotten here.
        let Finding {
            code,
            name,
            severity,
            section,
            message,
            remediation,
            resource,
            container,
            file,
            line,
            column,
            end_line,
            end_column,
            range,
            path,
            missing,
            kubeaudit_code,
            pss,
            suppressed,
            related,
            fix,
            source_line,
            kubectl,
        } = f;
        let head = Head {
            code,
            name,
            severity,
            section,
            message,
            remediation,
            missing,
            kubeaudit_code,
            pss,
        };
        let place = Place {
            resource: shared_arc(&mut pool.objects, resource),
            file: file.map(|s| pool.shared_string(s)),
            line,
            column,
            end_line,
            end_column,
            range,
            path: pool.string(path),
            source_line: source_line.map(String::into_boxed_str),
            kubectl: kubectl.map(|s| pool.string(s)),
        };
        Packed {
            head: shared(&mut pool.heads, head),
            place: shared(&mut pool.places, place),
            container: container.map(Box::new),
            suppressed: suppressed.map(Box::new),
            related: related
                .into_iter()
                .map(|r| PackedRelated {
                    message: pool.string(r.message),
                    resource: shared(&mut pool.objects, r.resource),
                    path: pool.string(r.path),
                    file: r.file.map(|s| pool.string(s)),
                    line: r.line,
                    column: r.column,
                })
                .collect(),
            fix: fix.map(|f| pool.fix(*f)),
        }
    }

    pub(crate) fn unpack(self) -> Finding {
        let text = |s: Arc<str>| String::from(&*s);
        let (head, place) = (&*self.head, &*self.place);
        Finding {
            code: head.code,
            name: head.name,
            severity: head.severity,
            section: head.section,
            message: head.message.clone(),
            remediation: head.remediation.clone(),
            resource: place.resource.clone(),
            container: self.container.map(|c| *c),
            file: place.file.clone(),
            line: place.line,
            column: place.column,
            end_line: place.end_line,
            end_column: place.end_column,
            range: place.range,
            path: String::from(&*place.path),
            missing: head.missing.clone(),
            kubeaudit_code: head.kubeaudit_code.clone(),
            pss: head.pss,
            suppressed: self.suppressed.map(|s| *s),
            related: self
                .related
                .into_vec()
                .into_iter()
                .map(|r| RelatedLocation {
                    message: text(r.message),
                    resource: ObjectRef::clone(&r.resource),
                    path: text(r.path),
                    file: r.file.map(text),
                    line: r.line,
                    column: r.column,
                })
                .collect(),
            fix: self.fix.map(|f| Box::new(Fix::clone(&f))),
            kubectl: place.kubectl.as_deref().map(str::to_owned),
            source_line: place.source_line.as_deref().map(str::to_owned),
        }
    }
}

/// A ServiceAccount of the input.
#[derive(Clone, Debug)]
pub struct ServiceAccountFact {
    pub namespace: Option<String>,
    pub name: String,
    /// `automountServiceAccountToken`, when set to a boolean.
    pub automount: Option<bool>,
}

/// A `networking.k8s.io/v1` NetworkPolicy of the input, reduced to what the rules ask of it.
#[derive(Clone, Debug)]
pub struct NetworkPolicyFact {
    pub namespace: Option<String>,
    pub name: Option<String>,
    /// `podSelector` selects every pod: no matchLabels and no matchExpressions (an absent
    /// `podSelector` reads as the empty selector).
    pub selects_all_pods: bool,
    /// `policyTypes` as written; `None` when the field is absent.
    pub policy_types: Option<Vec<String>>,
    pub ingress_rules: usize,
    pub egress_rules: usize,
}

impl NetworkPolicyFact {
    fn lists_type(&self, ty: &str) -> bool {
        self.policy_types
            .as_ref()
            .is_some_and(|t| t.iter().any(|x| x == ty))
    }

    fn rules(&self, direction: &str) -> usize {
        if direction == "Ingress" {
            self.ingress_rules
        } else {
            self.egress_rules
        }
    }

    /// A catch-all policy that denies all traffic in `direction` ("Ingress" or "Egress"):
    /// no rules for it, and the direction listed explicitly in `policyTypes`. An omitted
    /// `policyTypes` does not count, as in kubeaudit's manifest mode.
    pub fn denies_all(&self, direction: &str) -> bool {
        self.selects_all_pods && self.rules(direction) == 0 && self.lists_type(direction)
    }

    /// A catch-all policy without `policyTypes` that the API server turns into a deny-all
    /// for `direction` when it defaults the field (`Ingress` always; `Egress` only when there
    /// are egress rules, so never a deny-all).
    pub fn denies_all_once_defaulted(&self, direction: &str) -> bool {
        self.selects_all_pods
            && self.policy_types.is_none()
            && direction == "Ingress"
            && self.ingress_rules == 0
    }
}

/// A `v1` Namespace object of the input.
#[derive(Clone, Debug)]
pub struct NamespaceFact {
    /// `None` for a Namespace without a name, which kubeaudit takes to hold every policy.
    pub name: Option<String>,
}

/// Every fact collected from the input, plus the postponed decisions.
#[derive(Default)]
pub struct Estate {
    pub service_accounts: Vec<ServiceAccountFact>,
    pub network_policies: Vec<NetworkPolicyFact>,
    pub namespaces: Vec<NamespaceFact>,
    /// Every object estate-wide rules reason about (see [`crate::inventory`]).
    pub inventory: crate::inventory::Inventory,
    pub(crate) deferred: DeferredList,
    /// The current object's postponed decisions, until the engine packs them.
    pub(crate) pending: Vec<Pending>,
}

impl Estate {
    /// Forgets the decisions postponed by the objects this estate was collected from, keeping
    /// their facts: for objects that inform other decisions but must not be reported themselves
    /// (Kubernetes' own default RBAC objects in a live cluster).
    pub fn drop_postponed(&mut self) {
        self.deferred.clear();
        self.pending.clear();
    }

    pub fn merge(&mut self, other: Estate) {
        self.service_accounts.extend(other.service_accounts);
        self.network_policies.extend(other.network_policies);
        self.namespaces.extend(other.namespaces);
        self.inventory.merge(other.inventory);
        self.deferred.append(other.deferred);
        self.pending.extend(other.pending);
    }

    /// Whether pods using `service_account` in `namespace` get a token by default: false only
    /// when that ServiceAccount exists and sets `automountServiceAccountToken: false`.
    pub fn service_account_automounts(
        &self,
        namespace: Option<&str>,
        service_account: &str,
    ) -> bool {
        // An object without a namespace lands in whatever namespace it is applied to, so it
        // may share one with anything.
        let same_ns = |ns: &Option<String>| match (ns.as_deref(), namespace) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        !self
            .service_accounts
            .iter()
            .filter(|sa| sa.name == service_account && same_ns(&sa.namespace))
            .any(|sa| sa.automount == Some(false))
    }

    /// The NetworkPolicies of a namespace; every policy when `namespace` is `None`.
    pub fn policies_in<'e>(
        &'e self,
        namespace: Option<&'e str>,
    ) -> impl Iterator<Item = &'e NetworkPolicyFact> + 'e {
        self.network_policies
            .iter()
            .filter(move |p| namespace.is_none() || p.namespace.as_deref() == namespace)
    }

    /// Whether the input holds a Namespace object for `namespace` (or one without a name).
    pub fn has_namespace(&self, namespace: Option<&str>) -> bool {
        self.namespaces
            .iter()
            .any(|n| n.name.is_none() || n.name.as_deref() == namespace)
    }

    /// Runs the postponed decisions.
    pub fn resolve(&mut self) -> Vec<Finding> {
        let mut out = Vec::new();
        self.resolve_each(|f| out.push(f));
        out
    }

    /// Runs the postponed decisions, handing each finding that stands to `found` (while the
    /// remaining candidates still wait packed).
    pub(crate) fn resolve_each(&mut self, mut found: impl FnMut(Finding)) {
        use rayon::prelude::*;
        /// Decisions run in parallel a slice at a time: only a few slices' candidates are
        /// expanded at once, and the findings keep the order of the decisions.
        const SLICE: usize = 4096;
        let deferred = std::mem::take(&mut self.deferred);
        let estate = &*self;
        let mut deferred = deferred.into_iter();
        let mut next_slice = move || {
            let slice: Vec<Deferred> = deferred.by_ref().take(SLICE).collect();
            (!slice.is_empty()).then(|| -> Vec<Vec<Finding>> {
                slice.into_par_iter().map(|d| d.decide(estate)).collect()
            })
        };
        if rayon::current_thread_index().is_some() {
            // On a pool thread (`palisade fix` finishes files in parallel), waiting for work
            // handed to the pool could leave it without a free thread: decide here.
            while let Some(decided) = next_slice() {
                decided.into_iter().flatten().for_each(&mut found);
            }
        } else {
            std::thread::scope(|scope| {
                // The next slice is decided on the pool while this thread hands out the
                // findings of the last one (`found` is where the engine packs them).
                let (decided_tx, decided_rx) = std::sync::mpsc::sync_channel(1);
                scope.spawn(move || {
                    while let Some(decided) = next_slice() {
                        if decided_tx.send(decided).is_err() {
                            break;
                        }
                    }
                });
                for decided in decided_rx {
                    decided.into_iter().flatten().for_each(&mut found);
                }
            });
        }
        // Decisions the engine did not pack (an estate put together by hand).
        let pending = std::mem::take(&mut self.pending);
        for p in pending {
            (p.decide)(self, p.candidates)
                .into_iter()
                .for_each(&mut found);
        }
    }
}

/// Records a ServiceAccount's automount setting.
pub fn collect_service_account(object: &Object<'_>, estate: &mut Estate) {
    if object.kind != "ServiceAccount" || object.group() != "" {
        return;
    }
    let doc = object.doc;
    let automount = doc
        .get(object.node, "automountServiceAccountToken")
        .and_then(|n| doc.bool(n));
    estate.service_accounts.push(ServiceAccountFact {
        namespace: object.namespace().map(str::to_owned),
        name: object.name().unwrap_or("").to_owned(),
        automount,
    });
}

/// Records a `networking.k8s.io/v1` NetworkPolicy. Several rules may call it for the same
/// object: the estate a checker holds is the current object's, so the policy is recorded once.
pub fn collect_network_policy(object: &Object<'_>, estate: &mut Estate) {
    if object.kind != "NetworkPolicy"
        || object.api_version != "networking.k8s.io/v1"
        || !estate.network_policies.is_empty()
    {
        return;
    }
    let doc = object.doc;
    let spec = object.get(&["spec"]);
    let field = |key: &str| spec.and_then(|s| doc.get(s, key));
    let selects_all_pods = field("podSelector").is_none_or(|sel| {
        let empty = |key: &str| {
            doc.get(sel, key)
                .is_none_or(|n| doc.entries(n).is_empty() && doc.items(n).is_empty())
        };
        empty("matchLabels") && empty("matchExpressions")
    });
    let policy_types = field("policyTypes").filter(|&n| !doc.is_null(n)).map(|n| {
        doc.items(n)
            .iter()
            .filter_map(|&t| doc.str(t).map(str::to_owned))
            .collect()
    });
    let count = |key: &str| field(key).map_or(0, |n| doc.items(n).len());
    estate.network_policies.push(NetworkPolicyFact {
        namespace: object.namespace().map(str::to_owned),
        name: object.name().map(str::to_owned),
        selects_all_pods,
        policy_types,
        ingress_rules: count("ingress"),
        egress_rules: count("egress"),
    });
}

/// Records a `v1` Namespace, once per object (see [`collect_network_policy`]).
pub fn collect_namespace(object: &Object<'_>, estate: &mut Estate) {
    if object.kind != "Namespace" || object.api_version != "v1" || !estate.namespaces.is_empty() {
        return;
    }
    estate.namespaces.push(NamespaceFact {
        name: object.name().map(str::to_owned),
    });
}

#[cfg(test)]
mod tests {
    use palisade_diagnostics::{ContainerKind, Op, PssLevel};

    use super::*;

    fn object(name: &str) -> ObjectRef {
        ObjectRef {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: Some("shop".into()),
            name: Some(name.into()),
        }
    }

    fn finding(name: &str, message: &str) -> Finding {
        Finding {
            code: "WKL027",
            name: "service-account-token-automount",
            severity: Severity::Medium,
            section: Section::Workloads,
            message: message.into(),
            remediation: "set it".into(),
            resource: Arc::new(object(name)),
            container: Some(ContainerRef {
                name: "app".into(),
                kind: ContainerKind::Container,
            }),
            file: Some("deploy/web.yaml".into()),
            line: Some(3),
            column: Some(5),
            end_line: Some(3),
            end_column: Some(12),
            range: Some(TextRange::new(40, 47)),
            path: "spec.template.spec".into(),
            missing: Some("automountServiceAccountToken".into()),
            kubeaudit_code: Some("AutomountServiceAccountTokenTrueAndDefaultSA".into()),
            pss: Some(PssRef {
                level: PssLevel::Baseline,
                control: "HostProcess",
            }),
            suppressed: Some(Suppression {
                by: "annotation".into(),
                reason: Some("why".into()),
            }),
            related: vec![RelatedLocation {
                message: "named here".into(),
                resource: object(name),
                path: "spec.template.spec.serviceAccountName".into(),
                file: Some("deploy/web.yaml".into()),
                line: Some(9),
                column: Some(7),
            }],
            fix: Some(Box::new(Fix::unsafe_(
                "set it",
                "careful",
                vec![Op::set(
                    "spec.template.spec.automountServiceAccountToken",
                    false,
                )],
            ))),
            source_line: Some("  name: web".into()),
            kubectl: Some("kubectl get -n shop deployment.apps web -o yaml".into()),
        }
    }

    #[test]
    fn packing_keeps_every_field_and_shares_repeated_values() {
        let mut pool = Pool::default();
        let originals = [
            finding("web", "first"),
            finding("web", "second"),
            finding("api", "first"),
        ];
        let pending = Pending {
            candidates: originals.to_vec(),
            decide: Box::new(|_: &Estate, candidates: Vec<Finding>| candidates),
        };
        let deferred = pending.pack(&mut pool);
        assert_eq!(deferred.packed.len(), 3);
        let (a, b, c) = (
            &deferred.packed[0],
            &deferred.packed[1],
            &deferred.packed[2],
        );
        assert!(Arc::ptr_eq(&a.place, &b.place));
        assert!(!Arc::ptr_eq(&a.place, &c.place));
        assert!(Arc::ptr_eq(&a.head, &c.head));
        assert!(!Arc::ptr_eq(&a.head, &b.head));
        assert!(Arc::ptr_eq(&a.related[0].path, &c.related[0].path));
        assert!(Arc::ptr_eq(
            a.fix.as_ref().unwrap(),
            c.fix.as_ref().unwrap()
        ));
        let back = deferred.decide(&Estate::default());
        let shown = |fs: &[Finding]| fs.iter().map(|f| format!("{f:?}")).collect::<Vec<_>>();
        assert_eq!(shown(&back), shown(&originals));
    }

    #[test]
    fn different_fixes_with_one_title_stay_apart() {
        let mut pool = Pool::default();
        let fix = |path: &str| Fix::safe("set it", vec![Op::set(path, false)]);
        let a = pool.fix(fix("spec.a"));
        let b = pool.fix(fix("spec.b"));
        let again = pool.fix(fix("spec.a"));
        assert_eq!(*a, fix("spec.a"));
        assert_eq!(*b, fix("spec.b"));
        assert!(Arc::ptr_eq(&a, &again));
    }
}
