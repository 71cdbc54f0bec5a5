use super::kubernetes_dashboard_exposed::is_dashboard_image;
use super::rbac::{
    bound_role, cite_grant, current_binding, dangerous_in, is_full_wildcard, located_subjects,
};
use crate::estate::Estate;
use crate::inventory::{BindingFact, DashboardFact, RbacRule, SubjectFact, dir_of};
use crate::prelude::*;
use crate::rules::network::reach::cite;
use palisade_diagnostics::{Finding, RelatedLocation};

declare_rule! {
    /// ## What it does
    /// Flags RoleBindings and ClusterRoleBindings that give the Kubernetes Dashboard's
    /// ServiceAccount more than the dashboard needs. The dashboard is found by its image
    /// (`kubernetesui/dashboard`, the v3+ modules such as `kubernetesui/dashboard-api`, or
    /// the old `kubernetes-dashboard-amd64`), and its ServiceAccount is the pod's
    /// `serviceAccountName` in its namespace (`default` when unset). A binding counts when it
    /// names that ServiceAccount, or a group it belongs to (`system:serviceaccounts`,
    /// `system:serviceaccounts:<namespace>`, `system:authenticated`), and its role (with the
    /// ClusterRoles it aggregates) grants any of:
    ///
    /// - every verb on every resource, or is `cluster-admin`, `admin` or `edit` (built-in
    ///   roles, when the input does not define them);
    /// - `*` verbs, or `*` resources;
    /// - a permission `dangerous-rbac-permission` reports (reading Secrets, `pods/exec`,
    ///   `escalate`, `bind`, `impersonate`, `nodes/proxy`, …);
    /// - through a ClusterRoleBinding, changing workloads (pods, Deployments, …) in every
    ///   namespace.
    ///
    /// Rules limited to named objects (`resourceNames`) are what the official manifests use
    /// for the dashboard's own Secrets and ConfigMap, and are not reported; nor is the
    /// official ClusterRole that reads metrics. The finding is on the binding's subject; the
    /// dashboard container and the rules that make the role broad are cited.
    ///
    /// ## Why is this bad?
    /// The dashboard acts with its own ServiceAccount whenever login is skipped or a request
    /// carries no token, and any flaw in it (CVE-2018-18264) hands that ServiceAccount to the
    /// attacker. Tesla's cluster was mined for cryptocurrency through a dashboard left open
    /// without a password, from which the attackers also found cloud credentials. The
    /// official manifests give it only its own Secrets and metrics; users are meant to log in
    /// with their own token.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRoleBinding
    /// roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
    /// subjects:
    ///   - {kind: ServiceAccount, name: kubernetes-dashboard, namespace: kubernetes-dashboard}
    /// ```
    ///
    /// ## Use instead
    /// Keep the official minimal Role (named Secrets and ConfigMap of its namespace) and the
    /// metrics ClusterRole, and log in with a token of a user-specific ServiceAccount:
    /// ```yaml
    /// kind: Role
    /// rules:
    ///   - apiGroups: [""]
    ///     resources: [secrets]
    ///     resourceNames: [kubernetes-dashboard-key-holder, kubernetes-dashboard-certs, kubernetes-dashboard-csrf]
    ///     verbs: [get, update, delete]
    /// ```
    ///
    /// ## References
    /// - https://github.com/kubernetes/dashboard/blob/master/docs/user/access-control/README.md
    /// - https://github.com/kubernetes/dashboard/blob/master/docs/user/access-control/creating-sample-user.md
    /// - CVE-2018-18264
    pub KubernetesDashboardBroadPermissions {
        code: "CMP009",
        name: "kubernetes-dashboard-broad-permissions",
        section: Components,
        severity: Critical,
        summary: "Kubernetes Dashboard's ServiceAccount bound to a broad role",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for KubernetesDashboardBroadPermissions {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        crate::inventory::collect(cx);
        if let Some(pod) = cx.pod {
            record_dashboard(cx, pod);
            return;
        }
        let Some(binding) = current_binding(cx) else {
            return;
        };
        let mut candidates = Vec::new();
        let mut facts = Vec::new();
        for (fact, node, path) in located_subjects(cx, &binding) {
            if !may_hold_a_dashboard(fact) {
                continue;
            }
            let f = cx
                .report(node, path)
                .remediation(
                    "bind the dashboard's ServiceAccount only to the official minimal Role \
                     (its own Secrets and ConfigMap, by name) and the metrics ClusterRole; \
                     users log in with their own token",
                )
                .build();
            candidates.push(f);
            facts.push(fact.clone());
        }
        if candidates.is_empty() {
            return;
        }
        cx.defer(candidates, move |estate, candidates| {
            decide(estate, &binding, facts, candidates)
        });
    }
}

/// Records a workload that runs the dashboard, with the ServiceAccount its pods use.
fn record_dashboard(cx: &mut Checker<'_, '_>, pod: &PodSpec<'_>) {
    let doc = cx.doc();
    let Some((container, image_node, image)) = pod.containers.iter().find_map(|c| {
        let node = doc.get(c.node, "image")?;
        let image = doc.str(node)?;
        is_dashboard_image(&ImageRef::parse(image)).then_some((c, node, image))
    }) else {
        return;
    };
    let service_account = ["serviceAccountName", "serviceAccount"]
        .iter()
        .find_map(|k| pod.field(&[k]).and_then(|(n, _)| doc.text_of(n)))
        .filter(|s| !s.is_empty())
        .unwrap_or("default")
        .to_owned();
    let fact = DashboardFact {
        workload: crate::inventory::subject(cx),
        service_account,
        image: image.to_owned(),
        loc: cx.locate(image_node, container.path.key("image")),
    };
    cx.estate.inventory.dashboards.push(fact);
}

/// Subjects a dashboard's ServiceAccount may be, or belong to.
fn may_hold_a_dashboard(s: &SubjectFact) -> bool {
    match s.kind.as_str() {
        "ServiceAccount" => true,
        "Group" => {
            s.name == "system:serviceaccounts"
                || s.name == "system:authenticated"
                || s.name.starts_with("system:serviceaccounts:")
        }
        _ => false,
    }
}

/// The dashboard whose ServiceAccount the subject is, or whose groups it names. A side
/// without a namespace is taken to be applied with the other one when both sit in one folder.
fn dashboard_of<'e>(
    estate: &'e Estate,
    binding: &BindingFact,
    s: &SubjectFact,
) -> Option<&'e DashboardFact> {
    let binding_dir = dir_of(binding.loc.file.as_deref());
    let same_namespace = |d: &DashboardFact, ns: Option<&str>| match (d.workload.namespace(), ns) {
        (Some(a), Some(b)) => a == b,
        _ => d.workload.dir() == binding_dir,
    };
    estate
        .inventory
        .dashboards
        .iter()
        .find(|d| match s.kind.as_str() {
            "ServiceAccount" => {
                d.service_account == s.name && same_namespace(d, s.namespace.as_deref())
            }
            _ => match s.name.strip_prefix("system:serviceaccounts:") {
                Some(ns) => same_namespace(d, Some(ns)),
                None => true,
            },
        })
}

