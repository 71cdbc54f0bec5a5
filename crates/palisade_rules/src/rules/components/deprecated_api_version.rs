use super::api_lifecycle::{self, ApiLifecycle};
use crate::prelude::*;

/// The annotation `kubectl apply` writes with the manifest it applied.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

declare_rule! {
    /// ## What it does
    /// Flags objects whose `apiVersion` is deprecated for their kind, or no longer served:
    /// `batch/v1beta1 CronJob`, `extensions/v1beta1 Ingress`, `policy/v1beta1
    /// PodSecurityPolicy`, `flowcontrol.apiserver.k8s.io/v1beta3 FlowSchema`, `v1 Endpoints`
    /// and every other version the Kubernetes API has deprecated up to 1.37. It runs on every
    /// object, not only workloads.
    ///
    /// The severity depends on the `target-version` option (the version the manifests will
    /// be applied to, 1.37 by default) and the `current-version` option (the version the
    /// cluster runs today, unset by default):
    /// - **high** when the target no longer serves the version: the API server rejects the
    ///   object;
    /// - **medium** when the target still serves it but it is deprecated;
    /// - **info** when the deprecation comes after the target, or after the current version.
    ///
    /// The message is the warning the API server itself sends (and kubeaudit prints):
    /// `batch/v1beta1 CronJob is deprecated in v1.21+, unavailable in v1.25+, introduced in
    /// v1.8+; use batch/v1 CronJob`. When the recommended replacement is itself no longer
    /// served by the target, the rule recommends the replacement's replacement.
    ///
    /// An object read back from a cluster shows the version the API server prefers, not the
    /// one it was applied with. When an object's own version is current but its
    /// `kubectl.kubernetes.io/last-applied-configuration` annotation records a deprecated one,
    /// the annotation is reported: the next `kubectl apply` of that manifest fails.
    ///
    /// ## Why is this bad?
    /// A removed version breaks the deployment pipeline at the worst moment: right after a
    /// cluster upgrade, when the manifests, Helm charts and operators that still use it are
    /// rejected. A deprecated version gives notice of that breakage.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: batch/v1beta1
    /// kind: CronJob
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// apiVersion: batch/v1
    /// kind: CronJob
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/reference/using-api/deprecation-guide/
    /// - https://kubernetes.io/docs/reference/using-api/deprecation-policy/
    /// - kubeaudit `deprecatedapis` (`DeprecatedAPIUsed`), options `currentVersion` and
    ///   `targetedVersion`; no override label
    pub DeprecatedApiVersion {
        code: "CMP001",
        name: "deprecated-api-version",
        section: Components,
        severity: High,
        summary: "Object uses a deprecated or removed API version",
        kubeaudit: Some("deprecatedapis"),
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

impl Rule for DeprecatedApiVersion {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        let object = cx.object;
        if let Some(api) = api_lifecycle::lookup(object.api_version, object.kind) {
            let Some(node) = object.get(&["apiVersion"]) else {
                return;
            };
            report(cx, api, node, object.path(&["apiVersion"]), false);
            return;
        }
        let doc = cx.doc();
        let Some(annotation) = object
            .metadata()
            .and_then(|m| doc.path(m, &["annotations", LAST_APPLIED]))
        else {
            return;
        };
        let Some(applied) = doc
            .str(annotation)
            .and_then(|text| serde_json::from_str::<Applied>(text).ok())
        else {
            return;
        };
        let (Some(api_version), Some(kind)) = (applied.api_version, applied.kind) else {
            return;
        };
        if let Some(api) = api_lifecycle::lookup(&api_version, &kind) {
            let path = object.path(&["metadata", "annotations", LAST_APPLIED]);
            report(cx, api, annotation, path, true);
        }
    }
}

/// The two fields of a last-applied configuration this rule reads.
#[derive(serde::Deserialize)]
struct Applied {
    #[serde(rename = "apiVersion")]
    api_version: Option<String>,
    kind: Option<String>,
}

fn report(
    cx: &mut Checker<'_, '_>,
    api: &'static ApiLifecycle,
    node: NodeId,
    path: FieldPath,
    last_applied: bool,
) {
    let target = cx.settings.target_version;
    let replacement = api_lifecycle::replacement_for(api, target);
    let v = |(m, n): (u32, u32)| format!("v{m}.{n}");
    let old = format!("`{} {}`", api.group_version, api.kind);
    let removed = api.removed.filter(|&r| target >= r);
    let not_yet_deprecated = api.deprecated > target
        || cx
            .settings
            .current_version
            .is_some_and(|current| current < api.deprecated);
    let (severity, consequence) = if removed.is_some() {
        (
            Severity::High,
            format!(
                "Kubernetes {} no longer serves {old}, so the API server rejects the object",
                v(target)
            ),
        )
    } else if not_yet_deprecated {
        (
            Severity::Info,
            match api.removed {
                Some(r) => format!("nothing breaks yet, but {} stops serving {old}", v(r)),
                None => format!(
                    "nothing breaks yet, but {old} is deprecated from {}",
                    v(api.deprecated)
                ),
            },
        )
    } else {
        (
            Severity::Medium,
            match api.removed {
                Some(r) => format!("{old} is still served, until {}", v(r)),
                None => format!("{old} is still served, with a deprecation warning on every use"),
            },
        )
    };
    let action = match replacement {
        Some((gv, kind)) if kind == api.kind => format!(
            "change `apiVersion` to `{gv}` (and check the fields that changed between the \
             versions)"
        ),
        Some((gv, kind)) => format!("use `{gv}` `{kind}` instead"),
        None if api.kind == "PodSecurityPolicy" => "remove the PodSecurityPolicy and enforce the \
             Pod Security Standards with Pod Security Admission (`pod-security.kubernetes.io/\
             enforce` namespace labels)"
            .to_owned(),
        None => "move to the API that superseded this version (it has no direct replacement), \
                 or remove the object"
            .to_owned(),
    };
    let remediation = if last_applied {
        format!(
            "{action} in the manifest the object is applied from, then re-apply it: it was last \
             applied as {old}, and {consequence}"
        )
    } else {
        format!("{action}: {consequence}")
    };
    let mut builder = cx
        .report(node, path.clone())
        .severity(severity)
        .message(api_lifecycle::message(api, replacement))
        .remediation(remediation)
        .kubeaudit("DeprecatedAPIUsed");
    if let Some((gv, kind)) = replacement
        && !last_applied
        && kind == api.kind
        && same_schema(api.group_version, kind, gv)
    {
        builder = builder.fix(Fix::safe(
            format!("change `apiVersion` to `{gv}`"),
            vec![Op::set(path.as_str(), gv)],
        ));
    }
    drop(builder);
}

/// Version changes whose schema is the same for this kind, so that changing `apiVersion` alone
/// gives the same object. Not listed, because fields or defaults changed: workloads from
/// `extensions`/`apps/v1beta*` (a required `selector`), Ingress, CRDs and webhook
/// configurations (new required fields), CertificateSigningRequest (`signerName`),
/// PodDisruptionBudget (an empty selector selects every pod in `policy/v1`), EndpointSlice,
/// HorizontalPodAutoscaler `v2beta1` and FlowSchema before `v1beta3`.
fn same_schema(from: &str, kind: &str, to: &str) -> bool {
    let kind = kind.strip_suffix("List").unwrap_or(kind);
    matches!(
        (from, kind, to),
        (
            "rbac.authorization.k8s.io/v1beta1" | "rbac.authorization.k8s.io/v1alpha1",
            "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding",
            "rbac.authorization.k8s.io/v1"
        ) | (
            "scheduling.k8s.io/v1beta1" | "scheduling.k8s.io/v1alpha1",
            "PriorityClass",
            "scheduling.k8s.io/v1"
        ) | (
            "storage.k8s.io/v1beta1",
            "StorageClass" | "VolumeAttachment" | "CSIDriver" | "CSINode" | "CSIStorageCapacity",
            "storage.k8s.io/v1"
        ) | (
            "coordination.k8s.io/v1beta1",
            "Lease",
            "coordination.k8s.io/v1"
        ) | ("batch/v1beta1", "CronJob", "batch/v1")
            | (
                "extensions/v1beta1",
                "NetworkPolicy",
                "networking.k8s.io/v1"
            )
            | (
                "networking.k8s.io/v1beta1",
                "IngressClass",
                "networking.k8s.io/v1"
            )
            | (
                "autoscaling/v2beta2",
                "HorizontalPodAutoscaler",
                "autoscaling/v2"
            )
            | ("node.k8s.io/v1beta1", "RuntimeClass", "node.k8s.io/v1")
            | (
                "flowcontrol.apiserver.k8s.io/v1beta3",
                "FlowSchema" | "PriorityLevelConfiguration",
                "flowcontrol.apiserver.k8s.io/v1"
            )
    )
}
