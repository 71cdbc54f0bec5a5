use palisade_diagnostics::{ContainerKind, ContainerRef};
use palisade_yaml::NodeId;

use crate::{Entry, FieldPath, Object};

/// Where a workload kind keeps its pod spec and the pod-level metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodSpecShape {
    pub spec: &'static [&'static str],
    pub metadata: &'static [&'static str],
}

const POD: PodSpecShape = PodSpecShape {
    spec: &["spec"],
    metadata: &["metadata"],
};
const POD_TEMPLATE: PodSpecShape = PodSpecShape {
    spec: &["template", "spec"],
    metadata: &["template", "metadata"],
};
const TEMPLATED: PodSpecShape = PodSpecShape {
    spec: &["spec", "template", "spec"],
    metadata: &["spec", "template", "metadata"],
};
const CRON_JOB: PodSpecShape = PodSpecShape {
    spec: &["spec", "jobTemplate", "spec", "template", "spec"],
    metadata: &["spec", "jobTemplate", "spec", "template", "metadata"],
};

/// The pod spec location of every workload kind, in every API group the Kubernetes API has
/// served it from (and the two common controllers that embed a pod template).
pub fn pod_spec_shape(group: &str, kind: &str) -> Option<PodSpecShape> {
    match (group, kind) {
        ("", "Pod") => Some(POD),
        ("", "PodTemplate") => Some(POD_TEMPLATE),
        ("", "ReplicationController")
        | ("apps" | "extensions", "Deployment" | "DaemonSet" | "ReplicaSet")
        | ("apps", "StatefulSet")
        | ("batch", "Job")
        | ("apps.openshift.io", "DeploymentConfig")
        | ("argoproj.io", "Rollout") => Some(TEMPLATED),
        ("batch", "CronJob") => Some(CRON_JOB),
        _ => None,
    }
}

/// One container of a pod spec.
#[derive(Clone, Debug)]
pub struct Container<'d> {
    pub node: NodeId,
    pub kind: ContainerKind,
    /// Index in its own list (`containers`, `initContainers` or `ephemeralContainers`).
    pub index: usize,
    pub name: &'d str,
    pub path: FieldPath,
}

impl Container<'_> {
    pub fn to_ref(&self) -> ContainerRef {
        ContainerRef {
            name: self.name.to_owned(),
            kind: self.kind,
        }
    }

    /// How messages name the container: `container "app"`, `init container "setup"`.
    pub fn describe(&self) -> String {
        let what = match self.kind {
            ContainerKind::Container => "container",
            ContainerKind::InitContainer => "init container",
            ContainerKind::EphemeralContainer => "ephemeral container",
        };
        format!("{what} `{}`", self.name)
    }
}

/// Whether a setting came from the container or was inherited from the pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecurityLevel {
    Container,
    Pod,
}

/// A security setting and where it is set.
#[derive(Clone, Debug)]
pub struct SecurityField {
    pub node: NodeId,
    pub level: SecurityLevel,
    pub path: FieldPath,
}

/// The pod spec of a workload, with its containers in order: containers, initContainers,
/// ephemeralContainers.
#[derive(Clone)]
pub struct PodSpec<'d> {
    pub object: Object<'d>,
    pub shape: PodSpecShape,
    /// The pod spec node; `None` when the workload has no spec at that path.
    pub node: Option<NodeId>,
    pub path: FieldPath,
    /// The pod-level metadata: the template's for workloads, the Pod's own for a Pod.
    pub metadata: Option<NodeId>,
    pub metadata_path: FieldPath,
    pub containers: Vec<Container<'d>>,
}

impl<'d> PodSpec<'d> {
    /// The pod spec of a workload object, or `None` for kinds that have none.
    pub fn of(object: &Object<'d>) -> Option<Self> {
        let shape = pod_spec_shape(object.group(), object.kind)?;
        let doc = object.doc;
        let node = object.get(shape.spec).filter(|&n| doc.is_mapping(n));
        let path = object.path(shape.spec);
        let mut containers = Vec::new();
        if let Some(spec) = node {
            for kind in [
                ContainerKind::Container,
                ContainerKind::InitContainer,
                ContainerKind::EphemeralContainer,
            ] {
                let Some(list) = doc.get(spec, kind.field()) else {
                    continue;
                };
                for (index, &c) in doc.items(list).iter().enumerate() {
                    // A strategic-merge directive of a kustomize patch (`- $patch: replace`,
                    // or a container with `$patch: delete`): not a container that will run.
                    if !doc.is_mapping(c) || doc.get(c, "$patch").is_some() {
                        continue;
                    }
                    let name = doc
                        .get(c, "name")
                        .and_then(|n| doc.text_of(n))
                        .unwrap_or("");
                    containers.push(Container {
                        node: c,
                        kind,
                        index,
                        name,
                        path: path.key(kind.field()).index(index),
                    });
                }
            }
        }
        Some(Self {
            object: object.clone(),
            shape,
            node,
            path,
            metadata: object.get(shape.metadata),
            metadata_path: object.path(shape.metadata),
            containers,
        })
    }

