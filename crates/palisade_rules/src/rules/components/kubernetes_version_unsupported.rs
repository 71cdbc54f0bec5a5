use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Compares the API server's version (`/version`) with palisade's table of Kubernetes
    /// releases (`crates/palisade_cluster/data/kubernetes-releases.tsv`: each minor release, its
    /// end-of-life date and its latest patch):
    ///
    /// - the minor release has reached its end of life (`high`);
    /// - it reaches it within 90 days (`medium`);
    /// - a newer patch of the same minor release exists (`low`).
    ///
    /// Distribution suffixes (`v1.36.4-eks-1234`, `+k3s1`) are ignored.
    ///
    /// ## Why is this bad?
    /// Releases past their end of life get no security fixes: every CVE fixed upstream after that
    /// date stays open on the cluster. Patch releases carry the security fixes of a minor release.
    ///
    /// ## Example
    /// ```text
    /// Server Version: v1.31.4   # end of life 2025-10-28
    /// ```
    ///
    /// ## Use instead
    /// ```text
    /// Server Version: v1.37.2   # within the supported window, latest patch
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/releases/
    /// - https://kubernetes.io/releases/patch-releases/
    pub KubernetesVersionUnsupported {
        code: "CMP020",
        name: "kubernetes-version-unsupported",
        section: Components,
        severity: High,
        summary: "API server runs a Kubernetes release past its end of life, or behind its latest patch",
        kubeaudit: None,
        status: Preview { since: "0.1.0" },
        default_enabled: true,
        input: Cluster,
    }
}

impl Rule for KubernetesVersionUnsupported {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    /// Found by `palisade cluster` (crate `palisade_cluster`), not in objects.
    fn check(&self, _cx: &mut Checker<'_, '_>) {}
}
