//! Rules of the `workloads` checklist section.

pub(crate) mod host_access;

pub mod container_runtime_socket_mounted;
pub mod host_ipc;
pub mod host_network;
pub mod host_path_volume;
pub mod host_pid;
pub mod host_port;
pub mod host_process;
pub mod privileged_container;
pub mod proc_mount_unmasked;
pub mod restricted_volume_type;
pub mod selinux_options;
pub mod sensitive_host_path_mounted;
pub mod unsafe_sysctls;
