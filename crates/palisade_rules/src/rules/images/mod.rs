//! Rules of the `images` checklist section.
