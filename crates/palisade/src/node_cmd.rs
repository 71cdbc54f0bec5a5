//! `palisade node`: the CIS Kubernetes Benchmark on the node palisade runs on (or on a node
//! filesystem under `--root`).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::sync::OnceLock;

use anyhow::{Context, Result};
use palisade_diagnostics::{Finding, Section};
use palisade_node::{
    InputErrorLike, NodeReport, Options, Status, audit_with, controls, findings, render_text,
};
use palisade_render::{
    CsvReporter, HtmlReporter, JSON_REPORT_VERSION, JunitReporter, NodeVerdict, Reporter,
    SarifReporter, Summary, evaluate_node, write_checklist_text,
};
use palisade_rules::{InputError, RuleMeta, RuleStatus};
use serde::Serialize;

use crate::cli::{NodeArgs, NodeFormat};
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
    let report = audit_with(
        &root,
        &Options {
            pids: args.pid.clone(),
        },
    );
    for w in &report.warnings {
        anstream::eprintln!("palisade: warning: {w}");
    }
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
        NodeFormat::Text => {
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
        NodeFormat::Json => {
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
        NodeFormat::Checklist => {
            let verdicts: Vec<NodeVerdict<'_>> = report
                .results
                .iter()
                .map(|r| NodeVerdict {
                    id: &r.id,
                    judged: matches!(r.status, Status::Pass | Status::Fail | Status::Warn),
                    finding: all.iter().find(|f| f.code == r.code),
                })
                .collect();
            let items = evaluate_node(&verdicts);
            write_checklist_text(&mut out, &items, &summary).context("writing the report")?;
        }
        NodeFormat::Sarif | NodeFormat::Junit | NodeFormat::Html | NodeFormat::Csv => {
            // Only the controls that were judged on this node are listed as rules (JUnit
            // counts each as a passed or failed test).
            let judged: Vec<&'static RuleMeta> = node_rule_metas()
                .iter()
                .filter(|m| {
                    report.results.iter().any(|r| {
                        r.code == m.code
                            && matches!(r.status, Status::Pass | Status::Fail | Status::Warn)
                    })
                })
                .collect();
            let mut reporter: Box<dyn Reporter + '_> = match args.format {
                NodeFormat::Sarif => Box::new(SarifReporter::new(&mut out, judged, None)),
                NodeFormat::Junit => Box::new(JunitReporter::new(&mut out, judged)),
                NodeFormat::Html => Box::new(HtmlReporter::new(&mut out)),
                _ => Box::new(CsvReporter::new(&mut out)),
            };
            // Grouped by file, as the reporters expect; findings without a file go last.
            let mut by_file: Vec<&Finding> = shown.clone();
            by_file.sort_by(|a, b| (a.file.is_none(), &a.file).cmp(&(b.file.is_none(), &b.file)));
            for group in by_file.chunk_by(|a, b| a.file == b.file) {
                reporter
                    .findings(group[0].file.as_deref(), group)
                    .context("writing the report")?;
            }
            reporter
                .finish(&errors, &summary)
                .context("writing the report")?;
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

/// Rule metadata for every node control, for the reporters that describe each rule.
fn node_rule_metas() -> &'static [RuleMeta] {
    static METAS: OnceLock<Vec<RuleMeta>> = OnceLock::new();
    METAS.get_or_init(|| {
        controls()
            .into_iter()
            .map(|c| RuleMeta {
                code: c.code,
                name: c.name,
                section: Section::Components,
                severity: c.severity,
                summary: c.title,
                kubeaudit: None,
                status: RuleStatus::Stable { since: "0.1.0" },
                default_enabled: true,
                input: palisade_rules::RuleInput::Node,
                docs: "",
                file: "docs/node.md",
            })
            .collect()
    })
}
