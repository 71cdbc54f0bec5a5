//! Rules of the `images` checklist section.

pub mod image_pull_policy_not_always;
pub mod image_tag_latest;
pub mod image_tag_mismatch;
pub mod image_tag_missing;
