use super::pod_fields::{
    Amount, format_cpu, format_memory, has_resources, resource_path, resource_value, whole_bytes,
};
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags containers and init containers whose CPU or memory limit is above the
    /// configured maximum (`max_cpu`, `max_memory`). CPU is compared in millicores and memory
    /// in whole bytes, both rounded up. Without a configured maximum the rule reports
    /// nothing. Limits that are not valid quantities are left to `resource-limits-missing`.
    ///
    /// ## Why is this bad?
    /// A limit above what any node of the cluster can offer makes the container
    /// unschedulable or, with overcommit, lets one workload claim a node's worth of memory
    /// before the OOM killer steps in. A cluster-wide ceiling catches the typo (`16Gi` for
    /// `1.6Gi`, `4000` cores for `4000m`) before it reaches the scheduler.
    ///
    /// ## Example
    /// ```yaml
    /// # max_cpu: 2, max_memory: 4Gi
    /// resources:
    ///   limits:
    ///     cpu: "8"
    ///     memory: 32Gi
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// resources:
    ///   limits:
    ///     cpu: "2"
    ///     memory: 4Gi
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/concepts/policy/limit-range/
    /// - kubeaudit `limits` (`LimitsCPUExceeded`, `LimitsMemoryExceeded`) with its `cpu` and
    ///   `memory` settings, no override
    pub ResourceLimitsExceeded {
        code: "WKL030",
        name: "resource-limits-exceeded",
        section: Workloads,
        severity: Low,
        summary: "Container limit is above the configured maximum",
        kubeaudit: Some("limits"),
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for ResourceLimitsExceeded {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        let max_cpu = cx.settings.max_cpu.filter(|q| q.millis() > 0);
        let max_memory = cx.settings.max_memory.filter(|&q| whole_bytes(q) > 0);
        if max_cpu.is_none() && max_memory.is_none() {
            return;
        }
        let doc = cx.doc();
        for c in pod.containers.iter().filter(|c| has_resources(c)) {
            if let Some(max) = max_cpu
                && let Some(v) = resource_value(doc, c.node, "limits", "cpu")
                && let Amount::Valid(q, text) = v.amount
                && q.millis() > max.millis()
            {
                cx.report(v.node, resource_path(&c.path, "limits", "cpu"))
                    .container(c)
                    .message(format!(
                        "{} has a CPU limit of `{text}`, above the maximum of `{}`",
                        c.describe(),
                        format_cpu(max)
                    ))
                    .remediation(format!(
                        "lower `resources.limits.cpu` to `{}` or less",
                        format_cpu(max)
                    ))
                    .kubeaudit("LimitsCPUExceeded");
            }
            if let Some(max) = max_memory
                && let Some(v) = resource_value(doc, c.node, "limits", "memory")
                && let Amount::Valid(q, text) = v.amount
                && whole_bytes(q) > whole_bytes(max)
            {
                cx.report(v.node, resource_path(&c.path, "limits", "memory"))
                    .container(c)
                    .message(format!(
                        "{} has a memory limit of `{text}`, above the maximum of `{}`",
                        c.describe(),
                        format_memory(max)
                    ))
                    .remediation(format!(
                        "lower `resources.limits.memory` to `{}` or less",
                        format_memory(max)
                    ))
                    .kubeaudit("LimitsMemoryExceeded");
            }
        }
    }
}
