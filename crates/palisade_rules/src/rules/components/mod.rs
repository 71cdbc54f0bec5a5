//! Rules of the `components` checklist section.
