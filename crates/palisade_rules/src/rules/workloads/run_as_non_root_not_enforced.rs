use super::security_context::{NonRoot, effective_run_as_non_root, non_root};
use palisade_k8s::SecurityLevel;

use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags containers that run as a non-zero `runAsUser` but do not set
    /// `runAsNonRoot: true` (at container or pod level), and pods whose securityContext sets
    /// `runAsNonRoot: false` while every container overrides it.
    ///
    /// `run-as-root` (WKL005), like kubeaudit, accepts a non-zero `runAsUser` on its own; this
    /// rule reports what the Pod Security Standards restricted level still rejects. It never
    /// reports a container that `run-as-root` already reports.
    ///
    /// ## Why is this bad?
    /// A namespace that enforces the restricted level rejects the pod: its "Running as
    /// Non-root" control requires `runAsNonRoot: true`, whatever `runAsUser` says. The flag
    /// is also a guard of its own: the kubelet refuses to start a container that would run
    /// as user 0, so a later change to `runAsUser`, a mutating webhook or a pod-level default
    /// cannot silently bring root back.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     securityContext:
    ///       runAsUser: 10001
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     securityContext:
    ///       runAsUser: 10001
    ///       runAsNonRoot: true
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, restricted: Running as Non-root
    /// - CIS Kubernetes Benchmark 5.2.7
    pub RunAsNonRootNotEnforced {
        code: "WKL006",
        name: "run-as-non-root-not-enforced",
        section: Workloads,
        severity: Low,
        summary: "Container runs as a non-root user but does not require `runAsNonRoot: true`",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

const CONTROL: &str = "Running as Non-root";

impl Rule for RunAsNonRootNotEnforced {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        let doc = cx.doc();
        // Whether every container sets its own boolean `runAsNonRoot`, so none inherits the
        // pod's value.
        let mut all_override = !pod.containers.is_empty();
        for c in &pod.containers {
            let own = pod
                .container_security(c, &["runAsNonRoot"])
                .and_then(|f| doc.bool(f.node));
            all_override &= own.is_some();
            let NonRoot::PassesByUser(user, uid) = non_root(pod, c) else {
                // Root, or `runAsNonRoot: true` decides: `run-as-root` has it covered.
                continue;
            };
            let (node, path, missing, state) = match effective_run_as_non_root(pod, c) {
                Some((_, true)) => continue,
                Some((flag, false)) => {
                    let state = match flag.level {
                        SecurityLevel::Container => "sets `runAsNonRoot: false`",
                        SecurityLevel::Pod => {
                            "inherits `runAsNonRoot: false` from the pod's securityContext"
                        }
                    };
                    (flag.node, flag.path, String::new(), state)
                }
                None => {
                    let (node, path, missing) =
                        pod.nearest(c, &["securityContext", "runAsNonRoot"]);
                    let state = if pod.container_security(c, &["runAsNonRoot"]).is_some() {
                        "sets `runAsNonRoot` to a value that is not a boolean"
                    } else {
                        "does not set `runAsNonRoot: true`"
                    };
                    (node, path, missing, state)
                }
            };
            cx.report(node, path)
                .container(c)
                .missing(missing)
                .message(format!(
                    "{} runs as user {uid} but {state}: a namespace enforcing the restricted \
                     Pod Security Standard rejects the pod, and nothing stops a later change \
                     from running it as root",
                    c.describe()
                ))
                .remediation(
                    "set `securityContext.runAsNonRoot: true` (in the pod's securityContext to \
                     cover every container)",
                )
                .related("the non-zero runAsUser", user.node, user.path)
                .pss(PssLevel::Restricted, CONTROL);
        }
        if all_override
            && let Some(flag) = pod.pod_security(&["runAsNonRoot"])
            && doc.bool(flag.node) == Some(false)
        {
            cx.report(flag.node, flag.path)
                .message(
                    "the pod's securityContext sets `runAsNonRoot: false`: every container \
                     overrides it, but a namespace enforcing the restricted Pod Security \
                     Standard rejects the pod for the pod-level value",
                )
                .remediation("set the pod's `securityContext.runAsNonRoot: true`, or remove it")
                .pss(PssLevel::Restricted, CONTROL);
        }
    }
}
