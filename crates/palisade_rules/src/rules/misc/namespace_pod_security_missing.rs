use crate::prelude::*;

const ENFORCE: &str = "pod-security.kubernetes.io/enforce";

declare_rule! {
    /// ## What it does
    /// Checks the Pod Security admission label `pod-security.kubernetes.io/enforce` of every
    /// `v1` Namespace: missing (the cluster default applies, `privileged` unless configured
    /// otherwise) or `privileged` is `medium`; a value that is not a level is `medium`;
    /// `baseline` is reported at `info`, because `restricted` is the recommended level.
    /// `kube-system`, `kube-public` and `kube-node-lease` are left alone: system components
    /// need privileges.
    ///
    /// PodSecurityPolicy objects, which Pod Security admission replaced, are reported as
    /// removed (since Kubernetes 1.25) by `deprecated-api-version`.
    ///
    /// ## Why is this bad?
    /// Without an `enforce` level, nothing stops a pod of the namespace from running
    /// privileged, sharing the host's namespaces or mounting its filesystem: the Pod Security
    /// Standards checks of this tool only see the manifests at hand, while admission sees
    /// every pod, including those created by hand or by operators.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: v1
    /// kind: Namespace
    /// metadata:
    ///   name: shop
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// apiVersion: v1
    /// kind: Namespace
    /// metadata:
    ///   name: shop
    ///   labels:
    ///     pod-security.kubernetes.io/enforce: restricted
    ///     pod-security.kubernetes.io/enforce-version: latest
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/concepts/security/pod-security-admission/
    /// - CIS Kubernetes Benchmark 5.2.1 (at least one active policy control mechanism)
    pub NamespacePodSecurityMissing {
        code: "MSC005",
        name: "namespace-pod-security-missing",
        section: Misc,
        severity: Medium,
        summary: "Namespace does not enforce a Pod Security level of baseline or restricted",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for NamespacePodSecurityMissing {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let object = cx.object;
        if object.kind != "Namespace" || object.api_version != "v1" {
            return;
        }
        let name = object.name().unwrap_or("(unnamed)");
        if matches!(name, "kube-system" | "kube-public" | "kube-node-lease") {
            return;
        }
        let label = object.labels().into_iter().rev().find(|e| e.key == ENFORCE);
        let remediation = format!(
            "label the namespace `{ENFORCE}: restricted` (or `baseline` where restricted is not \
             yet possible)"
        );
        let Some(entry) = label else {
            let doc = cx.doc();
            let meta = object.metadata();
            let (node, path, missing) = match meta.and_then(|m| doc.get(m, "labels")) {
                Some(l) => (
                    l,
                    object.path(&["metadata", "labels"]),
                    format!("[\"{ENFORCE}\"]"),
                ),
                None => match meta {
                    Some(m) => (
                        m,
                        object.path(&["metadata"]),
                        format!("labels[\"{ENFORCE}\"]"),
                    ),
                    None => (
                        object.node,
                        object.path(&[]),
                        format!("metadata.labels[\"{ENFORCE}\"]"),
                    ),
                },
            };
            cx.report(node, path)
                .missing(missing)
                .message(format!(
                    "namespace `{name}` sets no Pod Security `enforce` level: unless the \
                     cluster configures a default, its pods may run privileged"
                ))
                .remediation(remediation);
            return;
        };
        let path = object.path(&["metadata", "labels", ENFORCE]);
        let (severity, message) = match entry.value {
            Some("restricted") => return,
            Some("baseline") => (
                Severity::Info,
                format!(
                    "namespace `{name}` enforces Pod Security `baseline`; `restricted` is \
                     recommended"
                ),
            ),
            Some("privileged") => (
                Severity::Medium,
                format!(
                    "namespace `{name}` enforces Pod Security `privileged`, which allows \
                     anything: privileged containers, host namespaces and host paths"
                ),
            ),
            other => (
                Severity::Medium,
                format!(
                    "namespace `{name}` sets Pod Security `enforce` to `{}`, which is not a \
                     level (privileged, baseline, restricted): the API server rejects it",
                    other.unwrap_or("")
                ),
            ),
        };
        cx.report(entry.value_node, path)
            .severity(severity)
            .message(message)
            .remediation(remediation);
    }
}
