//! `palisade scan`: files are read and checked in parallel, in batches, and each batch is
//! reported in path order before the next one is read, so memory stays bounded by the batch.

use std::fs::File;
use std::io::{BufWriter, Write};

use anyhow::{Context, Result, bail};
use palisade_diagnostics::Finding;
use palisade_k8s::Quantity;
use palisade_render::{JsonReporter, Reporter, Summary, TextReporter};
use palisade_rules::{
    Engine, Estate, FileReport, InputError, Selection, Settings, SourceFile, parse_version,
};
use std::path::PathBuf;

use rayon::prelude::*;

use crate::cli::{ColorChoice, Format, ScanArgs};
use crate::input::{self, Segments};
use crate::{EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS};

/// Files read and checked together before their findings are written.
const BATCH_FILES: usize = 128;
const BATCH_BYTES: u64 = 64 * 1024 * 1024;

fn settings(args: &ScanArgs) -> Result<Settings> {
    let mut s = Settings::default();
    if !args.allowed_capabilities.is_empty() {
        s.allowed_capabilities = args
            .allowed_capabilities
            .iter()
            .map(|c| {
                c.trim()
                    .to_ascii_uppercase()
                    .trim_start_matches("CAP_")
                    .to_owned()
            })
            .collect();
    }
    s.required_image = args.required_image.clone();
    let quantity = |q: &Option<String>, flag: &str| -> Result<Option<Quantity>> {
        q.as_deref()
            .map(|q| {
                Quantity::parse(q)
                    .with_context(|| format!("{flag}: `{q}` is not a Kubernetes quantity"))
            })
            .transpose()
    };
    s.max_cpu = quantity(&args.max_cpu, "--max-cpu")?;
    s.max_memory = quantity(&args.max_memory, "--max-memory")?;
    if !args.sensitive_paths.is_empty() {
        s.sensitive_paths = args.sensitive_paths.clone();
    }
    let version = |v: &Option<String>, flag: &str| -> Result<Option<(u32, u32)>> {
        v.as_deref()
            .map(|v| {
                parse_version(v)
                    .with_context(|| format!("{flag}: `{v}` is not a version like 1.37"))
            })
            .transpose()
    };
    if let Some(v) = version(&args.target_version, "--target-version")? {
        s.target_version = v;
    }
    s.current_version = version(&args.current_version, "--current-version")?;
    let cidrs = |list: &[String], flag: &str| -> Result<Vec<String>> {
        list.iter()
            .map(|c| {
                let c = c.trim();
                palisade_rules::inventory::Cidr::parse(c)
                    .map(|_| c.to_owned())
                    .with_context(|| format!("{flag}: `{c}` is not a CIDR like 10.0.0.0/8"))
            })
            .collect()
    };
    s.metadata_cidrs = cidrs(&args.metadata_cidrs, "--metadata-cidrs")?;
    s.internal_cidrs = cidrs(&args.internal_cidrs, "--internal-cidrs")?;
    s.allowed_registries = args
        .allowed_registries
        .iter()
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .collect();
    if let Some(label) = &args.tenant_label {
        if label.trim().is_empty() {
            bail!("--tenant-label: the label must not be empty");
        }
        s.tenant_label = label.trim().to_owned();
    }
    Ok(s)
}

struct Run<'a> {
    args: &'a ScanArgs,
    reporter: Box<dyn Reporter + 'a>,
    summary: Summary,
    errors: Vec<InputError>,
    estate: Estate,
}

impl Run<'_> {
    fn emit(&mut self, report: FileReport) -> Result<()> {
        self.summary.stats.add(&report.stats);
        self.errors.extend(report.errors);
        self.estate.merge(report.estate);
        self.emit_findings(report.path.as_deref(), &report.findings)
    }

    fn emit_findings(&mut self, file: Option<&str>, findings: &[Finding]) -> Result<()> {
        let mut shown = Vec::with_capacity(findings.len());
        for f in findings {
            if f.suppressed.is_some() {
                self.summary.suppressed += 1;
                if self.args.show_suppressed {
                    shown.push(f);
                }
                continue;
            }
            if f.severity >= self.summary.fail_on {
                self.summary.failed = true;
            }
            if f.severity < self.args.min_severity {
                self.summary.below_min_severity += 1;
                continue;
            }
            self.summary.count(f);
            shown.push(f);
        }
        if !shown.is_empty() {
            self.reporter
                .findings(file, &shown)
                .context("writing the report")?;
        }
        Ok(())
    }
}

fn check_path(engine: &Engine, path: &std::path::Path) -> FileReport {
    let shown = input::display_path(path);
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => engine.check_file(SourceFile {
                path: Some(&shown),
                text: &text,
            }),
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                let bytes = e.as_bytes();
                let line = bytes[..valid].iter().filter(|&&b| b == b'\n').count() as u32 + 1;
                let mut report = FileReport::for_file(Some(shown.clone()), bytes.len() as u64);
                report.errors.push(InputError {
                    file: Some(shown),
                    line,
                    column: 0,
                    message: "not valid UTF-8 (Kubernetes manifests must be UTF-8)".to_owned(),
                    kind: "encoding",
                });
                report
            }
        },
        Err(e) => {
            let mut report = FileReport::for_file(Some(shown.clone()), 0);
            report.errors.push(InputError {
                file: Some(shown),
                line: 0,
                column: 0,
                message: format!("cannot read: {e}"),
                kind: "io",
            });
            report
        }
    }
}

