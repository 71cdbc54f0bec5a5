//! `palisade cluster`: the scan pipeline fed with live objects, plus the cluster-only checks.

use std::time::Instant;

use anyhow::{Context, Result};
use palisade_cluster::{Connect, Options, Scope, check_live};
use palisade_rules::{FileReport, InputError, RuleInput};
use rayon::prelude::*;

use crate::cli::ClusterArgs;
use crate::scan::Pipeline;

/// The rules whose findings come from the probes: no probe runs when none is selected.
const PROBE_RULES: &[&str] = &["CMP027", "CMP028", "CMP029", "CMP030"];

/// Live objects checked together before their findings are written.
const BATCH_OBJECTS: usize = 256;

pub fn run(args: ClusterArgs) -> Result<u8> {
    let started = Instant::now();
    let mut pipeline = Pipeline::new(&args.report, RuleInput::Cluster, None)?;
    pipeline.estate_hook = Some(palisade_cluster::relocate_estate_finding);
    let quiet = args.report.quiet;
    let verbose = args.verbose && !quiet;
    let options = Options {
        connect: Connect {
            kubeconfig: args.kubeconfig.clone(),
            context: args.context.clone(),
        },
        scope: Scope {
            namespaces: args.namespace.clone(),
            exclude: args.exclude_namespace.clone(),
            page_size: args.page_size,
            concurrency: args.concurrency,
        },
        probes: !args.no_probes && PROBE_RULES.iter().any(|c| pipeline.runs(c)),
        today: palisade_config::today(),
    };
    let progress = |detail: bool, line: String| {
        if !quiet && (verbose || !detail) {
            anstream::eprintln!("palisade: {line}");
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let audit = runtime
        .block_on(palisade_cluster::audit(&options, &progress))
        .map_err(anyhow::Error::msg)?;
    drop(runtime);

    // Checked in parallel, a batch at a time, and reported in order: each batch's reports are
    // merged into the estate and dropped before the next one is built.
    for batch in audit.inventory.objects.chunks(BATCH_OBJECTS) {
        let engine = &pipeline.engine;
        let reports: Vec<FileReport> = batch.par_iter().map(|o| check_live(engine, o)).collect();
        for report in reports {
            pipeline.run.emit(report)?;
        }
    }
    let mut findings: Vec<_> = audit
        .findings
        .into_iter()
        .filter(|f| pipeline.runs(f.code))
        .collect();
    pipeline.run.emit_findings(None, &mut findings, true)?;
    for p in audit.problems {
        if !quiet {
            anstream::eprintln!("palisade: warning: {}", p.message);
        }
        pipeline.run.errors.push(InputError {
            file: None,
            line: 0,
            column: 0,
            message: p.message,
            kind: p.kind,
        });
    }
    if !quiet {
        anstream::eprintln!(
            "palisade: audited {} ({}): {} objects, {} API requests, {:.1} s",
            audit.server,
            audit.server_version.as_deref().unwrap_or("version unknown"),
            audit.inventory.objects.len() + audit.inventory.owned,
            audit.requests,
            started.elapsed().as_secs_f64()
        );
    }
    pipeline.finish()
}
