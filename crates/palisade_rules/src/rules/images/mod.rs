//! Rules of the `images` checklist section.

pub mod image_not_approved;
pub mod image_not_pinned_by_digest;
pub mod image_pull_policy_not_always;
pub mod image_registry_not_allowed;
pub mod image_tag_latest;
pub mod image_tag_mismatch;
pub mod image_tag_missing;