/// Workload kinds whose change runs code.
const WORKLOADS: &[(&str, &str)] = &[
    ("", "pods"),
    ("", "replicationcontrollers"),
    ("apps", "deployments"),
    ("apps", "daemonsets"),
    ("apps", "statefulsets"),
    ("apps", "replicasets"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
];
const WRITE_VERBS: &[&str] = &["create", "update", "patch"];

/// What makes one rule broad for the dashboard (what it lets the holder do), and how bad it
/// is; `None` for a rule within the dashboard's needs.
fn broad(rule: &RbacRule, cluster_wide: bool) -> Option<(Vec<String>, Severity)> {
    if rule.named_only() || (!rule.non_resource_urls.is_empty() && rule.resources.is_empty()) {
        return None;
    }
    if is_full_wildcard(rule) {
        return Some((vec!["do everything".to_owned()], Severity::Critical));
    }
    let star = |l: &[String]| l.iter().any(|x| x == "*");
    let mut whats: Vec<String> = Vec::new();
    let mut severity = Severity::Low;
    if star(&rule.verbs) {
        whats.push(format!("use every verb on {}", rule.resources.join(", ")));
        severity = Severity::High;
    }
    if star(&rule.resources) {
        whats.push(format!("{} every resource", rule.verbs.join(", ")));
        severity = Severity::High;
    }
    for d in dangerous_in(rule) {
        whats.push(d.what.to_owned());
        severity = severity.max(d.severity);
    }
    if cluster_wide
        && WORKLOADS
            .iter()
            .any(|(group, resource)| WRITE_VERBS.iter().any(|v| rule.grants(group, v, resource)))
    {
        whats.push("create or change workloads".to_owned());
        severity = severity.max(Severity::High);
    }
    (!whats.is_empty()).then_some((whats, severity))
}

fn decide(
    estate: &Estate,
    binding: &BindingFact,
    subjects: Vec<SubjectFact>,
    candidates: Vec<Finding>,
) -> Vec<Finding> {
    let inv = &estate.inventory;
    let role_kind = if binding.role_cluster {
        "ClusterRole"
    } else {
        "Role"
    };
    let scope = match binding.scope() {
        None => "in every namespace".to_owned(),
        Some(ns) => format!("in namespace `{ns}`"),
    };
    // What the role grants beyond the dashboard's needs, once for every subject.
    let mut severity = Severity::Low;
    let mut grants: Vec<String> = Vec::new();
    let mut related: Vec<RelatedLocation> = vec![cite(
        &binding.loc,
        format!("the binding refers to {role_kind} `{}`", binding.role_name),
    )];
    match bound_role(inv, binding) {
        Some(role) => {
            for (holder, rule) in inv.effective_rules(role) {
                let Some((whats, sev)) = broad(rule, binding.cluster) else {
                    continue;
                };
                severity = severity.max(sev);
                cite_grant(&mut related, &mut grants, holder, rule, whats);
            }
        }
        None if binding.role_cluster => {
            let builtin = match binding.role_name.as_str() {
                "cluster-admin" => Some((
                    "do everything (`cluster-admin` is the built-in superuser role)",
                    Severity::Critical,
                )),
                "admin" | "edit" => Some((
                    "read Secrets, exec into pods and change workloads (a built-in role)",
                    Severity::High,
                )),
                _ => None,
            };
            if let Some((what, sev)) = builtin {
                severity = sev;
                grants.push(what.to_owned());
            }
        }
        None => {}
    }
    if grants.is_empty() {
        return Vec::new();
    }
    if !binding.cluster {
        // A RoleBinding grants in one namespace only.
        severity = severity.min(Severity::High);
    }
    let mut out = Vec::new();
    for (mut f, s) in candidates.into_iter().zip(subjects) {
        let Some(dashboard) = dashboard_of(estate, binding, &s) else {
            continue;
        };
        let sa = format!(
            "{}/{}",
            dashboard.workload.namespace().unwrap_or("(its namespace)"),
            dashboard.service_account
        );
        let through = if s.kind == "ServiceAccount" {
            String::new()
        } else {
            format!(" (through group `{}`)", s.name)
        };
        f.severity = severity.min(f.severity);
        f.message = format!(
            "{} `{}` gives the Kubernetes Dashboard's ServiceAccount `{sa}` {role_kind} `{}`{through}, \
             which lets it {} {scope}: anyone who reaches the dashboard without logging \
             in, or through a flaw in it, holds these rights",
            binding.kind(),
            binding.name,
            binding.role_name,
            grants.join(", "),
        );
        f.related.push(cite(
            &dashboard.loc,
            format!(
                "{} runs the Kubernetes Dashboard (`{}`) as ServiceAccount `{}`",
                dashboard.workload.who(),
                dashboard.image,
                dashboard.service_account
            ),
        ));
        f.related.extend(related.iter().cloned());
        out.push(f);
    }
    out
}
