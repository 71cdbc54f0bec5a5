//! The lifecycle of deprecated Kubernetes API versions, for `deprecated-api-version`.
//!
//! Transcribed from the prerelease-lifecycle data that `prerelease-lifecycle-gen` writes into
//! `zz_generated.prerelease-lifecycle.go` (the data the API server uses for its deprecation
//! warnings and to stop serving a version): k8s.io/api v0.37.2 (Kubernetes 1.37), plus
//! k8s.io/api v0.24.3 for the types deleted from the Go packages since (batch/v1beta1
//! JobTemplate, autoscaling/v2beta1 and v2beta2, flowcontrol/v1alpha1, both
//! PodSecurityPolicy versions), k8s.io/kube-aggregator (APIService) and
//! k8s.io/apiextensions-apiserver (CustomResourceDefinition). That covers kubeaudit's table
//! (k8s.io/api v0.24.3) and every version deprecated or removed since.
//!
//! Changes to the upstream data: `networking.k8s.io/v1beta1 IngressClass` names
//! `IngressClassList` as its replacement upstream; here it is `IngressClass`. A version
//! without a replacement upstream gets the GA version of the same kind in the same group when
//! Kubernetes 1.37 has one (`events.k8s.io/v1beta1 Event` → `events.k8s.io/v1`,
//! `resource.k8s.io/v1beta2` → `resource.k8s.io/v1`, the admission policy, IPAddress,
//! ServiceCIDR, SelfSubjectReview, ClusterTrustBundle, RuntimeClass and Eviction betas and
//! alphas); upstream's own warning for those ends without `; use …`. Two GA kinds
//! that are deprecated through API warnings rather than lifecycle data are added: `v1
//! ComponentStatus` (deprecated in 1.19) and `v1 Endpoints` (deprecated in 1.33, in favour of
//! `discovery.k8s.io/v1 EndpointSlice`); neither has a removal version.
//!
//! To update: add the rows of the new release's lifecycle files whose `APILifecycleDeprecated`
//! is set, keeping rows for types that upstream has deleted.

use std::fmt::Write as _;

/// A Kubernetes minor version, as (major, minor).
pub(crate) type Version = (u32, u32);

/// One deprecated kind at one API version.
#[derive(Debug)]
pub(crate) struct ApiLifecycle {
    /// `batch/v1beta1`; `v1` for the core group.
    pub group_version: &'static str,
    pub kind: &'static str,
    pub introduced: Option<Version>,
    pub deprecated: Version,
    /// The first release that no longer serves this version.
    pub removed: Option<Version>,
    /// The kind to use instead, as (group/version, kind).
    pub replacement: Option<(&'static str, &'static str)>,
}

const fn api(
    group_version: &'static str,
    kind: &'static str,
    introduced: Option<Version>,
    deprecated: Version,
    removed: Option<Version>,
    replacement: Option<(&'static str, &'static str)>,
) -> ApiLifecycle {
    ApiLifecycle {
        group_version,
        kind,
        introduced,
        deprecated,
        removed,
        replacement,
    }
}

