use palisade_diagnostics::{Finding, Severity};
use palisade_rules::DocumentStats;
use serde::Serialize;

/// Counts for the end of a report.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    #[serde(flatten)]
    pub stats: DocumentStats,
    /// Reported findings (not suppressed, at or above `--min-severity`).
    pub findings: usize,
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub info: usize,
    /// Findings suppressed by an override label, annotation or comment.
    pub suppressed: usize,
    /// Findings below `--min-severity`, not shown.
    pub below_min_severity: usize,
    /// Findings already recorded in the `--baseline` file, not shown.
    pub baselined: usize,
    /// Config exceptions that need attention: expired ones (no longer applied) and stale ones
    /// (that matched nothing).
    pub exceptions: Vec<ExceptionNotice>,
    pub errors: usize,
    /// Rules that ran.
    pub rules: usize,
    /// The severity at which the scan fails, and whether it did.
    pub fail_on: Severity,
    pub failed: bool,
}

impl Summary {
    pub fn new(fail_on: Severity) -> Self {
        Self {
            stats: DocumentStats::default(),
            findings: 0,
            critical: 0,
            high: 0,
            medium: 0,
            low: 0,
            info: 0,
            suppressed: 0,
            below_min_severity: 0,
            baselined: 0,
            exceptions: Vec::new(),
            errors: 0,
            rules: 0,
            fail_on,
            failed: false,
        }
    }

    pub fn count(&mut self, finding: &Finding) {
        self.findings += 1;
        match finding.severity {
            Severity::Critical => self.critical += 1,
            Severity::High => self.high += 1,
            Severity::Medium => self.medium += 1,
            Severity::Low => self.low += 1,
            Severity::Info => self.info += 1,
        }
    }
}

/// A config exception that expired or matched nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExceptionNotice {
    /// `expired` or `stale`.
    pub status: &'static str,
    /// The rule the exception is for, as written.
    pub rule: String,
    /// Where the exception is written: `file:line:column`.
    pub at: String,
    pub reason: String,
    pub owner: Option<String>,
    pub expires: Option<String>,
}
