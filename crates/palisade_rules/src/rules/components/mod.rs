//! Rules of the `components` checklist section.

pub(crate) mod api_lifecycle;

pub mod deprecated_api_version;
