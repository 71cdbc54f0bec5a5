//! Rules of the `workloads` checklist section.

pub mod privileged_container;
