use super::host_access::{has_host_path, mounted_host_path, mounts};
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags containers that mount a `hostPath` volume whose path is on the list of sensitive
    /// host paths (option `sensitive_paths`; by default `/`, `/proc`, `/etc`, `/root`,
    /// `/home/admin`, `/var/lib/kubelet`, `/var/lib/kubelet/pki`, `/etc/kubernetes`,
    /// `/etc/kubernetes/manifests` and the Docker, CRI-O and containerd sockets). The path must
    /// match an entry exactly, as kubeaudit compares it. There is one finding per container
    /// and mount.
    ///
    /// ## Why is this bad?
    /// These paths hold the node's credentials (kubelet client certificates, the
    /// kubeconfig files under `/etc/kubernetes`), its configuration, or the control of its
    /// processes (`/proc`, the runtime sockets). Writing a static pod manifest into
    /// `/etc/kubernetes/manifests`, reading `/var/lib/kubelet/pki` or talking to a runtime
    /// socket each hands the node, and often the cluster, to the container.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   containers:
    ///     - name: agent
    ///       volumeMounts:
    ///         - name: proc
    ///           mountPath: /host/proc
    ///   volumes:
    ///     - name: proc
    ///       hostPath:
    ///         path: /proc
    /// ```
    ///
    /// ## Use instead
    /// Give the container the data it needs through the API (a ConfigMap, a Secret, a
    /// projected ServiceAccount token) or an `emptyDir`, and move node agents that truly need
    /// the host path to a dedicated, tightly controlled namespace.
    ///
    /// ## References
    /// - Pod Security Standards, baseline: HostPath Volumes
    /// - kubeaudit `mounts` (`SensitivePathsMounted`), override
    ///   `allow-host-path-mount-<volumeMount name>` (container or pod level)
    pub SensitiveHostPathMounted {
        code: "WKL012",
        name: "sensitive-host-path-mounted",
        section: Workloads,
        severity: High,
        summary: "Container mounts a sensitive path of the node",
        kubeaudit: Some("mounts"),
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for SensitiveHostPathMounted {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        if !has_host_path(pod) {
            return;
        }
        let doc = cx.doc();
        for c in &pod.containers {
            for mount in mounts(doc, c) {
                let Some((volume, host)) = mounted_host_path(pod, &mount) else {
                    continue;
                };
                let Some((path_node, path)) = host.path else {
                    continue;
                };
                if !cx.settings.sensitive_paths.iter().any(|p| p == path) {
                    continue;
                }
                let mount_path = doc
                    .get(mount.node, "mountPath")
                    .and_then(|n| doc.str(n))
                    .unwrap_or("");
                let allow = KubeauditOverride::container(
                    format!("allow-host-path-mount-{}", mount.name),
                    c,
                );
                let volume_path = volume.path(pod).keys(&["hostPath", "path"]);
                cx.report(mount.node, mount.path(c))
                    .container(c)
                    .message(format!(
                        "{} mounts the sensitive host path `{path}` (volume `{}`) at `{mount_path}`",
                        c.describe(),
                        mount.name
                    ))
                    .remediation(format!(
                        "remove the mount and the `hostPath` volume `{}`; pass what the \
                         container needs through a ConfigMap, a Secret or an `emptyDir`",
                        mount.name
                    ))
                    .kubeaudit("SensitivePathsMounted")
                    .pss(PssLevel::Baseline, "HostPath Volumes")
                    .related(
                        format!("volume `{}` is the host path `{path}`", volume.name),
                        path_node,
                        volume_path,
                    )
                    .kubeaudit_override(allow);
            }
        }
    }
}
