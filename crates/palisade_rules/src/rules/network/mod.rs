//! Rules of the `network` checklist section.
