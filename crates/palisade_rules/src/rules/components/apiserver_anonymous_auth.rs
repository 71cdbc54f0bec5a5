use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Reads the `kube-apiserver` static pods in `kube-system` and reports `--anonymous-auth`
    /// left at its default (`true`) or set to `true`, unless an `--authentication-config` file is
    /// given (it may restrict anonymous access to health endpoints, which `palisade node` checks on
    /// the node).
    ///
    /// Whether anonymous requests are actually refused is probed by
    /// `anonymous-request-allowed` (CMP029).
    ///
    /// ## Why is this bad?
    /// Anonymous requests are authenticated as `system:anonymous`: one careless binding to
    /// `system:unauthenticated` or `system:anonymous` then opens the cluster to anyone who reaches the
    /// API server.
    ///
    /// ## Example
    /// ```yaml
    /// - --anonymous-auth=true
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// - --anonymous-auth=false
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/reference/access-authn-authz/authentication/#anonymous-requests
    /// - CIS Kubernetes Benchmark 1.2.1
    pub ApiserverAnonymousAuth {
        code: "CMP023",
        name: "apiserver-anonymous-auth",
        section: Components,
        severity: Medium,
        summary: "kube-apiserver accepts anonymous requests (`--anonymous-auth` is not false)",
        kubeaudit: None,
        status: Preview { since: "0.1.0" },
        default_enabled: true,
        input: Cluster,
    }
}

impl Rule for ApiserverAnonymousAuth {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    /// Found by `palisade cluster` (crate `palisade_cluster`), not in objects.
    fn check(&self, _cx: &mut Checker<'_, '_>) {}
}
