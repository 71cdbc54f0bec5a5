use super::rbac::{dangerous_in, is_full_wildcard};
use crate::prelude::*;
use crate::rules::network::reach::cite;

declare_rule! {
    /// ## What it does
    /// Flags the rules of Roles and ClusterRoles that grant a permission leading to more
    /// privileges than it names (wildcards included):
    ///
    /// - reading Secrets (`get`, `list`, `watch` on `secrets`);
    /// - `pods/exec`, `pods/attach` (`create`, or `get` for the WebSocket form) and
    ///   `pods/portforward`;
    /// - `escalate` and `bind` on `roles`/`clusterroles`;
    /// - `impersonate` on `users`, `groups` or `serviceaccounts`;
    /// - approving CertificateSigningRequests (`update` on
    ///   `certificatesigningrequests/approval`);
    /// - `nodes/proxy` (the kubelet API);
    /// - creating tokens (`create` on `serviceaccounts/token`);
    /// - changing mutating or validating admission webhook configurations.
    ///
    /// One finding per rule, on the resource that grants the first such permission, naming
    /// all of them; the bindings of the input that grant the role are cited. Rules limited
    /// by `resourceNames` are reported one level lower. Rules that grant every verb on every
    /// resource are left to `rbac-wildcard` and `cluster-admin-binding`.
    ///
    /// ## Why is this bad?
    /// Each of these turns into the rights of another identity: Secrets hold service account
    /// tokens and credentials, exec runs code as any pod's service account, `escalate`,
    /// `bind` and `impersonate` bypass RBAC's escalation checks, an approved CSR is a client
    /// certificate for any user, `nodes/proxy` reaches every pod of the node, and a webhook
    /// sees (and may rewrite) every object sent to the API server.
    ///
    /// ## Example
    /// ```yaml
    /// rules:
    ///   - apiGroups: [""]
    ///     resources: ["secrets"]
    ///     verbs: ["get", "list"]
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// rules:
    ///   - apiGroups: [""]
    ///     resources: ["secrets"]
    ///     resourceNames: ["shop-tls"]
    ///     verbs: ["get"]
    /// ```
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.1.2 (access to secrets), 5.1.8
    ///   (bind, impersonate, escalate), 5.1.10 (nodes/proxy), 5.1.11 (CSR approval), 5.1.12
    ///   (webhook configurations), 5.1.13 (service account token creation)
    /// - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#privilege-escalation-risks
    pub DangerousRbacPermission {
        code: "CMP005",
        name: "dangerous-rbac-permission",
        section: Components,
        severity: High,
        summary: "Role grants a permission that escalates privileges",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for DangerousRbacPermission {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        crate::inventory::collect(cx);
        let object = cx.object;
        if object.group() != "rbac.authorization.k8s.io"
            || !matches!(object.kind, "Role" | "ClusterRole")
        {
            return;
        }
        let Some(role) = cx.estate.inventory.roles.last().cloned() else {
            return;
        };
        let doc = cx.doc();
        let Some(list) = object.get(&["rules"]) else {
            return;
        };
        let mut candidates = Vec::new();
        for (i, (&node, rule)) in doc.items(list).iter().zip(&role.rules).enumerate() {
            if is_full_wildcard(rule) {
                continue;
            }
            let found = dangerous_in(rule);
            let Some(first) = found.first() else {
                continue;
            };
            let mut severity = found
                .iter()
                .map(|d| d.severity)
                .max()
                .unwrap_or(Severity::High);
            if rule.named_only() {
                severity = match severity {
                    Severity::Critical => Severity::High,
                    Severity::High => Severity::Medium,
                    _ => Severity::Low,
                };
            }
            let path = object.path(&["rules"]).index(i);
            let base = first.resource.split('/').next().unwrap_or(first.resource);
            let (at, at_path) = doc
                .get(node, "resources")
                .and_then(|res| {
                    doc.items(res).iter().enumerate().find(|&(_, &n)| {
                        doc.text_of(n).is_some_and(|t| {
                            t == first.resource || t == "*" || t == format!("{base}/*")
                        })
                    })
                })
                .map_or((node, path.clone()), |(j, &n)| {
                    (n, path.key("resources").index(j))
                });
            let whats: Vec<&str> = found.iter().map(|d| d.what).collect();
            let named = if rule.named_only() {
                format!(
                    " (only the objects named {})",
                    rule.resource_names.join(", ")
                )
            } else {
                String::new()
            };
            let f = cx
                .report(at, at_path)
                .severity(severity)
                .message(format!(
                    "{} `{}` lets its subjects {}{named}: rule {i} grants {}",
                    role.kind(),
                    role.name,
                    whats.join(", "),
                    rule.describe()
                ))
                .remediation(
                    "remove the permission, or limit it with `resourceNames` to the objects the \
                     subject needs, and bind the role only where it is used",
                )
                .build();
            candidates.push(f);
        }
        if candidates.is_empty() {
            return;
        }
        let me = (role.loc.file.clone(), role.loc.line, role.loc.column);
        let (cluster, name) = (role.cluster, role.name.clone());
        cx.defer(candidates, move |estate, mut candidates| {
            let inv = &estate.inventory;
            for b in inv
                .bindings
                .iter()
                .filter(|b| b.role_cluster == cluster && b.role_name == name)
            {
                let refers = inv.role_of(b).is_some_and(|r| {
                    (&r.loc.file, r.loc.line, r.loc.column) == (&me.0, me.1, me.2)
                });
                if !refers {
                    continue;
                }
                let who: Vec<String> = b.subjects.iter().map(|s| s.describe()).collect();
                let msg = format!(
                    "{} `{}` grants it to {}",
                    b.kind(),
                    b.name,
                    if who.is_empty() {
                        "no subject".to_owned()
                    } else {
                        who.join(", ")
                    }
                );
                for f in &mut candidates {
                    if f.related.len() < 5 {
                        f.related.push(cite(&b.loc, msg.clone()));
                    }
                }
            }
            candidates
        });
    }
}
