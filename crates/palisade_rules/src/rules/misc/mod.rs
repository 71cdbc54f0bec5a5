//! Rules of the `misc` checklist section, and the rules about Palisade's own suppressions.

pub mod ignore_without_reason;
pub mod redundant_override;
pub mod unused_suppression;
