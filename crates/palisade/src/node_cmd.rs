//! `palisade node`: the CIS Kubernetes Benchmark on the node palisade runs on (or on a node
//! filesystem under `--root`).

use std::fs::File;
use std::io::{BufWriter, Write};

use anyhow::{Context, Result};
use palisade_diagnostics::Finding;
use palisade_node::{InputErrorLike, NodeReport, audit, findings, render_text};
use palisade_render::{JSON_REPORT_VERSION, Summary};
use palisade_rules::InputError;
use serde::Serialize;

use crate::cli::{Format, NodeArgs};
use crate::{EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS};

#[derive(Serialize)]
struct JsonFinding<'a> {
    #[serde(flatten)]
    finding: &'a Finding,
    suppressed: bool,
}

/// The scan report's shape, plus `node`: every control's verdict with its evidence.
#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    tool: serde_json::Value,
    findings: Vec<JsonFinding<'a>>,
    errors: &'a [InputError],
    summary: &'a Summary,
    node: &'a NodeReport,
}

pub fn run(args: NodeArgs) -> Result<u8> {
    let root = args.root.clone().unwrap_or_else(|| "/".into());
    match std::fs::metadata(&root) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => anyhow::bail!("--root {}: not a folder", root.display()),
        Err(e) => anyhow::bail!(
            "--root {}: {e}{}",
            root.display(),
            if e.kind() == std::io::ErrorKind::PermissionDenied {
                " (reading another process's /proc/<pid>/root needs root and CAP_SYS_PTRACE)"
            } else {
                ""
            }
        ),
    }
    let report = audit(&root);
    let all = findings(&report);
    let errors: Vec<InputError> = InputErrorLike::collect(&report)
        .into_iter()
        .map(|e| InputError {
            file: e.file,
            line: 0,
            column: 0,
            message: e.message,
            kind: "io",
        })
        .collect();
    let mut summary = Summary::new(args.fail_on);
    summary.rules = report.results.len();
    summary.errors = errors.len();
    let mut shown = Vec::new();
    for f in &all {
        if f.severity >= args.fail_on {
            summary.failed = true;
        }
        if f.severity < args.min_severity {
            summary.below_min_severity += 1;
            continue;
        }
        summary.count(f);
        shown.push(f);
    }

    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(BufWriter::new(
            File::create(path).with_context(|| format!("cannot write {}", path.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    match args.format {
        Format::Text => {
            render_text(&report, &mut out, args.show_not_applicable)
                .context("writing the report")?;
            writeln!(
                out,
                "{} finding{} at or above {}; {} error{}{}",
                shown.len(),
                if shown.len() == 1 { "" } else { "s" },
                args.min_severity,
                errors.len(),
                if errors.len() == 1 { "" } else { "s" },
                if summary.failed {
                    format!(
                        "; failed: findings at or above `{}` (--fail-on)",
                        args.fail_on
                    )
                } else {
                    String::new()
                }
            )?;
        }
        Format::Json => {
            let doc = JsonReport {
                version: JSON_REPORT_VERSION,
                tool: serde_json::json!({"name": "palisade", "version": env!("CARGO_PKG_VERSION")}),
                findings: shown
                    .iter()
                    .map(|f| JsonFinding {
                        finding: f,
                        suppressed: false,
                    })
                    .collect(),
                errors: &errors,
                summary: &summary,
                node: &report,
            };
            serde_json::to_writer(&mut out, &doc).context("writing the report")?;
            writeln!(out)?;
        }
    }
    out.flush().context("writing the report")?;
    Ok(if !errors.is_empty() {
        EXIT_ERROR
    } else if summary.failed {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    })
}
