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

/// A NetworkPolicy of the input, reduced to what the rules ask of it.
#[derive(Clone, Debug)]
pub struct NetworkPolicyFact {
    pub namespace: Option<String>,
    pub name: Option<String>,
    /// `podSelector` selects every pod: no matchLabels and no matchExpressions.
    pub selects_all_pods: bool,
    /// `policyTypes` as written; `None` when the field is absent.
    pub policy_types: Option<Vec<String>>,
    pub ingress_rules: usize,
    pub egress_rules: usize,
    /// An ingress rule with no `from` (allows every source).
    pub allows_all_ingress: bool,
    /// An egress rule with no `to` (allows every destination).
    pub allows_all_egress: bool,
    /// Findings about this policy prepared while reading it, keyed by what they report.
    pub allow_all_ingress_finding: Option<Finding>,
    pub allow_all_egress_finding: Option<Finding>,
}

impl NetworkPolicyFact {
    fn lists_type(&self, ty: &str) -> bool {
        self.policy_types
            .as_ref()
            .is_some_and(|t| t.iter().any(|x| x == ty))
    }

    /// A catch-all policy that denies all traffic in `direction` ("Ingress" or "Egress"):
    /// no rules for it, and the direction listed explicitly in `policyTypes`.
    pub fn denies_all(&self, direction: &str) -> bool {
        let rules = if direction == "Ingress" {
            self.ingress_rules
        } else {
            self.egress_rules
        };
        self.selects_all_pods && rules == 0 && self.lists_type(direction)
    }
}

/// Every fact collected from the input, plus the postponed decisions.
#[derive(Default)]
pub struct Estate {
    pub service_accounts: Vec<ServiceAccountFact>,
    pub network_policies: Vec<NetworkPolicyFact>,
    pub(crate) deferred: Vec<Deferred>,
}

impl Estate {
    pub fn merge(&mut self, other: Estate) {
        self.service_accounts.extend(other.service_accounts);
        self.network_policies.extend(other.network_policies);
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
