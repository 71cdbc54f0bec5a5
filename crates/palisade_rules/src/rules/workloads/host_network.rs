use super::host_access::{HostNamespace, check_host_namespace};
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags pods that set `spec.hostNetwork: true`.
    ///
    /// ## Why is this bad?
    /// A pod on the host network shares the node's network namespace: it sees every interface
    /// of the node, can sniff its traffic, reaches services that listen on the node's
    /// loopback address (the kubelet's read-only port, local databases, cloud metadata
    /// proxies) and bypasses NetworkPolicies, which do not apply to host-network pods. The
    /// Pod Security Standards forbid it from the baseline level up.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   hostNetwork: true
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
    ///       ports:
    ///         - containerPort: 8080   # exposed through a Service
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, baseline: Host Namespaces
    /// - CIS Kubernetes Benchmark 5.2.5
    /// - kubeaudit `hostns` (`NamespaceHostNetworkTrue`), override `allow-namespace-host-network`
    ///   (pod level only)
    pub HostNetwork {
        code: "WKL009",
        name: "host-network",
        section: Workloads,
        severity: High,
        summary: "Pod shares the node's network namespace",
        kubeaudit: Some("hostns"),
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for HostNetwork {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        check_host_namespace(
            cx,
            &HostNamespace {
                field: "hostNetwork",
                kubeaudit: "NamespaceHostNetworkTrue",
                override_id: "allow-namespace-host-network",
                message: "the pod uses the node's network namespace: it sees every interface \
                          of the node and reaches services bound to its loopback address",
                remediation: "remove `hostNetwork: true` and expose the pod's ports through a \
                              Service",
            },
        );
    }
}