/// Every deprecated (group/version, kind), sorted by group/version then kind.
#[rustfmt::skip]
pub(crate) static DEPRECATED_APIS: &[ApiLifecycle] = &[
    api("admission.k8s.io/v1beta1", "AdmissionReview", Some((1, 9)), (1, 19), Some((1, 22)), Some(("admission.k8s.io/v1", "AdmissionReview"))),
    api("admissionregistration.k8s.io/v1alpha1", "MutatingAdmissionPolicy", Some((1, 32)), (1, 35), Some((1, 38)), Some(("admissionregistration.k8s.io/v1", "MutatingAdmissionPolicy"))),
    api("admissionregistration.k8s.io/v1alpha1", "MutatingAdmissionPolicyBinding", Some((1, 32)), (1, 35), Some((1, 38)), Some(("admissionregistration.k8s.io/v1", "MutatingAdmissionPolicyBinding"))),
    api("admissionregistration.k8s.io/v1alpha1", "ValidatingAdmissionPolicy", Some((1, 26)), (1, 29), Some((1, 32)), Some(("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy"))),
    api("admissionregistration.k8s.io/v1alpha1", "ValidatingAdmissionPolicyBinding", Some((1, 26)), (1, 29), Some((1, 32)), Some(("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding"))),
    api("admissionregistration.k8s.io/v1beta1", "MutatingAdmissionPolicy", Some((1, 34)), (1, 37), Some((1, 40)), Some(("admissionregistration.k8s.io/v1", "MutatingAdmissionPolicy"))),
    api("admissionregistration.k8s.io/v1beta1", "MutatingAdmissionPolicyBinding", Some((1, 34)), (1, 37), Some((1, 40)), Some(("admissionregistration.k8s.io/v1", "MutatingAdmissionPolicyBinding"))),
    api("admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration", Some((1, 9)), (1, 16), Some((1, 22)), Some(("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"))),
    api("admissionregistration.k8s.io/v1beta1", "ValidatingAdmissionPolicy", Some((1, 28)), (1, 31), Some((1, 34)), Some(("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy"))),
    api("admissionregistration.k8s.io/v1beta1", "ValidatingAdmissionPolicyBinding", Some((1, 28)), (1, 31), Some((1, 34)), Some(("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding"))),
    api("admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration", Some((1, 9)), (1, 16), Some((1, 22)), Some(("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"))),
    api("apidiscovery.k8s.io/v2beta1", "APIGroupDiscovery", Some((1, 26)), (1, 32), Some((1, 35)), Some(("apidiscovery.k8s.io/v2", "APIGroupDiscovery"))),
    api("apiextensions.k8s.io/v1beta1", "ConversionReview", Some((1, 13)), (1, 19), Some((1, 22)), Some(("apiextensions.k8s.io/v1", "ConversionReview"))),
    api("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", Some((1, 7)), (1, 16), Some((1, 22)), Some(("apiextensions.k8s.io/v1", "CustomResourceDefinition"))),
    api("apiregistration.k8s.io/v1beta1", "APIService", Some((1, 7)), (1, 19), Some((1, 22)), Some(("apiregistration.k8s.io/v1", "APIService"))),
    api("apps/v1beta1", "ControllerRevision", Some((1, 7)), (1, 8), Some((1, 16)), Some(("apps/v1", "ControllerRevision"))),
    api("apps/v1beta1", "Deployment", Some((1, 6)), (1, 8), Some((1, 16)), Some(("apps/v1", "Deployment"))),
    api("apps/v1beta1", "DeploymentRollback", Some((1, 6)), (1, 8), Some((1, 16)), Some(("apps/v1", "DeploymentRollback"))),
    api("apps/v1beta1", "Scale", Some((1, 6)), (1, 8), Some((1, 16)), Some(("autoscaling/v1", "Scale"))),
    api("apps/v1beta1", "StatefulSet", Some((1, 5)), (1, 8), Some((1, 16)), Some(("apps/v1", "StatefulSet"))),
    api("apps/v1beta2", "ControllerRevision", Some((1, 8)), (1, 9), Some((1, 16)), Some(("apps/v1", "ControllerRevision"))),
    api("apps/v1beta2", "DaemonSet", Some((1, 8)), (1, 9), Some((1, 16)), Some(("apps/v1", "DaemonSet"))),
    api("apps/v1beta2", "Deployment", Some((1, 8)), (1, 9), Some((1, 16)), Some(("apps/v1", "Deployment"))),
    api("apps/v1beta2", "ReplicaSet", Some((1, 8)), (1, 9), Some((1, 16)), Some(("apps/v1", "ReplicaSet"))),
    api("apps/v1beta2", "Scale", Some((1, 8)), (1, 9), Some((1, 16)), Some(("autoscaling/v1", "Scale"))),
    api("apps/v1beta2", "StatefulSet", Some((1, 8)), (1, 9), Some((1, 16)), Some(("apps/v1", "StatefulSet"))),
    api("authentication.k8s.io/v1alpha1", "SelfSubjectReview", Some((1, 26)), (1, 29), Some((1, 32)), Some(("authentication.k8s.io/v1", "SelfSubjectReview"))),
    api("authentication.k8s.io/v1beta1", "SelfSubjectReview", Some((1, 27)), (1, 30), Some((1, 33)), Some(("authentication.k8s.io/v1", "SelfSubjectReview"))),
    api("authentication.k8s.io/v1beta1", "TokenReview", Some((1, 4)), (1, 19), Some((1, 22)), Some(("authentication.k8s.io/v1", "TokenReview"))),
    api("authorization.k8s.io/v1beta1", "LocalSubjectAccessReview", Some((1, 2)), (1, 19), Some((1, 22)), Some(("authorization.k8s.io/v1", "LocalSubjectAccessReview"))),
    api("authorization.k8s.io/v1beta1", "SelfSubjectAccessReview", Some((1, 2)), (1, 19), Some((1, 22)), Some(("authorization.k8s.io/v1", "SelfSubjectAccessReview"))),
    api("authorization.k8s.io/v1beta1", "SelfSubjectRulesReview", Some((1, 8)), (1, 19), Some((1, 22)), Some(("authorization.k8s.io/v1", "SelfSubjectRulesReview"))),
    api("authorization.k8s.io/v1beta1", "SubjectAccessReview", Some((1, 2)), (1, 19), Some((1, 22)), Some(("authorization.k8s.io/v1", "SubjectAccessReview"))),
    api("autoscaling/v2beta1", "HorizontalPodAutoscaler", Some((1, 8)), (1, 22), Some((1, 25)), Some(("autoscaling/v2", "HorizontalPodAutoscaler"))),
    api("autoscaling/v2beta2", "HorizontalPodAutoscaler", Some((1, 12)), (1, 23), Some((1, 26)), Some(("autoscaling/v2", "HorizontalPodAutoscaler"))),
    api("batch/v1beta1", "CronJob", Some((1, 8)), (1, 21), Some((1, 25)), Some(("batch/v1", "CronJob"))),
    api("batch/v1beta1", "JobTemplate", Some((1, 8)), (1, 22), Some((1, 25)), None),
    api("certificates.k8s.io/v1alpha1", "ClusterTrustBundle", Some((1, 26)), (1, 34), Some((1, 37)), Some(("certificates.k8s.io/v1", "ClusterTrustBundle"))),
    api("certificates.k8s.io/v1beta1", "CertificateSigningRequest", Some((1, 12)), (1, 19), Some((1, 22)), Some(("certificates.k8s.io/v1", "CertificateSigningRequest"))),
    api("certificates.k8s.io/v1beta1", "ClusterTrustBundle", Some((1, 33)), (1, 37), Some((1, 40)), Some(("certificates.k8s.io/v1", "ClusterTrustBundle"))),
    api("certificates.k8s.io/v1beta1", "PodCertificateRequest", Some((1, 35)), (1, 37), Some((1, 40)), Some(("certificates.k8s.io/v1", "PodCertificateRequest"))),
    api("coordination.k8s.io/v1alpha2", "LeaseCandidate", Some((1, 32)), (1, 35), Some((1, 38)), None),
    api("coordination.k8s.io/v1beta1", "Lease", Some((1, 12)), (1, 19), Some((1, 22)), Some(("coordination.k8s.io/v1", "Lease"))),
    api("coordination.k8s.io/v1beta1", "LeaseCandidate", Some((1, 33)), (1, 36), Some((1, 39)), None),
    api("discovery.k8s.io/v1beta1", "EndpointSlice", Some((1, 16)), (1, 21), Some((1, 25)), Some(("discovery.k8s.io/v1", "EndpointSlice"))),
    api("events.k8s.io/v1beta1", "Event", Some((1, 8)), (1, 22), Some((1, 25)), Some(("events.k8s.io/v1", "Event"))),
    api("extensions/v1beta1", "DaemonSet", Some((1, 1)), (1, 8), Some((1, 16)), Some(("apps/v1", "DaemonSet"))),
    api("extensions/v1beta1", "Deployment", Some((1, 1)), (1, 8), Some((1, 16)), Some(("apps/v1", "Deployment"))),
    api("extensions/v1beta1", "DeploymentRollback", Some((1, 2)), (1, 8), Some((1, 16)), None),
    api("extensions/v1beta1", "Ingress", Some((1, 1)), (1, 14), Some((1, 22)), Some(("networking.k8s.io/v1", "Ingress"))),
    api("extensions/v1beta1", "NetworkPolicy", Some((1, 3)), (1, 9), Some((1, 16)), Some(("networking.k8s.io/v1", "NetworkPolicy"))),
    api("extensions/v1beta1", "PodSecurityPolicy", Some((1, 2)), (1, 11), Some((1, 16)), Some(("policy/v1beta1", "PodSecurityPolicy"))),
    api("extensions/v1beta1", "ReplicaSet", Some((1, 2)), (1, 8), Some((1, 16)), Some(("apps/v1", "ReplicaSet"))),
    api("extensions/v1beta1", "Scale", Some((1, 1)), (1, 2), Some((1, 16)), None),
    api("flowcontrol.apiserver.k8s.io/v1alpha1", "FlowSchema", Some((1, 18)), (1, 20), Some((1, 21)), Some(("flowcontrol.apiserver.k8s.io/v1beta2", "FlowSchema"))),
    api("flowcontrol.apiserver.k8s.io/v1alpha1", "PriorityLevelConfiguration", Some((1, 18)), (1, 20), Some((1, 21)), Some(("flowcontrol.apiserver.k8s.io/v1beta2", "PriorityLevelConfiguration"))),
    api("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema", Some((1, 20)), (1, 23), Some((1, 26)), Some(("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema"))),
    api("flowcontrol.apiserver.k8s.io/v1beta1", "PriorityLevelConfiguration", Some((1, 20)), (1, 23), Some((1, 26)), Some(("flowcontrol.apiserver.k8s.io/v1beta3", "PriorityLevelConfiguration"))),
    api("flowcontrol.apiserver.k8s.io/v1beta2", "FlowSchema", Some((1, 23)), (1, 26), Some((1, 29)), Some(("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema"))),
    api("flowcontrol.apiserver.k8s.io/v1beta2", "PriorityLevelConfiguration", Some((1, 23)), (1, 26), Some((1, 29)), Some(("flowcontrol.apiserver.k8s.io/v1beta3", "PriorityLevelConfiguration"))),
    api("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", Some((1, 26)), (1, 29), Some((1, 32)), Some(("flowcontrol.apiserver.k8s.io/v1", "FlowSchema"))),
    api("flowcontrol.apiserver.k8s.io/v1beta3", "PriorityLevelConfiguration", Some((1, 26)), (1, 29), Some((1, 32)), Some(("flowcontrol.apiserver.k8s.io/v1", "PriorityLevelConfiguration"))),
    api("lifecycle.k8s.io/v1alpha1", "Eviction", Some((1, 37)), (1, 40), Some((1, 43)), None),
    api("lifecycle.k8s.io/v1alpha1", "EvictionRequest", Some((1, 37)), (1, 40), Some((1, 43)), None),
    api("networking.k8s.io/v1beta1", "IPAddress", Some((1, 31)), (1, 34), Some((1, 37)), Some(("networking.k8s.io/v1", "IPAddress"))),
    api("networking.k8s.io/v1beta1", "Ingress", Some((1, 14)), (1, 19), Some((1, 22)), Some(("networking.k8s.io/v1", "Ingress"))),
    api("networking.k8s.io/v1beta1", "IngressClass", Some((1, 18)), (1, 19), Some((1, 22)), Some(("networking.k8s.io/v1", "IngressClass"))),
    api("networking.k8s.io/v1beta1", "ServiceCIDR", Some((1, 31)), (1, 34), Some((1, 37)), Some(("networking.k8s.io/v1", "ServiceCIDR"))),
    api("node.k8s.io/v1beta1", "RuntimeClass", Some((1, 13)), (1, 22), Some((1, 25)), Some(("node.k8s.io/v1", "RuntimeClass"))),
    api("policy/v1beta1", "Eviction", Some((1, 5)), (1, 22), Some((1, 25)), Some(("policy/v1", "Eviction"))),
    api("policy/v1beta1", "PodDisruptionBudget", Some((1, 5)), (1, 21), Some((1, 25)), Some(("policy/v1", "PodDisruptionBudget"))),
    api("policy/v1beta1", "PodSecurityPolicy", Some((1, 10)), (1, 21), Some((1, 25)), None),
    api("rbac.authorization.k8s.io/v1beta1", "ClusterRole", Some((1, 6)), (1, 17), Some((1, 22)), Some(("rbac.authorization.k8s.io/v1", "ClusterRole"))),
    api("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding", Some((1, 6)), (1, 17), Some((1, 22)), Some(("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"))),
    api("rbac.authorization.k8s.io/v1beta1", "Role", Some((1, 6)), (1, 17), Some((1, 22)), Some(("rbac.authorization.k8s.io/v1", "Role"))),
    api("rbac.authorization.k8s.io/v1beta1", "RoleBinding", Some((1, 6)), (1, 17), Some((1, 22)), Some(("rbac.authorization.k8s.io/v1", "RoleBinding"))),
    api("resource.k8s.io/v1alpha3", "DeviceTaintRule", Some((1, 33)), (1, 36), Some((1, 39)), Some(("resource.k8s.io/v1", "DeviceTaintRule"))),
    api("resource.k8s.io/v1alpha3", "ResourcePoolStatusRequest", Some((1, 36)), (1, 39), Some((1, 42)), None),
    api("resource.k8s.io/v1beta1", "DeviceClass", Some((1, 32)), (1, 35), Some((1, 38)), Some(("resource.k8s.io/v1", "DeviceClass"))),
    api("resource.k8s.io/v1beta1", "ResourceClaim", Some((1, 32)), (1, 35), Some((1, 38)), Some(("resource.k8s.io/v1", "ResourceClaim"))),
    api("resource.k8s.io/v1beta1", "ResourceClaimTemplate", Some((1, 32)), (1, 35), Some((1, 38)), Some(("resource.k8s.io/v1", "ResourceClaimTemplate"))),
    api("resource.k8s.io/v1beta1", "ResourceSlice", Some((1, 32)), (1, 35), Some((1, 38)), Some(("resource.k8s.io/v1", "ResourceSlice"))),
    api("resource.k8s.io/v1beta2", "DeviceClass", Some((1, 33)), (1, 36), Some((1, 39)), Some(("resource.k8s.io/v1", "DeviceClass"))),
    api("resource.k8s.io/v1beta2", "DeviceTaintRule", Some((1, 36)), (1, 39), Some((1, 42)), Some(("resource.k8s.io/v1", "DeviceTaintRule"))),
    api("resource.k8s.io/v1beta2", "ResourceClaim", Some((1, 33)), (1, 36), Some((1, 39)), Some(("resource.k8s.io/v1", "ResourceClaim"))),
    api("resource.k8s.io/v1beta2", "ResourceClaimTemplate", Some((1, 33)), (1, 36), Some((1, 39)), Some(("resource.k8s.io/v1", "ResourceClaimTemplate"))),
    api("resource.k8s.io/v1beta2", "ResourceSlice", Some((1, 33)), (1, 36), Some((1, 39)), Some(("resource.k8s.io/v1", "ResourceSlice"))),
    api("scheduling.k8s.io/v1beta1", "PodGroup", Some((1, 37)), (1, 40), Some((1, 43)), None),
    api("scheduling.k8s.io/v1beta1", "PriorityClass", Some((1, 11)), (1, 14), Some((1, 22)), Some(("scheduling.k8s.io/v1", "PriorityClass"))),
    api("scheduling.k8s.io/v1beta1", "Workload", Some((1, 37)), (1, 40), Some((1, 43)), None),
    api("storage.k8s.io/v1alpha1", "CSIStorageCapacity", Some((1, 19)), (1, 21), Some((1, 24)), Some(("storage.k8s.io/v1beta1", "CSIStorageCapacity"))),
    api("storage.k8s.io/v1alpha1", "VolumeAttachment", Some((1, 9)), (1, 21), Some((1, 24)), Some(("storage.k8s.io/v1", "VolumeAttachment"))),
    api("storage.k8s.io/v1alpha1", "VolumeAttributesClass", Some((1, 29)), (1, 32), Some((1, 35)), Some(("storage.k8s.io/v1", "VolumeAttributesClass"))),
    api("storage.k8s.io/v1beta1", "CSIDriver", Some((1, 14)), (1, 19), Some((1, 22)), Some(("storage.k8s.io/v1", "CSIDriver"))),
    api("storage.k8s.io/v1beta1", "CSINode", Some((1, 14)), (1, 17), Some((1, 22)), Some(("storage.k8s.io/v1", "CSINode"))),
    api("storage.k8s.io/v1beta1", "CSIStorageCapacity", Some((1, 21)), (1, 24), Some((1, 27)), Some(("storage.k8s.io/v1", "CSIStorageCapacity"))),
    api("storage.k8s.io/v1beta1", "StorageClass", Some((1, 4)), (1, 19), Some((1, 22)), Some(("storage.k8s.io/v1", "StorageClass"))),
    api("storage.k8s.io/v1beta1", "VolumeAttachment", Some((1, 10)), (1, 19), Some((1, 22)), Some(("storage.k8s.io/v1", "VolumeAttachment"))),
    api("storage.k8s.io/v1beta1", "VolumeAttributesClass", Some((1, 31)), (1, 34), Some((1, 37)), Some(("storage.k8s.io/v1", "VolumeAttributesClass"))),
    api("storagemigration.k8s.io/v1beta1", "StorageVersionMigration", Some((1, 35)), (1, 37), Some((1, 40)), Some(("storagemigration.k8s.io/v1", "StorageVersionMigration"))),
    api("v1", "ComponentStatus", None, (1, 19), None, None),
    api("v1", "Endpoints", None, (1, 33), None, Some(("discovery.k8s.io/v1", "EndpointSlice"))),
];

