//! Shared by the host-access rules: the pod's host namespace flags, its volumes, their
//! `hostPath`, and the container mounts that use them.

use palisade_yaml::Document;

use crate::prelude::*;

/// One of the pod's host namespace flags (`hostNetwork`, `hostPID`, `hostIPC`).
pub(crate) struct HostNamespace {
    /// The pod spec field.
    pub field: &'static str,
    /// kubeaudit's result code when the flag is true.
    pub kubeaudit: &'static str,
    /// kubeaudit's override identifier (pod level only).
    pub override_id: &'static str,
    pub message: &'static str,
    pub remediation: &'static str,
}

/// Reports a host namespace flag set to true, once per pod spec. When it is false or unset, a
/// kubeaudit override label for it is redundant.
pub(crate) fn check_host_namespace(cx: &mut Checker<'_, '_>, ns: &HostNamespace) {
    let Some(pod) = cx.pod else { return };
    let allow = KubeauditOverride::pod(ns.override_id);
    match pod.field(&[ns.field]) {
        Some((node, path)) if cx.doc().bool(node) == Some(true) => {
            let fix = Fix::unsafe_(
                format!("set `{}: false`", ns.field),
                "the pod loses access to the node's namespace it may rely on",
                vec![Op::set(path.as_str(), false)],
            );
            cx.report(node, path)
                .fix(fix)
                .message(ns.message)
                .remediation(ns.remediation)
                .kubeaudit(ns.kubeaudit)
                .pss(PssLevel::Baseline, "Host Namespaces")
                .kubeaudit_override(allow);
        }
        _ => cx.override_checked(&allow),
    }
}

/// A volume of the pod spec.
#[derive(Clone, Copy)]
pub(crate) struct Volume<'d> {
    pub node: NodeId,
    pub index: usize,
    /// The volume's name; empty when missing or not a string.
    pub name: &'d str,
}

impl Volume<'_> {
    pub fn path(&self, pod: &PodSpec<'_>) -> FieldPath {
        pod.path.key("volumes").index(self.index)
    }
}

/// The volumes of the pod spec, in order (items that are not mappings are skipped).
pub(crate) fn volumes<'a, 'd>(pod: &'a PodSpec<'d>) -> impl Iterator<Item = Volume<'d>> + 'a {
    let doc = pod.doc();
    let items: &'d [NodeId] = pod
        .node
        .and_then(|spec| doc.get(spec, "volumes"))
        .map_or(&[], |list| doc.items(list));
    items
        .iter()
        .enumerate()
        .filter(move |&(_, &v)| doc.is_mapping(v))
        .map(move |(index, &node)| Volume {
            node,
            index,
            name: doc.get(node, "name").and_then(|n| doc.str(n)).unwrap_or(""),
        })
}

/// The `hostPath` of a volume, when it has one.
pub(crate) struct HostPath<'d> {
    /// The `hostPath` key node.
    pub key: NodeId,
    /// The `hostPath.path` value node and its text, when it is a string.
    pub path: Option<(NodeId, &'d str)>,
}

/// The volume's `hostPath` source; `None` when it has none (absent or null).
pub(crate) fn host_path<'d>(doc: &'d Document<'d>, volume: &Volume<'d>) -> Option<HostPath<'d>> {
    let (key, node) = doc.get_entry(volume.node, "hostPath")?;
    if doc.is_null(node) {
        return None;
    }
    let path = doc
        .get(node, "path")
        .and_then(|p| doc.str(p).map(|text| (p, text)));
    Some(HostPath { key, path })
}

/// Whether any volume of the pod is a `hostPath`: the cheap test the mount rules start with.
pub(crate) fn has_host_path(pod: &PodSpec<'_>) -> bool {
    let doc = pod.doc();
    volumes(pod).any(|v| host_path(doc, &v).is_some())
}

/// A `volumeMounts` entry of a container.
pub(crate) struct Mount<'d> {
    pub node: NodeId,
    pub index: usize,
    /// The name of the volume it mounts; empty when missing or not a string.
    pub name: &'d str,
}

impl Mount<'_> {
    pub fn path(&self, c: &Container<'_>) -> FieldPath {
        c.path.key("volumeMounts").index(self.index)
    }
}

/// The `volumeMounts` of a container, in order.
pub(crate) fn mounts<'d>(
    doc: &'d Document<'d>,
    c: &Container<'d>,
) -> impl Iterator<Item = Mount<'d>> + 'd {
    let items: &'d [NodeId] = doc
        .get(c.node, "volumeMounts")
        .map_or(&[], |list| doc.items(list));
    items
        .iter()
        .enumerate()
        .filter(move |&(_, &m)| doc.is_mapping(m))
        .map(move |(index, &node)| Mount {
            node,
            index,
            name: doc.get(node, "name").and_then(|n| doc.str(n)).unwrap_or(""),
        })
}

/// The volume a mount refers to, with its `hostPath`, when that volume is a `hostPath`.
pub(crate) fn mounted_host_path<'d>(
    pod: &PodSpec<'d>,
    mount: &Mount<'d>,
) -> Option<(Volume<'d>, HostPath<'d>)> {
    if mount.name.is_empty() {
        return None;
    }
    let doc = pod.doc();
    // Volume names are unique in a valid pod; the first match is the one the kubelet uses.
    let volume = volumes(pod).find(|v| v.name == mount.name)?;
    let host = host_path(doc, &volume)?;
    Some((volume, host))
}

/// A host path with repeated and trailing slashes removed (`//var/run/` → `/var/run`). A
/// relative path stays relative.
pub(crate) fn normalize_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for part in path.split('/').filter(|p| !p.is_empty()) {
        if !out.is_empty() || path.starts_with('/') {
            out.push('/');
        }
        out.push_str(part);
    }
    if out.is_empty() && path.starts_with('/') {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize_path;

    #[test]
    fn normalizes_slashes() {
        assert_eq!(normalize_path("/var/run/"), "/var/run");
        assert_eq!(
            normalize_path("//var//run///docker.sock"),
            "/var/run/docker.sock"
        );
        assert_eq!(normalize_path("/"), "/");
        assert_eq!(normalize_path("///"), "/");
        assert_eq!(normalize_path("relative//dir/"), "relative/dir");
    }
}
