use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags pod specs that set the deprecated `serviceAccount` field without
    /// `serviceAccountName`.
    ///
    /// ## Why is this bad?
    /// `serviceAccount` is a deprecated alias kept for old clients. The API server copies it
    /// into `serviceAccountName` when the pod is created, but tools that read the manifest
    /// (policy engines, auditors, reviewers) look at `serviceAccountName`, find it empty, and
    /// conclude that the pod runs as `default`, or miss which identity it really has.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   serviceAccount: build-bot
    ///   containers:
    ///     - name: app
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// spec:
    ///   serviceAccountName: build-bot
    ///   containers:
    ///     - name: app
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/
    /// - kubeaudit `asat` (`AutomountServiceAccountTokenDeprecated`), override
    ///   `allow-automount-service-account-token` at pod level
    pub DeprecatedServiceAccountField {
        code: "WKL028",
        name: "deprecated-service-account-field",
        section: Workloads,
        severity: Low,
        summary: "Pod spec names its ServiceAccount with the deprecated `serviceAccount` field",
        kubeaudit: Some("asat"),
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for DeprecatedServiceAccountField {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        let doc = cx.doc();
        let Some((node, path)) = pod.field(&["serviceAccount"]) else {
            return;
        };
        let Some(value) = doc.str(node).filter(|s| !s.is_empty()) else {
            return;
        };
        let named = pod
            .field(&["serviceAccountName"])
            .and_then(|(n, _)| doc.str(n))
            .is_some_and(|s| !s.is_empty());
        if named {
            return;
        }
        // The API server copies the field into `serviceAccountName`: the same pod runs.
        let fix = Fix::safe(
            format!("rename `serviceAccount` to `serviceAccountName: {value}`"),
            vec![
                Op::set(pod.path.key("serviceAccountName").as_str(), value),
                Op::remove(path.as_str()),
            ],
        );
        cx.report(node, path)
            .fix(fix)
            .message(format!(
                "the pod spec sets the deprecated `serviceAccount: {value}` without \
                 `serviceAccountName`"
            ))
            .remediation(format!("rename the field: `serviceAccountName: {value}`"))
            .kubeaudit("AutomountServiceAccountTokenDeprecated")
            .kubeaudit_override(KubeauditOverride::pod(
                "allow-automount-service-account-token",
            ));
    }
}
