use super::reach::{defer_egress_check, parse_all};
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// For every workload whose pods are isolated for egress by `networking.k8s.io/v1`
    /// NetworkPolicies, flags the workload when an egress rule of the policies that select
    /// it lets it reach one of the internal ranges given with `--internal-cidrs` (pod,
    /// service and node CIDRs, management networks, databases outside the cluster): a rule
    /// without `to`, or an `ipBlock` that overlaps the range without excepting it. The
    /// finding names the policy and points at the rule or its `cidr`.
    ///
    /// Without `--internal-cidrs` the rule has nothing to check. `ipBlock` rules are meant
    /// for addresses outside the cluster; in-cluster peers are better selected with
    /// `podSelector` and `namespaceSelector`, which this rule leaves alone. Pods under
    /// Cilium or Calico policies are not evaluated.
    ///
    /// ## Why is this bad?
    /// A wide `ipBlock` (often `0.0.0.0/0` meant as "the internet") also covers the node
    /// network, the API server and kubelet ports, and every pod address, bypassing the
    /// pod-selector policies of other namespaces. Internal ranges should be reached only
    /// through selectors that name the peers.
    ///
    /// ## Example
    /// ```yaml
    /// # palisade scan --internal-cidrs 10.0.0.0/8
    /// egress:
    ///   - to:
    ///       - ipBlock:
    ///           cidr: 0.0.0.0/0
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// egress:
    ///   - to:
    ///       - ipBlock:
    ///           cidr: 0.0.0.0/0
    ///           except: [10.0.0.0/8]
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/concepts/services-networking/network-policies/#networkpolicy-resource
    pub EgressToInternalNetwork {
        code: "NET008",
        name: "egress-to-internal-network",
        section: Network,
        severity: Medium,
        summary: "NetworkPolicy ipBlock lets pods reach a configured internal range",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for EgressToInternalNetwork {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        crate::inventory::collect(cx);
        if cx.pod.is_none() || cx.settings.internal_cidrs.is_empty() {
            return;
        }
        let targets = parse_all(cx.settings.internal_cidrs.iter().map(String::as_str));
        defer_egress_check(
            cx,
            targets,
            "the internal range",
            "except the internal range from the `ipBlock`, and reach in-cluster peers through \
             `podSelector`/`namespaceSelector` instead",
            false,
            None,
        );
    }
}
