use super::host_access::{HostNamespace, check_host_namespace};
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags pods that set `spec.hostPID: true`.
    ///
    /// ## Why is this bad?
    /// A pod in the host's PID namespace sees every process of the node, reads their
    /// environment and command lines (where secrets often are), can signal them and, running
    /// as root, can enter their namespaces through `/proc/<pid>/root` or `nsenter`: a short
    /// path to the node. The Pod Security Standards forbid it from the baseline level up.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   hostPID: true
    ///   containers:
    ///     - name: app
    ///       image: registry.example.com/app:1.0
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// spec:
    ///   shareProcessNamespace: true   # only when the pod's own containers must see each other
    ///   containers:
    ///     - name: app
    ///       image: registry.example.com/app:1.0
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, baseline: Host Namespaces
    /// - CIS Kubernetes Benchmark 5.2.3
    /// - kubeaudit `hostns` (`NamespaceHostPIDTrue`), override `allow-namespace-host-PID`
    ///   (pod level only)
    pub HostPid {
        code: "WKL010",
        name: "host-pid",
        section: Workloads,
        severity: High,
        summary: "Pod shares the node's process ID namespace",
        kubeaudit: Some("hostns"),
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for HostPid {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        check_host_namespace(
            cx,
            &HostNamespace {
                field: "hostPID",
                kubeaudit: "NamespaceHostPIDTrue",
                override_id: "allow-namespace-host-PID",
                message: "the pod uses the node's process ID namespace: it sees and can signal \
                          every process of the node",
                remediation: "remove `hostPID: true`; use `shareProcessNamespace: true` if only \
                              the pod's own containers need to see each other",
            },
        );
    }
}
