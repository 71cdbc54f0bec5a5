use super::security_context::{NonRoot, non_root};
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags containers that run as root, or that nothing stops from running as root. It
    /// follows kubeaudit's `nonroot` decision order, per container (init containers included),
    /// with the container's `securityContext` overriding the pod's as the kubelet does:
    ///
    /// 1. the container sets `runAsUser`: `0` fails; any other user passes, unless the pod
    ///    sets `runAsUser: 0` (reported at low severity: the container overrides it, but the
    ///    pod-level value is still root for every container that does not);
    /// 2. the pod sets `runAsUser`: `0` fails, any other user passes;
    /// 3. the container sets `runAsNonRoot: false`: fails, even if the pod says `true`;
    /// 4. the container does not set `runAsNonRoot`: fails unless the pod sets it to `true`;
    /// 5. the container sets `runAsNonRoot: true`: passes.
    ///
    /// A container that passes only through a non-zero `runAsUser` still fails the Pod
    /// Security Standards restricted level if `runAsNonRoot` is not `true`; that case is
    /// `run-as-non-root-not-enforced` (WKL006).
    ///
    /// ## Why is this bad?
    /// Root in a container is root on the node's kernel, held back only by namespaces,
    /// capabilities and seccomp. A process running as user 0 can write to everything the
    /// image owns, can use any capability the container keeps, and turns every container
    /// escape vulnerability into root on the node. Many images default to root, so the
    /// manifest has to ask for a non-root user; the image's `USER` is not visible here.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     runAsUser: 0
    ///   containers:
    ///     - name: app
    ///       image: registry.example.com/app:1.0
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     runAsNonRoot: true
    ///     runAsUser: 10001
    ///   containers:
    ///     - name: app
    ///       image: registry.example.com/app:1.0
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, restricted: Running as Non-root, Running as Non-root user
    /// - CIS Kubernetes Benchmark 5.2.7
    /// - kubeaudit `nonroot` (`RunAsUserCSCRoot`, `RunAsUserPSCRoot`, `RunAsNonRootCSCFalse`,
    ///   `RunAsNonRootPSCNilCSCNil`, `RunAsNonRootPSCFalseCSCNil`), override `allow-run-as-root`
    pub RunAsRoot {
        code: "WKL005",
        name: "run-as-root",
        section: Workloads,
        severity: High,
        summary: "Container may run as root",
        kubeaudit: Some("nonroot"),
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

const NON_ROOT: &str = "Running as Non-root";
const NON_ROOT_USER: &str = "Running as Non-root user";
const SET_NON_ROOT: &str = "set `securityContext.runAsNonRoot: true` (in the pod's \
                            securityContext to cover every container) and run the image as a \
                            non-root user";

impl Rule for RunAsRoot {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        for c in &pod.containers {
            let allow = KubeauditOverride::container("allow-run-as-root", c);
            let who = c.describe();
            let user_fix = |path: &FieldPath| {
                cx.settings.fix_run_as_user.map(|uid| {
                    Fix::unsafe_(
                        format!("set `runAsUser: {uid}`"),
                        "the image must work as that user: files it owns as root become \
                         unwritable",
                        vec![Op::set(path.as_str(), uid)],
                    )
                })
            };
            let non_root_fix = || {
                Fix::unsafe_(
                    "set the container's `securityContext.runAsNonRoot: true`",
                    "the kubelet refuses to start the container if its image runs as root",
                    vec![Op::set(
                        c.path.keys(&["securityContext", "runAsNonRoot"]).as_str(),
                        true,
                    )],
                )
            };
            let (report, fix) = match non_root(pod, c) {
                NonRoot::PassesByUser(..) | NonRoot::PassesByFlag => {
                    cx.override_checked(&allow);
                    continue;
                }
                NonRoot::ContainerUserRoot(user) => {
                    let fix = user_fix(&user.path);
                    let r = cx
                        .report(user.node, user.path)
                        .message(format!("{who} runs as root (`runAsUser: 0`)"))
                        .remediation(
                            "set `securityContext.runAsUser` to a non-zero user and \
                         `runAsNonRoot: true`",
                        )
                        .kubeaudit("RunAsUserCSCRoot")
                        .pss(PssLevel::Restricted, NON_ROOT_USER);
                    (r, fix)
                }
                NonRoot::PodUserRoot {
                    pod_user,
                    container_user: Some((container_user, uid)),
                } => {
                    let fix = user_fix(&pod_user.path);
                    let r = cx
                        .report(pod_user.node, pod_user.path)
                        .severity(Severity::Low)
                        .message(format!(
                            "the pod's securityContext sets `runAsUser: 0`; {who} overrides it \
                         with user {uid}, but root stays the default for every container that \
                         does not"
                        ))
                        .remediation(
                            "set the pod's `securityContext.runAsUser` to a non-zero user, or \
                         remove it",
                        )
                        .related(
                            "the container's own runAsUser",
                            container_user.node,
                            container_user.path,
                        )
                        .kubeaudit("RunAsUserPSCRoot")
                        .pss(PssLevel::Restricted, NON_ROOT_USER);
                    (r, fix)
                }
                NonRoot::PodUserRoot {
                    pod_user,
                    container_user: None,
                } => {
                    let fix = user_fix(&pod_user.path);
                    let r = cx
                        .report(pod_user.node, pod_user.path)
                        .message(format!(
                            "{who} runs as root: it inherits `runAsUser: 0` from the pod's \
                         securityContext"
                        ))
                        .remediation(
                            "set the pod's `securityContext.runAsUser` to a non-zero user and \
                         `runAsNonRoot: true`",
                        )
                        .kubeaudit("RunAsUserPSCRoot")
                        .pss(PssLevel::Restricted, NON_ROOT_USER);
                    (r, fix)
                }
                NonRoot::ContainerFlagFalse(flag) => (
                    cx.report(flag.node, flag.path)
                        .message(format!(
                            "{who} may run as root: it sets `runAsNonRoot: false` and no \
                         `runAsUser`"
                        ))
                        .remediation(
                            "set the container's `securityContext.runAsNonRoot: true` and run the \
                         image as a non-root user",
                        )
                        .kubeaudit("RunAsNonRootCSCFalse")
                        .pss(PssLevel::Restricted, NON_ROOT),
                    Some(non_root_fix()),
                ),
                NonRoot::PodFlagFalse(flag) => (
                    cx.report(flag.node, flag.path)
                        .message(format!(
                            "{who} may run as root: it inherits `runAsNonRoot: false` from the \
                         pod's securityContext and sets no `runAsUser`"
                        ))
                        .remediation(SET_NON_ROOT)
                        .kubeaudit("RunAsNonRootPSCFalseCSCNil")
                        .pss(PssLevel::Restricted, NON_ROOT),
                    Some(non_root_fix()),
                ),
                NonRoot::FlagUnset => {
                    let (node, path, missing) =
                        pod.nearest(c, &["securityContext", "runAsNonRoot"]);
                    let r = cx
                        .report(node, path)
                        .missing(missing)
                        .message(format!(
                            "{who} may run as root: neither it nor the pod sets \
                             `runAsNonRoot: true` or a non-zero `runAsUser`, so the image's \
                             user decides"
                        ))
                        .remediation(SET_NON_ROOT)
                        .kubeaudit("RunAsNonRootPSCNilCSCNil")
                        .pss(PssLevel::Restricted, NON_ROOT);
                    (r, Some(non_root_fix()))
                }
            };
            let report = report.container(c);
            let report = match fix {
                Some(fix) => report.fix(fix),
                None => report,
            };
            report.kubeaudit_override(allow);
        }
    }
}
