use super::pod_fields::{Amount, container_nearest, has_resources, resource_path, resource_value};
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags containers and init containers that request no CPU or no memory (or request
    /// zero). The API server copies a limit into a missing request, so a container with a
    /// limit for a resource has a request for it too; and pod-level requests or limits
    /// (`spec.resources`, Kubernetes 1.32 and later) cover every container of the pod.
    /// A request that is not a valid quantity is reported as invalid: the API server rejects
    /// it. Ephemeral containers cannot set resources and are skipped.
    ///
    /// ## Why is this bad?
    /// The scheduler places pods by their requests. A container that requests nothing is
    /// placed as if it needed nothing: nodes get overcommitted, and under pressure the
    /// kubelet evicts such pods first (their QoS class is BestEffort or Burstable). Capacity
    /// planning and autoscaling, which also read requests, see nothing either.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     resources: {}
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     resources:
    ///       requests:
    ///         cpu: 100m
    ///         memory: 128Mi
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
    /// - https://kubernetes.io/docs/concepts/workloads/pods/pod-qos/
    pub ResourceRequestsMissing {
        code: "WKL031",
        name: "resource-requests-missing",
        section: Workloads,
        severity: Low,
        summary: "Container requests no CPU or no memory",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for ResourceRequestsMissing {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        let Some(spec) = pod.node else { return };
        let doc = cx.doc();
        // A value that is set (even if invalid, which is reported where it is) and not zero.
        let set = |owner: NodeId, list: &str, resource: &str| {
            resource_value(doc, owner, list, resource)
                .is_some_and(|v| !matches!(v.amount, Amount::Valid(q, _) if q.is_zero()))
        };
        let pod_covers =
            |resource: &str| set(spec, "requests", resource) || set(spec, "limits", resource);
        for c in pod.containers.iter().filter(|c| has_resources(c)) {
            let mut missing: Vec<&str> = Vec::new();
            for resource in ["cpu", "memory"] {
                let request = resource_value(doc, c.node, "requests", resource);
                if let Some(v) = &request
                    && let Amount::Invalid(text) = v.amount
                {
                    cx.report(v.node, resource_path(&c.path, "requests", resource))
                        .container(c)
                        .message(format!(
                            "{} has a {} request `{text}` that is not a valid \
                             quantity: the API server rejects it",
                            c.describe(),
                            if resource == "cpu" { "CPU" } else { "memory" }
                        ))
                        .remediation(format!(
                            "write `resources.requests.{resource}` as a quantity such as {}",
                            if resource == "cpu" {
                                "`100m`"
                            } else {
                                "`128Mi`"
                            }
                        ));
                    continue;
                }
                let requested = request
                    .is_some_and(|v| !matches!(v.amount, Amount::Valid(q, _) if q.is_zero()));
                if !requested && !set(c.node, "limits", resource) && !pod_covers(resource) {
                    missing.push(resource);
                }
            }
            let (what, keys): (&str, &[&str]) = match missing.as_slice() {
                [] => continue,
                ["cpu"] => ("CPU", &["resources", "requests", "cpu"]),
                ["memory"] => ("memory", &["resources", "requests", "memory"]),
                _ => ("CPU or memory", &["resources", "requests"]),
            };
            let defaults = &cx.settings.default_resources;
            let values: serde_json::Map<String, serde_json::Value> = missing
                .iter()
                .filter_map(|&r| {
                    let d = if r == "cpu" {
                        defaults.cpu_request.as_deref()
                    } else {
                        defaults.memory_request.as_deref()
                    }?;
                    Some((r.to_owned(), serde_json::Value::from(d)))
                })
                .collect();
            let fix = (!values.is_empty()).then(|| {
                let what = values
                    .iter()
                    .map(|(k, v)| format!("`{k}: {}`", v.as_str().unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join(" and ");
                Fix::unsafe_(
                    format!("set the configured default requests {what}"),
                    "the scheduler reserves that much for the container: it may no longer fit \
                     on the nodes it ran on",
                    vec![Op::set(
                        c.path.keys(&["resources", "requests"]).as_str(),
                        serde_json::Value::Object(values),
                    )],
                )
            });
            let (node, path, rest) = container_nearest(pod, c, keys);
            cx.report(node, path)
                .fix_opt(fix)
                .missing(rest)
                .container(c)
                .message(format!(
                    "{} requests no {what}: the scheduler places it as if it needed none, and \
                     the kubelet evicts it early under pressure",
                    c.describe()
                ))
                .remediation(format!(
                    "set `resources.requests.{}` to what the container uses normally",
                    missing.join("` and `resources.requests.")
                ));
        }
    }
}
