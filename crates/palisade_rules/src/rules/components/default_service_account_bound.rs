use super::rbac::{
    admin_rule, bound_role, cite_grant, current_binding, dangerous_in, located_subjects,
};
use crate::inventory::BindingFact;
use crate::prelude::*;
use crate::rules::network::reach::cite;

declare_rule! {
    /// ## What it does
    /// Flags RoleBindings and ClusterRoleBindings whose subjects include a namespace's
    /// `default` ServiceAccount. When the bound role is in the input (aggregated
    /// ClusterRoles resolved), the finding says what it grants and cites the rule: `high`
    /// when it is admin-equivalent or holds a permission that `dangerous-rbac-permission`
    /// reports (reading Secrets, exec, impersonation, …), `medium` otherwise.
    ///
    /// ## Why is this bad?
    /// Every pod of the namespace that names no ServiceAccount runs as `default`, so a
    /// permission granted to it is granted to all of them, present and future, usually with
    /// the token mounted. Give each workload that needs API access its own ServiceAccount.
    ///
    /// ## Example
    /// ```yaml
    /// kind: RoleBinding
    /// roleRef: {kind: Role, name: secret-reader}
    /// subjects:
    ///   - {kind: ServiceAccount, name: default, namespace: shop}
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// subjects:
    ///   - {kind: ServiceAccount, name: invoice-exporter, namespace: shop}
    /// ```
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.1.5 (default service accounts are not actively used)
    /// - https://kubernetes.io/docs/concepts/security/service-accounts/#default-service-accounts
    pub DefaultServiceAccountBound {
        code: "CMP006",
        name: "default-service-account-bound",
        section: Components,
        severity: High,
        summary: "A role is bound to a namespace's default ServiceAccount",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for DefaultServiceAccountBound {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        crate::inventory::collect(cx);
        let Some(binding) = current_binding(cx) else {
            return;
        };
        let mut candidates = Vec::new();
        let mut namespaces = Vec::new();
        // A subject named `default` has a `name`: its finding sits there.
        for (fact, node, path) in located_subjects(cx, &binding) {
            if fact.kind != "ServiceAccount" || fact.name != "default" {
                continue;
            }
            let f = cx
                .report(node, path)
                .remediation(
                    "create a ServiceAccount for the workload that needs these permissions, \
                     bind the role to it, and set `serviceAccountName` on that workload only",
                )
                .build();
            candidates.push(f);
            namespaces.push(
                fact.namespace
                    .clone()
                    .unwrap_or_else(|| "(its namespace)".to_owned()),
            );
        }
        if candidates.is_empty() {
            return;
        }
        cx.defer(candidates, move |estate, candidates| {
            decide(estate, &binding, namespaces, candidates)
        });
    }
}

fn decide(
    estate: &crate::estate::Estate,
    binding: &BindingFact,
    namespaces: Vec<String>,
    mut candidates: Vec<palisade_diagnostics::Finding>,
) -> Vec<palisade_diagnostics::Finding> {
    let inv = &estate.inventory;
    let role_kind = if binding.role_cluster {
        "ClusterRole"
    } else {
        "Role"
    };
    let mut grants = String::new();
    let mut severity = Severity::Medium;
    let mut related = vec![cite(
        &binding.loc,
        format!("the binding refers to {role_kind} `{}`", binding.role_name),
    )];
    if let Some(admin) = admin_rule(inv, binding) {
        severity = Severity::High;
        grants = ", which grants every verb on every resource".to_owned();
        if let Some(r) = admin {
            related.push(cite(&r.loc, "this rule grants everything"));
        }
    } else if let Some(role) = bound_role(inv, binding) {
        let mut whats: Vec<&str> = Vec::new();
        for (holder, rule) in inv.effective_rules(role) {
            let found = dangerous_in(rule);
            if found.is_empty() {
                continue;
            }
            severity = Severity::High;
            let list: Vec<&str> = found.iter().map(|d| d.what).collect();
            cite_grant(&mut related, &mut whats, holder, rule, list);
        }
        if !whats.is_empty() {
            grants = format!(", which lets it {}", whats.join(", "));
        }
    }
    let scope = match binding.scope() {
        None => "in every namespace".to_owned(),
        Some(ns) => format!("in namespace `{ns}`"),
    };
    for (f, ns) in candidates.iter_mut().zip(namespaces) {
        f.severity = severity.min(f.severity);
        f.message = format!(
            "{} `{}` binds the `default` ServiceAccount of namespace `{ns}` to {role_kind} \
             `{}`{grants}: every pod there that names no ServiceAccount holds it {scope}",
            binding.kind(),
            binding.name,
            binding.role_name,
        );
        f.related.extend(related.iter().cloned());
    }
    candidates
}
