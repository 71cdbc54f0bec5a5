use super::pod_fields::{
    SECCOMP_CONTAINER_PREFIX, SECCOMP_POD_ANNOTATION, annotation_path, map_entries,
};
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags the alpha seccomp annotations `seccomp.security.alpha.kubernetes.io/pod` and
    /// `container.seccomp.security.alpha.kubernetes.io/<container>` in pod metadata.
    ///
    /// ## Why is this bad?
    /// Kubernetes no longer reads them. They were deprecated in 1.19, when the
    /// `securityContext.seccompProfile` field went GA; the kubelet ignores them since 1.25,
    /// and since 1.27 the API server no longer copies them into the field when a pod is
    /// created. A manifest that relies on them runs its containers without the profile it
    /// names (usually `Unconfined`, unless the kubelet runs with `--seccomp-default`) while
    /// looking protected to a reviewer.
    ///
    /// The value `unconfined` is also reported against the Pod Security Standards baseline
    /// "Seccomp" control: Pod Security Admission pinned to a policy version before 1.19 reads
    /// the annotation and rejects that value.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     seccomp.security.alpha.kubernetes.io/pod: runtime/default
    /// spec:
    ///   containers:
    ///     - name: app
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     seccompProfile:
    ///       type: RuntimeDefault
    ///   containers:
    ///     - name: app
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, baseline: Seccomp (for `unconfined`)
    /// - https://kubernetes.io/docs/tutorials/security/seccomp/
    /// - Kubernetes 1.25 and 1.27 release notes (kubernetes/kubernetes#109819, #114947)
    /// - kubeaudit `seccomp` (`SeccompDeprecatedAnnotations`), no override. kubeaudit reports
    ///   the annotations only when neither the pod nor any container sets `seccompProfile`;
    ///   this rule reports them in every case (they are dead either way), and gives the
    ///   kubeaudit code only where kubeaudit reports it.
    pub SeccompDeprecatedAnnotation {
        code: "WKL022",
        name: "seccomp-deprecated-annotation",
        section: Workloads,
        severity: Low,
        summary: "Pod uses the alpha seccomp annotations, which Kubernetes ignores",
        kubeaudit: Some("seccomp"),
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for SeccompDeprecatedAnnotation {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let Some(pod) = cx.pod else { return };
        let doc = cx.doc();
        let mut annotations = map_entries(doc, pod.metadata, "annotations")
            .filter(|a| {
                a.key == SECCOMP_POD_ANNOTATION || a.key.starts_with(SECCOMP_CONTAINER_PREFIX)
            })
            .peekable();
        if annotations.peek().is_none() {
            return;
        }
        let has_field = pod.pod_security(&["seccompProfile"]).is_some()
            || pod
                .containers
                .iter()
                .any(|c| pod.container_security(c, &["seccompProfile"]).is_some());
        for a in annotations {
            let container = a
                .key
                .strip_prefix(SECCOMP_CONTAINER_PREFIX)
                .and_then(|name| pod.containers.iter().find(|c| c.name == name));
            let unconfined = a.value == Some("unconfined");
            let mut message = format!(
                "annotation `{}` is ignored: the kubelet stopped reading the alpha seccomp \
                 annotations in Kubernetes 1.25, and the API server stopped copying them into \
                 `seccompProfile` in 1.27",
                a.key
            );
            if unconfined {
                message.push_str("; its value `unconfined` asks to disable seccomp");
            }
            let remediation = if has_field {
                "remove the annotation: the `seccompProfile` field is what applies"
            } else {
                "set `securityContext.seccompProfile.type: RuntimeDefault` in the pod spec (or \
                 the container) and remove the annotation"
            };
            let route = annotation_path(pod, a.key);
            // Nothing reads the annotation any more: removing it changes nothing at run time.
            let fix = Fix::safe(
                format!("remove the ignored annotation `{}`", a.key),
                vec![Op::remove(route.as_str())],
            );
            let mut builder = cx
                .report(a.key_node, route)
                .fix(fix)
                .message(message)
                .remediation(remediation);
            if let Some(c) = container {
                builder = builder.container(c);
            }
            if !has_field {
                builder = builder.kubeaudit("SeccompDeprecatedAnnotations");
            }
            if unconfined {
                builder.pss(PssLevel::Baseline, "Seccomp");
            }
        }
    }
}
