//! Positions, locations and findings shared by every part of Palisade.
//!
//! Positions are byte ranges into the original text; they become line and column (1-based, in
//! code points) only when rendered, through a [`LineIndex`].

mod finding;
mod fix;
mod line_index;
mod text_range;

pub use finding::{
    ContainerKind, ContainerRef, Finding, ObjectRef, PssLevel, PssRef, RelatedLocation, Section,
    Severity, Suppression,
};
pub use fix::{Applicability, Fix, Op, Route, Step, Value};
pub use line_index::{LineCol, LineIndex};
pub use text_range::TextRange;