/// Moves a stdin segment's positions to stream positions.
fn shift_segment(report: &mut FileReport, first_line: u32, offset: usize) {
    let dl = first_line - 1;
    for f in &mut report.findings {
        f.line = f.line.map(|l| l + dl);
        f.end_line = f.end_line.map(|l| l + dl);
        f.range = f.range.map(|r| r.shifted(offset));
        for rel in &mut f.related {
            rel.line = rel.line.map(|l| l + dl);
        }
    }
    for e in &mut report.errors {
        if e.line > 0 {
            e.line += dl;
        }
    }
}

pub fn run(args: ScanArgs) -> Result<u8> {
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .ok();
    }
    let settings = settings(&args)?;
    let selection = Selection {
        select: args.select.clone(),
        extend_select: args.extend_select.clone(),
        ignore: args.ignore.clone(),
    };
    let rules = selection.resolve()?;
    if rules.is_empty() {
        bail!("the selection leaves no rule to run");
    }
    let engine = Engine::new(rules, settings);
    let excludes = input::exclude_set(&args.exclude)?;

    let out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(BufWriter::new(
            File::create(path).with_context(|| format!("cannot write {}", path.display()))?,
        )),
        None => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            let choice = match args.color {
                _ if no_color => anstream::ColorChoice::Never,
                ColorChoice::Auto => anstream::ColorChoice::Auto,
                ColorChoice::Always => anstream::ColorChoice::Always,
                ColorChoice::Never => anstream::ColorChoice::Never,
            };
            let stdout = std::io::stdout();
            if args.format == Format::Text {
                Box::new(BufWriter::new(anstream::AutoStream::new(
                    stdout.lock(),
                    choice,
                )))
            } else {
                Box::new(BufWriter::new(stdout.lock()))
            }
        }
    };
    let out: Box<dyn Write> = if args.output.is_some() && args.format == Format::Text {
        Box::new(anstream::StripStream::new(out))
    } else {
        out
    };
    let reporter: Box<dyn Reporter> = match args.format {
        Format::Text => {
            let mut r = TextReporter::new(out);
            r.show_source = !args.no_source;
            Box::new(r)
        }
        Format::Json => Box::new(JsonReporter::new(out)),
    };
    let mut summary = Summary::new(args.fail_on);
    summary.rules = engine.rules().len();
    let mut run = Run {
        args: &args,
        reporter,
        summary,
        errors: Vec::new(),
        estate: Estate::default(),
    };

    let stdin = args.paths.iter().any(|p| p.as_os_str() == "-");
    let paths: Vec<std::path::PathBuf> = if args.paths.is_empty() {
        vec![".".into()]
    } else {
        args.paths
            .iter()
            .filter(|p| p.as_os_str() != "-")
            .cloned()
            .collect()
    };
    if stdin {
        scan_stdin(&engine, &mut run)?;
    }
    if !paths.is_empty() {
        let mut errors = Vec::new();
        let files = input::collect_files(&paths, &excludes, &mut errors);
        run.errors.extend(errors);
        scan_files(&engine, &mut run, files)?;
    }

    let estate = std::mem::take(&mut run.estate);
    let estate_findings = engine.finish(estate);
    run.emit_findings(None, &estate_findings)?;
    run.summary.errors = run.errors.len();
    let errors = std::mem::take(&mut run.errors);
    run.reporter
        .finish(&errors, &run.summary)
        .context("writing the report")?;
    Ok(if !errors.is_empty() {
        EXIT_ERROR
    } else if run.summary.failed {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    })
}

/// Splits files into batches of at most [`BATCH_FILES`] files or [`BATCH_BYTES`] bytes.
fn batches(files: Vec<PathBuf>) -> Vec<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut batch = Vec::new();
    let mut bytes = 0u64;
    for file in files {
        bytes += std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        batch.push(file);
        if batch.len() >= BATCH_FILES || bytes >= BATCH_BYTES {
            out.push(std::mem::take(&mut batch));
            bytes = 0;
        }
    }
    if !batch.is_empty() {
        out.push(batch);
    }
    out
}

/// Checks batches on a producer thread (each batch in parallel) while this thread writes the
/// previous batch's findings in path order. At most three batches are alive at once.
fn scan_files(engine: &Engine, run: &mut Run<'_>, files: Vec<PathBuf>) -> Result<()> {
    let batches = batches(files);
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<FileReport>>(1);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            for batch in batches {
                let reports = batch.par_iter().map(|p| check_path(engine, p)).collect();
                if tx.send(reports).is_err() {
                    break;
                }
            }
        });
        for reports in rx {
            for report in reports {
                run.emit(report)?;
            }
        }
        Ok(())
    })
}

fn scan_stdin(engine: &Engine, run: &mut Run<'_>) -> Result<()> {
    let stdin = std::io::stdin();
    let mut segments = Segments::new(stdin.lock());
    let mut first = true;
    loop {
        // Read a few segments, check them in parallel, report them in order.
        let mut batch = Vec::new();
        for segment in segments.by_ref().take(rayon::current_num_threads().max(1)) {
            batch.push(segment.context("reading stdin")?);
        }
        if batch.is_empty() {
            break;
        }
        let reports: Vec<FileReport> = batch
            .par_iter()
            .map(|segment| {
                let mut report = engine.check_file(SourceFile {
                    path: Some("<stdin>"),
                    text: &segment.text,
                });
                shift_segment(&mut report, segment.first_line, segment.offset);
                for &line in &segment.encoding_errors {
                    report.errors.push(InputError {
                        file: Some("<stdin>".to_owned()),
                        line,
                        column: 0,
                        message: "not valid UTF-8; invalid bytes were replaced".to_owned(),
                        kind: "encoding",
                    });
                }
                report
            })
            .collect();
        for mut report in reports {
            // A stream counts as one input file.
            report.stats.files = usize::from(first);
            first = false;
            run.emit(report)?;
        }
    }
    Ok(())
}
