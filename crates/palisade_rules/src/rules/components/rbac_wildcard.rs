use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags the rules of Roles and ClusterRoles that use `*` in `verbs`, `resources` or
    /// `apiGroups` (and `nonResourceURLs`). The finding points at the first `*` of the rule
    /// and names every wildcard field. A rule with `*` verbs on `*` resources is `high`;
    /// a wildcard in one field only, or one limited by `resourceNames`, is `medium`;
    /// `nonResourceURLs: ["*"]` is `low` when limited to `get`.
    ///
    /// ## Why is this bad?
    /// A wildcard grants everything that exists now and everything added later: new
    /// resources of CRDs, new subresources, new verbs such as `escalate`. Roles written with
    /// wildcards routinely end up admin-equivalent; least privilege needs explicit lists.
    ///
    /// ## Example
    /// ```yaml
    /// rules:
    ///   - apiGroups: ["*"]
    ///     resources: ["*"]
    ///     verbs: ["*"]
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// rules:
    ///   - apiGroups: ["apps"]
    ///     resources: ["deployments"]
    ///     verbs: ["get", "list", "watch"]
    /// ```
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.1.3 (minimize wildcard use in Roles and ClusterRoles)
    /// - https://kubernetes.io/docs/concepts/security/rbac-good-practices/
    pub RbacWildcard {
        code: "CMP002",
        name: "rbac-wildcard",
        section: Components,
        severity: High,
        summary: "Role rule uses `*` in verbs, resources or apiGroups",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for RbacWildcard {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let object = cx.object;
        if object.group() != "rbac.authorization.k8s.io"
            || !matches!(object.kind, "Role" | "ClusterRole")
        {
            return;
        }
        let doc = cx.doc();
        let Some(rules) = object.get(&["rules"]) else {
            return;
        };
        let role = format!("{} `{}`", object.kind, object.name().unwrap_or("(unnamed)"));
        for (i, &rule) in doc.items(rules).iter().enumerate() {
            let mut first = None;
            let mut fields = Vec::new();
            for field in ["verbs", "resources", "apiGroups", "nonResourceURLs"] {
                let Some(list) = doc.get(rule, field) else {
                    continue;
                };
                if let Some((j, &n)) = doc
                    .items(list)
                    .iter()
                    .enumerate()
                    .find(|&(_, &n)| doc.text_of(n) == Some("*"))
                {
                    first.get_or_insert((n, field, j));
                    fields.push(field);
                }
            }
            let Some((node, field, j)) = first else {
                continue;
            };
            let named = doc
                .get(rule, "resourceNames")
                .is_some_and(|n| !doc.items(n).is_empty());
            let verbs_all = fields.contains(&"verbs");
            let resources_all = fields.contains(&"resources");
            let read_only_urls = fields == ["nonResourceURLs"]
                && doc
                    .get(rule, "verbs")
                    .is_some_and(|v| doc.items(v).iter().all(|&n| doc.text_of(n) == Some("get")));
            let severity = if read_only_urls {
                Severity::Low
            } else if verbs_all && resources_all && !named {
                Severity::High
            } else {
                Severity::Medium
            };
            let list = fields
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let path = object.path(&["rules"]).index(i).key(field).index(j);
            cx.report(node, path)
                .severity(severity)
                .message(format!(
                    "{role} grants `*` in {list} of rule {i}: it covers every current and \
                     future {}",
                    if verbs_all && resources_all {
                        "verb on every resource"
                    } else if verbs_all {
                        "verb"
                    } else if resources_all {
                        "resource"
                    } else if fields.contains(&"apiGroups") {
                        "API group"
                    } else {
                        "URL"
                    }
                ))
                .remediation(
                    "list the verbs, resources and API groups the subject needs explicitly",
                );
        }
    }
}
