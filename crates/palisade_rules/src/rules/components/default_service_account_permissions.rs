use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// For each audited namespace, asks the API server what its `default` ServiceAccount may do,
    /// whoever granted it (RBAC, a webhook authorizer, a group binding):
    ///
    /// - SubjectAccessReviews of `get secrets`, `list secrets` and `create pods/exec` in the
    ///   namespace: allowed is `high`;
    /// - a SubjectAccessReview-based scan of the other common verbs and resources (pods, services,
    ///   configmaps, deployments, roles, bindings, …): any allowed is `medium`, listing what is
    ///   allowed.
    ///
    /// The permissions every authenticated identity has (discovery, `selfsubjectreviews`, …) are
    /// not reported. Needs `create subjectaccessreviews`.
    ///
    /// ## Why is this bad?
    /// Every pod that names no ServiceAccount runs as `default`, with its token mounted by default:
    /// whatever `default` may do, every such pod's code (and whoever compromises it) may do.
    ///
    /// ## Example
    /// ```yaml
    /// kind: RoleBinding
    /// subjects: [{kind: ServiceAccount, name: default, namespace: shop}]
    /// roleRef: {kind: Role, name: secret-reader}
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// kind: RoleBinding
    /// subjects: [{kind: ServiceAccount, name: billing, namespace: shop}]
    /// roleRef: {kind: Role, name: secret-reader}
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/reference/access-authn-authz/rbac/#service-account-permissions
    pub DefaultServiceAccountPermissions {
        code: "CMP028",
        name: "default-service-account-permissions",
        section: Components,
        severity: High,
        summary: "A namespace's default ServiceAccount can read Secrets, exec into pods, or do more than discovery (probed with SubjectAccessReview)",
        kubeaudit: None,
        status: Preview { since: "0.1.0" },
        default_enabled: true,
        input: Cluster,
    }
}

impl Rule for DefaultServiceAccountPermissions {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    /// Found by `palisade cluster` (crate `palisade_cluster`), not in objects.
    fn check(&self, _cx: &mut Checker<'_, '_>) {}
}
