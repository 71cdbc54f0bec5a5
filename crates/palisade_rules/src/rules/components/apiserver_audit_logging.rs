use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Reads the `kube-apiserver` static pods in `kube-system` and reports:
    ///
    /// - neither `--audit-log-path` nor `--audit-webhook-config-file` (`medium`): no audit trail;
    /// - no `--audit-policy-file` (`medium`): without a policy nothing is audited, whatever the
    ///   backend;
    /// - a log file without `--audit-log-maxage`, `--audit-log-maxbackup` or `--audit-log-maxsize`
    ///   (`low`): the trail is lost or fills the disk.
    ///
    /// ## Why is this bad?
    /// The audit log is the only record of who did what through the API: without it an intrusion
    /// cannot be traced, and the checklist requires it.
    ///
    /// ## Example
    /// ```yaml
    /// - --audit-log-path=/var/log/kubernetes/audit.log
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// - --audit-policy-file=/etc/kubernetes/audit-policy.yaml
    /// - --audit-log-path=/var/log/kubernetes/audit.log
    /// - --audit-log-maxage=30
    /// - --audit-log-maxbackup=10
    /// - --audit-log-maxsize=100
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/tasks/debug/debug-cluster/audit/
    /// - CIS Kubernetes Benchmark 1.2.16-1.2.19
    pub ApiserverAuditLogging {
        code: "CMP025",
        name: "apiserver-audit-logging",
        section: Components,
        severity: Medium,
        summary: "kube-apiserver keeps no audit log, or has no audit policy",
        kubeaudit: None,
        status: Preview { since: "0.1.0" },
        default_enabled: true,
        input: Cluster,
    }
}

impl Rule for ApiserverAuditLogging {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    /// Found by `palisade cluster` (crate `palisade_cluster`), not in objects.
    fn check(&self, _cx: &mut Checker<'_, '_>) {}
}
