use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Sends requests without credentials (same server and CA as the kubeconfig) to
    /// `/api/v1/namespaces` and `/api/v1/namespaces/default/secrets`. Any answer other than
    /// `401 Unauthorized` or `403 Forbidden` is reported: `critical` when data came back,
    /// `high` otherwise.
    ///
    /// Anonymous access to `/version`, `/healthz`, `/livez` and `/readyz` (the default
    /// `system:public-info-viewer` binding) is not reported.
    ///
    /// ## Why is this bad?
    /// Anyone who reaches the API server's port, from the internet if it is exposed, reads (or
    /// changes) what `system:anonymous` and `system:unauthenticated` were granted.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRoleBinding
    /// roleRef: {kind: ClusterRole, name: view}
    /// subjects: [{kind: Group, name: system:unauthenticated}]
    /// ```
    ///
    /// ## Use instead
    /// Remove the binding, and run the API server with `--anonymous-auth=false`.
    ///
    /// ## References
    /// - https://kubernetes.io/docs/reference/access-authn-authz/authentication/#anonymous-requests
    pub AnonymousRequestAllowed {
        code: "CMP029",
        name: "anonymous-request-allowed",
        section: Components,
        severity: Critical,
        summary: "The API server answers anonymous requests for cluster data",
        kubeaudit: None,
        status: Preview { since: "0.1.0" },
        default_enabled: true,
        input: Cluster,
    }
}

impl Rule for AnonymousRequestAllowed {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    /// Found by `palisade cluster` (crate `palisade_cluster`), not in objects.
    fn check(&self, _cx: &mut Checker<'_, '_>) {}
}
