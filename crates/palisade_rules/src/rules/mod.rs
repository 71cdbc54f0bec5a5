//! The rules, one file each, grouped by the checklist section they belong to.

pub mod components;
pub mod images;
pub mod misc;
pub mod network;
pub mod workloads;
