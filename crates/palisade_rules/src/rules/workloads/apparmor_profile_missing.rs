use super::pod_fields::{
    APPARMOR_PREFIX, apparmor_annotation, container_nearest, is_windows, profile_type,
};
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags containers for which nothing names an AppArmor profile: no
    /// `securityContext.appArmorProfile` on the container or the pod, and no
    /// `container.apparmor.security.beta.kubernetes.io/<container>` pod annotation.
    /// Pods that declare `spec.os.name: windows` are skipped: AppArmor does not exist there.
    ///
    /// Off by default: it exists for kubeaudit parity. On nodes with AppArmor the container
    /// runtime already applies its default profile to containers that name none, so for most
    /// clusters this finding is noise. Select it when policy demands an explicit profile.
    ///
    /// ## Why is this bad?
    /// Without an explicit profile, confinement depends on the node: where the runtime has no
    /// default profile or AppArmor is off, the container runs unconfined and nothing in the
    /// manifest says so. Writing `RuntimeDefault` makes the intent reviewable and lets
    /// admission control check it.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   containers:
    ///     - name: app
    ///       image: registry.example.com/app:1.0
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     appArmorProfile:
    ///       type: RuntimeDefault
    ///   containers:
    ///     - name: app
    ///       image: registry.example.com/app:1.0
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/tutorials/security/apparmor/
    /// - kubeaudit `apparmor` (`AppArmorAnnotationMissing`), no override. Deviation: kubeaudit
    ///   reads only the beta annotation, so it reports a container whose profile comes from
    ///   the `appArmorProfile` field (GA since Kubernetes 1.30); this rule accepts the field.
    pub ApparmorProfileMissing {
        code: "WKL018",
        name: "apparmor-profile-missing",
        section: Workloads,
        severity: Low,
        summary: "Container names no AppArmor profile",
        kubeaudit: Some("apparmor"),
        status: Stable { since: "0.1.0" },
        default_enabled: false,
    }
}

impl Rule for ApparmorProfileMissing {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        if is_windows(pod) {
            return;
        }
        let doc = cx.doc();
        let pod_profile = pod
            .pod_security(&["appArmorProfile"])
            .is_some_and(|f| profile_type(doc, f.node).is_some());
        if pod_profile {
            return;
        }
        for c in &pod.containers {
            let own = pod
                .container_security(c, &["appArmorProfile"])
                .is_some_and(|f| profile_type(doc, f.node).is_some());
            if own || apparmor_annotation(pod, c.name).is_some() {
                continue;
            }
            let (node, path, missing) =
                container_nearest(pod, c, &["securityContext", "appArmorProfile"]);
            let fix = Fix::unsafe_(
                "set the container's `securityContext.appArmorProfile.type: RuntimeDefault`",
                "operations the runtime's default profile forbids (mounting, writing to /proc/sys, …) start to fail",
                vec![Op::set(
                    c.path
                        .keys(&["securityContext", "appArmorProfile", "type"])
                        .as_str(),
                    "RuntimeDefault",
                )],
            );
            cx.report(node, path)
                .fix(fix)
                .missing(missing)
                .container(c)
                .message(format!(
                    "{} names no AppArmor profile: neither `appArmorProfile` (container or \
                     pod) nor the annotation `{APPARMOR_PREFIX}{}` is set",
                    c.describe(),
                    c.name
                ))
                .remediation(
                    "set `securityContext.appArmorProfile.type: RuntimeDefault` on the pod, or \
                     on the container",
                )
                .kubeaudit("AppArmorAnnotationMissing");
        }
    }
}
