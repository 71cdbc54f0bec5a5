//! Palisade's reporters. Most stream: findings are written file by file as the scan produces
//! them, so memory does not grow with the size of the input. JUnit and HTML group findings, so
//! they keep them until the end.

mod checklist;
mod csv;
mod fingerprint;
mod html;
mod json;
mod junit;
mod sarif;
mod summary;
mod text;

/// Shown in place of a file for what was not read from one: a live object of a cluster, a
/// node's running components, an admission request. (A scan of stdin names its input
/// `<stdin>` itself.)
pub const LIVE: &str = "(live)";

pub use checklist::{
    CHECKLIST_DATA, ChecklistItem, ItemFinding, ItemResult, ItemStatus, NodeVerdict,
    checklist_items, evaluate, evaluate_node, write_html as write_checklist_html,
    write_json as write_checklist_json, write_text as write_checklist_text,
};
pub use csv::{CSV_HEADER, CsvReporter};
pub use fingerprint::{FINGERPRINT_KEY, fingerprint};
pub use html::HtmlReporter;
pub use json::{JSON_REPORT_VERSION, JsonReporter, encode_finding};
pub use junit::JunitReporter;
pub use sarif::{SARIF_SCHEMA, SRCROOT, SarifReporter, level, security_severity};
pub use summary::{ExceptionNotice, Summary};
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

/// Sends everything to several reporters: `--format sarif=a.sarif --format json=b.json`.
pub struct Tee<'a> {
    pub reporters: Vec<Box<dyn Reporter + 'a>>,
}

impl Reporter for Tee<'_> {
    fn findings(&mut self, file: Option<&str>, findings: &[&Finding]) -> std::io::Result<()> {
        for r in &mut self.reporters {
            r.findings(file, findings)?;
        }
        Ok(())
    }

    fn finish(&mut self, errors: &[InputError], summary: &Summary) -> std::io::Result<()> {
        for r in &mut self.reporters {
            r.finish(errors, summary)?;
        }
        Ok(())
    }
}
