//! `palisade node`: the CIS Kubernetes Benchmark, judged on the node it runs on.
//!
//! Components are found from `/proc/<pid>/cmdline` ([`discover`]), their flags read with the
//! components' own flag semantics ([`flags`]), the files they name read through
//! `/proc/<pid>/root` ([`config`]), and every control of the vendored benchmark judged on the
//! effective value (Kubernetes default, then config file, then flag), with evidence.

mod catalog;
mod codes;
pub mod config;
pub mod discover;
mod eval;
mod extra;
pub mod flags;
pub mod host;
mod report;

use std::path::Path;

pub use catalog::{CONTROLS_YAML, Catalog, Check, CheckKind, Component, Control, Op, catalog};
pub use eval::{ControlResult, Evidence, NodeReport, Status};
pub use report::{InputErrorLike, findings, render_text, severity};

/// A control `palisade node` can report, for reporters that list every rule (SARIF, JUnit).
#[derive(Clone, Copy, Debug)]
pub struct ControlInfo {
    /// `NOD129`.
    pub code: &'static str,
    /// `cis-1.2.8`, or the name of one of palisade's own checks.
    pub name: &'static str,
    /// The CIS id (`1.2.8`), or the code for palisade's own checks.
    pub id: &'static str,
    pub title: &'static str,
    /// master, etcd, controlplane, node, policies, runtime or os.
    pub section: &'static str,
    /// The severity its failure is reported with.
    pub severity: palisade_diagnostics::Severity,
}

/// Every control of the vendored benchmark and every check of palisade's own.
pub fn controls() -> Vec<ControlInfo> {
    let mut all: Vec<ControlInfo> = catalog()
        .controls
        .iter()
        .map(|c| ControlInfo {
            code: c.code,
            name: c.name.as_str(),
            id: c.id.as_str(),
            title: c.title.as_str(),
            section: c.section.as_str(),
            severity: report::fail_severity(&c.id),
        })
        .collect();
    all.extend(
        extra::own_checks().map(|(code, name, title, section)| ControlInfo {
            code,
            name,
            id: code,
            title,
            section,
            severity: report::fail_severity(code),
        }),
    );
    all
}

/// What to audit, beyond the node root.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Judge only the Kubernetes components running as these processes (all when empty), for
    /// hosts that run several control planes. Container runtimes are always judged.
    pub pids: Vec<u32>,
}

/// Audits the node whose filesystem is at `root` (`/` on a live node).
pub fn audit(root: &Path) -> NodeReport {
    audit_with(root, &Options::default())
}

/// Audits the node at `root` with `options`.
pub fn audit_with(root: &Path, options: &Options) -> NodeReport {
    let host = host::Host::new(root);
    let mut d = discover::discover(&host);
    let mut warnings = Vec::new();
    if !options.pids.is_empty() {
        for pid in &options.pids {
            if !d.processes.iter().any(|p| p.pid == *pid) {
                d.errors.push(format!(
                    "--pid {pid}: no Kubernetes component runs as process {pid}"
                ));
            }
        }
        d.processes.retain(|p| options.pids.contains(&p.pid));
    }
    // Each control judges the first process of its component: say so when there are more.
    let mut seen: Vec<Component> = Vec::new();
    for p in &d.processes {
        if seen.contains(&p.component) {
            continue;
        }
        seen.push(p.component);
        let pids: Vec<String> = d
            .processes
            .iter()
            .filter(|q| q.component == p.component)
            .map(|q| q.pid.to_string())
            .collect();
        if pids.len() > 1 {
            warnings.push(format!(
                "{} {} processes run (pids {}): judged pid {}, the first; choose another with --pid",
                pids.len(),
                p.component.as_str(),
                pids.join(", "),
                p.pid
            ));
        }
    }
    let cx = eval::Cx::new(&host, &d);
    let mut results = eval::judge_benchmark(&cx);
    results.extend(extra::judge_own(&cx));
    let mut components: Vec<String> = d
        .processes
        .iter()
        .map(|p| format!("{} (pid {}, {})", p.component.as_str(), p.pid, p.found_as))
        .collect();
    components.extend(d.runtimes.iter().map(|r| {
        format!(
            "{} (pid {})",
            match r.kind {
                discover::RuntimeKind::Containerd => "containerd",
                discover::RuntimeKind::Crio => "cri-o",
            },
            r.pid
        )
    }));
    NodeReport {
        benchmark: catalog().benchmark.clone(),
        distribution: d.distribution,
        components,
        discovery_errors: d.errors.clone(),
        warnings,
        node_name: node_name(&host),
        results,
    }
}

fn node_name(host: &host::Host) -> String {
    host.read_trimmed("/etc/hostname")
        .filter(|s| !s.is_empty())
        .or_else(|| host.read_trimmed("/proc/sys/kernel/hostname"))
        .unwrap_or_else(|| "node".to_owned())
}
