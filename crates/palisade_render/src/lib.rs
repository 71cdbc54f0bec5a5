//! Palisade's reporters. Each one streams: findings are written file by file as the scan
//! produces them, so memory does not grow with the size of the input.

mod json;
mod summary;
mod text;

pub use json::{JSON_REPORT_VERSION, JsonReporter};
pub use summary::Summary;
pub use text::TextReporter;

use palisade_diagnostics::Finding;
use palisade_rules::InputError;

/// A streaming reporter.
pub trait Reporter {
    /// Findings of one file (or of the whole estate, with `file` `None`), in order.
    fn findings(&mut self, file: Option<&str>, findings: &[&Finding]) -> std::io::Result<()>;
    /// Closes the report with the input errors and the summary.
    fn finish(&mut self, errors: &[InputError], summary: &Summary) -> std::io::Result<()>;
}
