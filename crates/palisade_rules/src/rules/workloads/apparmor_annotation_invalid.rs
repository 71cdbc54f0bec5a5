use palisade_k8s::SecurityField;

use super::pod_fields::{
    ProfileType, annotation_path, apparmor_container, map_entries, profile_type,
};
use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags AppArmor settings that do nothing or that the API server rejects:
    /// - a `container.apparmor.security.beta.kubernetes.io/<container>` annotation whose value
    ///   is not `runtime/default`, `localhost/<profile>` or `unconfined` (matching is
    ///   case-sensitive);
    /// - such an annotation naming a container the pod does not have;
    /// - such an annotation on an object without a pod, or on a workload's own metadata
    ///   instead of its pod template's, where no kubelet ever reads it;
    /// - an `appArmorProfile` whose `type` is missing or not `RuntimeDefault`, `Localhost` or
    ///   `Unconfined`, or that is `Localhost` without a `localhostProfile`.
    ///
    /// ## Why is this bad?
    /// The API server rejects a pod whose AppArmor annotation has another value or names no
    /// container of the pod, so the workload's pods are never created: a Deployment stays at
    /// zero ready replicas until someone reads the ReplicaSet's events. An annotation on the
    /// wrong object is worse: it is silently ignored, and the container runs with whatever
    /// profile the node applies while the manifest claims otherwise.
    ///
    /// An empty annotation value is accepted by the API server (the runtime default applies);
    /// it is reported because kubeaudit reports it and because it says nothing.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     container.apparmor.security.beta.kubernetes.io/app: RuntimeDefault
    ///     container.apparmor.security.beta.kubernetes.io/sidecar: runtime/default
    /// spec:
    ///   containers:
    ///     - name: app
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     appArmorProfile:
    ///       type: RuntimeDefault
    ///   containers:
    ///     - name: app
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, baseline: AppArmor (allowed values: `runtime/default`,
    ///   `localhost/*`, `RuntimeDefault`, `Localhost`)
    /// - https://kubernetes.io/docs/tutorials/security/apparmor/
    /// - kubeaudit `apparmor` (`AppArmorBadValue`, `AppArmorInvalidAnnotation`); the override
    ///   `allow-disabled-apparmor` does not apply to these. Objects of API groups outside
    ///   Kubernetes (custom resources, whose operators may copy annotations to their pods)
    ///   are not checked; kubeaudit ignores those kinds too. Deviations: an annotation naming
    ///   an ephemeral container is valid here (the API server accepts it; kubeaudit never
    ///   looks at ephemeral containers); `localhost/` without a profile name is reported
    ///   without a kubeaudit code (kubeaudit accepts it); an annotation on a workload's own
    ///   metadata carries `AppArmorInvalidAnnotation` only for the kinds in which kubeaudit
    ///   finds no pod spec (batch/v1 CronJob, ReplicaSet, old API versions), where kubeaudit
    ///   reports it.
    pub ApparmorAnnotationInvalid {
        code: "WKL019",
        name: "apparmor-annotation-invalid",
        section: Workloads,
        severity: Medium,
        summary: "AppArmor annotation or profile is invalid or has no effect",
        kubeaudit: Some("apparmor"),
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for ApparmorAnnotationInvalid {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        match cx.pod {
            Some(pod) => {
                if pod.metadata != cx.object.metadata() {
                    stray_on_object(cx, false);
                }
                check_annotations(cx, pod);
                check_fields(cx, pod);
            }
            None => stray_on_object(cx, true),
        }
    }
}

/// AppArmor annotations on the object's own metadata, where no kubelet reads them: on an
/// object without a pod spec, or on a workload's metadata beside its pod template.
fn stray_on_object(cx: &mut Checker<'_, '_>, no_pod: bool) {
    let object = cx.object;
    if !is_kubernetes_group(object.group()) {
        return;
    }
    let doc = cx.doc();
    for a in map_entries(doc, object.metadata(), "annotations") {
        if apparmor_container(a.key).is_none() {
            continue;
        }
        let path = object.path(&["metadata", "annotations"]).key(a.key);
        let builder = cx.report(a.key_node, path);
        if no_pod {
            builder
                .message(format!(
                    "annotation `{}` on a {} has no effect: AppArmor annotations are read from \
                     pod metadata only",
                    a.key, object.kind
                ))
                .remediation("remove the annotation")
                .kubeaudit("AppArmorInvalidAnnotation");
        } else {
            let builder = builder
                .message(format!(
                    "annotation `{}` on the {}'s own metadata has no effect: AppArmor \
                     annotations are read from the pod template's metadata",
                    a.key, object.kind
                ))
                .remediation(
                    "set `appArmorProfile` in the pod template's `securityContext` instead, \
                     and remove the annotation",
                );
            // kubeaudit finds no pod spec in these kinds and reports the annotation as stray.
            if !kubeaudit_reads_pod_spec(object) {
                builder.kubeaudit("AppArmorInvalidAnnotation");
            }
        }
    }
}

/// Pod-level annotations: names of containers, and values.
fn check_annotations(cx: &mut Checker<'_, '_>, pod: &PodSpec<'_>) {
    let doc = cx.doc();
    for a in map_entries(doc, pod.metadata, "annotations") {
        let Some(name) = apparmor_container(a.key) else {
            continue;
        };
        let Some(container) = pod.containers.iter().find(|c| c.name == name) else {
            cx.report(a.key_node, annotation_path(pod, a.key))
                .message(format!(
                    "annotation `{}` names container `{name}`, which the pod does not have: \
                     the API server rejects the pod",
                    a.key
                ))
                .remediation("correct the container name in the annotation, or remove it")
                .kubeaudit("AppArmorInvalidAnnotation");
            continue;
        };
        // Values that are not strings are type errors, reported elsewhere.
        let Some(value) = doc.str(a.value_node) else {
            continue;
        };
        let problem = match value {
            "runtime/default" | "unconfined" => continue,
            v if v.starts_with("localhost/") => {
                if v.len() > "localhost/".len() {
                    continue;
                }
                Problem {
                    why: "is `localhost/`, which names no profile: the kubelet refuses to admit \
                          the pod",
                    kubeaudit: None,
                    pss: false,
                }
            }
            "" => Problem {
                why: "is empty: the API server accepts it and the runtime default applies, \
                      but the manifest does not say so",
                kubeaudit: Some("AppArmorBadValue"),
                pss: false,
            },
            _ => Problem {
                why: "which is not `runtime/default`, `localhost/<profile>` or `unconfined`: \
                      the API server rejects the pod",
                kubeaudit: Some("AppArmorBadValue"),
                pss: true,
            },
        };
        let mut builder = cx
            .report(a.value_node, annotation_path(pod, a.key))
            .container(container)
            .message(format!(
                "{}: annotation `{}`{} {}",
                container.describe(),
                a.key,
                if value.is_empty() || value.starts_with("localhost/") {
                    String::new()
                } else {
                    format!(" has the value `{value}`,")
                },
                problem.why
            ))
            .remediation(
                "use `runtime/default` or `localhost/<profile>`, or better, set \
                 `securityContext.appArmorProfile` and remove the annotation",
            );
        if let Some(code) = problem.kubeaudit {
            builder = builder.kubeaudit(code);
        }
        if problem.pss {
            builder.pss(PssLevel::Baseline, "AppArmor");
        }
    }
}

struct Problem {
    why: &'static str,
    kubeaudit: Option<&'static str>,
    pss: bool,
}

/// `appArmorProfile` fields of the pod and of each container.
fn check_fields(cx: &mut Checker<'_, '_>, pod: &PodSpec<'_>) {
    if let Some(field) = pod.pod_security(&["appArmorProfile"]) {
        check_field(cx, &field, "the pod");
    }
    for c in &pod.containers {
        if let Some(field) = pod.container_security(c, &["appArmorProfile"]) {
            check_field(cx, &field, &c.describe());
        }
    }
}

fn check_field(cx: &mut Checker<'_, '_>, field: &SecurityField, whose: &str) {
    let doc = cx.doc();
    let Some(ty) = profile_type(doc, field.node) else {
        return;
    };
    let (node, path, missing, what, pss) = match ty {
        ProfileType::Missing => (
            field.node,
            field.path.clone(),
            "type",
            "has no `type`".to_owned(),
            false,
        ),
        ProfileType::Invalid(t) => (
            doc.get(field.node, "type").unwrap_or(field.node),
            field.path.key("type"),
            "",
            format!(
                "has the type `{t}`, which is not `RuntimeDefault`, `Localhost` or `Unconfined`"
            ),
            true,
        ),
        ProfileType::Localhost if lacks_localhost_profile(doc, field.node) => (
            doc.get(field.node, "type").unwrap_or(field.node),
            field.path.key("type"),
            "",
            "is `Localhost` without a `localhostProfile`".to_owned(),
            false,
        ),
        _ => return,
    };
    let builder = cx
        .report(node, path)
        .missing(missing)
        .message(format!(
            "the `appArmorProfile` of {whose} {what}: the API server rejects it"
        ))
        .remediation(
            "set `type: RuntimeDefault`, or `type: Localhost` with the `localhostProfile` \
             the nodes load",
        );
    if pss {
        builder.pss(PssLevel::Baseline, "AppArmor");
    }
}

/// A `Localhost` profile without a `localhostProfile` (absent, null or empty; a value that is
/// not a string is a type error, reported elsewhere).
fn lacks_localhost_profile(doc: &palisade_yaml::Document<'_>, profile: NodeId) -> bool {
    match doc.get(profile, "localhostProfile") {
        None => true,
        Some(n) if doc.is_null(n) => true,
        Some(n) => doc.str(n) == Some(""),
    }
}

/// Built-in Kubernetes API groups: the core group, single-word groups (`apps`, `batch`) and
/// `*.k8s.io`. Custom resources live in other groups.
fn is_kubernetes_group(group: &str) -> bool {
    group.is_empty() || !group.contains('.') || group.ends_with(".k8s.io")
}

/// The kinds in which kubeaudit finds a pod spec (its own API versions only).
fn kubeaudit_reads_pod_spec(object: &Object<'_>) -> bool {
    matches!(
        (object.api_version, object.kind),
        ("v1", "Pod" | "PodTemplate" | "ReplicationController")
            | ("apps/v1", "Deployment" | "DaemonSet" | "StatefulSet")
            | ("batch/v1", "Job")
            | ("batch/v1beta1", "CronJob")
    )
}
