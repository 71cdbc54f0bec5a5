use crate::prelude::*;
use crate::rules::network::reach::{cite, judged_pod, subject};

declare_rule! {
    /// ## What it does
    /// Flags namespaces whose workloads belong to several tenants: their pod templates carry
    /// different values of the tenant label (`tenant`, or the label given with
    /// `--tenant-label`). Reported once per namespace, on the first workload of the
    /// namespace in the input that has the label, citing a workload of each other tenant.
    ///
    /// ## Why is this bad?
    /// The namespace is the boundary of RBAC, network policies, quotas and Pod Security:
    /// tenants that share one share all of them, so a Role or a policy written for one
    /// tenant applies to the other.
    ///
    /// ## Example
    /// ```yaml
    /// # namespace `shared`: Deployment api with `tenant: acme`, Deployment web with
    /// # `tenant: globex`
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// # one namespace per tenant: `acme` and `globex`
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/concepts/security/multi-tenancy/#namespaces
    pub MixedTenantNamespace {
        code: "MSC006",
        name: "mixed-tenant-namespace",
        section: Misc,
        severity: Medium,
        summary: "Namespace holds the workloads of several tenants",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for MixedTenantNamespace {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        crate::inventory::collect(cx);
        let Some(pod) = judged_pod(cx) else {
            return;
        };
        let key = cx.settings.tenant_label.clone();
        let Some(label) = pod.pod_labels().into_iter().rev().find(|e| e.key == key) else {
            return;
        };
        let object = cx.object;
        let Some(ns_node) = object.get(&["metadata", "namespace"]) else {
            return;
        };
        let namespace = object.namespace().unwrap_or("").to_owned();
        let tenant = label.value.unwrap_or("").to_owned();
        let me = subject(cx);
        let candidate = cx
            .report(ns_node, object.path(&["metadata", "namespace"]))
            .remediation(format!(
                "give each tenant its own namespace (and label it `{key}: <tenant>`)"
            ))
            .build();
        cx.defer(vec![candidate], move |estate, mut candidates| {
            let tenant_of = |w: &crate::inventory::WorkloadFact| {
                w.labels
                    .iter()
                    .rev()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| v.clone())
            };
            let mut labelled = estate
                .inventory
                .workloads_in(Some(&namespace), me.dir())
                .filter_map(|w| tenant_of(w).map(|t| (w, t)));
            // Report once, on the first labelled workload (checked first: it is cheap).
            let Some((first, _)) = labelled.next() else {
                return Vec::new();
            };
            if !me.same_place(first) {
                return Vec::new();
            }
            let mut others: Vec<(&crate::inventory::WorkloadFact, String)> = Vec::new();
            for (w, t) in labelled {
                if t != tenant && !others.iter().any(|(_, o)| *o == t) {
                    others.push((w, t));
                }
            }
            if others.is_empty() {
                return Vec::new();
            }
            let Some(mut f) = candidates.pop() else {
                return Vec::new();
            };
            let mut names: Vec<String> = vec![format!("`{tenant}`")];
            names.extend(others.iter().map(|(_, t)| format!("`{t}`")));
            f.message = format!(
                "namespace `{namespace}` holds the workloads of {} tenants ({}): they share its \
                 RBAC, network policies, quotas and Pod Security level",
                names.len(),
                names.join(", ")
            );
            for (w, t) in others {
                f.related.push(cite(
                    &w.loc(),
                    format!("{} belongs to tenant `{t}`", w.resource),
                ));
            }
            vec![f]
        });
    }
}
