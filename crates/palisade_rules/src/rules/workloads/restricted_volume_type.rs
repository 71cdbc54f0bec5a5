use palisade_yaml::Document;

use super::host_access::volumes;
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags pod volumes whose source is not one of the types the restricted level of the Pod
    /// Security Standards allows: `configMap`, `csi`, `downwardAPI`, `emptyDir`, `ephemeral`,
    /// `image` (allowed since Kubernetes 1.33), `persistentVolumeClaim`, `projected` and
    /// `secret`. `hostPath` volumes are left to [WKL013](WKL013.md), which reports them at
    /// the baseline level. Only the volume sources Kubernetes defines are reported; an unknown
    /// key is a schema error, not a volume type.
    ///
    /// ## Why is this bad?
    /// Inline volume sources such as `nfs`, `iscsi`, `rbd`, `cephfs`, `flexVolume` or `gitRepo`
    /// make the node mount storage chosen by whoever writes the pod, with the node's
    /// privileges and network access: an NFS server of the attacker's choice, a block device
    /// of another tenant, a driver binary on the node (`flexVolume`), a `git` checkout run as
    /// root on the node (`gitRepo`). The restricted level keeps that decision with the cluster
    /// administrator, through PersistentVolumes and CSI drivers.
    ///
    /// ## Example
    /// ```yaml
    /// volumes:
    ///   - name: shared
    ///     nfs:
    ///       server: nfs.example.com
    ///       path: /exports/shared
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// volumes:
    ///   - name: shared
    ///     persistentVolumeClaim:
    ///       claimName: shared   # bound to a PersistentVolume the administrator defines
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, restricted: Volume Types
    pub RestrictedVolumeType {
        code: "WKL026",
        name: "restricted-volume-type",
        section: Workloads,
        severity: Low,
        summary: "Pod uses a volume type the restricted level forbids",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

/// The inline volume sources the restricted level forbids (`hostPath` aside).
const RESTRICTED_SOURCES: &[&str] = &[
    "awsElasticBlockStore",
    "azureDisk",
    "azureFile",
    "cephfs",
    "cinder",
    "fc",
    "flexVolume",
    "flocker",
    "gcePersistentDisk",
    "gitRepo",
    "glusterfs",
    "iscsi",
    "nfs",
    "photonPersistentDisk",
    "portworxVolume",
    "quobyte",
    "rbd",
    "scaleIO",
    "storageos",
    "vsphereVolume",
];

/// The first restricted source of a volume mapping, following `<<` merge keys, with its key
/// node. A null value is an unset field.
fn restricted_source<'d>(
    doc: &'d Document<'d>,
    map: NodeId,
    depth: u8,
) -> Option<(NodeId, &'d str)> {
    for &(key, value) in doc.entries(map) {
        let Some(name) = doc.text_of(key) else {
            continue;
        };
        if name == "<<" && depth < 4 {
            let sources: &[NodeId] = if doc.is_sequence(value) {
                doc.items(value)
            } else {
                std::slice::from_ref(&value)
            };
            if let Some(hit) = sources
                .iter()
                .find_map(|&s| restricted_source(doc, s, depth + 1))
            {
                return Some(hit);
            }
        } else if !doc.is_null(value)
            && let Some(&source) = RESTRICTED_SOURCES.iter().find(|&&s| s == name)
        {
            return Some((key, source));
        }
    }
    None
}

impl Rule for RestrictedVolumeType {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        let doc = cx.doc();
        for volume in volumes(pod) {
            let Some((key, source)) = restricted_source(doc, volume.node, 0) else {
                continue;
            };
            cx.report(key, volume.path(pod).key(source))
                .message(format!(
                    "volume `{}` is of type `{source}`, which the restricted level forbids",
                    volume.name
                ))
                .remediation(
                    "use a PersistentVolumeClaim bound to a PersistentVolume (or a CSI driver) \
                     the cluster administrator provides",
                )
                .pss(PssLevel::Restricted, "Volume Types");
        }
    }
}
