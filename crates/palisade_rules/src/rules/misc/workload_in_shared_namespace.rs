use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags workloads whose `metadata.namespace` is `default`, `kube-public`, or
    /// `kube-system` when they are not system components. A workload in `kube-system` counts
    /// as a system component when its pods run at `system-cluster-critical` or
    /// `system-node-critical` priority, or carry the labels Kubernetes add-ons use
    /// (`k8s-app`, `component`, `tier: control-plane`, or
    /// `addonmanager.kubernetes.io/mode`). Workloads without a namespace are not judged:
    /// they land where they are applied.
    ///
    /// ## Why is this bad?
    /// `default` is where everything without a home ends up: its policies, quotas and RBAC
    /// are shared by unrelated applications, and it usually has none. `kube-system` holds
    /// the most privileged components and their credentials, and is typically exempt from
    /// Pod Security admission; an application placed there inherits that exposure.
    /// `kube-public` is readable by everyone, unauthenticated users included. A namespace
    /// per application (or tenant) is the unit of isolation for network policies, RBAC,
    /// quotas and Pod Security.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata:
    ///   name: shop
    ///   namespace: default
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata:
    ///   name: shop
    ///   namespace: shop
    /// ```
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.7.1 (administrative boundaries between resources using
    ///   namespaces) and 5.7.4 (the default namespace should not be used)
    /// - https://kubernetes.io/docs/concepts/security/multi-tenancy/
    pub WorkloadInSharedNamespace {
        code: "MSC004",
        name: "workload-in-shared-namespace",
        section: Misc,
        severity: Medium,
        summary: "Workload runs in default, kube-public or kube-system",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

const SYSTEM_LABELS: &[&str] = &["k8s-app", "component", "addonmanager.kubernetes.io/mode"];

impl Rule for WorkloadInSharedNamespace {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else {
            return;
        };
        let object = cx.object;
        let Some(ns) = object.namespace() else {
            return;
        };
        let why = match ns {
            "default" => {
                "the `default` namespace is shared by everything that has no namespace \
                          of its own, usually without policies, quotas or Pod Security labels"
            }
            "kube-public" => {
                "`kube-public` is readable by every user, unauthenticated ones \
                              included, and is not meant for workloads"
            }
            "kube-system" => {
                let doc = cx.doc();
                let critical = pod
                    .field(&["priorityClassName"])
                    .and_then(|(n, _)| doc.text_of(n))
                    .is_some_and(|p| p.starts_with("system-"));
                let labels = pod.pod_labels();
                let system = labels.iter().any(|e| {
                    SYSTEM_LABELS.contains(&e.key)
                        || (e.key == "tier" && e.value == Some("control-plane"))
                });
                if critical || system {
                    return;
                }
                "`kube-system` holds the cluster's most privileged components and is usually \
                 exempt from Pod Security admission; this workload is not one of them"
            }
            _ => return,
        };
        let Some(node) = object.get(&["metadata", "namespace"]) else {
            return;
        };
        let name = object.name().unwrap_or("(unnamed)");
        cx.report(node, object.path(&["metadata", "namespace"]))
            .message(format!(
                "{} `{name}` runs in namespace `{ns}`: {why}",
                object.kind
            ))
            .remediation(
                "deploy it to a namespace of its own, with its network policies, RBAC, quotas \
                 and Pod Security labels",
            );
    }
}
