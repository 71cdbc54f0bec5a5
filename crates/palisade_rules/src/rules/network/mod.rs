//! Rules of the `network` checklist section.

pub mod allow_all_network_policy;
pub mod missing_default_deny_network_policy;
