use palisade_k8s::SecurityLevel;

use super::pod_fields::{ProfileType, annotation_path, apparmor_annotation, profile_type};
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags containers that run without AppArmor: the pod annotation
    /// `container.apparmor.security.beta.kubernetes.io/<container>` is `unconfined`, or the
    /// `appArmorProfile.type` field (GA since Kubernetes 1.30) that applies to the container
    /// is `Unconfined`.
    ///
    /// The profile is resolved as the kubelet resolves it: the container's own
    /// `securityContext.appArmorProfile` wins, then the container's annotation, then the pod's
    /// `securityContext.appArmorProfile`. An `unconfined` annotation is always reported, as
    /// kubeaudit does.
    ///
    /// ## Why is this bad?
    /// On nodes with AppArmor, the container runtime confines every container with its default
    /// profile, which denies writes to `/proc` and `/sys`, mounts and other ways out of the
    /// container. `Unconfined` removes that layer: a process that gets code execution inside
    /// the container meets one barrier fewer on its way to the node. The Pod Security
    /// Standards forbid it from the baseline level up.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     container.apparmor.security.beta.kubernetes.io/app: unconfined
    /// spec:
    ///   containers:
    ///     - name: app
    ///       securityContext:
    ///         appArmorProfile:
    ///           type: Unconfined
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     appArmorProfile:
    ///       type: RuntimeDefault   # or Localhost with localhostProfile
    ///   containers:
    ///     - name: app
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, baseline: AppArmor
    /// - https://kubernetes.io/docs/tutorials/security/apparmor/
    /// - kubeaudit `apparmor` (`AppArmorDisabled`), override `allow-disabled-apparmor` at
    ///   container or pod level. The override also suppresses an `Unconfined` field here;
    ///   kubeaudit reads only the annotation and reports a field as a missing annotation.
    pub ApparmorUnconfined {
        code: "WKL017",
        name: "apparmor-unconfined",
        section: Workloads,
        severity: High,
        summary: "Container runs without AppArmor confinement",
        kubeaudit: Some("apparmor"),
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

const REMEDIATION: &str = "set `securityContext.appArmorProfile.type: RuntimeDefault` (or \
    `Localhost` with a `localhostProfile` the nodes load) and remove the `unconfined` setting";

impl Rule for ApparmorUnconfined {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        let doc = cx.doc();
        for c in &pod.containers {
            let allow = KubeauditOverride::container("allow-disabled-apparmor", c);
            let annotation = apparmor_annotation(pod, c.name);
            if let Some(a) = annotation
                && a.value == Some("unconfined")
            {
                let route = annotation_path(pod, a.key);
                let fix = Fix::unsafe_(
                    format!("set the annotation `{}` to `runtime/default`", a.key),
                    "operations the runtime's default profile forbids (mounting, writing to /proc/sys, …) start to fail",
                    vec![Op::set(route.as_str(), "runtime/default")],
                );
                cx.report(a.value_node, route)
                    .fix(fix)
                    .container(c)
                    .message(format!(
                        "{} runs without AppArmor: annotation `{}` is `unconfined`",
                        c.describe(),
                        a.key
                    ))
                    .remediation(REMEDIATION)
                    .kubeaudit("AppArmorDisabled")
                    .pss(PssLevel::Baseline, "AppArmor")
                    .kubeaudit_override(allow);
                continue;
            }
            // The kubelet's order: the container's field, its annotation, the pod's field.
            let field = match pod.container_security(c, &["appArmorProfile"]) {
                Some(own) => own,
                None if annotation.is_some() => continue,
                None => match pod.pod_security(&["appArmorProfile"]) {
                    Some(inherited) => inherited,
                    None => continue,
                },
            };
            if profile_type(doc, field.node) != Some(ProfileType::Unconfined) {
                continue;
            }
            let Some(ty) = doc.get(field.node, "type") else {
                continue;
            };
            let whose = match field.level {
                SecurityLevel::Container => "its `appArmorProfile.type` is `Unconfined`",
                SecurityLevel::Pod => "it inherits the pod's `appArmorProfile.type: Unconfined`",
            };
            let fix = Fix::unsafe_(
                "set `appArmorProfile.type: RuntimeDefault`",
                "operations the runtime's default profile forbids (mounting, writing to /proc/sys, …) start to fail",
                vec![
                    Op::set(field.path.key("type").as_str(), "RuntimeDefault"),
                    Op::remove(field.path.key("localhostProfile").as_str()),
                ],
            );
            cx.report(ty, field.path.key("type"))
                .fix(fix)
                .container(c)
                .message(format!("{} runs without AppArmor: {whose}", c.describe()))
                .remediation(REMEDIATION)
                .pss(PssLevel::Baseline, "AppArmor")
                .kubeaudit_override(allow);
        }
    }
}
