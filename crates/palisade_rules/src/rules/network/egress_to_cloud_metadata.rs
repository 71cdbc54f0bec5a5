use super::reach::{defer_egress_check, parse_all};
use crate::prelude::*;
use crate::settings::DEFAULT_METADATA_CIDRS;

declare_rule! {
    /// ## What it does
    /// For every workload whose pods are isolated for egress by `networking.k8s.io/v1`
    /// NetworkPolicies, evaluates the egress rules of the policies that select its pods
    /// (`podSelector` `matchLabels` and `matchExpressions` against the pod template's labels,
    /// `policyTypes` defaulted as the API server does) and flags the workload when one of them
    /// lets it reach a cloud metadata endpoint on port 80: `169.254.169.254` (AWS, GCP,
    /// Azure, OpenStack), `fd00:ec2::254` (AWS IPv6), `100.100.100.200` (Alibaba Cloud) and
    /// the CIDRs given with `--metadata-cidrs`. An egress rule without `to`, or an `ipBlock`
    /// such as `0.0.0.0/0` whose `except` list does not remove the address, opens the path;
    /// the finding names that policy and points at the rule or the `cidr`.
    ///
    /// Pods that no policy isolates for egress can reach everything; `namespace-without-default-deny`
    /// and `pod-not-selected-by-network-policy` report those. Pods selected by a Cilium or
    /// Calico policy are not evaluated (their rules are richer than this check models), so
    /// nothing is claimed about them.
    ///
    /// ## Why is this bad?
    /// The metadata service hands out the node's cloud credentials and bootstrap data (on
    /// AWS without IMDSv2 hop limits, on GCP and Azure by design). A compromised pod that can
    /// reach it can often take over the node's cloud identity, and through it the cluster.
    /// Egress policies exist to cut exactly such paths, and the catch-all `0.0.0.0/0` that
    /// most "allow internet" rules use includes the metadata address unless it is excepted.
    ///
    /// ## Example
    /// ```yaml
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
    ///           except: [169.254.169.254/32, 100.100.100.200/32]
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/concepts/services-networking/network-policies/#networkpolicy-resource
    /// - https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html
    pub EgressToCloudMetadata {
        code: "NET006",
        name: "egress-to-cloud-metadata",
        section: Network,
        severity: High,
        summary: "NetworkPolicy lets pods reach the cloud metadata endpoint",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for EgressToCloudMetadata {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        crate::inventory::collect(cx);
        if cx.pod.is_none() {
            return;
        }
        let targets = parse_all(
            DEFAULT_METADATA_CIDRS
                .iter()
                .copied()
                .chain(cx.settings.metadata_cidrs.iter().map(String::as_str)),
        );
        defer_egress_check(
            cx,
            targets,
            "the cloud metadata endpoint",
            "add the metadata addresses to the `except` list of the `ipBlock` (169.254.169.254/32, \
             fd00:ec2::254/128, 100.100.100.200/32), or list only the destinations the pods need",
            false,
            Some(80),
        );
    }
}
