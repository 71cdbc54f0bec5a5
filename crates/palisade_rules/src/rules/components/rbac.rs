//! What RBAC rules and the `rbac` command share: the permissions that amount to privilege
//! escalation, admin-equivalent roles, and system subjects.

use crate::inventory::{BindingFact, Inventory, RbacRule, RoleFact, SubjectFact};
use crate::prelude::*;

/// A permission that leads to more privileges than it names.
pub struct Dangerous {
    pub group: &'static str,
    pub resource: &'static str,
    pub verbs: &'static [&'static str],
    /// What it lets the holder do, for messages.
    pub what: &'static str,
    pub severity: Severity,
}

/// The permissions reported by `dangerous-rbac-permission`, in the order they are named.
pub const DANGEROUS: &[Dangerous] = &[
    Dangerous {
        group: "",
        resource: "secrets",
        verbs: &["get", "list", "watch"],
        what: "read Secrets",
        severity: Severity::High,
    },
    Dangerous {
        group: "",
        resource: "pods/exec",
        verbs: &["create", "get"],
        what: "exec into pods",
        severity: Severity::High,
    },
    Dangerous {
        group: "",
        resource: "pods/attach",
        verbs: &["create", "get"],
        what: "attach to pods",
        severity: Severity::High,
    },
    Dangerous {
        group: "",
        resource: "pods/portforward",
        verbs: &["create", "get"],
        what: "port-forward to pods",
        severity: Severity::Medium,
    },
    Dangerous {
        group: "rbac.authorization.k8s.io",
        resource: "clusterroles",
        verbs: &["escalate"],
        what: "escalate roles (grant permissions they do not hold)",
        severity: Severity::High,
    },
    Dangerous {
        group: "rbac.authorization.k8s.io",
        resource: "roles",
        verbs: &["escalate"],
        what: "escalate roles (grant permissions they do not hold)",
        severity: Severity::High,
    },
    Dangerous {
        group: "rbac.authorization.k8s.io",
        resource: "clusterroles",
        verbs: &["bind"],
        what: "bind roles they do not hold",
        severity: Severity::High,
    },
    Dangerous {
        group: "rbac.authorization.k8s.io",
        resource: "roles",
        verbs: &["bind"],
        what: "bind roles they do not hold",
        severity: Severity::High,
    },
    Dangerous {
        group: "",
        resource: "users",
        verbs: &["impersonate"],
        what: "impersonate users",
        severity: Severity::High,
    },
    Dangerous {
        group: "",
        resource: "groups",
        verbs: &["impersonate"],
        what: "impersonate groups",
        severity: Severity::High,
    },
    Dangerous {
        group: "",
        resource: "serviceaccounts",
        verbs: &["impersonate"],
        what: "impersonate service accounts",
        severity: Severity::High,
    },
    Dangerous {
        group: "certificates.k8s.io",
        resource: "certificatesigningrequests/approval",
        verbs: &["update", "patch"],
        what: "approve certificate signing requests",
        severity: Severity::High,
    },
    Dangerous {
        group: "",
        resource: "nodes/proxy",
        verbs: &["get", "create"],
        what: "use nodes/proxy (the kubelet API: exec in any pod of the node)",
        severity: Severity::High,
    },
    Dangerous {
        group: "",
        resource: "serviceaccounts/token",
        verbs: &["create"],
        what: "create service account tokens",
        severity: Severity::High,
    },
    Dangerous {
        group: "admissionregistration.k8s.io",
        resource: "mutatingwebhookconfigurations",
        verbs: &["create", "update", "patch", "delete"],
        what: "change mutating admission webhooks",
        severity: Severity::High,
    },
    Dangerous {
        group: "admissionregistration.k8s.io",
        resource: "validatingwebhookconfigurations",
        verbs: &["create", "update", "patch", "delete"],
        what: "change validating admission webhooks",
        severity: Severity::High,
    },
];

