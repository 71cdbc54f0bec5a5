//! What the engine knows about the whole input once every object has been read: the facts
//! that rules about one object need from others (ServiceAccounts, NetworkPolicies).

use palisade_diagnostics::Finding;
use palisade_k8s::Object;

/// A decision postponed until the whole estate is known: findings prepared while reading the
/// object (so they keep their locations and suppressions), and the function that picks which
/// of them stand.
pub struct Deferred {
    pub candidates: Vec<Finding>,
    #[allow(clippy::type_complexity)]
    pub decide: Box<dyn FnOnce(&Estate, Vec<Finding>) -> Vec<Finding> + Send>,
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
    pub(crate) deferred: Vec<Deferred>,
}

impl Estate {
    pub fn merge(&mut self, other: Estate) {
        self.service_accounts.extend(other.service_accounts);
        self.network_policies.extend(other.network_policies);
        self.namespaces.extend(other.namespaces);
        self.inventory.merge(other.inventory);
        self.deferred.extend(other.deferred);
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
        let deferred = std::mem::take(&mut self.deferred);
        deferred
            .into_iter()
            .flat_map(|d| (d.decide)(self, d.candidates))
            .collect()
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
