//! Rules of the `network` checklist section.

pub(crate) mod reach;

pub mod allow_all_network_policy;
pub mod egress_to_cloud_metadata;
pub mod egress_to_internal_network;
pub mod egress_to_internet;
pub mod kube_system_ingress_open;
pub mod mesh_membership;
pub mod mesh_mtls_not_strict;
pub mod missing_default_deny_network_policy;
pub mod namespace_without_default_deny;
pub mod pod_not_selected_by_network_policy;
pub mod pod_without_labels;
