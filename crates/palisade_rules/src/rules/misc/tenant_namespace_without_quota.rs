use crate::prelude::*;
use crate::rules::network::reach::current_dir;

declare_rule! {
    /// ## What it does
    /// Flags each `v1` Namespace that carries the tenant label (`tenant`, or the label given
    /// with `--tenant-label`) when the input has no ResourceQuota or no LimitRange for it
    /// (in any file; one without `metadata.namespace` counts for the Namespaces of its
    /// folder).
    ///
    /// ## Why is this bad?
    /// Without a ResourceQuota one tenant can exhaust the cluster's CPU, memory, storage or
    /// object counts and starve the others; without a LimitRange its pods run without
    /// defaults or ceilings, which the quota then cannot account for.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: v1
    /// kind: Namespace
    /// metadata:
    ///   name: acme
    ///   labels: {tenant: acme}
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// apiVersion: v1
    /// kind: ResourceQuota
    /// metadata: {name: acme, namespace: acme}
    /// spec:
    ///   hard: {requests.cpu: "20", requests.memory: 64Gi, pods: "200"}
    /// ---
    /// apiVersion: v1
    /// kind: LimitRange
    /// metadata: {name: acme, namespace: acme}
    /// spec:
    ///   limits:
    ///     - type: Container
    ///       default: {cpu: 500m, memory: 512Mi}
    ///       defaultRequest: {cpu: 100m, memory: 128Mi}
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/concepts/policy/resource-quotas/
    /// - https://kubernetes.io/docs/concepts/policy/limit-range/
    pub TenantNamespaceWithoutQuota {
        code: "MSC008",
        name: "tenant-namespace-without-quota",
        section: Misc,
        severity: Medium,
        summary: "Tenant namespace has no ResourceQuota or no LimitRange",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for TenantNamespaceWithoutQuota {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        crate::inventory::collect(cx);
        let object = cx.object;
        if object.kind != "Namespace" || object.api_version != "v1" {
            return;
        }
        let key = cx.settings.tenant_label.as_str();
        let Some(label) = object.labels().into_iter().rev().find(|e| e.key == key) else {
            return;
        };
        let Some(name) = object.name().map(str::to_owned) else {
            return;
        };
        let tenant = label.value.unwrap_or("").to_owned();
        let dir = current_dir(cx);
        let candidate = cx
            .report(label.key_node, object.path(&["metadata", "labels", key]))
            .build();
        cx.defer(vec![candidate], move |estate, mut candidates| {
            let inv = &estate.inventory;
            let quota = inv.has_namespace_policy(true, &name, &dir);
            let limits = inv.has_namespace_policy(false, &name, &dir);
            let missing = match (quota, limits) {
                (true, true) => return Vec::new(),
                (false, false) => "no ResourceQuota and no LimitRange",
                (false, true) => "no ResourceQuota",
                (true, false) => "no LimitRange",
            };
            let Some(mut f) = candidates.pop() else {
                return Vec::new();
            };
            let effect = if quota {
                "its pods get no default requests or limits"
            } else {
                "the tenant's usage has no ceiling"
            };
            f.message = format!("namespace `{name}` of tenant `{tenant}` has {missing}: {effect}");
            f.remediation = format!(
                "add {} in namespace `{name}`",
                match (quota, limits) {
                    (false, false) => "a ResourceQuota and a LimitRange",
                    (false, true) => "a ResourceQuota",
                    _ => "a LimitRange",
                }
            )
            .into();
            vec![f]
        });
    }
}
