use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Reads every Node's `status.nodeInfo.kubeletVersion` and reports:
    ///
    /// - a kubelet minor release past its end of life (`high`), or reaching it within 90 days
    ///   (`medium`);
    /// - a newer patch of the same minor release (`low`);
    /// - a kubelet newer than the API server, or more than three minor releases older
    ///   (`medium`): the version skew policy does not support it.
    ///
    /// Nodes running the same version are reported together, on the first node by name.
    ///
    /// ## Why is this bad?
    /// The kubelet runs every container of its node with root rights on the host: a kubelet
    /// without security fixes is a path from one pod to the node. Outside the skew policy, API
    /// features the control plane relies on (for example node authorization restrictions) may be
    /// missing.
    ///
    /// ## Example
    /// ```text
    /// node-a   Ready   v1.30.9
    /// ```
    ///
    /// ## Use instead
    /// ```text
    /// node-a   Ready   v1.37.2
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/releases/version-skew-policy/
    pub KubeletVersionUnsupported {
        code: "CMP021",
        name: "kubelet-version-unsupported",
        section: Components,
        severity: High,
        summary: "A node's kubelet runs an unsupported release, one behind its latest patch, or outside the version skew policy",
        kubeaudit: None,
        status: Preview { since: "0.1.0" },
        default_enabled: true,
        input: Cluster,
    }
}

impl Rule for KubeletVersionUnsupported {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    /// Found by `palisade cluster` (crate `palisade_cluster`), not in objects.
    fn check(&self, _cx: &mut Checker<'_, '_>) {}
}
