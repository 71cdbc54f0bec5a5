use super::reach::defer_egress_check;
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// For every workload whose pods are isolated for egress by `networking.k8s.io/v1`
    /// NetworkPolicies, flags the workload when the egress rules of the policies that select
    /// it let it reach public internet addresses: a rule without `to`, or an `ipBlock` that
    /// spans public address space (anything outside the private, shared, loopback,
    /// link-local, multicast and reserved ranges of IPv4 and IPv6) and that its `except`
    /// list does not remove whole. The finding names the policy and points at the rule or
    /// its `cidr`.
    ///
    /// Workloads that must call external services are legitimate; the finding is `low` and
    /// documents the path so it is a decision, not an accident. Pods not isolated for egress
    /// are reported by `namespace-without-default-deny` and
    /// `pod-not-selected-by-network-policy`; pods under Cilium or Calico policies are not
    /// evaluated.
    ///
    /// ## Why is this bad?
    /// Open egress to the internet is how a compromised pod downloads tooling, talks to its
    /// command and control server and exfiltrates data. Limiting egress to the addresses a
    /// workload needs (or to an egress proxy) closes that path.
    ///
    /// ## Example
    /// ```yaml
    /// egress:
    ///   - to:
    ///       - ipBlock:
    ///           cidr: 0.0.0.0/0
    ///           except: [10.0.0.0/8]
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// egress:
    ///   - to:
    ///       - ipBlock:
    ///           cidr: 203.0.113.10/32   # the payment provider
    ///     ports:
    ///       - port: 443
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/concepts/services-networking/network-policies/#networkpolicy-resource
    pub EgressToInternet {
        code: "NET007",
        name: "egress-to-internet",
        section: Network,
        severity: Low,
        summary: "NetworkPolicy lets pods reach the public internet",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for EgressToInternet {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        crate::inventory::collect(cx);
        if cx.pod.is_none() {
            return;
        }
        defer_egress_check(
            cx,
            Vec::new().into(),
            "the public internet",
            "restrict the egress rule to the addresses (and ports) the pods need, or route \
             outbound traffic through an egress gateway; suppress the finding with a reason \
             when open egress is intended",
            true,
            None,
        );
    }
}
