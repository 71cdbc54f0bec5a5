//! Kubernetes object views over Palisade's spanned YAML trees.
//!
//! Rules read objects through these views rather than through typed structs, so that one
//! wrong field type never hides the rest of a document, and so every value keeps its location.

mod field_path;
mod image;
mod object;
mod pod;
mod quantity;

pub use field_path::FieldPath;
pub use image::{ImageRef, is_build_reference};
pub use object::{Entry, Object, objects_in};
pub use pod::{Container, PodSpec, PodSpecShape, SecurityField, SecurityLevel, pod_spec_shape};
pub use quantity::Quantity;
