use palisade_k8s::SecurityField;

use crate::ReportBuilder;
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags `securityContext.seLinuxOptions`, in the pod's securityContext or a container's,
    /// that set a `type` other than the container types the Pod Security Standards allow
    /// (`container_t`, `container_init_t`, `container_kvm_t` and, from Kubernetes 1.31,
    /// `container_engine_t`), or that set a `user` or a `role`. Each offending field is one
    /// finding, reported where it is set. `level` (the MCS categories) is allowed.
    ///
    /// ## Why is this bad?
    /// The SELinux type decides what the container's processes may touch on the node. A type
    /// such as `spc_t` (super-privileged container) or `unconfined_t` switches the
    /// confinement off, and a custom user or role can grant access the container type never
    /// has. The Pod Security Standards restrict these fields from the baseline level up.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   seLinuxOptions:
    ///     type: spc_t
    ///     user: system_u
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// securityContext:
    ///   seLinuxOptions:
    ///     level: "s0:c123,c456"   # a level of its own; leave type, user and role unset
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, baseline: SELinux
    pub SelinuxOptions {
        code: "WKL023",
        name: "selinux-options",
        section: Workloads,
        severity: High,
        summary: "Pod or container sets an SELinux type, user or role the baseline forbids",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

/// The SELinux types the baseline level allows, with the Kubernetes version from which each is
/// allowed.
const ALLOWED_TYPES: &[(&str, (u32, u32))] = &[
    ("", (1, 0)),
    ("container_t", (1, 0)),
    ("container_init_t", (1, 0)),
    ("container_kvm_t", (1, 0)),
    ("container_engine_t", (1, 31)),
];

fn type_allowed(ty: &str, version: (u32, u32)) -> bool {
    ALLOWED_TYPES
        .iter()
        .any(|&(allowed, since)| allowed == ty && version >= since)
}

/// Where the options are set: the pod, or one container.
#[derive(Clone, Copy)]
enum Owner<'a, 'd> {
    Pod,
    Container(&'a Container<'d>),
}

impl Owner<'_, '_> {
    /// Records the finding, naming the container when there is one.
    fn record(self, report: ReportBuilder<'_, '_, '_>) {
        if let Owner::Container(c) = self {
            report.container(c);
        }
    }

    fn describe(self) -> String {
        match self {
            Owner::Pod => "the pod's securityContext".to_owned(),
            Owner::Container(c) => c.describe(),
        }
    }
}

fn check_options(cx: &mut Checker<'_, '_>, owner: Owner<'_, '_>, options: SecurityField) {
    let doc = cx.doc();
    if !doc.is_mapping(options.node) {
        return;
    }
    let version = cx.settings.target_version;
    if let Some(node) = doc.get(options.node, "type")
        && let Some(ty) = doc.str(node)
        && !type_allowed(ty, version)
    {
        let allowed = if version >= (1, 31) {
            "`container_t`, `container_init_t`, `container_kvm_t` or `container_engine_t`"
        } else {
            "`container_t`, `container_init_t` or `container_kvm_t`"
        };
        let report = cx
            .report(node, options.path.key("type"))
            .message(format!(
                "{} sets the SELinux type `{ty}`, outside the container types the baseline \
                 allows",
                owner.describe()
            ))
            .remediation(format!(
                "remove `seLinuxOptions.type` so the runtime assigns the container type, or use \
                 {allowed}"
            ))
            .pss(PssLevel::Baseline, "SELinux");
        owner.record(report);
    }
    for field in ["user", "role"] {
        let Some(node) = doc.get(options.node, field) else {
            continue;
        };
        let Some(value) = doc.str(node).filter(|v| !v.is_empty()) else {
            continue;
        };
        let report = cx
            .report(node, options.path.key(field))
            .message(format!(
                "{} sets the SELinux {field} `{value}`; the baseline forbids a custom {field}",
                owner.describe()
            ))
            .remediation(format!("remove `seLinuxOptions.{field}`"))
            .pss(PssLevel::Baseline, "SELinux");
        owner.record(report);
    }
}

impl Rule for SelinuxOptions {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        if let Some(options) = pod.pod_security(&["seLinuxOptions"]) {
            check_options(cx, Owner::Pod, options);
        }
        for c in &pod.containers {
            if let Some(options) = pod.container_security(c, &["seLinuxOptions"]) {
                check_options(cx, Owner::Container(c), options);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::type_allowed;

    #[test]
    fn engine_type_from_1_31() {
        assert!(type_allowed("container_t", (1, 25)));
        assert!(type_allowed("", (1, 37)));
        assert!(!type_allowed("container_engine_t", (1, 30)));
        assert!(type_allowed("container_engine_t", (1, 31)));
        assert!(!type_allowed("spc_t", (1, 37)));
    }
}
