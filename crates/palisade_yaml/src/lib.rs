//! The YAML (and JSON) source of Palisade.
//!
//! A file is split into documents on column-0 markers ([`split_documents`]), each document is
//! parsed once by granit-parser into an arena tree of [`Node`]s that keep their exact byte
//! ranges ([`parse_document`]), and scalars are resolved the way the Kubernetes API server
//! reads them ([`resolve`]).

mod resolve;
mod split;
mod template;
mod tree;

pub use resolve::{Resolved, resolve_plain};
pub use split::{DocumentChunk, split_documents};
pub use template::{is_helm_action, is_helm_object, template_in_document, template_marks};
pub use tree::{
    Comment, Document, Node, NodeId, NodeValue, ParseError, ParsedChunk, Scalar, ScalarStyle,
    parse_chunk,
};