/// The lifecycle of `kind` at `api_version`, when that version is deprecated.
pub(crate) fn lookup(api_version: &str, kind: &str) -> Option<&'static ApiLifecycle> {
    let version = api_version.rsplit_once('/').map_or(api_version, |(_, v)| v);
    let prerelease = version.contains("alpha") || version.contains("beta");
    let deprecated_ga = api_version == "v1" && matches!(kind, "Endpoints" | "ComponentStatus");
    if !(prerelease || deprecated_ga) {
        return None;
    }
    DEPRECATED_APIS
        .iter()
        .find(|a| a.kind == kind && a.group_version == api_version)
}

/// The replacement to recommend when targeting `target`: upstream's replacement, followed
/// while that replacement is itself no longer served (flowcontrol v1beta1 → v1beta3 → v1).
pub(crate) fn replacement_for(
    api: &'static ApiLifecycle,
    target: Version,
) -> Option<(&'static str, &'static str)> {
    let mut current = api.replacement?;
    for _ in 0..DEPRECATED_APIS.len() {
        let Some(next) = lookup(current.0, current.1) else {
            break;
        };
        match (next.removed, next.replacement) {
            (Some(removed), Some(replacement)) if target >= removed => current = replacement,
            (Some(removed), None) if target >= removed => return None,
            _ => break,
        }
    }
    Some(current)
}

