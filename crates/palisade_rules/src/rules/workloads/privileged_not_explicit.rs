use super::security_context::unset_phrase;
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags containers that do not set `securityContext.privileged` at all.
    ///
    /// Off by default: it exists for parity with kubeaudit's `PrivilegedNil`. Kubernetes
    /// defaults `privileged` to `false`, so an unset field is not a risk by itself; a
    /// container that *does* run privileged is reported by `privileged-container` (WKL001).
    ///
    /// ## Why is this bad?
    /// It is not, on its own. Some teams want every security-relevant field spelled out in
    /// the manifest, so that a reviewer sees the intent and a mutating webhook or a Helm
    /// value cannot flip an unstated default unnoticed. Select this rule to enforce that.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     image: registry.example.com/app:1.0
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     image: registry.example.com/app:1.0
    ///     securityContext:
    ///       privileged: false
    /// ```
    ///
    /// ## References
    /// - kubeaudit `privileged` (`PrivilegedNil`, a warning), override `allow-privileged`
    /// - https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#security-context-1
    pub PrivilegedNotExplicit {
        code: "WKL002",
        name: "privileged-not-explicit",
        section: Workloads,
        severity: Info,
        summary: "Container does not state `privileged: false` explicitly",
        kubeaudit: Some("privileged"),
        status: Stable { since: "0.1.0" },
        default_enabled: false,
    }
}

impl Rule for PrivilegedNotExplicit {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        for c in &pod.containers {
            let set = pod
                .container_security(c, &["privileged"])
                .is_some_and(|f| cx.doc().bool(f.node).is_some());
            if set {
                // `privileged-container` judges explicit values and their override labels.
                continue;
            }
            let (node, path, missing) = pod.nearest(c, &["securityContext", "privileged"]);
            // `false` is the default: writing it changes nothing at run time.
            let fix = Fix::safe(
                "set `securityContext.privileged: false`",
                vec![Op::set(
                    c.path.keys(&["securityContext", "privileged"]).as_str(),
                    false,
                )],
            );
            cx.report(node, path)
                .fix(fix)
                .container(c)
                .missing(missing)
                .message(format!(
                    "{} {}; it defaults to false, but the manifest does not say so",
                    c.describe(),
                    unset_phrase(pod, c, "privileged")
                ))
                .remediation("set `securityContext.privileged: false` explicitly")
                .kubeaudit("PrivilegedNil")
                .kubeaudit_override(KubeauditOverride::container("allow-privileged", c));
        }
    }
}
