//! CSV for spreadsheets (RFC 4180), one row per finding, streamed.

use std::io::Write;

use palisade_diagnostics::Finding;
use palisade_rules::InputError;

use crate::fingerprint::fingerprint;
use crate::{Reporter, Summary};

pub const CSV_HEADER: &[&str] = &[
    "severity",
    "code",
    "rule",
    "section",
    "file",
    "line",
    "column",
    "end_line",
    "end_column",
    "api_version",
    "kind",
    "namespace",
    "name",
    "container",
    "field",
    "missing",
    "message",
    "remediation",
    "kubeaudit_code",
    "pss",
    "suppressed_by",
    "fingerprint",
];

/// Writes one row per finding; input errors are not findings and go to the other reports (the
/// exit code still says 2).
pub struct CsvReporter<W: Write> {
    out: W,
    started: bool,
}

impl<W: Write> CsvReporter<W> {
    pub fn new(out: W) -> Self {
        Self {
            out,
            started: false,
        }
    }

    fn start(&mut self) -> std::io::Result<()> {
        if !self.started {
            self.started = true;
            self.out.write_all(CSV_HEADER.join(",").as_bytes())?;
            self.out.write_all(b"\r\n")?;
        }
        Ok(())
    }
}

/// Quotes a field when needed. Text that a spreadsheet would take for a formula (`=`, `+`, `-`,
/// `@`, tab, carriage return first) gets a leading `'`, the usual guard against CSV injection.
fn field(out: &mut String, value: &str) {
    let guarded;
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        guarded = format!("'{value}");
        &guarded
    } else {
        value
    };
    if value.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

fn number(out: &mut String, n: Option<u32>) {
    if let Some(n) = n {
        out.push_str(&n.to_string());
    }
}

impl<W: Write> Reporter for CsvReporter<W> {
    fn findings(&mut self, _file: Option<&str>, findings: &[&Finding]) -> std::io::Result<()> {
        self.start()?;
        let mut row = String::new();
        for f in findings {
            row.clear();
            let r = &f.resource;
            let pss = f
                .pss
                .map(|p| format!("{}: {}", p.level.as_str(), p.control))
                .unwrap_or_default();
            for t in [f.severity.as_str(), f.code, f.name, f.section.as_str()] {
                field(&mut row, t);
                row.push(',');
            }
            field(&mut row, f.file.as_deref().unwrap_or(crate::LIVE));
            row.push(',');
            for n in [f.line, f.column, f.end_line, f.end_column] {
                number(&mut row, n);
                row.push(',');
            }
            let container = f.container.as_ref().map(|c| c.name.as_str()).unwrap_or("");
            let suppressed = f.suppressed.as_ref().map(|s| s.by.as_str()).unwrap_or("");
            let fp = fingerprint(f);
            let rest: [&str; 13] = [
                &r.api_version,
                &r.kind,
                r.namespace.as_deref().unwrap_or(""),
                r.name.as_deref().unwrap_or(""),
                container,
                &f.path,
                f.missing.as_deref().unwrap_or(""),
                &f.message,
                &f.remediation,
                f.kubeaudit_code.as_deref().unwrap_or(""),
                &pss,
                suppressed,
                &fp,
            ];
            for (i, t) in rest.iter().enumerate() {
                if i > 0 {
                    row.push(',');
                }
                field(&mut row, t);
            }
            row.push_str("\r\n");
            self.out.write_all(row.as_bytes())?;
        }
        Ok(())
    }

    fn finish(&mut self, _errors: &[InputError], _summary: &Summary) -> std::io::Result<()> {
        self.start()?;
        self.out.flush()
    }
}
