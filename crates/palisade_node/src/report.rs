//! Results as palisade findings, and the kube-bench-style text report.

use std::io::Write;

use palisade_diagnostics::{Finding, ObjectRef, Section, Severity};

use crate::eval::{ControlResult, NodeReport, Status};

/// Failures that hand the node (or the cluster) to anyone who can reach a port.
const CRITICAL: &[&str] = &[
    "1.2.6",  // API server authorizes everything
    "2.2",    // etcd accepts clients without certificates
    "4.2.1",  // kubelet accepts anonymous requests
    "4.2.2",  // kubelet authorizes everything
    "NOD601", // the runtime socket is open to others
];

/// The severity a failure of control `id` is reported with.
pub(crate) fn fail_severity(id: &str) -> Severity {
    match id {
        id if CRITICAL.contains(&id) => Severity::Critical,
        "NOD604" | "NOD701" | "NOD703" => Severity::Medium,
        "NOD603" => Severity::Info,
        "NOD702" => Severity::Low,
        _ => Severity::High,
    }
}

/// The severity a result's finding carries.
pub fn severity(r: &ControlResult) -> Severity {
    match (r.status, r.id.as_str()) {
        (Status::Fail, id) if CRITICAL.contains(&id) => Severity::Critical,
        (Status::Fail, "NOD604" | "NOD701" | "NOD703") => Severity::Medium,
        (Status::Fail, _) => Severity::High,
        (Status::Warn, "NOD603") => Severity::Info,
        (Status::Warn, "NOD702") => Severity::Low,
        // A manual control whose test failed: a person must decide.
        (Status::Warn, _)
            if r.evidence
                .iter()
                .all(|e| !e.text.starts_with("manual review")) =>
        {
            Severity::Medium
        }
        _ => Severity::Info,
    }
}

/// One finding per failed or warned control (errors are reported as input errors).
pub fn findings(report: &NodeReport) -> Vec<Finding> {
    report
        .results
        .iter()
        .filter(|r| matches!(r.status, Status::Fail | Status::Warn))
        .map(|r| {
            let located = r.evidence.iter().find(|e| e.file.is_some());
            let what = r
                .evidence
                .iter()
                .map(|e| e.text.as_str())
                .collect::<Vec<_>>()
                .join("; ");
            let prefix = if r.id.starts_with("NOD") {
                String::new()
            } else {
                format!("CIS {} ", r.id)
            };
            Finding {
                code: r.code,
                name: r.name,
                severity: severity(r),
                section: Section::Components,
                message: format!("{prefix}{}: {what}", r.title),
                remediation: r.remediation.clone().into(),
                resource: std::sync::Arc::new(ObjectRef {
                    api_version: "v1".to_owned(),
                    kind: "Node".to_owned(),
                    namespace: None,
                    name: Some(report.node_name.clone()),
                }),
                container: None,
                file: located.and_then(|e| e.file.as_deref().map(std::sync::Arc::from)),
                line: located.and_then(|e| e.line),
                column: located.and_then(|e| e.column),
                end_line: None,
                end_column: None,
                range: None,
                path: r.section.clone() + "/" + &r.id,
                missing: None,
                kubeaudit_code: None,
                pss: None,
                suppressed: None,
                kubectl: None,
                related: Vec::new(),
                source_line: None,
                fix: None,
            }
        })
        .collect()
}

/// Errors as (file, message) pairs, for the reporters' error list.
pub struct InputErrorLike {
    pub file: Option<String>,
    pub message: String,
}

impl InputErrorLike {
    pub fn collect(report: &NodeReport) -> Vec<InputErrorLike> {
        let mut out: Vec<InputErrorLike> = report
            .discovery_errors
            .iter()
            .map(|e| InputErrorLike {
                file: None,
                message: e.clone(),
            })
            .collect();
        for r in report.results.iter().filter(|r| r.status == Status::Error) {
            let what = r
                .evidence
                .iter()
                .map(|e| e.text.as_str())
                .collect::<Vec<_>>()
                .join("; ");
            out.push(InputErrorLike {
                file: r.evidence.iter().find_map(|e| e.file.clone()),
                message: format!("{} {}: {what}", r.id, r.title),
            });
        }
        out
    }
}

