use super::pod_fields::pod_nearest;
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags pods that run as the `default` ServiceAccount (`serviceAccountName` empty or
    /// `default`) and get its API token mounted. The pod spec's
    /// `automountServiceAccountToken` decides when it is set; otherwise the ServiceAccount
    /// `default` of the pod's namespace does, wherever it is in the input (another document
    /// or another file). The token counts as mounted unless that ServiceAccount sets
    /// `automountServiceAccountToken: false`.
    ///
    /// A pod spec that sets the deprecated `serviceAccount` without `serviceAccountName` is
    /// left to `deprecated-service-account-field`, as kubeaudit does.
    ///
    /// ## Why is this bad?
    /// Every pod in a namespace shares the `default` ServiceAccount, so any permission granted
    /// to it (often by a chart that needed "just one" RoleBinding) is granted to all of them,
    /// and the mounted token hands it to anyone who gets code execution in any of those
    /// containers. Most workloads never call the API server and need no token at all.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   containers:
    ///     - name: app
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// spec:
    ///   automountServiceAccountToken: false
    ///   containers:
    ///     - name: app
    /// ---
    /// # or, for every pod of the namespace that uses it:
    /// apiVersion: v1
    /// kind: ServiceAccount
    /// metadata:
    ///   name: default
    /// automountServiceAccountToken: false
    /// ```
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.1.5 (default service accounts are not actively used) and
    ///   5.1.6 (service account tokens are only mounted where necessary)
    /// - https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/
    /// - kubeaudit `asat` (`AutomountServiceAccountTokenTrueAndDefaultSA`), override
    ///   `allow-automount-service-account-token` at pod level. Deviation: kubeaudit accepts a
    ///   ServiceAccount `default` from any namespace; this rule only one from the pod's
    ///   namespace (an object without a namespace may be applied to any, so it matches any).
    ///   As in kubeaudit, the override label on an object without a pod is reported as
    ///   redundant.
    pub ServiceAccountTokenAutomount {
        code: "WKL027",
        name: "service-account-token-automount",
        section: Workloads,
        severity: Medium,
        summary: "Pod mounts the token of the default ServiceAccount",
        kubeaudit: Some("asat"),
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

const OVERRIDE: &str = "allow-automount-service-account-token";

impl Rule for ServiceAccountTokenAutomount {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let allow = KubeauditOverride::pod(OVERRIDE);
        let Some(pod) = cx.pod else {
            if cx.object.kind == "ServiceAccount" && cx.object.api_version == "v1" {
                crate::collect_service_account(cx.object, cx.estate_mut());
            }
            // kubeaudit checks the override label on every object, pod or not.
            cx.override_checked(&allow);
            return;
        };
        let doc = cx.doc();
        let Some(spec) = pod.node else { return };
        let text = |key: &str| {
            doc.get(spec, key)
                .and_then(|n| doc.str(n).map(|s| (n, s)))
                .filter(|(_, s)| !s.is_empty())
        };
        let name = text("serviceAccountName");
        if name.is_none() && text("serviceAccount").is_some() {
            // The deprecated field decides, and kubeaudit checks nothing else.
            return;
        }
        if name.is_some_and(|(_, s)| s != "default") {
            cx.override_checked(&allow);
            return;
        }
        // A value that is not a boolean is a type error (reported elsewhere): treated as unset.
        let automount = pod
            .field(&["automountServiceAccountToken"])
            .and_then(|(node, path)| Some((doc.bool(node)?, node, path)));
        match automount {
            Some((false, _, _)) => cx.override_checked(&allow),
            Some((true, node, path)) => {
                cx.report(node, path)
                    .fix(automount_fix(pod))
                    .message(
                        "the pod runs as the ServiceAccount `default` and sets \
                         `automountServiceAccountToken: true`: every container can call the \
                         API server with the identity all pods of the namespace share",
                    )
                    .remediation(REMEDIATION)
                    .kubeaudit("AutomountServiceAccountTokenTrueAndDefaultSA")
                    .kubeaudit_override(allow);
            }
            None => defer(cx, pod, name, allow),
        }
    }
}

fn automount_fix(pod: &PodSpec<'_>) -> Fix {
    Fix::unsafe_(
        "set the pod's `automountServiceAccountToken: false`",
        "containers that call the Kubernetes API lose their credentials",
        vec![Op::set(
            pod.path.key("automountServiceAccountToken").as_str(),
            false,
        )],
    )
}

const REMEDIATION: &str = "set `automountServiceAccountToken: false` in the pod spec (or on the \
    ServiceAccount `default`), or run the pod as a ServiceAccount of its own";

/// The pod spec leaves the decision to the ServiceAccount `default`, which may be anywhere in
/// the input: prepare the finding (and the redundant-override finding) and decide at the end.
fn defer(
    cx: &mut Checker<'_, '_>,
    pod: &PodSpec<'_>,
    name: Option<(NodeId, &str)>,
    allow: KubeauditOverride,
) {
    let Some((node, path, missing)) = pod_nearest(pod, &["automountServiceAccountToken"]) else {
        return;
    };
    let me = crate::rules::network::reach::subject(cx);
    let in_namespace = me
        .namespace()
        .map(|ns| format!(" of namespace `{ns}`"))
        .unwrap_or_default();
    let mut builder = cx
        .report(node, path)
        .fix(automount_fix(pod))
        .missing(missing)
        .message(format!(
            "the pod runs as the ServiceAccount `default` and mounts its token: neither the \
             pod spec nor a ServiceAccount `default`{in_namespace} in the input sets \
             `automountServiceAccountToken: false`"
        ))
        .remediation(REMEDIATION)
        .kubeaudit("AutomountServiceAccountTokenTrueAndDefaultSA")
        .kubeaudit_override(allow.clone());
    if let Some((n, _)) = name {
        builder = builder.related(
            "the ServiceAccount is named here",
            n,
            pod.path.key("serviceAccountName"),
        );
    }
    let finding = builder.build();
    let mut candidates = vec![finding];
    candidates.extend(cx.redundant_override(&allow));
    let code = ServiceAccountTokenAutomount::META.code;
    cx.defer(candidates, move |estate, candidates| {
        let mounted = estate.service_account_automounts(me.namespace(), "default");
        candidates
            .into_iter()
            .filter(|f| (f.code == code) == mounted)
            .collect()
    });
}
