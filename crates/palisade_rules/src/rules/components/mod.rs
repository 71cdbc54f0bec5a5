//! Rules of the `components` checklist section.

pub(crate) mod api_lifecycle;
pub(crate) mod rbac;

pub mod cluster_admin_binding;
pub mod dangerous_rbac_permission;
pub mod default_service_account_automount;
pub mod default_service_account_bound;
pub mod deprecated_api_version;
pub mod kubernetes_dashboard_exposed;
pub mod rbac_binding_to_all_users;
pub mod rbac_wildcard;
