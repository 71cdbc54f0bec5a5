use super::security_context::is_windows_pod;
use super::security_context::unset_phrase;
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags containers whose root filesystem is writable: `securityContext.readOnlyRootFilesystem`
    /// is `false` or not set (it defaults to `false`).
    ///
    /// ## Why is this bad?
    /// A writable root filesystem lets an intruder drop tools, replace binaries or
    /// libraries the application loads later, and persist for the life of the container. With
    /// a read-only root, the image stays as it was built; the few paths the application must
    /// write to are mounted explicitly (an `emptyDir` for `/tmp`, a volume for data), which
    /// also documents them.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     securityContext:
    ///       readOnlyRootFilesystem: false
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     securityContext:
    ///       readOnlyRootFilesystem: true
    ///     volumeMounts:
    ///       - name: tmp
    ///         mountPath: /tmp
    /// volumes:
    ///   - name: tmp
    ///     emptyDir: {}
    /// ```
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.7.3 (apply security contexts)
    /// - kubeaudit `rootfs` (`ReadOnlyRootFilesystemNil`, `ReadOnlyRootFilesystemFalse`),
    ///   override `allow-read-only-root-filesystem-false`
    pub RootFilesystemWritable {
        code: "WKL004",
        name: "root-filesystem-writable",
        section: Workloads,
        severity: Medium,
        summary: "Container can write to its root filesystem",
        kubeaudit: Some("rootfs"),
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

const FIELD: &str = "readOnlyRootFilesystem";
const REMEDIATION: &str = "set `securityContext.readOnlyRootFilesystem: true` and mount an \
                           `emptyDir` or a volume at the paths the application writes to";

impl Rule for RootFilesystemWritable {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        // Windows pods may not set these fields at all (the API server rejects them there).
        if is_windows_pod(pod) {
            return;
        }
        for c in &pod.containers {
            let allow = KubeauditOverride::container("allow-read-only-root-filesystem-false", c);
            let fix = || {
                Fix::unsafe_(
                    "set `securityContext.readOnlyRootFilesystem: true`",
                    "writes outside mounted volumes start to fail",
                    vec![Op::set(
                        c.path.keys(&["securityContext", FIELD]).as_str(),
                        true,
                    )],
                )
            };
            let field = pod.container_security(c, &[FIELD]);
            let value = field.as_ref().and_then(|f| cx.doc().bool(f.node));
            match (value, field) {
                (Some(true), _) => cx.override_checked(&allow),
                (Some(false), Some(field)) => {
                    cx.report(field.node, field.path)
                        .container(c)
                        .message(format!(
                            "{} has a writable root filesystem (`readOnlyRootFilesystem: false`)",
                            c.describe()
                        ))
                        .remediation(REMEDIATION)
                        .kubeaudit("ReadOnlyRootFilesystemFalse")
                        .fix(fix())
                        .kubeaudit_override(allow);
                }
                _ => {
                    let (node, path, missing) = pod.nearest(c, &["securityContext", FIELD]);
                    cx.report(node, path)
                        .container(c)
                        .missing(missing)
                        .message(format!(
                            "{} {}, so its root filesystem is writable",
                            c.describe(),
                            unset_phrase(pod, c, FIELD)
                        ))
                        .remediation(REMEDIATION)
                        .kubeaudit("ReadOnlyRootFilesystemNil")
                        .fix(fix())
                        .kubeaudit_override(allow);
                }
            }
        }
    }
}
