use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags Windows HostProcess pods and containers: `securityContext.windowsOptions.
    /// hostProcess: true` in the pod's securityContext or in a container's. The finding is
    /// reported where the field is set: once for the pod, or once per container that sets it.
    ///
    /// ## Why is this bad?
    /// A HostProcess container runs directly on the Windows node, outside any container
    /// isolation, with the node's network and file system and, usually, as `SYSTEM` or
    /// another privileged node account. It is the Windows counterpart of a privileged
    /// container on the host namespaces, and the Pod Security Standards forbid it from the
    /// baseline level up.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     windowsOptions:
    ///       hostProcess: true
    ///       runAsUserName: "NT AUTHORITY\\SYSTEM"
    ///   hostNetwork: true
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     windowsOptions:
    ///       runAsUserName: ContainerUser
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, baseline: HostProcess
    /// - CIS Kubernetes Benchmark 5.2.11
    pub HostProcess {
        code: "WKL016",
        name: "host-process",
        section: Workloads,
        severity: Critical,
        summary: "Windows pod or container runs as a HostProcess on the node",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

const HOST_PROCESS: &[&str] = &["windowsOptions", "hostProcess"];

impl Rule for HostProcess {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        let doc = cx.doc();
        if let Some(field) = pod.pod_security(HOST_PROCESS)
            && doc.bool(field.node) == Some(true)
        {
            cx.report(field.node, field.path)
                .message(
                    "the pod runs its containers as Windows HostProcess containers, directly on \
                     the node without isolation",
                )
                .remediation(
                    "remove `windowsOptions.hostProcess: true` and run the workload in an \
                     ordinary Windows container",
                )
                .pss(PssLevel::Baseline, "HostProcess");
        }
        for c in &pod.containers {
            let Some(field) = pod.container_security(c, HOST_PROCESS) else {
                continue;
            };
            if doc.bool(field.node) != Some(true) {
                continue;
            }
            cx.report(field.node, field.path)
                .container(c)
                .message(format!(
                    "{} runs as a Windows HostProcess container, directly on the node without \
                     isolation",
                    c.describe()
                ))
                .remediation(
                    "remove `windowsOptions.hostProcess: true` and run the workload in an \
                     ordinary Windows container",
                )
                .pss(PssLevel::Baseline, "HostProcess");
        }
    }
}
