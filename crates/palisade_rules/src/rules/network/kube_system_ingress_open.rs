use super::reach::cite;
use crate::inventory::{PodSelection, PolicyFlavor};
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Checks that ingress into `kube-system` is limited to cluster DNS: port 53 (UDP and
    /// TCP) on the pods labelled `k8s-app: kube-dns`.
    ///
    /// - A `networking.k8s.io/v1` NetworkPolicy in `kube-system` that isolates pods for
    ///   ingress is reported for each ingress rule that admits traffic to pods the policy
    ///   does not limit to `k8s-app: kube-dns`, or to ports other than 53 (a rule without
    ///   `ports` admits every port).
    /// - When the input has workloads in `kube-system` and no policy (Kubernetes, Cilium or
    ///   Calico) isolates every pod of the namespace for ingress, the first of those
    ///   workloads is reported once, citing the others.
    ///
    /// Components that must accept other traffic (metrics-server from the API server,
    /// webhooks) deserve a policy of their own whose finding is suppressed with the reason.
    ///
    /// ## Why is this bad?
    /// kube-system runs the most privileged pods of the cluster (CNI, kube-proxy, cloud
    /// controllers, CSI drivers) whose service accounts can often read every secret. Every
    /// port they expose to the pod network is a path to cluster takeover from any
    /// compromised pod; only DNS has to be reachable by everyone.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata:
    ///   name: allow-all
    ///   namespace: kube-system
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
    ///     matchLabels: {k8s-app: kube-dns}
    ///   policyTypes: [Ingress]
    ///   ingress:
    ///     - ports:
    ///         - {port: 53, protocol: UDP}
    ///         - {port: 53, protocol: TCP}
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/concepts/services-networking/network-policies/
    /// - https://kubernetes.io/docs/tasks/administer-cluster/dns-custom-nameservers/
    pub KubeSystemIngressOpen {
        code: "NET009",
        name: "kube-system-ingress-open",
        section: Network,
        severity: High,
        summary: "kube-system accepts ingress beyond DNS to kube-dns",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

const NS: &str = "kube-system";

impl Rule for KubeSystemIngressOpen {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        crate::inventory::collect(cx);
        let object = cx.object;
        if object.namespace() != Some(NS) {
            return;
        }
        if cx.pod.is_some() {
            if super::reach::judged_pod(cx).is_some() {
                defer_absence(cx);
            }
            return;
        }
        if object.kind != "NetworkPolicy" || object.api_version != "networking.k8s.io/v1" {
            return;
        }
        let Some(fact) = cx
            .estate
            .inventory
            .policies
            .iter()
            .find(|p| p.flavor == PolicyFlavor::Kubernetes)
            .cloned()
        else {
            return;
        };
        if !fact.isolates_ingress {
            return;
        }
        let dns_only = match &fact.selector {
            PodSelection::Labels(s) => {
                s.match_labels
                    .iter()
                    .any(|(k, v)| k == "k8s-app" && v == "kube-dns")
                    || s.expressions.iter().any(|r| {
                        r.key == "k8s-app"
                            && r.operator == "In"
                            && r.values.iter().all(|v| v == "kube-dns")
                    })
            }
            _ => false,
        };
        let doc = cx.doc();
        let Some(list) = object.get(&["spec", "ingress"]) else {
            return;
        };
        let name = fact.name.clone();
        for (i, (&node, rule)) in doc.items(list).iter().zip(&fact.ingress).enumerate() {
            let path = object.path(&["spec", "ingress"]).index(i);
            if !dns_only {
                cx.report(node, path)
                    .message(format!(
                        "NetworkPolicy `{name}` admits ingress to kube-system pods other than \
                         kube-dns: its podSelector does not require `k8s-app: kube-dns`"
                    ))
                    .remediation(
                        "limit the policy to `podSelector: {matchLabels: {k8s-app: kube-dns}}` \
                         and port 53; give components that need other traffic their own \
                         narrow policy",
                    );
                continue;
            }
            let dns_port = |p: &crate::inventory::PortSpec| {
                matches!(p.port, Some(crate::inventory::PortValue::Number(53)))
                    && p.end_port.is_none_or(|e| e == 53)
                    || matches!(&p.port, Some(crate::inventory::PortValue::Named(n))
                        if n == "dns" || n == "dns-tcp")
            };
            if rule.ports.is_empty() || !rule.ports.iter().all(dns_port) {
                let bad = rule.ports.iter().position(|p| !dns_port(p));
                let (at, at_path) = match (doc.get(node, "ports"), bad) {
                    (Some(p), Some(j)) if j < doc.items(p).len() => {
                        (doc.items(p)[j], path.key("ports").index(j))
                    }
                    _ => (node, path),
                };
                cx.report(at, at_path)
                    .message(format!(
                        "NetworkPolicy `{name}` admits ingress to kube-dns on ports other than \
                         53"
                    ))
                    .remediation("list only `port: 53` with protocols UDP and TCP");
            }
        }
    }
}

/// Reports, once, kube-system workloads that no policy isolates for ingress.
fn defer_absence(cx: &mut Checker<'_, '_>) {
    let object = cx.object;
    let (node, path) = match object.get(&["metadata", "namespace"]) {
        Some(n) => (n, object.path(&["metadata", "namespace"])),
        None => return,
    };
    let me = super::reach::subject(cx);
    let candidate = cx
        .report(node, path)
        .message(
            "no network policy isolates the pods of namespace `kube-system` for ingress: \
             every pod of the cluster can connect to every port of its system components",
        )
        .remediation(
            "add a NetworkPolicy in kube-system with `podSelector: {}` and `policyTypes: \
             [Ingress]`, and one that admits port 53 UDP/TCP to `k8s-app: kube-dns`",
        )
        .build();
    cx.defer(vec![candidate], move |estate, mut candidates| {
        let inv = &estate.inventory;
        let dir = me.dir();
        if inv
            .workloads_in(Some(NS), dir)
            .next()
            .is_none_or(|w| !me.same_place(w))
        {
            return Vec::new();
        }
        if inv
            .policies_in(Some(NS), dir)
            .iter()
            .any(|p| p.selector.is_all() && p.isolates_ingress)
        {
            return Vec::new();
        }
        let Some(mut f) = candidates.pop() else {
            return Vec::new();
        };
        for w in inv.workloads_in(Some(NS), dir).skip(1).take(5) {
            f.related.push(cite(
                &w.loc(),
                format!("{} is also in kube-system", w.resource),
            ));
        }
        vec![f]
    });
}
