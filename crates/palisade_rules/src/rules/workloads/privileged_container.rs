use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags containers that set `securityContext.privileged: true`.
    ///
    /// ## Why is this bad?
    /// A privileged container has every Linux capability, sees every device of the host and
    /// runs without seccomp or AppArmor confinement: one compromised process owns the node
    /// and, through the kubelet's credentials, often the cluster. The Pod Security Standards
    /// forbid it from the baseline level up.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     securityContext:
    ///       privileged: true
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     securityContext:
    ///       privileged: false
    ///       capabilities:
    ///         drop: [ALL]
    ///         add: [NET_ADMIN]   # only the capability the workload needs
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, baseline: Privileged Containers
    /// - CIS Kubernetes Benchmark 5.2.2
    /// - kubeaudit `privileged` (`PrivilegedTrue`), override `allow-privileged`
    pub PrivilegedContainer {
        code: "WKL001",
        name: "privileged-container",
        section: Workloads,
        severity: Critical,
        summary: "Container runs privileged",
        kubeaudit: Some("privileged"),
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for PrivilegedContainer {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        for c in &pod.containers {
            let allow = KubeauditOverride::container("allow-privileged", c);
            let Some(field) = pod.container_security(c, &["privileged"]) else {
                continue;
            };
            match cx.doc().bool(field.node) {
                Some(true) => {
                    let route = field.path.as_str().to_owned();
                    cx.report(field.node, field.path)
                        .container(c)
                        .message(format!(
                            "{} runs privileged: it holds every capability and every host device",
                            c.describe()
                        ))
                        .remediation(
                            "set `securityContext.privileged: false` and add only the \
                             capabilities the container needs",
                        )
                        .kubeaudit("PrivilegedTrue")
                        .pss(PssLevel::Baseline, "Privileged Containers")
                        .fix(Fix::unsafe_(
                            "set `securityContext.privileged: false`",
                            "the container loses host devices and capabilities it may use",
                            vec![Op::set(&route, false)],
                        ))
                        .kubeaudit_override(allow);
                }
                Some(false) => cx.override_checked(&allow),
                None => {}
            }
        }
    }
}
