use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Reads the `kube-apiserver` static pods in `kube-system` (kubeadm-style clusters, where the
    /// control plane runs as pods) and checks `--authorization-mode`:
    ///
    /// - `AlwaysAllow` among the modes (`critical`): every authenticated request is allowed;
    /// - `Node` or `RBAC` missing (`high`).
    ///
    /// A `--authorization-config` file (structured authorization) is accepted as configured: its
    /// content is on the control-plane node (`palisade node` checks it there).
    ///
    /// ## Why is this bad?
    /// Without RBAC every authenticated identity, including every pod's ServiceAccount token, may
    /// do anything. Without the Node authorizer (and the NodeRestriction admission plugin), a kubelet's
    /// credentials read every Secret of the cluster rather than those of its own pods.
    ///
    /// ## Example
    /// ```yaml
    /// - --authorization-mode=AlwaysAllow
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// - --authorization-mode=Node,RBAC
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/reference/access-authn-authz/authorization/
    /// - CIS Kubernetes Benchmark 1.2.6-1.2.8
    pub ApiserverAuthorizationMode {
        code: "CMP022",
        name: "apiserver-authorization-mode",
        section: Components,
        severity: Critical,
        summary: "kube-apiserver does not authorize with Node and RBAC, or allows every request",
        kubeaudit: None,
        status: Preview { since: "0.1.0" },
        default_enabled: true,
        input: Cluster,
    }
}

impl Rule for ApiserverAuthorizationMode {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    /// Found by `palisade cluster` (crate `palisade_cluster`), not in objects.
    fn check(&self, _cx: &mut Checker<'_, '_>) {}
}
