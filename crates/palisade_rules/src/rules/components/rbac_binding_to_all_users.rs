use super::rbac::is_everyone;
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags RoleBindings and ClusterRoleBindings whose subjects include
    /// `system:anonymous` (requests without credentials), the group
    /// `system:unauthenticated` (the same) or the group `system:authenticated` (every user
    /// and service account of the cluster, and on some managed clusters any account of the
    /// cloud provider). Anonymous subjects are `critical`, `system:authenticated` is `high`.
    ///
    /// Bindings of the discovery roles Kubernetes itself binds to these groups
    /// (`system:discovery`, `system:basic-user`, `system:public-info-viewer`) are left
    /// alone, as is `system:service-account-issuer-discovery`, which exists to publish the
    /// public OIDC metadata of service account tokens to unauthenticated clients.
    ///
    /// ## Why is this bad?
    /// Whatever the role grants is granted to anyone who can reach the API server. Public
    /// clusters have been taken over through a single binding of `system:anonymous`, and
    /// `system:authenticated` on GKE once meant any Google account.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRoleBinding
    /// roleRef: {kind: ClusterRole, name: view}
    /// subjects:
    ///   - kind: Group
    ///     name: system:authenticated
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// subjects:
    ///   - kind: Group
    ///     name: platform-viewers
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/reference/access-authn-authz/rbac/#discovery-roles
    /// - CIS Kubernetes Benchmark 5.1.1 and 1.2.1 (anonymous access)
    pub RbacBindingToAllUsers {
        code: "CMP004",
        name: "rbac-binding-to-all-users",
        section: Components,
        severity: Critical,
        summary: "Role bound to system:anonymous, system:unauthenticated or system:authenticated",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

/// ClusterRoles Kubernetes binds to everyone by default.
const DISCOVERY_ROLES: &[&str] = &[
    "system:discovery",
    "system:basic-user",
    "system:public-info-viewer",
    "system:service-account-issuer-discovery",
];

impl Rule for RbacBindingToAllUsers {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let object = cx.object;
        if object.group() != "rbac.authorization.k8s.io"
            || !matches!(object.kind, "RoleBinding" | "ClusterRoleBinding")
        {
            return;
        }
        let doc = cx.doc();
        let role = object
            .get(&["roleRef", "name"])
            .and_then(|n| doc.text_of(n))
            .unwrap_or("");
        if DISCOVERY_ROLES.contains(&role) {
            return;
        }
        let Some(subjects) = object.get(&["subjects"]) else {
            return;
        };
        let binding = format!("{} `{}`", object.kind, object.name().unwrap_or("(unnamed)"));
        for (i, &s) in doc.items(subjects).iter().enumerate() {
            let Some(name_node) = doc.get(s, "name") else {
                continue;
            };
            let Some(name) = doc.text_of(name_node).filter(|n| is_everyone(n)) else {
                continue;
            };
            let (severity, who) = if name == "system:authenticated" {
                (
                    Severity::High,
                    "every authenticated user and service account",
                )
            } else {
                (Severity::Critical, "anyone, without credentials")
            };
            let path = object.path(&["subjects"]).index(i).key("name");
            cx.report(name_node, path)
                .severity(severity)
                .message(format!(
                    "{binding} grants role `{role}` to `{name}`: that is {who}"
                ))
                .remediation(
                    "bind the role to the users, groups or service accounts that need it, \
                     and remove this subject",
                );
        }
    }
}
