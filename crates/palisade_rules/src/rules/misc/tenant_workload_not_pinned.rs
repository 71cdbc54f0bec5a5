use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// For workloads whose pod template carries the tenant label (`tenant`, or the label
    /// given with `--tenant-label`), checks that the pods are pinned to that tenant's nodes:
    /// a `nodeSelector` on the tenant label with the same value, or a required node affinity
    /// whose every term requires the tenant label `In` exactly that value. A toleration for
    /// the tenant's taint lets pods onto the tenant's nodes but does not keep them there, so
    /// it is not enough on its own; the message says so when it is the only thing present.
    /// Pods pinned to another tenant's nodes are reported too.
    ///
    /// ## Why is this bad?
    /// Containers share the node's kernel: a container escape, a noisy neighbour or a
    /// hostPath mistake on a shared node crosses tenant boundaries. A node pool per tenant
    /// (tainted, and selected by the tenant's pods) keeps one tenant's compromise on its own
    /// machines.
    ///
    /// ## Example
    /// ```yaml
    /// template:
    ///   metadata:
    ///     labels: {app: api, tenant: acme}
    ///   spec:
    ///     containers: [...]
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// template:
    ///   metadata:
    ///     labels: {app: api, tenant: acme}
    ///   spec:
    ///     nodeSelector: {tenant: acme}
    ///     tolerations:
    ///       - {key: tenant, operator: Equal, value: acme, effect: NoSchedule}
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/concepts/security/multi-tenancy/#node-isolation
    pub TenantWorkloadNotPinned {
        code: "MSC007",
        name: "tenant-workload-not-pinned",
        section: Misc,
        severity: Medium,
        summary: "Tenant workload is not pinned to its tenant's nodes",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for TenantWorkloadNotPinned {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else {
            return;
        };
        let key = cx.settings.tenant_label.as_str();
        let Some(label) = pod.pod_labels().into_iter().rev().find(|e| e.key == key) else {
            return;
        };
        let Some(tenant) = label.value.filter(|v| !v.is_empty()) else {
            return;
        };
        let doc = cx.doc();
        let selected = pod
            .field(&["nodeSelector", key])
            .map(|(n, _)| doc.text_of(n).unwrap_or(""));
        let terms: Vec<NodeId> = pod
            .field(&[
                "affinity",
                "nodeAffinity",
                "requiredDuringSchedulingIgnoredDuringExecution",
                "nodeSelectorTerms",
            ])
            .map(|(n, _)| doc.items(n).to_vec())
            .unwrap_or_default();
        let term_values = |term: NodeId| -> Option<Vec<&str>> {
            let exprs = doc.get(term, "matchExpressions")?;
            doc.items(exprs).iter().find_map(|&e| {
                let text = |f: &str| doc.get(e, f).and_then(|n| doc.text_of(n));
                (text("key") == Some(key) && text("operator") == Some("In")).then(|| {
                    doc.get(e, "values").map_or_else(Vec::new, |v| {
                        doc.items(v)
                            .iter()
                            .filter_map(|&n| doc.text_of(n))
                            .collect()
                    })
                })
            })
        };
        let affinity: Option<Vec<Vec<&str>>> = if terms.is_empty() {
            None
        } else {
            terms.iter().map(|&t| term_values(t)).collect()
        };
        let pinned_by_affinity = affinity
            .as_ref()
            .is_some_and(|all| all.iter().all(|v| v == &[tenant]));
        if selected == Some(tenant) || pinned_by_affinity {
            return;
        }
        let other = match (selected, &affinity) {
            (Some(v), _) => Some(v.to_owned()),
            (None, Some(all)) => all
                .iter()
                .flatten()
                .find(|v| **v != tenant)
                .map(|v| (*v).to_owned()),
            _ => None,
        };
        let tolerates = pod.field(&["tolerations"]).is_some_and(|(n, _)| {
            doc.items(n)
                .iter()
                .any(|&t| doc.get(t, "key").and_then(|k| doc.text_of(k)) == Some(key))
        });
        let who = format!(
            "{} `{}`",
            cx.object.kind,
            cx.object.name().unwrap_or("(unnamed)")
        );
        let message = match other {
            Some(o) => format!(
                "{who} belongs to tenant `{tenant}` but is pinned to the nodes of `{key}={o}`"
            ),
            None if tolerates => format!(
                "{who} belongs to tenant `{tenant}` and tolerates the tenant taint, but no \
                 nodeSelector or required node affinity keeps it on `{key}={tenant}` nodes"
            ),
            None => format!(
                "{who} belongs to tenant `{tenant}` but may run on any node: no nodeSelector \
                 or required node affinity on `{key}`"
            ),
        };
        let path = pod.metadata_path.keys(&["labels", key]);
        cx.report(label.value_node, path)
            .message(message)
            .remediation(format!(
                "add `nodeSelector: {{{key}: {tenant}}}` (and a toleration for the tenant's \
                 taint) to the pod spec"
            ));
    }
}
