//! Reading helpers shared by the AppArmor, seccomp, service-account and resource rules:
//! pod-level locations, annotation maps, profile types and resource quantities.

use palisade_diagnostics::ContainerKind;
use palisade_k8s::{Container, Entry, FieldPath, PodSpec, Quantity};
use palisade_yaml::{Document, NodeId, Resolved};

/// The AppArmor annotation prefix; the container name follows it.
pub(crate) const APPARMOR_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

/// The deprecated seccomp annotation for the whole pod.
pub(crate) const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";

/// The deprecated seccomp annotation prefix for one container.
pub(crate) const SECCOMP_CONTAINER_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";

/// The entries of a string map (`annotations`, `labels`) under `metadata`, without allocating.
pub(crate) fn map_entries<'d>(
    doc: &'d Document<'d>,
    metadata: Option<NodeId>,
    field: &str,
) -> impl Iterator<Item = Entry<'d>> + 'd {
    let map = metadata.and_then(|m| doc.get(m, field));
    map.map(|m| doc.entries(m))
        .unwrap_or(&[])
        .iter()
        .filter_map(move |&(k, v)| {
            Some(Entry {
                key: doc.text_of(k)?,
                value: doc.text_of(v),
                key_node: k,
                value_node: v,
            })
        })
}

/// The AppArmor annotation of one container in the pod-level annotations, if any.
pub(crate) fn apparmor_annotation<'d>(pod: &PodSpec<'d>, container: &str) -> Option<Entry<'d>> {
    map_entries(pod.doc(), pod.metadata, "annotations")
        .filter(|e| e.key.strip_prefix(APPARMOR_PREFIX) == Some(container))
        .last()
}

/// The field path of a pod-level annotation.
pub(crate) fn annotation_path(pod: &PodSpec<'_>, key: &str) -> FieldPath {
    pod.metadata_path.key("annotations").key(key)
}

/// The container an AppArmor annotation key names: the text after the prefix, up to the next
/// `/`. `None` when the key does not have the prefix.
pub(crate) fn apparmor_container(key: &str) -> Option<&str> {
    let rest = key.strip_prefix(APPARMOR_PREFIX)?;
    Some(rest.split('/').next().unwrap_or(rest))
}

/// Whether the pod declares `spec.os.name: windows`: AppArmor and seccomp do not exist there,
/// and the Pod Security Standards exempt such pods from those controls.
pub(crate) fn is_windows(pod: &PodSpec<'_>) -> bool {
    pod.field(&["os", "name"])
        .and_then(|(n, _)| pod.doc().str(n))
        .is_some_and(|s| s == "windows")
}

/// The key node `spec` of the pod spec, where findings about the pod spec as a whole point.
pub(crate) fn pod_spec_key(pod: &PodSpec<'_>) -> Option<NodeId> {
    let doc = pod.doc();
    let (last, parents) = pod.shape.spec.split_last()?;
    let parent = doc.path(pod.object.node, parents)?;
    doc.get_entry(parent, last).map(|(k, _)| k)
}

/// Where a finding about a missing pod-level field points: the key of the deepest part of
/// `keys` that exists under the pod spec (the `spec` key itself when none does), its path, and
/// the path of what is missing below it. `None` when the object has no pod spec.
pub(crate) fn pod_nearest(pod: &PodSpec<'_>, keys: &[&str]) -> Option<(NodeId, FieldPath, String)> {
    let (key, depth) = deepest_key(pod.doc(), pod.node?, keys);
    let anchor = match key {
        Some(k) => k,
        None => pod_spec_key(pod)?,
    };
    Some((
        anchor,
        pod.path.keys(&keys[..depth]),
        keys[depth..].join("."),
    ))
}

/// Where a finding about a missing container field points: like [`PodSpec::nearest`], but at
/// the key of the deepest existing field (`securityContext:`), whose line names it, rather
/// than at its value, whose first line is some other field. The container itself when none
/// of `keys` exists.
pub(crate) fn container_nearest(
    pod: &PodSpec<'_>,
    c: &Container<'_>,
    keys: &[&str],
) -> (NodeId, FieldPath, String) {
    let (key, depth) = deepest_key(pod.doc(), c.node, keys);
    (
        key.unwrap_or(c.node),
        c.path.keys(&keys[..depth]),
        keys[depth..].join("."),
    )
}

/// Follows `keys` from `from` while they exist with a non-null value: the key node of the
/// last one found (`None` when the first is missing) and how many were found.
fn deepest_key(doc: &Document<'_>, from: NodeId, keys: &[&str]) -> (Option<NodeId>, usize) {
    let mut node = from;
    let mut found = None;
    let mut depth = 0;
    for key in keys {
        match doc.get_entry(node, key) {
            Some((k, v)) if !doc.is_null(v) => {
                found = Some(k);
                node = v;
                depth += 1;
            }
            _ => break,
        }
    }
    (found, depth)
}

/// How a seccomp or AppArmor profile `type` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProfileType<'d> {
    RuntimeDefault,
    Localhost,
    Unconfined,
    /// Any other string, which the API server rejects.
    Invalid(&'d str),
    /// No `type` (or a null one): the API server requires it.
    Missing,
}

impl ProfileType<'_> {
    /// A profile that confines the container: `RuntimeDefault` or `Localhost`.
    pub(crate) fn is_enabled(self) -> bool {
        matches!(self, ProfileType::RuntimeDefault | ProfileType::Localhost)
    }
}

