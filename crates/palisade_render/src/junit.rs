//! JUnit XML for CI dashboards: one test suite per rule that ran, one failing test case per rule
//! and object, and one passing case for a rule that found nothing. Input errors become a
//! `palisade.input` suite of errored cases.

use std::collections::BTreeMap;
use std::io::Write;

use palisade_diagnostics::Finding;
use palisade_rules::{InputError, RuleMeta};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::{Reporter, Summary};

/// Findings of one rule on one object.
struct Case {
    file: String,
    severity: palisade_diagnostics::Severity,
    first: String,
    details: String,
    count: usize,
}

/// Buffers findings by rule and object (JUnit is not streamable) and writes the XML at the end.
pub struct JunitReporter<W: Write> {
    out: W,
    rules: Vec<&'static RuleMeta>,
    cases: BTreeMap<&'static str, BTreeMap<String, Case>>,
}

impl<W: Write> JunitReporter<W> {
    pub fn new(out: W, rules: Vec<&'static RuleMeta>) -> Self {
        Self {
            out,
            rules,
            cases: BTreeMap::new(),
        }
    }
}

fn location(f: &Finding) -> String {
    let file = f.file.as_deref().unwrap_or(crate::LIVE);
    match (f.line, f.column) {
        (Some(l), Some(c)) => format!("{file}:{l}:{c}"),
        _ => file.to_owned(),
    }
}

impl<W: Write> Reporter for JunitReporter<W> {
    fn findings(&mut self, _file: Option<&str>, findings: &[&Finding]) -> std::io::Result<()> {
        for f in findings {
            let mut object = f.resource.to_string();
            if f.resource.namespace.is_none() && f.resource.name.is_some() {
                // Cluster-scoped or namespace left to the apply: say so, so names stay distinct.
                object = format!("{} (no namespace)", object);
            }
            let case = self
                .cases
                .entry(f.code)
                .or_default()
                .entry(object)
                .or_insert_with(|| Case {
                    file: f.file.as_deref().unwrap_or(crate::LIVE).to_owned(),
                    severity: f.severity,
                    first: f.message.clone(),
                    details: String::new(),
                    count: 0,
                });
            case.severity = case.severity.max(f.severity);
            case.count += 1;
            use std::fmt::Write as _;
            let _ = write!(
                case.details,
                "{}: [{}] {}\n  field: {}{}\n  fix: {}\n",
                location(f),
                f.severity,
                f.message,
                f.path,
                f.missing
                    .as_deref()
                    .map(|m| format!(" (missing: {m})"))
                    .unwrap_or_default(),
                f.remediation
            );
            if let Some(s) = &f.suppressed {
                let _ = writeln!(case.details, "  suppressed by {}", s.by);
            }
        }
        Ok(())
    }

    fn finish(&mut self, errors: &[InputError], summary: &Summary) -> std::io::Result<()> {
        let mut report = Report::new("palisade");
        for meta in &self.rules {
            let mut suite = TestSuite::new(format!("{} {}", meta.code, meta.name));
            suite.add_property(("section", meta.section.as_str()));
            suite.add_property(("severity", meta.severity.as_str()));
            match self.cases.remove(meta.code) {
                None => {
                    let mut case = TestCase::new(
                        format!("{}: no findings", meta.name),
                        TestCaseStatus::success(),
                    );
                    case.set_classname(meta.code);
                    suite.add_test_case(case);
                }
                Some(objects) => {
                    for (object, c) in objects {
                        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                        let message = if c.count > 1 {
                            format!("{} (and {} more)", c.first, c.count - 1)
                        } else {
                            c.first
                        };
                        status
                            .set_message(message)
                            .set_type(c.severity.as_str())
                            .set_description(c.details);
                        let mut case = TestCase::new(object, status);
                        case.set_classname(format!("{}.{}", meta.code, c.file));
                        suite.add_test_case(case);
                    }
                }
            }
            report.add_test_suite(suite);
        }
        if !errors.is_empty() {
            let mut suite = TestSuite::new("palisade.input");
            for e in errors {
                let file = e.file.as_deref().unwrap_or(crate::LIVE);
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status.set_message(e.message.clone()).set_type(e.kind);
                let mut case = TestCase::new(format!("{file}:{}:{}", e.line, e.column), status);
                case.set_classname("palisade.input");
                suite.add_test_case(case);
            }
            report.add_test_suite(suite);
        }
        let _ = summary;
        report
            .serialize(&mut self.out)
            .map_err(std::io::Error::other)?;
        self.out.flush()
    }
}
