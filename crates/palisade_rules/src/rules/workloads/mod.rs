//! Rules of the `workloads` checklist section.

pub mod invalid_field_type;
pub mod privileged_container;
pub mod secret_in_env;
