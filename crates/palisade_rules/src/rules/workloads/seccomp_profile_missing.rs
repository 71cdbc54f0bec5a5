use super::pod_fields::{is_windows, pod_nearest, profile_type};
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags pods whose `securityContext` sets no `seccompProfile` while some container
    /// (regular, init or ephemeral) has no enabled profile of its own (`RuntimeDefault` or
    /// `Localhost`). Pods that declare `spec.os.name: windows` are skipped: seccomp does not
    /// exist there.
    ///
    /// A pod-level profile that is `Unconfined` or invalid is reported by
    /// `seccomp-unconfined`, not here.
    ///
    /// ## Why is this bad?
    /// Unless the kubelet runs with `--seccomp-default`, a container without a profile runs
    /// `Unconfined`: every system call of the kernel is open to it, including the rarely used
    /// ones where kernel privilege-escalation bugs keep being found. The runtime's default
    /// profile blocks those at no cost to ordinary applications. The Pod Security Standards
    /// require a profile at the restricted level.
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
    ///     seccompProfile:
    ///       type: RuntimeDefault
    ///   containers:
    ///     - name: app
    ///       image: registry.example.com/app:1.0
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, restricted: Seccomp
    /// - CIS Kubernetes Benchmark 5.7.2
    /// - https://kubernetes.io/docs/tutorials/security/seccomp/
    /// - kubeaudit `seccomp` (`SeccompProfileMissing`), no override. kubeaudit checks regular
    ///   and init containers; this rule also checks ephemeral containers, as the Pod Security
    ///   Standards do.
    pub SeccompProfileMissing {
        code: "WKL020",
        name: "seccomp-profile-missing",
        section: Workloads,
        severity: Medium,
        summary: "Pod sets no seccomp profile for every container",
        kubeaudit: Some("seccomp"),
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for SeccompProfileMissing {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        let doc = cx.doc();
        if pod.node.is_none() || is_windows(pod) {
            return;
        }
        let pod_profile = pod
            .pod_security(&["seccompProfile"])
            .and_then(|f| profile_type(doc, f.node));
        if pod_profile.is_some() {
            return;
        }
        let unprotected: Vec<&Container<'_>> = pod
            .containers
            .iter()
            .filter(|c| {
                !pod.container_security(c, &["seccompProfile"])
                    .and_then(|f| profile_type(doc, f.node))
                    .is_some_and(|t| t.is_enabled())
            })
            .collect();
        let Some(&first) = unprotected.first() else {
            return;
        };
        let Some((node, path, missing)) = pod_nearest(pod, &["securityContext", "seccompProfile"])
        else {
            return;
        };
        // Containers that set no profile run `Unconfined` unless the kubelet defaults it;
        // containers that set a disabled one (`Unconfined`) do so whatever the kubelet says.
        let (unset, disabled): (Vec<&Container<'_>>, Vec<&Container<'_>>) =
            unprotected.iter().partition(|c| {
                pod.container_security(c, &["seccompProfile"])
                    .and_then(|f| profile_type(doc, f.node))
                    .is_none()
            });
        let list = |cs: &[&Container<'_>]| {
            cs.iter()
                .map(|c| c.describe())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut parts = Vec::new();
        if !unset.is_empty() {
            let (verb, runs) = if unset.len() == 1 {
                ("sets", "it runs")
            } else {
                ("set", "they run")
            };
            parts.push(format!(
                "{} {verb} none either: without `--seccomp-default` on the kubelet {runs} \
                 `Unconfined`",
                list(&unset)
            ));
        }
        if !disabled.is_empty() {
            let verb = if disabled.len() == 1 { "sets" } else { "set" };
            parts.push(format!(
                "{} {verb} a profile that is not enabled (see `seccomp-unconfined`)",
                list(&disabled)
            ));
        }
        let fix = Fix::unsafe_(
            "set the pod's `securityContext.seccompProfile.type: RuntimeDefault`",
            "system calls outside the container runtime's default profile start to fail",
            vec![Op::set(
                pod.path
                    .keys(&["securityContext", "seccompProfile", "type"])
                    .as_str(),
                "RuntimeDefault",
            )],
        );
        let mut builder = cx
            .report(node, path)
            .fix(fix)
            .missing(missing)
            .message(format!(
                "the pod sets no seccomp profile; {}",
                parts.join("; ")
            ))
            .remediation(
                "set `securityContext.seccompProfile.type: RuntimeDefault` in the pod spec \
                 (or `Localhost` with a `localhostProfile` the nodes load)",
            )
            .kubeaudit("SeccompProfileMissing")
            .pss(PssLevel::Restricted, "Seccomp");
        if unprotected.len() == 1 {
            builder = builder.container(first);
        }
        drop(builder);
    }
}
