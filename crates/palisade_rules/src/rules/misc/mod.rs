//! Rules of the `misc` checklist section, and the rules about Palisade's own suppressions.

pub mod ignore_without_reason;
pub mod mixed_tenant_namespace;
pub mod namespace_pod_security_missing;
pub mod redundant_override;
pub mod tenant_namespace_without_quota;
pub mod tenant_workload_not_pinned;
pub mod unused_suppression;
pub mod workload_in_shared_namespace;
