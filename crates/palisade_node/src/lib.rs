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

/// Audits the node whose filesystem is at `root` (`/` on a live node).
pub fn audit(root: &Path) -> NodeReport {
    let host = host::Host::new(root);
    let d = discover::discover(&host);
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