    pub fn doc(&self) -> &'d palisade_yaml::Document<'d> {
        self.object.doc
    }

    /// A field of the pod spec itself.
    pub fn field(&self, keys: &[&str]) -> Option<(NodeId, FieldPath)> {
        let node = self.doc().path(self.node?, keys)?;
        Some((node, self.path.keys(keys)))
    }

    pub fn pod_labels(&self) -> Vec<Entry<'d>> {
        self.object.string_map(self.metadata, "labels")
    }

    pub fn pod_annotations(&self) -> Vec<Entry<'d>> {
        self.object.string_map(self.metadata, "annotations")
    }

    /// The value of a pod-level annotation.
    pub fn pod_annotation(&self, key: &str) -> Option<Entry<'d>> {
        self.pod_annotations()
            .into_iter()
            .rev()
            .find(|e| e.key == key)
    }

    /// A field of the container's own `securityContext`.
    pub fn container_security(&self, c: &Container<'d>, keys: &[&str]) -> Option<SecurityField> {
        let doc = self.doc();
        let sc = doc.get(c.node, "securityContext")?;
        let node = doc.path(sc, keys)?;
        (!doc.is_null(node)).then(|| SecurityField {
            node,
            level: SecurityLevel::Container,
            path: c.path.key("securityContext").keys(keys),
        })
    }

    /// A field of the pod's `securityContext`.
    pub fn pod_security(&self, keys: &[&str]) -> Option<SecurityField> {
        let doc = self.doc();
        let sc = doc.get(self.node?, "securityContext")?;
        let node = doc.path(sc, keys)?;
        (!doc.is_null(node)).then(|| SecurityField {
            node,
            level: SecurityLevel::Pod,
            path: self.path.key("securityContext").keys(keys),
        })
    }

    /// The effective value of a setting that the pod's securityContext provides as a default
    /// (runAsUser, runAsNonRoot, seccompProfile, appArmorProfile, seLinuxOptions, …): the
    /// container's own value wins, as the kubelet resolves it.
    pub fn effective_security(&self, c: &Container<'d>, keys: &[&str]) -> Option<SecurityField> {
        self.container_security(c, keys)
            .or_else(|| self.pod_security(keys))
    }

    /// A container's image, when it is a non-empty string that names an image: build
    /// placeholders such as `ko://…` are replaced before deployment, so they are not judged.
    pub fn image(&self, c: &Container<'d>) -> Option<(NodeId, &'d str)> {
        let doc = self.doc();
        let node = doc.get(c.node, "image")?;
        let image = doc.str(node).filter(|s| !s.trim().is_empty())?;
        (!crate::is_build_reference(image)).then_some((node, image))
    }

    /// The node a finding about a missing container field should point at, with its path: the
    /// deepest existing part of `keys` under the container.
    ///
    /// The node is the key of the deepest field that exists with a value (`securityContext`
    /// in `securityContext: {runAsUser: 1}` when `allowPrivilegeEscalation` is missing), or
    /// the container itself when even the first key is missing: never a sibling's line. A
    /// field that exists is reported at its value.
    pub fn nearest(&self, c: &Container<'d>, keys: &[&str]) -> (NodeId, FieldPath, String) {
        let doc = self.doc();
        let mut at = c.node;
        let mut key_node = None;
        let mut depth = 0;
        for key in keys {
            match doc.get_entry(at, key) {
                Some((k, v)) if !doc.is_null(v) => {
                    key_node = Some(k);
                    at = v;
                    depth += 1;
                }
                _ => break,
            }
        }
        // A field that exists (with a wrong value) is reported at its value.
        let node = if depth == keys.len() {
            at
        } else {
            key_node.unwrap_or(c.node)
        };
        (node, c.path.keys(&keys[..depth]), keys[depth..].join("."))
    }
}
