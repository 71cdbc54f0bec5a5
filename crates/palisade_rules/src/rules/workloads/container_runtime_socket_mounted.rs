use super::host_access::{has_host_path, mounted_host_path, mounts, normalize_path};
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags containers that mount a container runtime socket of the node (Docker,
    /// containerd, CRI-O, cri-dockerd, Podman, k3s), or a folder that holds one such as
    /// `/var/run`, `/run/containerd` or `/`. Paths are compared after removing repeated and trailing
    /// slashes; a mount's `subPath` narrows the path it exposes. There is one finding per
    /// container and mount: the mount is what gives the container access.
    ///
    /// ## Why is this bad?
    /// Whoever talks to the runtime socket controls the node's container runtime: it can start
    /// a privileged container with the host's root file system mounted, read the environment
    /// and files of every container on the node and pull or push images with the node's
    /// credentials. No securityContext setting confines it, so mounting the socket is
    /// equivalent to root on the node.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   containers:
    ///     - name: builder
    ///       volumeMounts:
    ///         - name: docker
    ///           mountPath: /var/run/docker.sock
    ///   volumes:
    ///     - name: docker
    ///       hostPath:
    ///         path: /var/run/docker.sock
    /// ```
    ///
    /// ## Use instead
    /// Build images without a daemon (BuildKit rootless, Kaniko, Buildah) and read container
    /// metadata through the Kubernetes API. Node agents that must reach the runtime belong in
    /// a dedicated namespace with their own admission policy.
    ///
    /// ## References
    /// - Pod Security Standards, baseline: HostPath Volumes
    /// - OWASP Docker Security Cheat Sheet, rule 1: do not expose the Docker daemon socket
    pub ContainerRuntimeSocketMounted {
        code: "WKL014",
        name: "container-runtime-socket-mounted",
        section: Workloads,
        severity: Critical,
        summary: "Container mounts the node's container runtime socket",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

/// The container runtime sockets of a node, with the runtime each belongs to.
const RUNTIME_SOCKETS: &[(&str, &str)] = &[
    ("/var/run/docker.sock", "Docker"),
    ("/run/docker.sock", "Docker"),
    ("/var/run/containerd/containerd.sock", "containerd"),
    ("/run/containerd/containerd.sock", "containerd"),
    ("/var/run/crio/crio.sock", "CRI-O"),
    ("/run/crio/crio.sock", "CRI-O"),
    ("/var/run/cri-dockerd.sock", "cri-dockerd"),
    ("/run/podman/podman.sock", "Podman"),
    ("/var/run/podman/podman.sock", "Podman"),
    // The containerd that older Docker releases run for themselves, and the one of k3s.
    ("/var/run/docker/containerd/containerd.sock", "containerd"),
    ("/run/docker/containerd/containerd.sock", "containerd"),
    ("/run/k3s/containerd/containerd.sock", "containerd"),
];

/// The first runtime socket that `path` (normalised, absolute) is, or holds as a parent folder.
fn socket_under(path: &str) -> Option<(&'static str, &'static str)> {
    RUNTIME_SOCKETS.iter().copied().find(|(socket, _)| {
        *socket == path
            || path == "/"
            || socket
                .strip_prefix(path)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

impl Rule for ContainerRuntimeSocketMounted {
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
                let Some((path_node, host_path)) = host.path else {
                    continue;
                };
                if !host_path.starts_with('/') {
                    continue;
                }
                // A subPath exposes only that part of the volume.
                let sub_path = doc
                    .get(mount.node, "subPath")
                    .and_then(|n| doc.str(n))
                    .filter(|s| !s.is_empty());
                let exposed = match sub_path {
                    Some(sub) => normalize_path(&format!("{host_path}/{sub}")),
                    None => normalize_path(host_path),
                };
                let Some((socket, runtime)) = socket_under(&exposed) else {
                    continue;
                };
                let what = if exposed == socket {
                    format!("the {runtime} runtime socket `{socket}`")
                } else {
                    // Which runtime the node runs is not known from the manifest: name the
                    // sockets such a folder holds, not one runtime.
                    format!(
                        "the host folder `{exposed}`, where container runtime sockets live \
                         (such as `{socket}`)"
                    )
                };
                let volume_path = volume.path(pod).keys(&["hostPath", "path"]);
                cx.report(mount.node, mount.path(c))
                    .container(c)
                    .message(format!(
                        "{} mounts {what}: it can start privileged containers and take over the \
                         node",
                        c.describe()
                    ))
                    .remediation(format!(
                        "remove the mount of volume `{}`; build images without a daemon and read \
                         container metadata through the Kubernetes API",
                        mount.name
                    ))
                    .pss(PssLevel::Baseline, "HostPath Volumes")
                    .related(
                        format!("volume `{}` is the host path `{host_path}`", volume.name),
                        path_node,
                        volume_path,
                    );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::socket_under;

    #[test]
    fn sockets_and_their_folders() {
        assert_eq!(
            socket_under("/var/run/docker.sock").map(|s| s.0),
            Some("/var/run/docker.sock")
        );
        assert_eq!(
            socket_under("/run/containerd").map(|s| s.0),
            Some("/run/containerd/containerd.sock")
        );
        assert_eq!(socket_under("/var/run").map(|s| s.1), Some("Docker"));
        assert_eq!(socket_under("/var/run/crio").map(|s| s.1), Some("CRI-O"));
        assert!(socket_under("/var/run/secrets").is_none());
        assert_eq!(
            socket_under("/var/run/docker").map(|s| s.0),
            Some("/var/run/docker/containerd/containerd.sock")
        );
        assert_eq!(socket_under("/").map(|s| s.1), Some("Docker"));
        assert!(socket_under("/var/run/dock").is_none());
        assert!(socket_under("/var/run/docker.sock.bak").is_none());
        assert!(socket_under("/var/lib/docker").is_none());
    }
}
