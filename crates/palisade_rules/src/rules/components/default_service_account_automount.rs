use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags a ServiceAccount named `default` that does not set
    /// `automountServiceAccountToken: false`.
    ///
    /// `service-account-token-automount` reports the pods that actually run with the default
    /// ServiceAccount's token; this rule reports the ServiceAccount object itself, so a
    /// namespace that ships its `default` ServiceAccount fixes the setting once for every
    /// pod, including those created later.
    ///
    /// ## Why is this bad?
    /// Every pod of the namespace that names no ServiceAccount runs as `default` and, unless
    /// told otherwise, gets its token mounted. Any permission ever granted to `default` is
    /// then held by all of them.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: v1
    /// kind: ServiceAccount
    /// metadata:
    ///   name: default
    ///   namespace: shop
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// apiVersion: v1
    /// kind: ServiceAccount
    /// metadata:
    ///   name: default
    ///   namespace: shop
    /// automountServiceAccountToken: false
    /// ```
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.1.5 (default service accounts are not actively used)
    /// - https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#opt-out-of-api-credential-automounting
    pub DefaultServiceAccountAutomount {
        code: "CMP007",
        name: "default-service-account-automount",
        section: Components,
        severity: Medium,
        summary: "ServiceAccount `default` does not disable token automounting",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for DefaultServiceAccountAutomount {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let object = cx.object;
        if object.kind != "ServiceAccount" || object.group() != "" {
            return;
        }
        if object.name() != Some("default") {
            return;
        }
        let doc = cx.doc();
        let ns = object.namespace().unwrap_or("(its namespace)");
        let (node, path, missing) = match doc.get(object.node, "automountServiceAccountToken") {
            Some(n) if doc.bool(n) == Some(false) => return,
            Some(n) => (n, object.path(&["automountServiceAccountToken"]), ""),
            None => (
                object.node,
                object.path(&[]),
                "automountServiceAccountToken",
            ),
        };
        let fix = Fix::unsafe_(
            "set `automountServiceAccountToken: false` on the ServiceAccount",
            "pods that name no ServiceAccount and call the API server with its token must then \
             set `automountServiceAccountToken: true` themselves",
            vec![Op::set(
                object.path(&["automountServiceAccountToken"]).as_str(),
                false,
            )],
        );
        cx.report(node, path)
            .missing(missing)
            .message(format!(
                "ServiceAccount `default` of namespace `{ns}` lets its token be mounted into \
                 every pod that names no ServiceAccount"
            ))
            .remediation("set `automountServiceAccountToken: false` on the ServiceAccount")
            .fix(fix);
    }
}