/// A `seccompProfile` or `appArmorProfile` mapping, read. `None` when the profile is absent,
/// null, not a mapping, or its `type` has a type the API server rejects (not a string): such
/// a value is left to the rule that reports type errors.
pub(crate) fn profile_type<'d>(doc: &'d Document<'d>, profile: NodeId) -> Option<ProfileType<'d>> {
    if !doc.is_mapping(profile) {
        return None;
    }
    let Some(ty) = doc.get(profile, "type").filter(|&t| !doc.is_null(t)) else {
        return Some(ProfileType::Missing);
    };
    let text = doc.str(ty)?;
    Some(match text {
        "RuntimeDefault" => ProfileType::RuntimeDefault,
        "Localhost" => ProfileType::Localhost,
        "Unconfined" => ProfileType::Unconfined,
        other => ProfileType::Invalid(other),
    })
}

/// The container kinds whose `resources` the API server accepts: ephemeral containers may not
/// set resources.
pub(crate) fn has_resources(c: &Container<'_>) -> bool {
    c.kind != ContainerKind::EphemeralContainer
}

/// A resource amount as written in `resources.limits` or `resources.requests`.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Amount<'d> {
    /// A valid, non-negative quantity, with its text.
    Valid(Quantity, &'d str),
    /// A value the API server rejects: not a quantity, negative, or not a scalar.
    Invalid(&'d str),
}

/// One resource (`cpu`, `memory`) of a `limits` or `requests` map: its value node and
/// reading.
pub(crate) struct ResourceValue<'d> {
    pub node: NodeId,
    pub amount: Amount<'d>,
}

/// Reads `resources.<list>.<resource>` under `owner` (a container or the pod spec). `None`
/// when the map or the entry is absent or null.
pub(crate) fn resource_value<'d>(
    doc: &'d Document<'d>,
    owner: NodeId,
    list: &str,
    resource: &str,
) -> Option<ResourceValue<'d>> {
    let node = doc.path(owner, &["resources", list, resource])?;
    if doc.is_null(node) {
        return None;
    }
    Some(ResourceValue {
        node,
        amount: read_amount(doc, node),
    })
}

/// The path of `resources.<list>.<resource>` under `owner`.
pub(crate) fn resource_path(owner: &FieldPath, list: &str, resource: &str) -> FieldPath {
    owner.keys(&["resources", list, resource])
}

/// Whether `resources.<list>` is present and not null under `owner`.
pub(crate) fn has_resource_list(doc: &Document<'_>, owner: NodeId, list: &str) -> bool {
    doc.path(owner, &["resources", list])
        .is_some_and(|n| !doc.is_null(n))
}

fn read_amount<'d>(doc: &'d Document<'d>, node: NodeId) -> Amount<'d> {
    let text = doc.text_of(node).unwrap_or_else(|| doc.source(node));
    let parsed = match doc.resolved(node) {
        Some(Resolved::Str | Resolved::Float(_)) => Quantity::parse(text),
        Some(Resolved::Int(i)) => Quantity::parse(&i.to_string()),
        _ => None,
    };
    match parsed {
        Some(q) if q.millis() >= 0 => Amount::Valid(q, text),
        _ => Amount::Invalid(text),
    }
}

/// A CPU quantity in canonical form: whole cores, or millicores.
pub(crate) fn format_cpu(q: Quantity) -> String {
    let m = q.millis();
    if m % 1000 == 0 {
        format!("{}", m / 1000)
    } else {
        format!("{m}m")
    }
}

/// A memory quantity in canonical form: the largest binary suffix that divides it exactly,
/// plain bytes otherwise.
pub(crate) fn format_memory(q: Quantity) -> String {
    let m = q.millis();
    if m % 1000 != 0 {
        return format!("{m}m");
    }
    let bytes = m / 1000;
    for (suffix, shift) in [
        ("Ei", 60),
        ("Pi", 50),
        ("Ti", 40),
        ("Gi", 30),
        ("Mi", 20),
        ("Ki", 10),
    ] {
        let unit = 1i128 << shift;
        if bytes != 0 && bytes % unit == 0 {
            return format!("{}{suffix}", bytes / unit);
        }
    }
    format!("{bytes}")
}

/// Memory in whole bytes, rounded up, as kubeaudit compares it.
pub(crate) fn whole_bytes(q: Quantity) -> i128 {
    let m = q.millis();
    (m + 999).div_euclid(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap()
    }

    #[test]
    fn formats_quantities() {
        assert_eq!(format_cpu(q("600m")), "600m");
        assert_eq!(format_cpu(q("2")), "2");
        assert_eq!(format_cpu(q("1.5")), "1500m");
        assert_eq!(format_memory(q("512Mi")), "512Mi");
        assert_eq!(format_memory(q("384")), "384");
        assert_eq!(format_memory(q("1G")), "1000000000");
        assert_eq!(format_memory(q("2048Ki")), "2Mi");
        assert_eq!(format_memory(q("500m")), "500m");
    }

    #[test]
    fn rounds_memory_up_to_bytes() {
        assert_eq!(whole_bytes(q("500m")), 1);
        assert_eq!(whole_bytes(q("384")), 384);
        assert_eq!(whole_bytes(q("1Ki")), 1024);
        assert_eq!(whole_bytes(q("0")), 0);
    }

    #[test]
    fn reads_apparmor_container_names() {
        assert_eq!(
            apparmor_container("container.apparmor.security.beta.kubernetes.io/app"),
            Some("app")
        );
        assert_eq!(
            apparmor_container("container.apparmor.security.beta.kubernetes.io/a/b"),
            Some("a")
        );
        assert_eq!(apparmor_container("kubernetes.io/app"), None);
    }
}
