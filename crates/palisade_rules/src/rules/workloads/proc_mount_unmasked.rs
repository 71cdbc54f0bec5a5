use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags containers whose `securityContext.procMount` is anything but `Default` (in
    /// practice `Unmasked`), in containers, init containers and ephemeral containers.
    ///
    /// From Kubernetes 1.35 the baseline level allows an unmasked `/proc` in a pod with its own
    /// user namespace (`spec.hostUsers: false`), while the restricted level still forbids it;
    /// such a container is reported against the restricted level, at `medium` severity.
    ///
    /// ## Why is this bad?
    /// The container runtime masks and mounts read-only the parts of `/proc` that expose the
    /// node's kernel: `/proc/kcore`, `/proc/sysrq-trigger`, `/proc/sys` and others. An
    /// unmasked `/proc` gives them back, so a process in the container can read kernel memory
    /// details, change kernel parameters or trigger SysRq actions on the node. The Pod
    /// Security Standards require the default mask from the baseline level up.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     securityContext:
    ///       procMount: Unmasked
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     securityContext:
    ///       procMount: Default   # or leave it unset
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, baseline and restricted: /proc Mount Type
    pub ProcMountUnmasked {
        code: "WKL024",
        name: "proc-mount-unmasked",
        section: Workloads,
        severity: High,
        summary: "Container runs with an unmasked /proc",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for ProcMountUnmasked {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        let doc = cx.doc();
        // Baseline relaxes the control for pods in their own user namespace from 1.35.
        let user_namespace = cx.settings.target_version >= (1, 35)
            && pod
                .field(&["hostUsers"])
                .is_some_and(|(node, _)| doc.bool(node) == Some(false));
        for c in &pod.containers {
            let Some(field) = pod.container_security(c, &["procMount"]) else {
                continue;
            };
            let Some(value) = doc.str(field.node) else {
                continue;
            };
            if value == "Default" {
                continue;
            }
            let report = cx
                .report(field.node, field.path)
                .container(c)
                .remediation("remove `procMount` or set it to `Default`");
            if user_namespace {
                report
                    .message(format!(
                        "{} mounts `/proc` with procMount `{value}`: the pod has its own user \
                         namespace, which the baseline level accepts, but the restricted level \
                         requires the default mask",
                        c.describe()
                    ))
                    .pss(PssLevel::Restricted, "/proc Mount Type")
                    .severity(Severity::Medium);
            } else {
                report
                    .message(format!(
                        "{} mounts `/proc` with procMount `{value}`: the kernel interfaces the \
                         runtime masks are exposed to it",
                        c.describe()
                    ))
                    .pss(PssLevel::Baseline, "/proc Mount Type");
            }
        }
    }
}
