use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags container ports that set a non-zero `hostPort`, in containers, init containers
    /// and ephemeral containers. There is one finding per port.
    ///
    /// ## Why is this bad?
    /// A host port binds the container to a port of the node's own addresses. Traffic to it
    /// skips the Service and NetworkPolicy layers that protect the pod network, the pod can
    /// only run once per node, and a low port lets the workload impersonate a node service.
    /// The Pod Security Standards forbid host ports from the baseline level up. Pods on the
    /// host network get host ports implicitly; [WKL009](WKL009.md) reports those.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: web
    ///     ports:
    ///       - containerPort: 8080
    ///         hostPort: 80
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// containers:
    ///   - name: web
    ///     ports:
    ///       - containerPort: 8080   # reached through a Service (NodePort or LoadBalancer if
    ///                               # it must be reachable from outside)
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, baseline: Host Ports
    /// - CIS Kubernetes Benchmark 5.2.13
    pub HostPort {
        code: "WKL015",
        name: "host-port",
        section: Workloads,
        severity: Medium,
        summary: "Container binds a port of the node",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for HostPort {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        let doc = cx.doc();
        for c in &pod.containers {
            let Some(ports) = doc.get(c.node, "ports") else {
                continue;
            };
            for (index, &port) in doc.items(ports).iter().enumerate() {
                let Some(node) = doc.get(port, "hostPort") else {
                    continue;
                };
                let Some(host_port) = doc.int(node).filter(|&p| p != 0) else {
                    continue;
                };
                let container_port = doc
                    .get(port, "containerPort")
                    .and_then(|n| doc.int(n))
                    .map(|p| format!(" (container port {p})"))
                    .unwrap_or_default();
                cx.report(node, c.path.key("ports").index(index).key("hostPort"))
                    .container(c)
                    .message(format!(
                        "{} binds port {host_port} of the node{container_port}",
                        c.describe()
                    ))
                    .remediation("remove `hostPort` and reach the container through a Service")
                    .pss(PssLevel::Baseline, "Host Ports");
            }
        }
    }
}