/// The dangerous permissions a rule grants, without repeating what they let one do.
pub fn dangerous_in(rule: &RbacRule) -> Vec<&'static Dangerous> {
    let mut out: Vec<&'static Dangerous> = Vec::new();
    if !rule.non_resource_urls.is_empty() && rule.resources.is_empty() {
        return out;
    }
    for d in DANGEROUS {
        if out.iter().any(|o| o.what == d.what) {
            continue;
        }
        if d.verbs.iter().any(|v| rule.grants(d.group, v, d.resource)) {
            out.push(d);
        }
    }
    out
}

/// Whether a rule grants every verb on every resource of every group.
pub fn is_full_wildcard(rule: &RbacRule) -> bool {
    let star = |l: &[String]| l.iter().any(|x| x == "*");
    star(&rule.verbs) && star(&rule.resources) && star(&rule.api_groups) && !rule.named_only()
}

/// Users and groups Kubernetes itself authenticates (`system:…`), except the catch-alls
/// that stand for everyone.
pub fn is_system_subject(s: &SubjectFact) -> bool {
    s.kind != "ServiceAccount" && s.name.starts_with("system:") && !is_everyone(&s.name)
}

/// The groups and user that stand for everyone (or every caller without credentials).
pub fn is_everyone(name: &str) -> bool {
    matches!(
        name,
        "system:anonymous" | "system:unauthenticated" | "system:authenticated"
    )
}

/// The role a binding refers to, when the input holds it.
pub fn bound_role<'a>(inv: &'a Inventory, b: &BindingFact) -> Option<&'a RoleFact> {
    inv.role_of(b)
}

/// The rule that makes a binding's role admin-equivalent: `None` with `Some(true)` for
/// `cluster-admin` itself, the wildcard rule for a role of the input that grants everything.
pub fn admin_rule<'a>(inv: &'a Inventory, b: &BindingFact) -> Option<Option<&'a RbacRule>> {
    if b.role_cluster && b.role_name == "cluster-admin" {
        return Some(None);
    }
    let role = bound_role(inv, b)?;
    inv.effective_rules(role)
        .into_iter()
        .find(|(_, r)| is_full_wildcard(r))
        .map(|(_, r)| Some(r))
}

/// Cites the rule of `holder` that grants `whats` (what a binding's subject can do through it)
/// and adds each of them to `grants`, once.
pub(crate) fn cite_grant<W: AsRef<str> + PartialEq>(
    related: &mut Vec<palisade_diagnostics::RelatedLocation>,
    grants: &mut Vec<W>,
    holder: &RoleFact,
    rule: &RbacRule,
    whats: Vec<W>,
) {
    let listed: Vec<&str> = whats.iter().map(AsRef::as_ref).collect();
    related.push(crate::rules::network::reach::cite(
        &rule.loc,
        format!(
            "this rule of {} `{}` lets it {}",
            holder.kind(),
            holder.name,
            listed.join(", ")
        ),
    ));
    for w in whats {
        if !grants.contains(&w) {
            grants.push(w);
        }
    }
}

/// The binding being checked, as the inventory recorded it; `None` when the object is not a
/// RoleBinding or ClusterRoleBinding.
pub(crate) fn current_binding(cx: &Checker<'_, '_>) -> Option<BindingFact> {
    let object = cx.object;
    if object.group() != "rbac.authorization.k8s.io"
        || !matches!(object.kind, "RoleBinding" | "ClusterRoleBinding")
    {
        return None;
    }
    cx.estate.inventory.bindings.last().cloned()
}

/// The subjects of the binding being checked that the inventory knows, in order, each with
/// where a finding about it goes: its `name`, or the subject itself without one.
pub(crate) fn located_subjects<'b>(
    cx: &Checker<'_, '_>,
    binding: &'b BindingFact,
) -> Vec<(&'b SubjectFact, NodeId, FieldPath)> {
    let object = cx.object;
    let doc = cx.doc();
    let Some(subjects) = object.get(&["subjects"]) else {
        return Vec::new();
    };
    doc.items(subjects)
        .iter()
        .enumerate()
        .filter_map(|(i, &s)| {
            let path = object.path(&["subjects"]).index(i);
            let fact = binding
                .subjects
                .iter()
                .find(|f| f.loc.path == path.as_str())?;
            Some(match doc.get(s, "name") {
                Some(name) => (fact, name, path.key("name")),
                None => (fact, s, path),
            })
        })
        .collect()
}
