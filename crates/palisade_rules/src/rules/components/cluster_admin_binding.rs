use super::rbac::{admin_rule, current_binding, is_system_subject, located_subjects};
use crate::inventory::BindingFact;
use crate::prelude::*;
use crate::rules::network::reach::cite;

declare_rule! {
    /// ## What it does
    /// Flags RoleBindings and ClusterRoleBindings that grant `cluster-admin`, or a role of
    /// the input that is equivalent to it (a rule with `*` verbs on `*` resources in `*`
    /// API groups, its own or aggregated from other ClusterRoles through
    /// `aggregationRule`), to subjects other than Kubernetes' own `system:` users and
    /// groups. One finding per subject, on the subject; the role's wildcard rule is cited.
    /// Through a ClusterRoleBinding the subject owns the cluster (`critical`); through a
    /// RoleBinding it owns the namespace, including its Secrets and RBAC (`high`).
    ///
    /// ## Why is this bad?
    /// Admin rights are the end of every escalation path. A controller or person holding
    /// them turns any compromise of that identity (a leaked kubeconfig, a vulnerable
    /// operator, a pod running as that service account) into a cluster takeover.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRoleBinding
    /// roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
    /// subjects:
    ///   - {kind: ServiceAccount, name: deployer, namespace: ci}
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// kind: RoleBinding
    /// metadata: {namespace: shop}
    /// roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
    /// subjects:
    ///   - {kind: ServiceAccount, name: deployer, namespace: ci}
    /// ```
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.1.1 (cluster-admin role is only used where required)
    /// - https://kubernetes.io/docs/concepts/security/rbac-good-practices/
    pub ClusterAdminBinding {
        code: "CMP003",
        name: "cluster-admin-binding",
        section: Components,
        severity: Critical,
        summary: "cluster-admin (or an equivalent role) bound to a non-system subject",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for ClusterAdminBinding {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        crate::inventory::collect(cx);
        let Some(binding) = current_binding(cx) else {
            return;
        };
        let severity = if binding.cluster {
            Severity::Critical
        } else {
            Severity::High
        };
        let mut candidates = Vec::new();
        let mut described = Vec::new();
        for (fact, node, path) in located_subjects(cx, &binding) {
            if is_system_subject(fact) {
                continue;
            }
            let f = cx
                .report(node, path)
                .severity(severity)
                .remediation(
                    "bind a role with only the permissions the subject needs (for example \
                     `edit` or `view` in one namespace), and keep admin rights to break-glass \
                     accounts",
                )
                .build();
            candidates.push(f);
            described.push(fact.describe());
        }
        if candidates.is_empty() {
            return;
        }
        cx.defer(candidates, move |estate, candidates| {
            decide(estate, &binding, described, candidates)
        });
    }
}

fn decide(
    estate: &crate::estate::Estate,
    binding: &BindingFact,
    described: Vec<String>,
    mut candidates: Vec<palisade_diagnostics::Finding>,
) -> Vec<palisade_diagnostics::Finding> {
    let inv = &estate.inventory;
    let Some(rule) = admin_rule(inv, binding) else {
        return Vec::new();
    };
    let scope = match binding.scope() {
        None => "the whole cluster".to_owned(),
        Some(ns) => format!("namespace `{ns}`"),
    };
    let role = if binding.role_cluster {
        "ClusterRole"
    } else {
        "Role"
    };
    for (f, who) in candidates.iter_mut().zip(described) {
        f.message = format!(
            "{} `{}` makes {who} an administrator of {scope}: {role} `{}` {}",
            binding.kind(),
            binding.name,
            binding.role_name,
            if rule.is_some() {
                "grants every verb on every resource"
            } else {
                "is the built-in superuser role"
            }
        );
        f.related.push(cite(
            &binding.loc,
            format!("the binding refers to {role} `{}`", binding.role_name),
        ));
        if let Some(r) = rule {
            f.related.push(cite(
                &r.loc,
                format!(
                    "this rule of {role} `{}` grants everything",
                    binding.role_name
                ),
            ));
        }
    }
    candidates
}