fn section_title(section: &str) -> &'static str {
    match section {
        "master" => "1 Control Plane Components",
        "etcd" => "2 etcd",
        "controlplane" => "3 Control Plane Configuration",
        "node" => "4 Worker Nodes",
        "runtime" => "6 Container Runtime (palisade)",
        "os" => "7 Operating System (palisade)",
        _ => "Other",
    }
}

fn group_title(group: &str) -> Option<&'static str> {
    Some(match group {
        "1.1" => "1.1 Control Plane Node Configuration Files",
        "1.2" => "1.2 API Server",
        "1.3" => "1.3 Controller Manager",
        "1.4" => "1.4 Scheduler",
        "3.1" => "3.1 Authentication and Authorization",
        "3.2" => "3.2 Logging",
        "4.1" => "4.1 Worker Node Configuration Files",
        "4.2" => "4.2 Kubelet",
        "4.3" => "4.3 kube-proxy",
        _ => return None,
    })
}

#[derive(Default, Clone, Copy)]
struct Counts([usize; 5]);

impl Counts {
    fn add(&mut self, s: Status) {
        self.0[s as usize] += 1;
    }
}

/// The kube-bench-style report: every control with its status, the evidence of each one that
/// did not pass, then a summary table per section.
pub fn render_text(report: &NodeReport, out: &mut dyn Write, show_na: bool) -> std::io::Result<()> {
    writeln!(
        out,
        "{} on node `{}`{}",
        report.benchmark,
        report.node_name,
        report
            .distribution
            .map(|d| format!(" ({d})"))
            .unwrap_or_default()
    )?;
    if report.components.is_empty() {
        writeln!(out, "components: none found")?;
    } else {
        writeln!(out, "components: {}", report.components.join(", "))?;
    }
    let mut section = "";
    let mut group = "";
    let mut table: Vec<(&str, Counts)> = Vec::new();
    for r in &report.results {
        if r.section != section {
            section = &r.section;
            writeln!(out, "\n[INFO] {}", section_title(section))?;
            table.push((section, Counts::default()));
        }
        if r.group != group {
            group = &r.group;
            if let Some(t) = group_title(group) {
                writeln!(out, "[INFO] {t}")?;
            }
        }
        if let Some((_, c)) = table.last_mut() {
            c.add(r.status);
        }
        let manual = if r.automated { "" } else { " (manual)" };
        writeln!(
            out,
            "[{:<5}] {} {}{manual}",
            r.status.as_str(),
            r.id,
            r.title
        )?;
        let show = match r.status {
            Status::Pass => false,
            Status::NotApplicable => show_na,
            _ => true,
        };
        if show {
            for e in &r.evidence {
                let at = match (&e.file, e.line) {
                    (Some(f), Some(l)) => format!(" ({f}:{l})"),
                    _ => String::new(),
                };
                writeln!(out, "        - {}{at}", e.text)?;
            }
            if matches!(r.status, Status::Fail | Status::Warn) {
                writeln!(out, "        fix: {}", r.remediation)?;
            }
        }
    }
    writeln!(out, "\n== Summary ==")?;
    writeln!(
        out,
        "{:<40} {:>5} {:>5} {:>5} {:>5} {:>5}",
        "Section", "PASS", "FAIL", "WARN", "N/A", "ERROR"
    )?;
    let mut total = Counts::default();
    for (s, c) in &table {
        writeln!(
            out,
            "{:<40} {:>5} {:>5} {:>5} {:>5} {:>5}",
            section_title(s),
            c.0[0],
            c.0[1],
            c.0[2],
            c.0[3],
            c.0[4]
        )?;
        for i in 0..5 {
            total.0[i] += c.0[i];
        }
    }
    writeln!(
        out,
        "{:<40} {:>5} {:>5} {:>5} {:>5} {:>5}",
        "Total", total.0[0], total.0[1], total.0[2], total.0[3], total.0[4]
    )?;
    for e in &report.discovery_errors {
        writeln!(out, "error: {e}")?;
    }
    Ok(())
}
