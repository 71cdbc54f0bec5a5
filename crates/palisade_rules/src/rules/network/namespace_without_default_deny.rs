use super::reach::{cite, ns_name, subject};
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// For every namespace that has workloads in the input, checks that some network policy
    /// isolates all of its pods for ingress and for egress: a `networking.k8s.io/v1`
    /// NetworkPolicy with an empty `podSelector` whose `policyTypes` include the direction
    /// (an omitted `policyTypes` is read as the API server defaults it: `Ingress`, plus
    /// `Egress` when the policy has egress rules), a CiliumNetworkPolicy or
    /// CiliumClusterwideNetworkPolicy with an empty `endpointSelector` and an
    /// `ingress`/`egress` section (Cilium's default-deny form, unless `enableDefaultDeny`
    /// turns it off), or a Calico NetworkPolicy or GlobalNetworkPolicy selecting `all()` with
    /// the direction in `types`. Allow rules in such a policy are fine: the pods are isolated
    /// and only what is listed is allowed (`allow-all-network-policy` reports rules that allow
    /// everything).
    ///
    /// The finding is reported once per namespace, on the first workload of the namespace
    /// in the input, and cites the others. Namespaces whose `v1` Namespace object is in the
    /// input are left to `missing-default-deny-network-policy`, which reports on that object;
    /// ingress into `kube-system` is left to `kube-system-ingress-open`.
    ///
    /// ## Why is this bad?
    /// A pod that no policy isolates accepts connections from every pod of the cluster and
    /// can connect anywhere: the cloud metadata endpoint, the API server, other tenants'
    /// databases. A default-deny per namespace makes every allowed path explicit.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata:
    ///   name: web
    ///   namespace: shop
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
    /// - https://docs.cilium.io/en/stable/security/policy/language/
    /// - https://docs.tigera.io/calico/latest/network-policy/get-started/kubernetes-default-deny
    /// - CIS Kubernetes Benchmark 5.3.2 (all namespaces have NetworkPolicies defined)
    pub NamespaceWithoutDefaultDeny {
        code: "NET003",
        name: "namespace-without-default-deny",
        section: Network,
        severity: High,
        summary: "Namespace has workloads but no policy isolating all its pods",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for NamespaceWithoutDefaultDeny {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        crate::inventory::collect(cx);
        if super::reach::judged_pod(cx).is_none() {
            return;
        }
        let object = cx.object;
        let (node, path) = match object.get(&["metadata", "namespace"]) {
            Some(n) => (n, object.path(&["metadata", "namespace"])),
            None => match object.get(&["metadata", "name"]) {
                Some(n) => (n, object.path(&["metadata", "name"])),
                None => (object.node, object.path(&[])),
            },
        };
        let me = subject(cx);
        let candidate = cx.report(node, path).build();
        cx.defer(vec![candidate], move |estate, mut candidates| {
            let inv = &estate.inventory;
            let (ns, dir) = (me.namespace(), me.dir());
            if ns.is_some_and(|n| inv.namespace(n).is_some()) {
                return Vec::new();
            }
            let Some(mut f) = candidates.pop() else {
                return Vec::new();
            };
            // Report once, on the namespace's first workload (checked first: it is cheap).
            let first = inv.workloads_in(ns, dir).next();
            if first.is_none_or(|w| !me.same_place(w)) {
                return Vec::new();
            }
            let workloads: Vec<_> = inv.workloads_in(ns, dir).collect();
            let policies = inv.policies_in(ns, dir);
            let isolated = |ingress: bool| {
                policies
                    .iter()
                    .any(|p| p.selector.is_all() && p.isolates(ingress))
            };
            let kube_system = ns == Some("kube-system");
            let ingress_open = !isolated(true) && !kube_system;
            let egress_open = !isolated(false);
            let (what, types) = match (ingress_open, egress_open) {
                (true, true) => ("ingress and egress", "[Ingress, Egress]"),
                (true, false) => ("ingress", "[Ingress]"),
                (false, true) => ("egress", "[Egress]"),
                (false, false) => return Vec::new(),
            };
            let shown = ns_name(ns);
            let whose = match ns {
                Some(n) => format!("namespace `{n}` has"),
                None => "the manifests of this folder have no `metadata.namespace`; the \
                         namespace they are applied to gets"
                    .to_owned(),
            };
            f.message = format!(
                "{whose} {} workload(s) but no network policy isolates all of its pods for \
                 {what}: pods that no other policy selects are open to every connection",
                workloads.len()
            );
            f.remediation = format!(
                "add a NetworkPolicy `default-deny` in namespace `{shown}` with `podSelector: {{}}` \
                 and `policyTypes: {types}`, then allow the traffic each workload needs"
            ).into();
            for w in workloads.iter().skip(1).take(5) {
                f.related
                    .push(cite(&w.loc(), format!("{} is also in this namespace", w.resource)));
            }
            for p in policies.iter().filter(|p| !p.selector.is_all()).take(3) {
                f.related.push(cite(
                    &p.loc,
                    format!("{} selects only some pods", p.title()),
                ));
            }
            vec![f]
        });
    }
}
