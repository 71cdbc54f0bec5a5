use super::reach::{cite, ns_name, subject, workload_finding};
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags workloads in a namespace that has network policies (Kubernetes, Cilium or
    /// Calico, including cluster-wide ones) when none of them selects the workload's pods:
    /// the policies' selectors (`podSelector` `matchLabels` and `matchExpressions`, Cilium
    /// `endpointSelector`, Calico `k == 'v'` selectors) are evaluated against the labels of
    /// the pod template. A Calico selector this tool does not evaluate counts as selecting.
    ///
    /// Namespaces without any policy are reported once by `namespace-without-default-deny`
    /// (or `missing-default-deny-network-policy`) instead of once per workload.
    ///
    /// ## Why is this bad?
    /// Someone wrote policies for this namespace, but these pods fall through them: a label
    /// was renamed, or the workload was added later. They accept every connection and can
    /// reach anything, while the namespace looks protected.
    ///
    /// ## Example
    /// ```yaml
    /// kind: NetworkPolicy
    /// spec:
    ///   podSelector:
    ///     matchLabels: {app: web}
    /// ---
    /// kind: Deployment
    /// spec:
    ///   template:
    ///     metadata:
    ///       labels: {app: worker}   # no policy selects it
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// kind: NetworkPolicy
    /// spec:
    ///   podSelector: {}            # a default deny for the namespace
    ///   policyTypes: [Ingress, Egress]
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/concepts/services-networking/network-policies/#isolated-and-non-isolated-pods
    pub PodNotSelectedByNetworkPolicy {
        code: "NET004",
        name: "pod-not-selected-by-network-policy",
        section: Network,
        severity: Medium,
        summary: "Workload's pods are selected by none of its namespace's network policies",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for PodNotSelectedByNetworkPolicy {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        crate::inventory::collect(cx);
        if super::reach::judged_pod(cx).is_none() {
            return;
        }
        let me = subject(cx);
        let candidate = workload_finding(cx, String::new(), String::new());
        cx.defer(vec![candidate], move |estate, mut candidates| {
            let inv = &estate.inventory;
            let (ns, labels, who) = (me.namespace(), &me.labels, me.who());
            let policies = inv.policies_in(ns, me.dir());
            if policies.is_empty() || policies.iter().any(|p| p.selector.may_match(labels)) {
                return Vec::new();
            }
            let Some(mut f) = candidates.pop() else {
                return Vec::new();
            };
            let shown_labels = if labels.is_empty() {
                "no labels".to_owned()
            } else {
                labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            f.message = format!(
                "no network policy selects the pods of {who} ({shown_labels}): namespace `{}` \
                 has {} polic{} but they select other pods, so these accept every connection \
                 and can connect anywhere",
                ns_name(ns),
                policies.len(),
                if policies.len() == 1 { "y" } else { "ies" }
            );
            f.remediation = format!(
                "add a default-deny NetworkPolicy (`podSelector: {{}}`, `policyTypes: [Ingress, \
                 Egress]`) to namespace `{}`, or a policy whose podSelector matches these pods",
                ns_name(ns)
            )
            .into();
            for p in policies.iter().take(3) {
                f.related
                    .push(cite(&p.loc, format!("{} selects other pods", p.title())));
            }
            vec![f]
        });
    }
}
