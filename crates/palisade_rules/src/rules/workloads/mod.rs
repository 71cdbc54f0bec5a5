//! Rules of the `workloads` checklist section.

pub(crate) mod pod_fields;

pub mod apparmor_annotation_invalid;
pub mod apparmor_profile_missing;
pub mod apparmor_unconfined;
pub mod deprecated_service_account_field;
pub mod privileged_container;
pub mod resource_limits_exceeded;
pub mod resource_limits_missing;
pub mod resource_requests_missing;
pub mod seccomp_deprecated_annotation;
pub mod seccomp_profile_missing;
pub mod seccomp_unconfined;
pub mod service_account_token_automount;
