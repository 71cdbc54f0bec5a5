use super::pod_fields::{
    Amount, container_nearest, has_resource_list, has_resources, resource_path, resource_value,
};
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags containers and init containers without a CPU or a memory limit: no
    /// `resources.limits` at all, no `cpu` or `memory` in it, or a limit of zero (which means
    /// no limit). A limit that is not a valid quantity is reported as invalid: the API server
    /// rejects it. Ephemeral containers cannot set resources and are skipped.
    ///
    /// Pod-level limits (`spec.resources.limits`, Kubernetes 1.32 and later) bound every
    /// container of the pod, so a container without its own limit passes when the pod sets
    /// one for that resource.
    ///
    /// ## Why is this bad?
    /// A container without a memory limit can take all the memory of its node; the kernel's
    /// OOM killer then picks victims among the other pods of the node. A container without a
    /// CPU limit can starve its neighbours of CPU beyond their requests. A memory leak or a
    /// fork bomb in one workload becomes an outage of every workload scheduled beside it.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     resources:
    ///       requests:
    ///         cpu: 100m
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
    ///       limits:
    ///         cpu: 500m
    ///         memory: 128Mi
    /// ```
    ///
    /// ## References
    /// - Checklist: CPU/RAM limits on every container
    /// - CIS Kubernetes Benchmark 5.7 (resource management)
    /// - https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
    /// - kubeaudit `limits` (`LimitsNotSet`, `LimitsCPUNotSet`, `LimitsMemoryNotSet`), no
    ///   override. Deviation: kubeaudit predates pod-level resources and ignores them.
    pub ResourceLimitsMissing {
        code: "WKL029",
        name: "resource-limits-missing",
        section: Workloads,
        severity: Medium,
        summary: "Container has no CPU or memory limit",
        kubeaudit: Some("limits"),
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for ResourceLimitsMissing {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        let Some(spec) = pod.node else { return };
        let doc = cx.doc();
        let pod_list = has_resource_list(doc, spec, "limits");
        let pod_limit = |resource: &str| {
            resource_value(doc, spec, "limits", resource)
                .is_some_and(|v| matches!(v.amount, Amount::Valid(q, _) if !q.is_zero()))
        };
        let pod_cpu = pod_list && pod_limit("cpu");
        let pod_memory = pod_list && pod_limit("memory");
        let defaults = &cx.settings.default_resources;
        let default_of = |resource: &str| {
            if resource == "cpu" {
                defaults.cpu_limit.clone()
            } else {
                defaults.memory_limit.clone()
            }
        };
        let limit_fix = |c: &Container<'_>, values: Vec<(&str, String)>| {
            (!values.is_empty()).then(|| {
                let map: serde_json::Map<String, serde_json::Value> = values
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(v.as_str())))
                    .collect();
                let what = values
                    .iter()
                    .map(|(k, v)| format!("`{k}: {v}`"))
                    .collect::<Vec<_>>()
                    .join(" and ");
                Fix::unsafe_(
                    format!("set the configured default limits {what}"),
                    "a container that needs more is throttled or killed when out of memory",
                    vec![Op::set(
                        c.path.keys(&["resources", "limits"]).as_str(),
                        serde_json::Value::Object(map),
                    )],
                )
            })
        };
        for c in pod.containers.iter().filter(|c| has_resources(c)) {
            if !pod_list && !has_resource_list(doc, c.node, "limits") {
                let values: Vec<(&str, String)> = ["cpu", "memory"]
                    .into_iter()
                    .filter_map(|r| Some((r, default_of(r)?)))
                    .collect();
                let fix = limit_fix(c, values);
                let (node, path, missing) = container_nearest(pod, c, &["resources", "limits"]);
                cx.report(node, path)
                    .missing(missing)
                    .container(c)
                    .message(format!(
                        "{} sets no resource limits: it may take all the CPU and memory of \
                         its node",
                        c.describe()
                    ))
                    .remediation(
                        "set `resources.limits.cpu` and `resources.limits.memory` to what the \
                         container needs at its peak",
                    )
                    .kubeaudit("LimitsNotSet")
                    .fix_opt(fix);
                continue;
            }
            for (resource, label, covered, code, consequence) in [
                (
                    "cpu",
                    "CPU",
                    pod_cpu,
                    "LimitsCPUNotSet",
                    "it may starve the other pods of its node of CPU",
                ),
                (
                    "memory",
                    "memory",
                    pod_memory,
                    "LimitsMemoryNotSet",
                    "it may take all the memory of its node, and the OOM killer then picks \
                     victims among its neighbours",
                ),
            ] {
                match resource_value(doc, c.node, "limits", resource) {
                    Some(v) => match v.amount {
                        Amount::Valid(q, _) if !q.is_zero() || covered => {}
                        Amount::Valid(_, text) => {
                            let fix = limit_fix(
                                c,
                                default_of(resource)
                                    .map(|d| (resource, d))
                                    .into_iter()
                                    .collect(),
                            );
                            cx.report(v.node, resource_path(&c.path, "limits", resource))
                                .fix_opt(fix)
                                .container(c)
                                .message(format!(
                                    "{} sets a {label} limit of `{text}`, which means no \
                                     limit: {consequence}",
                                    c.describe()
                                ))
                                .remediation(format!(
                                    "set `resources.limits.{resource}` to what the container \
                                     needs at its peak"
                                ))
                                .kubeaudit(code);
                        }
                        Amount::Invalid(text) => {
                            cx.report(v.node, resource_path(&c.path, "limits", resource))
                                .container(c)
                                .message(format!(
                                    "{} has a {label} limit `{text}` that is not a valid \
                                     quantity: the API server rejects it",
                                    c.describe()
                                ))
                                .remediation(format!(
                                    "write `resources.limits.{resource}` as a quantity such \
                                     as {}",
                                    if resource == "cpu" {
                                        "`500m`"
                                    } else {
                                        "`256Mi`"
                                    }
                                ));
                        }
                    },
                    None if covered => {}
                    None => {
                        let fix = limit_fix(
                            c,
                            default_of(resource)
                                .map(|d| (resource, d))
                                .into_iter()
                                .collect(),
                        );
                        let (node, path, missing) =
                            container_nearest(pod, c, &["resources", "limits", resource]);
                        cx.report(node, path)
                            .fix_opt(fix)
                            .missing(missing)
                            .container(c)
                            .message(format!(
                                "{} sets no {label} limit: {consequence}",
                                c.describe()
                            ))
                            .remediation(format!(
                                "set `resources.limits.{resource}` to what the container \
                                 needs at its peak"
                            ))
                            .kubeaudit(code);
                    }
                }
            }
        }
    }
}
