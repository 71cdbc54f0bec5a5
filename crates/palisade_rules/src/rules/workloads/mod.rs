//! Rules of the `workloads` checklist section.

pub(crate) mod security_context;

pub mod capabilities_not_dropped;
pub mod capability_added;
pub mod privilege_escalation_allowed;
pub mod privileged_container;
pub mod privileged_not_explicit;
pub mod root_filesystem_writable;
pub mod run_as_non_root_not_enforced;
pub mod run_as_root;
