use super::host_access::{host_path, volumes};
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags every `hostPath` volume of a pod, whatever its path and whether or not a
    /// container mounts it. There is one finding per volume.
    ///
    /// ## Why is this bad?
    /// A `hostPath` volume exposes a file or folder of the node to the pod. Even a harmless
    /// looking path can be a way out: a writable folder is shared with every pod scheduled on
    /// the node and survives them, symbolic links can point elsewhere on the host, and
    /// `readOnly` mounts still leak whatever the path holds. The Pod Security Standards forbid
    /// `hostPath` volumes from the baseline level up; [WKL012](WKL012.md) and
    /// [WKL014](WKL014.md) report the most dangerous paths more precisely.
    ///
    /// ## Example
    /// ```yaml
    /// volumes:
    ///   - name: logs
    ///     hostPath:
    ///       path: /var/log
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// volumes:
    ///   - name: logs
    ///     emptyDir: {}            # scratch space that lives and dies with the pod
    ///   - name: data
    ///     persistentVolumeClaim:  # data that must outlive the pod
    ///       claimName: app-data
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, baseline: HostPath Volumes
    /// - CIS Kubernetes Benchmark 5.2.12
    pub HostPathVolume {
        code: "WKL013",
        name: "host-path-volume",
        section: Workloads,
        severity: Medium,
        summary: "Pod has a hostPath volume",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for HostPathVolume {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        let doc = cx.doc();
        for volume in volumes(pod) {
            let Some(host) = host_path(doc, &volume) else {
                continue;
            };
            let base = volume.path(pod).key("hostPath");
            let (node, path, shown, missing) = match host.path {
                Some((node, text)) => (
                    node,
                    base.key("path"),
                    format!("the node's path `{text}`"),
                    "",
                ),
                None => (host.key, base, "a path of the node".to_owned(), "path"),
            };
            cx.report(node, path)
                .missing(missing)
                .message(format!(
                    "volume `{}` exposes {shown} to the pod",
                    volume.name
                ))
                .remediation(
                    "replace the `hostPath` volume with an `emptyDir`, a ConfigMap or Secret, or \
                     a PersistentVolumeClaim",
                )
                .pss(PssLevel::Baseline, "HostPath Volumes");
        }
    }
}
