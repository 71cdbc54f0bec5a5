use palisade_k8s::SecurityField;

use super::pod_fields::{ProfileType, profile_type};
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags a `seccompProfile` whose `type` is not `RuntimeDefault` or `Localhost`, in the
    /// pod's `securityContext` or in any container's (regular, init or ephemeral):
    /// `Unconfined`, a missing `type`, or any other string (`runtime/default`, `unconfined`:
    /// the values of the old annotations are not valid types).
    ///
    /// ## Why is this bad?
    /// `Unconfined` turns seccomp off: every system call of the kernel is open to the
    /// container, including the rarely used ones where kernel privilege-escalation bugs keep
    /// being found. A pod-level `Unconfined` applies to every container that does not set its
    /// own profile, including those added later. The Pod Security Standards forbid
    /// `Unconfined` from the baseline level up. Any other type is rejected by the API server,
    /// so the workload's pods are never created.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     seccompProfile:
    ///       type: Unconfined
    ///   containers:
    ///     - name: app
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
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, baseline and restricted: Seccomp
    /// - https://kubernetes.io/docs/tutorials/security/seccomp/
    /// - kubeaudit `seccomp` (`SeccompDisabledPod`, `SeccompDisabledContainer`), no override.
    ///   kubeaudit checks regular and init containers; this rule also checks ephemeral
    ///   containers, as the Pod Security Standards do.
    pub SeccompUnconfined {
        code: "WKL021",
        name: "seccomp-unconfined",
        section: Workloads,
        severity: High,
        summary: "Seccomp profile is Unconfined or invalid",
        kubeaudit: Some("seccomp"),
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for SeccompUnconfined {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        if let Some(field) = pod.pod_security(&["seccompProfile"]) {
            report(cx, &field, None);
        }
        for c in &pod.containers {
            if let Some(field) = pod.container_security(c, &["seccompProfile"]) {
                report(cx, &field, Some(c));
            }
        }
    }
}

fn report(cx: &mut Checker<'_, '_>, field: &SecurityField, container: Option<&Container<'_>>) {
    let doc = cx.doc();
    let Some(ty) = profile_type(doc, field.node) else {
        return;
    };
    if ty.is_enabled() {
        return;
    }
    let (who, code, consequence) = match container {
        None => (
            "the pod".to_owned(),
            "SeccompDisabledPod",
            "every container without a profile of its own runs without seccomp",
        ),
        Some(c) => (
            c.describe(),
            "SeccompDisabledContainer",
            "it runs without seccomp",
        ),
    };
    let type_node = doc.get(field.node, "type");
    let (node, path, missing) = match type_node {
        Some(t) if ty != ProfileType::Missing => (t, field.path.key("type"), ""),
        _ => (field.node, field.path.clone(), "type"),
    };
    let message = match ty {
        ProfileType::Unconfined => {
            format!("{who} sets `seccompProfile.type: Unconfined`: {consequence}")
        }
        ProfileType::Invalid(t) => format!(
            "{who} sets `seccompProfile.type: {t}`, which is not `RuntimeDefault`, \
             `Localhost` or `Unconfined`: the API server rejects it"
        ),
        _ => format!("{who} sets a `seccompProfile` without `type`: the API server rejects it"),
    };
    let fix = Fix::unsafe_(
        "set `seccompProfile.type: RuntimeDefault`",
        "system calls outside the container runtime's default profile start to fail",
        vec![
            Op::set(field.path.key("type").as_str(), "RuntimeDefault"),
            Op::remove(field.path.key("localhostProfile").as_str()),
        ],
    );
    let mut builder = cx
        .report(node, path)
        .fix(fix)
        .missing(missing)
        .message(message)
        .remediation(
            "set `seccompProfile.type: RuntimeDefault` (or `Localhost` with a \
             `localhostProfile` the nodes load)",
        )
        .kubeaudit(code);
    if let Some(c) = container {
        builder = builder.container(c);
    }
    if ty == ProfileType::Unconfined {
        builder.pss(PssLevel::Baseline, "Seccomp");
    } else {
        // A pod the API server rejects never runs: a broken deployment, not an open door.
        builder.severity(Severity::Medium);
    }
}
