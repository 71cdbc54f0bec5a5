use super::security_context::{escalation_implied_by, is_windows_pod, unset_phrase};
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags containers that do not set `securityContext.allowPrivilegeEscalation: false`:
    /// those that set it to `true` (high), and those that leave it unset (medium), because
    /// Kubernetes then allows escalation.
    ///
    /// ## Why is this bad?
    /// Unless `allowPrivilegeEscalation` is `false`, the kubelet does not set the kernel's
    /// `no_new_privs` flag, so a process in the container can gain privileges its parent did
    /// not have: through a set-user-ID binary such as `sudo` or `su`, or a file capability.
    /// An attacker with code execution as an unprivileged user becomes root inside the
    /// container, one step closer to the node. The Pod Security Standards restricted level
    /// requires the field to be `false` on every container (Linux pods).
    ///
    /// A container that runs privileged or adds `SYS_ADMIN` can always escalate; the API
    /// server rejects `allowPrivilegeEscalation: false` next to either, so drop those first.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     securityContext:
    ///       allowPrivilegeEscalation: true
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     securityContext:
    ///       allowPrivilegeEscalation: false
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, restricted: Privilege Escalation
    /// - CIS Kubernetes Benchmark 5.2.6
    /// - kubeaudit `privesc` (`AllowPrivilegeEscalationNil`, `AllowPrivilegeEscalationTrue`),
    ///   override `allow-privilege-escalation`
    pub PrivilegeEscalationAllowed {
        code: "WKL003",
        name: "privilege-escalation-allowed",
        section: Workloads,
        severity: High,
        summary: "Container may gain more privileges than its parent process",
        kubeaudit: Some("privesc"),
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

const FIELD: &str = "allowPrivilegeEscalation";
const OVERRIDE: &str = "allow-privilege-escalation";

impl Rule for PrivilegeEscalationAllowed {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        // Windows pods may not set these fields at all (the API server rejects them there).
        if is_windows_pod(pod) {
            return;
        }
        let linux = !is_windows_pod(pod);
        for c in &pod.containers {
            let allow = KubeauditOverride::container(OVERRIDE, c);
            let field = pod.container_security(c, &[FIELD]);
            let value = field.as_ref().and_then(|f| cx.doc().bool(f.node));
            if value == Some(false) {
                cx.override_checked(&allow);
                continue;
            }
            let implied = escalation_implied_by(pod, c);
            let remediation = match &implied {
                Some(implied) => format!(
                    "{}, then set `securityContext.allowPrivilegeEscalation: false`",
                    implied.fix
                ),
                None => "set `securityContext.allowPrivilegeEscalation: false`".to_owned(),
            };
            let mut report = match (value, field) {
                (Some(true), Some(field)) => {
                    let mut message = format!(
                        "{} allows privilege escalation: set-user-ID binaries and file \
                         capabilities can raise its privileges",
                        c.describe()
                    );
                    if let Some(implied) = &implied {
                        message.push_str(&format!(
                            "; {}, so it can escalate whatever this field says",
                            implied.why
                        ));
                    }
                    cx.report(field.node, field.path)
                        .message(message)
                        .kubeaudit("AllowPrivilegeEscalationTrue")
                }
                _ => {
                    let mut message = format!(
                        "{} {}, so privilege escalation is allowed",
                        c.describe(),
                        unset_phrase(pod, c, FIELD)
                    );
                    if let Some(implied) = &implied {
                        message
                            .push_str(&format!(" (and {}, which always allows it)", implied.why));
                    }
                    let (node, path, missing) = pod.nearest(c, &["securityContext", FIELD]);
                    cx.report(node, path)
                        .missing(missing)
                        .severity(Severity::Medium)
                        .message(message)
                        .kubeaudit("AllowPrivilegeEscalationNil")
                }
            };
            report = report.container(c).remediation(remediation);
            // The API server rejects `false` beside `privileged: true` or `SYS_ADMIN`: the
            // fix would not converge, so there is none until those are gone.
            if implied.is_none() {
                report = report.fix(Fix::unsafe_(
                    "set `securityContext.allowPrivilegeEscalation: false`",
                    "set-user-ID programs such as `sudo` stop gaining privileges",
                    vec![Op::set(
                        c.path.keys(&["securityContext", FIELD]).as_str(),
                        false,
                    )],
                ));
            }
            if linux {
                report = report.pss(PssLevel::Restricted, "Privilege Escalation");
            }
            report.kubeaudit_override(allow);
        }
    }
}
