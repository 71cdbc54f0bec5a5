use crate::estate::collect_namespace;
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags the rules of a `networking.k8s.io/v1` NetworkPolicy that allow every peer: an
    /// ingress rule with no `from` (or an empty one) admits every source, an egress rule with
    /// no `to` admits every destination. A rule that also lists `ports` opens only those
    /// ports, and is reported at `low`.
    ///
    /// Every such policy is reported. kubeaudit reports them only for namespaces whose
    /// Namespace object is part of the input; those findings carry its result code, the
    /// others (a chart that ships policies but not its Namespace) carry none.
    ///
    /// ## Why is this bad?
    /// NetworkPolicies are additive: one allow-all rule for a set of pods cancels, in its
    /// direction, every default-deny policy of the namespace for those pods, and exposes
    /// them to (or lets them reach) every pod of the cluster and beyond. When a workload must
    /// really accept traffic from everywhere, such as an ingress controller, a rule limited
    /// to the ports it serves states that intent; suppress the remaining finding with a
    /// reason.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   podSelector: {}
    ///   ingress:
    ///     - {}
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// spec:
    ///   podSelector:
    ///     matchLabels: {app: api}
    ///   ingress:
    ///     - from:
    ///         - podSelector:
    ///             matchLabels: {app: frontend}
    ///       ports:
    ///         - port: 8080
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/concepts/services-networking/network-policies/#allow-all-ingress-traffic
    /// - kubeaudit `netpols` (`AllowAllIngressNetworkPolicyExists`,
    ///   `AllowAllEgressNetworkPolicyExists`); no override label
    pub AllowAllNetworkPolicy {
        code: "NET002",
        name: "allow-all-network-policy",
        section: Network,
        severity: Medium,
        summary: "NetworkPolicy rule allows every source or destination",
        kubeaudit: Some("netpols"),
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for AllowAllNetworkPolicy {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let object = cx.object;
        if object.kind == "Namespace" {
            collect_namespace(object, cx.estate_mut());
            return;
        }
        if object.kind != "NetworkPolicy" || object.api_version != "networking.k8s.io/v1" {
            return;
        }
        let Some(spec) = object.get(&["spec"]) else {
            return;
        };
        let doc = cx.doc();
        let name = object.name().unwrap_or("(unnamed)");
        let mut candidates = Vec::new();
        for (field, peers, code, what) in [
            (
                "ingress",
                "from",
                "AllowAllIngressNetworkPolicyExists",
                "connections from every source",
            ),
            (
                "egress",
                "to",
                "AllowAllEgressNetworkPolicyExists",
                "connections to every destination",
            ),
        ] {
            let Some(list) = doc.get(spec, field) else {
                continue;
            };
            for (i, &rule) in doc.items(list).iter().enumerate() {
                // A null item reads as an empty rule; anything else that is not a mapping is
                // rejected by the API server.
                if !(doc.is_mapping(rule) || doc.is_null(rule)) {
                    continue;
                }
                let open = doc.get(rule, peers).is_none_or(|p| {
                    doc.is_null(p) || (doc.is_sequence(p) && doc.items(p).is_empty())
                });
                if !open {
                    continue;
                }
                let ports = doc.get(rule, "ports").filter(|&p| !doc.items(p).is_empty());
                let path = object.path(&["spec", field]).index(i);
                let (severity, scope) = match ports {
                    Some(_) => (Severity::Low, " on the ports it lists"),
                    None => (Severity::Medium, " on every port"),
                };
                let f = cx
                    .report(rule, path)
                    .severity(severity)
                    .message(format!(
                        "NetworkPolicy `{name}` allows {what}{scope}: its {field} rule lists \
                         no `{peers}` peers"
                    ))
                    .remediation(format!(
                        "list the allowed peers under `{peers}` (podSelector, namespaceSelector \
                         or ipBlock), or remove the rule"
                    ))
                    .kubeaudit(code)
                    .build();
                candidates.push(f);
            }
        }
        if candidates.is_empty() {
            return;
        }
        let namespace = object.namespace().map(str::to_owned);
        cx.defer(candidates, move |estate, mut candidates| {
            // kubeaudit reports these only through a Namespace object of the input.
            if !estate.has_namespace(namespace.as_deref()) {
                for f in &mut candidates {
                    f.kubeaudit_code = None;
                }
            }
            candidates
        });
    }
}
