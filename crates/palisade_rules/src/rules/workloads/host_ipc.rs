use super::host_access::{HostNamespace, check_host_namespace};
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags pods that set `spec.hostIPC: true`.
    ///
    /// ## Why is this bad?
    /// A pod in the host's IPC namespace shares System V shared memory, semaphores and message
    /// queues (and POSIX message queues) with every process of the node: it can read or
    /// corrupt the shared memory of other workloads and of node daemons. The Pod Security
    /// Standards forbid it from the baseline level up.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   hostIPC: true
    ///   containers:
    ///     - name: app
    ///       image: registry.example.com/app:1.0
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// spec:
    ///   containers:
    ///     - name: app
    ///       image: registry.example.com/app:1.0
    ///       volumeMounts:
    ///         - name: shm           # shared memory between the pod's own containers
    ///           mountPath: /dev/shm
    ///   volumes:
    ///     - name: shm
    ///       emptyDir:
    ///         medium: Memory
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, baseline: Host Namespaces
    /// - CIS Kubernetes Benchmark 5.2.4
    /// - kubeaudit `hostns` (`NamespaceHostIPCTrue`), override `allow-namespace-host-IPC`
    ///   (pod level only)
    pub HostIpc {
        code: "WKL011",
        name: "host-ipc",
        section: Workloads,
        severity: High,
        summary: "Pod shares the node's IPC namespace",
        kubeaudit: Some("hostns"),
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for HostIpc {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        check_host_namespace(
            cx,
            &HostNamespace {
                field: "hostIPC",
                kubeaudit: "NamespaceHostIPCTrue",
                override_id: "allow-namespace-host-IPC",
                message: "the pod uses the node's IPC namespace: it shares memory segments and \
                          message queues with every process of the node",
                remediation: "remove `hostIPC: true`; share memory between the pod's own \
                              containers with an `emptyDir` volume of medium `Memory`",
            },
        );
    }
}
