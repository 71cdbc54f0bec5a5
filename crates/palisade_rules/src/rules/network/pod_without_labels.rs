use super::reach::describe_workload;
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags Pods without labels (no `labels`, or an empty map). Controllers need no check:
    /// the API server rejects a Deployment, StatefulSet, DaemonSet, ReplicaSet or
    /// ReplicationController whose template labels do not match a non-empty selector (one
    /// without them is a kustomize base or patch that gets its labels later), and Jobs and
    /// CronJobs label their pods with `job-name`, which policies can select.
    ///
    /// ## Why is this bad?
    /// Network policies, PodDisruptionBudgets, Services and mesh policies find pods by
    /// label. A pod without labels can only be selected together with every other pod of its
    /// namespace (`podSelector: {}`), so it can never get a policy of its own, and it gets
    /// the namespace-wide allowances of everything else.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: v1
    /// kind: Pod
    /// metadata:
    ///   name: debug
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// apiVersion: v1
    /// kind: Pod
    /// metadata:
    ///   name: debug
    ///   labels:
    ///     app.kubernetes.io/name: debug
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/
    pub PodWithoutLabels {
        code: "NET005",
        name: "pod-without-labels",
        section: Network,
        severity: Low,
        summary: "Pod has no labels, so no policy can select it alone",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for PodWithoutLabels {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else {
            return;
        };
        let object = cx.object;
        if object.kind != "Pod" || object.group() != "" {
            return;
        }
        let doc = cx.doc();
        let labels = pod.metadata.and_then(|m| doc.get(m, "labels"));
        if labels.is_some_and(|l| !doc.entries(l).is_empty()) {
            return;
        }
        let (node, path, missing) = match (labels, pod.metadata) {
            (Some(l), _) => (l, pod.metadata_path.key("labels"), String::new()),
            (None, Some(m)) => (m, pod.metadata_path.clone(), "labels".to_owned()),
            (None, None) => {
                let (node, depth) = doc.deepest(object.node, pod.shape.metadata);
                let rest: Vec<&str> = pod.shape.metadata[depth..]
                    .iter()
                    .copied()
                    .chain(["labels"])
                    .collect();
                (
                    node,
                    object.path(&pod.shape.metadata[..depth]),
                    rest.join("."),
                )
            }
        };
        let who = describe_workload(object);
        cx.report(node, path)
            .missing(missing)
            .message(format!(
                "the pods of {who} have no labels: no network policy, Service or \
                 PodDisruptionBudget can select them without selecting the whole namespace"
            ))
            .remediation(
                "add labels to the pod (template) metadata, e.g. `app.kubernetes.io/name: <name>`",
            );
    }
}