/// kubeaudit's message, which is also the warning the API server sends:
/// `batch/v1beta1 CronJob is deprecated in v1.21+, unavailable in v1.25+, introduced in
/// v1.8+; use batch/v1 CronJob`. Unknown parts are left out.
pub(crate) fn message(api: &ApiLifecycle, replacement: Option<(&str, &str)>) -> String {
    let (dm, dn) = api.deprecated;
    let mut s = format!(
        "{} {} is deprecated in v{dm}.{dn}+",
        api.group_version, api.kind
    );
    if let Some((m, n)) = api.removed {
        let _ = write!(s, ", unavailable in v{m}.{n}+");
    }
    if let Some((m, n)) = api.introduced {
        let _ = write!(s, ", introduced in v{m}.{n}+");
    }
    if let Some((gv, kind)) = replacement {
        let _ = write!(s, "; use {gv} {kind}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_unique_and_consistent() {
        for pair in DEPRECATED_APIS.windows(2) {
            let a = (pair[0].group_version, pair[0].kind);
            let b = (pair[1].group_version, pair[1].kind);
            assert!(a < b, "{a:?} before {b:?}");
        }
        for a in DEPRECATED_APIS {
            if let Some(i) = a.introduced {
                assert!(i <= a.deprecated, "{a:?}");
            }
            if let Some(r) = a.removed {
                assert!(a.deprecated <= r, "{a:?}");
            }
        }
    }

    #[test]
    fn cronjob_message_matches_kubeaudit() {
        let api = lookup("batch/v1beta1", "CronJob").unwrap();
        assert_eq!(
            message(api, replacement_for(api, (1, 37))),
            "batch/v1beta1 CronJob is deprecated in v1.21+, unavailable in v1.25+, \
             introduced in v1.8+; use batch/v1 CronJob"
        );
        let endpoints = lookup("v1", "Endpoints").unwrap();
        assert_eq!(
            message(endpoints, endpoints.replacement),
            "v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice"
        );
        assert!(lookup("apps/v1", "Deployment").is_none());
        assert!(lookup("v1", "Pod").is_none());
    }

    #[test]
    fn replacements_skip_removed_versions() {
        let fs = lookup("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema").unwrap();
        assert_eq!(
            replacement_for(fs, (1, 37)),
            Some(("flowcontrol.apiserver.k8s.io/v1", "FlowSchema"))
        );
        assert_eq!(
            replacement_for(fs, (1, 27)),
            Some(("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema"))
        );
        let psp = lookup("extensions/v1beta1", "PodSecurityPolicy").unwrap();
        assert_eq!(replacement_for(psp, (1, 37)), None);
        assert_eq!(
            replacement_for(psp, (1, 20)),
            Some(("policy/v1beta1", "PodSecurityPolicy"))
        );
    }
}
