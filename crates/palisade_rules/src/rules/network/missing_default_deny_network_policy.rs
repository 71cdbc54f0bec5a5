use palisade_diagnostics::{Finding, Suppression};

use crate::estate::{Estate, NetworkPolicyFact, collect_network_policy};
use crate::inventory::PolicyFlavor;
use crate::prelude::*;

const ALLOW_INGRESS: &str = "allow-non-default-deny-ingress-network-policy";
const ALLOW_EGRESS: &str = "allow-non-default-deny-egress-network-policy";

declare_rule! {
    /// ## What it does
    /// For every `v1` Namespace object of the input, looks at the `networking.k8s.io/v1`
    /// NetworkPolicies of that namespace found anywhere in the input (any file), and flags a
    /// namespace without a default-deny policy for ingress, for egress, or for both.
    ///
    /// A default-deny policy selects every pod (`podSelector: {}`), has no rules for the
    /// direction, and lists the direction in `policyTypes`. As in kubeaudit, a policy that
    /// leaves `policyTypes` out does not count, because the manifest does not say what it
    /// denies; the API server would default it to `[Ingress]`, so that case is reported at
    /// `low` for ingress and the message says how to make it explicit.
    ///
    /// A CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy, Calico NetworkPolicy or
    /// GlobalNetworkPolicy that isolates every pod (see `namespace-without-default-deny`)
    /// protects the namespace as well: the direction it covers is not reported.
    ///
    /// Namespaces that only appear in `metadata.namespace` of other objects are not checked
    /// here: the rule needs the Namespace object to know the namespace is managed here;
    /// `namespace-without-default-deny` reports namespaces that have workloads.
    ///
    /// ## Why is this bad?
    /// Without a default-deny policy every pod accepts connections from every other pod of
    /// the cluster and can reach anything, including the cloud metadata service and the API
    /// server. One compromised pod can then scan and attack every service. Default-deny
    /// turns network access into an allow-list that each workload must declare.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: v1
    /// kind: Namespace
    /// metadata:
    ///   name: shop
    /// # … and no NetworkPolicy in `shop`
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata:
    ///   name: default-deny
    ///   namespace: shop
    /// spec:
    ///   podSelector: {}
    ///   policyTypes: [Ingress, Egress]
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-policies
    /// - CIS Kubernetes Benchmark 5.3.2 (all namespaces have NetworkPolicies defined)
    /// - kubeaudit `netpols` (`MissingDefaultDenyIngressNetworkPolicy`,
    ///   `MissingDefaultDenyEgressNetworkPolicy`,
    ///   `MissingDefaultDenyIngressAndEgressNetworkPolicy`), override labels on the
    ///   Namespace: `allow-non-default-deny-ingress-network-policy`,
    ///   `allow-non-default-deny-egress-network-policy`
    pub MissingDefaultDenyNetworkPolicy {
        code: "NET001",
        name: "missing-default-deny-network-policy",
        section: Network,
        severity: High,
        summary: "Namespace has no default-deny NetworkPolicy",
        kubeaudit: Some("netpols"),
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for MissingDefaultDenyNetworkPolicy {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        crate::inventory::collect(cx);
        let object = cx.object;
        if object.kind == "NetworkPolicy" {
            collect_network_policy(object, cx.estate_mut());
            return;
        }
        // A Namespace patch is merged into its base's Namespace, judged there.
        if object.kind != "Namespace" || object.api_version != "v1" || cx.is_fragment() {
            return;
        }
        let namespace = object.name().map(str::to_owned);
        let shown = namespace.as_deref().unwrap_or("(unnamed)");
        let (node, path) = match object.get(&["metadata", "name"]) {
            Some(n) => (n, object.path(&["metadata", "name"])),
            None => (object.node, object.path(&[])),
        };
        let allow_ingress = KubeauditOverride::pod(ALLOW_INGRESS);
        let allow_egress = KubeauditOverride::pod(ALLOW_EGRESS);
        let ingress_label = cx.find_override(&allow_ingress);
        let egress_label = cx.find_override(&allow_egress);

        let mut both = cx
            .report(node, path.clone())
            .message(format!(
                "namespace `{shown}` has no default-deny NetworkPolicy: its pods accept \
                 connections from anywhere and can connect anywhere"
            ))
            .remediation(format!(
                "add a NetworkPolicy `default-deny` in namespace `{shown}` with `podSelector: {{}}` \
                 and `policyTypes: [Ingress, Egress]`, then allow the traffic each workload needs"
            ))
            .kubeaudit("MissingDefaultDenyIngressAndEgressNetworkPolicy")
            .build();
        if let (Some(i), Some(e)) = (ingress_label, egress_label) {
            // Both directions overridden: one result names both labels and both reasons.
            let reason = |v: Option<&str>| v.unwrap_or("").to_owned();
            both.suppressed = Some(Suppression {
                by: format!("{} and {}", i.key, e.key),
                reason: Some(format!(
                    "Ingress: {}, Egress: {}",
                    reason(i.value),
                    reason(e.value)
                )),
            });
            if let Some(code) = &mut both.kubeaudit_code {
                code.to_mut().push_str("Allowed");
            }
        }
        let ingress = cx
            .report(node, path.clone())
            .message(format!(
                "namespace `{shown}` has no default-deny ingress NetworkPolicy: its pods accept \
                 connections from anywhere"
            ))
            .remediation(format!(
                "add a NetworkPolicy in namespace `{shown}` with `podSelector: {{}}` and \
                 `policyTypes: [Ingress]`"
            ))
            .kubeaudit("MissingDefaultDenyIngressNetworkPolicy")
            .kubeaudit_override(allow_ingress)
            .build();
        let egress = cx
            .report(node, path)
            .message(format!(
                "namespace `{shown}` has no default-deny egress NetworkPolicy: its pods can \
                 connect anywhere"
            ))
            .remediation(format!(
                "add a NetworkPolicy in namespace `{shown}` with `podSelector: {{}}` and \
                 `policyTypes: [Egress]`"
            ))
            .kubeaudit("MissingDefaultDenyEgressNetworkPolicy")
            .kubeaudit_override(allow_egress)
            .build();
        let overridden = (ingress_label.is_some(), egress_label.is_some());
        cx.defer(vec![both, ingress, egress], move |estate, candidates| {
            decide(estate, namespace.as_deref(), overridden, candidates)
        });
    }
}

/// kubeaudit's decision: with no catch-all policy, one result for both directions unless
/// exactly one direction is overridden; with a catch-all policy, one result per direction
/// that has no deny-all.
fn decide(
    estate: &Estate,
    namespace: Option<&str>,
    (ingress_overridden, egress_overridden): (bool, bool),
    candidates: Vec<Finding>,
) -> Vec<Finding> {
    let [both, ingress, egress]: [Finding; 3] = match candidates.try_into() {
        Ok(c) => c,
        Err(_) => return Vec::new(),
    };
    let dir = crate::inventory::dir_of(both.file.as_deref());
    // A Cilium or Calico policy that isolates every pod protects the namespace too.
    let cni_isolates = |ingress: bool| {
        estate
            .inventory
            .policies_in(namespace, dir)
            .iter()
            .any(|p| {
                p.flavor != PolicyFlavor::Kubernetes && p.selector.is_all() && p.isolates(ingress)
            })
    };
    let (cni_ingress, cni_egress) = (cni_isolates(true), cni_isolates(false));
    let policies: Vec<&NetworkPolicyFact> = estate.policies_in(namespace).collect();
    if cni_ingress || cni_egress {
        let mut out = Vec::new();
        for (direction, finding, covered) in [
            ("Ingress", ingress, cni_ingress),
            ("Egress", egress, cni_egress),
        ] {
            if !covered && !policies.iter().any(|p| p.denies_all(direction)) {
                out.push(finding);
            }
        }
        return out;
    }
    let Some(catch_all) = policies.iter().find(|p| p.selects_all_pods) else {
        return match (ingress_overridden, egress_overridden) {
            (true, false) | (false, true) => vec![ingress, egress],
            _ => vec![both],
        };
    };
    let catch_all_name = catch_all.name.as_deref().unwrap_or("(unnamed)");
    let mut out = Vec::new();
    for (direction, mut finding) in [("Ingress", ingress), ("Egress", egress)] {
        if policies.iter().any(|p| p.denies_all(direction)) {
            continue;
        }
        if let Some(p) = policies
            .iter()
            .find(|p| p.denies_all_once_defaulted(direction))
        {
            let name = p.name.as_deref().unwrap_or("(unnamed)");
            finding.severity = finding.severity.min(Severity::Low);
            let lower = direction.to_ascii_lowercase();
            finding.message = format!(
                "namespace `{}` has no explicit default-deny {lower} NetworkPolicy: \
                 NetworkPolicy `{name}` selects every pod and has no {lower} rules, but leaves \
                 `policyTypes` out, so only the API server's defaulting makes it deny {lower}",
                namespace.unwrap_or("(unnamed)")
            );
            finding.remediation = format!(
                "state it in the manifest: add `policyTypes: [{direction}]` to NetworkPolicy \
                 `{name}`"
            )
            .into();
        } else {
            finding.remediation = format!(
                "add `{direction}` to `policyTypes` of the catch-all NetworkPolicy \
                 `{catch_all_name}` and leave it without {} rules, or add a NetworkPolicy with \
                 `podSelector: {{}}` and `policyTypes: [{direction}]`",
                direction.to_ascii_lowercase()
            )
            .into();
        }
        out.push(finding);
    }
    out
}
