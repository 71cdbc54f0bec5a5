//! Rules of the `workloads` checklist section.

pub(crate) mod host_access;
pub(crate) mod pod_fields;
pub(crate) mod security_context;

pub mod apparmor_annotation_invalid;
pub mod apparmor_profile_missing;
pub mod apparmor_unconfined;
pub mod capabilities_not_dropped;
pub mod capability_added;
pub mod container_runtime_socket_mounted;
pub mod deprecated_service_account_field;
pub mod host_ipc;
pub mod host_network;
pub mod host_path_volume;
pub mod host_pid;
pub mod host_port;
pub mod host_process;
pub mod privilege_escalation_allowed;
pub mod privileged_container;
pub mod privileged_not_explicit;
pub mod proc_mount_unmasked;
pub mod resource_limits_exceeded;
pub mod resource_limits_missing;
pub mod resource_requests_missing;
pub mod restricted_volume_type;
pub mod root_filesystem_writable;
pub mod run_as_non_root_not_enforced;
pub mod run_as_root;
pub mod seccomp_deprecated_annotation;
pub mod seccomp_profile_missing;
pub mod seccomp_unconfined;
pub mod selinux_options;
pub mod sensitive_host_path_mounted;
pub mod service_account_token_automount;
pub mod unsafe_sysctls;
