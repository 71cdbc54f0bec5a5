use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags admission webhooks (in `ValidatingWebhookConfiguration` and
    /// `MutatingWebhookConfiguration` objects) that fail open — `failurePolicy: Ignore`, or no
    /// `failurePolicy` in `admissionregistration.k8s.io/v1beta1`, where `Ignore` is the default —
    /// on security-relevant resources: pods and their subresources, workloads, RBAC objects,
    /// ServiceAccounts, Secrets, NetworkPolicies, Namespaces, webhook configurations and
    /// admission policies themselves, or `*`.
    ///
    /// A validating webhook is reported `high`, a mutating one `medium` (it may inject the
    /// security settings that a validating step then relies on). Webhooks on other resources
    /// (ConfigMaps of an app, custom resources) are not reported.
    ///
    /// ## Why is this bad?
    /// When the webhook is down, slow or unreachable, a fail-open webhook lets every request
    /// through unchecked: the policy engine it implements (Kyverno, Gatekeeper, an in-house
    /// policy) stops enforcing exactly when an attacker can make it time out or crash.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: admissionregistration.k8s.io/v1
    /// kind: ValidatingWebhookConfiguration
    /// metadata: {name: policy}
    /// webhooks:
    ///   - name: pods.policy.example.com
    ///     failurePolicy: Ignore
    ///     rules:
    ///       - {apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [pods]}
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    ///     failurePolicy: Fail
    /// ```
    /// and run the webhook with several replicas and a PodDisruptionBudget, exempting its own
    /// namespace with a `namespaceSelector` so that it can always be restarted.
    ///
    /// ## References
    /// - https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#failure-policy
    pub AdmissionWebhookFailsOpen {
        code: "CMP031",
        name: "admission-webhook-fails-open",
        section: Components,
        severity: High,
        summary: "Admission webhook on security-relevant resources fails open (failurePolicy: Ignore)",
        kubeaudit: None,
        status: Preview { since: "0.1.0" },
        default_enabled: true,
    }
}

/// Resources (without subresource) whose admission control is a security control.
const SENSITIVE: &[&str] = &[
    "*",
    "pods",
    "deployments",
    "statefulsets",
    "daemonsets",
    "replicasets",
    "replicationcontrollers",
    "jobs",
    "cronjobs",
    "roles",
    "rolebindings",
    "clusterroles",
    "clusterrolebindings",
    "serviceaccounts",
    "secrets",
    "networkpolicies",
    "namespaces",
    "validatingwebhookconfigurations",
    "mutatingwebhookconfigurations",
    "validatingadmissionpolicies",
    "validatingadmissionpolicybindings",
];

impl Rule for AdmissionWebhookFailsOpen {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let object = cx.object;
        let validating = match (object.group(), object.kind) {
            ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration") => true,
            ("admissionregistration.k8s.io", "MutatingWebhookConfiguration") => false,
            _ => return,
        };
        let v1beta1 = object.version() == "v1beta1";
        let doc = cx.doc();
        let Some(webhooks) = object.get(&["webhooks"]) else {
            return;
        };
        let config = object.name().unwrap_or("(unnamed)").to_owned();
        for (i, &hook) in doc.items(webhooks).iter().enumerate() {
            let policy = doc.get(hook, "failurePolicy");
            let ignore = match policy.and_then(|p| doc.text_of(p)) {
                Some(p) => p == "Ignore",
                None => v1beta1,
            };
            if !ignore {
                continue;
            }
            let mut covered: Vec<String> = Vec::new();
            if let Some(rules) = doc.get(hook, "rules") {
                for &rule in doc.items(rules) {
                    let Some(resources) = doc.get(rule, "resources") else {
                        continue;
                    };
                    for &r in doc.items(resources) {
                        let Some(text) = doc.text_of(r) else {
                            continue;
                        };
                        let base = text.split('/').next().unwrap_or(text);
                        if SENSITIVE.contains(&base) && !covered.iter().any(|c| c == text) {
                            covered.push(text.to_owned());
                        }
                    }
                }
            }
            if covered.is_empty() {
                continue;
            }
            let name = doc
                .get(hook, "name")
                .and_then(|n| doc.text_of(n))
                .unwrap_or("(unnamed)")
                .to_owned();
            let what = covered
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let (kind, effect) = if validating {
                ("validating", "requests are admitted unchecked")
            } else {
                ("mutating", "requests are admitted without its changes")
            };
            let base = object.path(&["webhooks"]).index(i);
            let report = match policy {
                Some(p) => cx.report(p, base.key("failurePolicy")),
                None => cx.report(hook, base).missing("failurePolicy"),
            };
            let why = if policy.is_some() {
                "`failurePolicy: Ignore`"
            } else {
                "no `failurePolicy` (v1beta1 defaults to `Ignore`)"
            };
            report
                .severity(if validating {
                    Severity::High
                } else {
                    Severity::Medium
                })
                .message(format!(
                    "{kind} webhook `{name}` of `{config}` has {why} on {what}: whenever it is down, slow or unreachable, {effect}"
                ))
                .remediation(
                    "set `failurePolicy: Fail`, and keep the webhook available (replicas, a PodDisruptionBudget, its own namespace exempted)",
                );
        }
    }
}
