//! Rules of the `components` checklist section.

pub(crate) mod api_lifecycle;
pub(crate) mod rbac;

pub mod admission_webhook_fails_open;
pub mod anonymous_request_allowed;
pub mod api_server_accepts_old_tls;
pub mod apiserver_anonymous_auth;
pub mod apiserver_audit_logging;
pub mod apiserver_authorization_mode;
pub mod apiserver_encryption_at_rest;
pub mod apiserver_tls_settings;
pub mod cluster_admin_binding;
pub mod dangerous_rbac_permission;
pub mod default_service_account_automount;
pub mod default_service_account_bound;
pub mod default_service_account_permissions;
pub mod deprecated_api_version;
pub mod kubelet_version_unsupported;
pub mod kubernetes_dashboard_broad_permissions;
pub mod kubernetes_dashboard_exposed;
pub mod kubernetes_version_unsupported;
pub mod privileged_pod_admitted;
pub mod rbac_binding_to_all_users;
pub mod rbac_wildcard;
