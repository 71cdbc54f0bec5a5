//! `palisade scan`: files are read and checked in parallel, in batches, and each batch is
//! reported in path order before the next one is read, so memory stays bounded by the batch.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use palisade_config::{Config, ExceptionFilter, Exceptions, relative};
use palisade_diagnostics::{Finding, Severity};
use palisade_k8s::Quantity;
use palisade_render::{
    CsvReporter, ExceptionNotice, HtmlReporter, JsonReporter, JunitReporter, Reporter,
    SarifReporter, Summary, Tee, TextReporter,
};
use palisade_rules::{
    Engine, Estate, FileReport, FileRole, InputError, RuleInput, RuleMeta, Selection, Settings,
    SourceFile, parse_version,
};

use rayon::prelude::*;

use crate::baseline::{Baseline, BaselineEntry};
use crate::cli::{ColorChoice, FormatSpec, ReportArgs, ReportFormat, RuleOptionArgs, ScanArgs};
use crate::estates::EstateMap;
use crate::input::{self, Segments};
use crate::{EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS};

/// How many files may be in flight at once (being checked, or checked and waiting to be
/// written): with the estate, what a scan holds in memory.
const WINDOW: usize = 256;
/// Files larger than this are reported in parts of whole documents, as they are checked.
const LARGE_FILE_BYTES: usize = 8 * 1024 * 1024;

/// Command-line rule options, over the config's.
/// Applies the rule options given on the command line over `s` (defaults, or the config).
pub(crate) fn apply_rule_options(args: &RuleOptionArgs, s: &mut Settings) -> Result<()> {
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
    if args.required_image.is_some() {
        s.required_image = args.required_image.clone();
    }
    let quantity = |q: &Option<String>, flag: &str| -> Result<Option<Quantity>> {
        q.as_deref()
            .map(|q| {
                Quantity::parse(q)
                    .with_context(|| format!("{flag}: `{q}` is not a Kubernetes quantity"))
            })
            .transpose()
    };
    if let Some(q) = quantity(&args.max_cpu, "--max-cpu")? {
        s.max_cpu = Some(q);
    }
    if let Some(q) = quantity(&args.max_memory, "--max-memory")? {
        s.max_memory = Some(q);
    }
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
    if let Some(v) = version(&args.current_version, "--current-version")? {
        s.current_version = Some(v);
    }
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
    if !args.metadata_cidrs.is_empty() {
        s.metadata_cidrs = cidrs(&args.metadata_cidrs, "--metadata-cidrs")?;
    }
    if !args.internal_cidrs.is_empty() {
        s.internal_cidrs = cidrs(&args.internal_cidrs, "--internal-cidrs")?;
    }
    if !args.allowed_registries.is_empty() {
        s.allowed_registries = args
            .allowed_registries
            .iter()
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty())
            .collect();
    }
    if !args.approved_images.is_empty() {
        s.approved_images = args
            .approved_images
            .iter()
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect();
    }
    if let Some(label) = &args.tenant_label {
        if label.trim().is_empty() {
            bail!("--tenant-label: the label must not be empty");
        }
        s.tenant_label = label.trim().to_owned();
    }
    Ok(())
}

pub(crate) struct Run<'a> {
    args: &'a ReportArgs,
    reporter: Box<dyn Reporter + 'a>,
    pub(crate) summary: Summary,
    pub(crate) errors: Vec<InputError>,
    estate: Estate,
    /// With estate globs: which estate a file belongs to, and the estates of matching
    /// folders (`estate` then holds everything else).
    estates: Option<EstateMap>,
    split: BTreeMap<PathBuf, Estate>,
    min_severity: Severity,
    /// Severity overrides from the config.
    severity: HashMap<&'static str, Severity>,
    exceptions: Option<Arc<Exceptions>>,
    baseline: Option<Baseline>,
    record: Option<Vec<BaselineEntry>>,
    progress: Option<ProgressBar>,
}

impl Run<'_> {
    /// Reports one file's (or one live object's) findings, and keeps its estate facts.
    pub(crate) fn emit(&mut self, mut report: FileReport) -> Result<()> {
        self.summary.stats.add(&report.stats);
        self.errors.append(&mut report.errors);
        let estate = std::mem::take(&mut report.estate);
        let key = self
            .estates
            .as_ref()
            .and_then(|m| m.estate_of(report.path.as_deref()?));
        match key {
            Some(key) => self.split.entry(key).or_default().merge(estate),
            None => self.estate.merge(estate),
        }
        if let Some(p) = &self.progress {
            p.inc(report.stats.files as u64);
        }
        self.emit_findings(report.path.as_deref(), &mut report.findings, false)
    }

    /// Reports findings; `estate` ones (whole-input findings, and those of `palisade cluster`
    /// probes) get the config's exceptions here, without object labels.
    pub(crate) fn emit_findings(
        &mut self,
        file: Option<&str>,
        findings: &mut [Finding],
        estate: bool,
    ) -> Result<()> {
        let mut shown = Vec::with_capacity(findings.len());
        for f in findings.iter_mut() {
            if let Some(&sev) = self.severity.get(f.code) {
                f.severity = sev;
            }
            if estate && let Some(ex) = &self.exceptions {
                // Whole-input findings have no object at hand: exceptions with labels skip them.
                ex.apply(f, None);
            }
        }
        for f in findings.iter() {
            if f.suppressed.is_some() {
                self.summary.suppressed += 1;
                if self.args.show_suppressed {
                    shown.push(f);
                }
                continue;
            }
            if let Some(record) = &mut self.record {
                record.push(BaselineEntry::of(f));
            }
            if let Some(b) = &mut self.baseline
                && b.take(f)
            {
                self.summary.baselined += 1;
                continue;
            }
            if f.severity >= self.summary.fail_on {
                self.summary.failed = true;
            }
            if f.severity < self.min_severity {
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

/// Where each report goes: `--format F=FILE`, or the Nth `--output` for the Nth `--format`
/// without a file, or stdout (for at most one report).
fn destinations(args: &ReportArgs) -> Result<Vec<FormatSpec>> {
    let mut specs = if args.format.is_empty() {
        vec![FormatSpec {
            format: ReportFormat::Text,
            output: None,
        }]
    } else {
        args.format.clone()
    };
    let mut outputs = args.output.iter();
    for spec in specs.iter_mut().filter(|s| s.output.is_none()) {
        spec.output = outputs.next().cloned();
    }
    if let Some(extra) = outputs.next() {
        bail!(
            "--output {} has no --format to go with: give one --format per --output, or write --format FORMAT=FILE",
            extra.display()
        );
    }
    if specs.iter().filter(|s| s.output.is_none()).count() > 1 {
        bail!(
            "only one report can go to stdout: give the others a file (--format FORMAT=FILE or --output FILE)"
        );
    }
    let mut seen = HashSet::new();
    for s in &specs {
        if let Some(o) = &s.output
            && !seen.insert(o.clone())
        {
            bail!("two reports would be written to {}", o.display());
        }
    }
    Ok(specs)
}

fn reporter<'a>(
    spec: &FormatSpec,
    args: &ReportArgs,
    rules: &[&'static RuleMeta],
) -> Result<Box<dyn Reporter + 'a>> {
    let out: Box<dyn Write> = match &spec.output {
        Some(path) => {
            let file: Box<dyn Write> = Box::new(BufWriter::new(
                File::create(path).with_context(|| format!("cannot write {}", path.display()))?,
            ));
            if spec.format == ReportFormat::Text {
                Box::new(anstream::StripStream::new(file))
            } else {
                file
            }
        }
        None => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            let choice = match args.color {
                _ if no_color => anstream::ColorChoice::Never,
                ColorChoice::Auto => anstream::ColorChoice::Auto,
                ColorChoice::Always => anstream::ColorChoice::Always,
                ColorChoice::Never => anstream::ColorChoice::Never,
            };
            let stdout = std::io::stdout();
            if spec.format == ReportFormat::Text {
                Box::new(BufWriter::new(anstream::AutoStream::new(
                    stdout.lock(),
                    choice,
                )))
            } else {
                Box::new(BufWriter::new(stdout.lock()))
            }
        }
    };
    let root = std::env::current_dir()
        .ok()
        .and_then(|d| d.canonicalize().ok());
    Ok(match spec.format {
        ReportFormat::Text => {
            let mut r = TextReporter::new(out);
            r.show_source = !args.no_source;
            Box::new(r)
        }
        ReportFormat::Json => Box::new(JsonReporter::new(out)),
        ReportFormat::Sarif => Box::new(SarifReporter::new(out, rules.to_vec(), root)),
        ReportFormat::Junit => Box::new(JunitReporter::new(out, rules.to_vec())),
        ReportFormat::Html => Box::new(HtmlReporter::new(out)),
        ReportFormat::Csv => Box::new(CsvReporter::new(out)),
    })
}

/// The config: `--config FILE`, else `.palisade.yaml` found from the working folder up.
fn load_config(args: &ReportArgs) -> Result<Option<Config>> {
    if args.no_config {
        return Ok(None);
    }
    let path = match &args.config {
        Some(p) => Some(p.clone()),
        None => std::env::current_dir().ok().and_then(|d| {
            // Shown relative to the working folder when it is under it.
            palisade_config::discover(&d)
                .map(|p| p.strip_prefix(&d).map(PathBuf::from).unwrap_or(p))
        }),
    };
    match path {
        None => Ok(None),
        Some(p) => Ok(Some(
            palisade_config::load(&p).map_err(|e| anyhow::anyhow!("invalid config: {e}"))?,
        )),
    }
}

/// Reports expired and stale exceptions (in the summary, and on stderr unless `--quiet`).
fn exception_notices(
    exceptions: &Exceptions,
    ran: &HashSet<&'static str>,
    quiet: bool,
) -> Vec<ExceptionNotice> {
    let mut notices = Vec::new();
    for (i, e) in exceptions.items().iter().enumerate() {
        let status = if e.is_expired(exceptions.today) {
            "expired"
        } else if exceptions.uses(i) == 0 && ran.contains(e.code) {
            "stale"
        } else {
            continue;
        };
        if !quiet {
            let owner = e
                .owner
                .as_deref()
                .map(|o| format!(" (owner: {o})"))
                .unwrap_or_default();
            let what = if status == "expired" {
                format!(
                    "expired on {}: it no longer applies and its findings are reported again",
                    e.expires.map(|d| d.to_string()).unwrap_or_default()
                )
            } else {
                "matched no finding: remove it or fix its selectors".to_owned()
            };
            anstream::eprintln!(
                "palisade: warning: exception #{} for {} at {} {what}{owner}",
                e.index,
                e.rule,
                e.at
            );
        }
        notices.push(ExceptionNotice {
            status,
            rule: e.rule.clone(),
            at: e.at.clone(),
            reason: e.reason.clone(),
            owner: e.owner.clone(),
            expires: e.expires.map(|d| d.to_string()),
        });
    }
    notices
}

/// Checks one file, handing its report to `report`: in several parts, in order, for a file
/// larger than [`LARGE_FILE_BYTES`].
fn check_path(
    engine: &Engine,
    path: &std::path::Path,
    role: FileRole,
    mut report: impl FnMut(FileReport),
) {
    let shown = input::display_path(path);
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => {
                let source = SourceFile {
                    path: Some(&shown),
                    text: &text,
                };
                if text.len() > LARGE_FILE_BYTES {
                    engine.check_file_in_parts(source, role, report);
                } else {
                    report(engine.check_file_as(source, role));
                }
            }
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                let bytes = e.as_bytes();
                let line = bytes[..valid].iter().filter(|&&b| b == b'\n').count() as u32 + 1;
                let mut r = FileReport::for_file(Some(shown.clone()), bytes.len() as u64);
                r.errors.push(InputError {
                    file: Some(shown),
                    line,
                    column: 0,
                    message: "not valid UTF-8 (Kubernetes manifests must be UTF-8)".to_owned(),
                    kind: "encoding",
                });
                report(r);
            }
        },
        Err(e) => {
            let mut r = FileReport::for_file(Some(shown.clone()), 0);
            r.errors.push(InputError {
                file: Some(shown),
                line: 0,
                column: 0,
                message: format!("cannot read: {e}"),
                kind: "io",
            });
            report(r);
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
    run_with(args, None)
}

/// What a scan found, for views built on top of it (`palisade checklist`).
#[derive(Default)]
pub struct Collected {
    pub findings: Vec<Finding>,
    pub summary: Option<Summary>,
    pub errors: Vec<InputError>,
    pub ran: Vec<&'static str>,
}

struct Collector(Rc<RefCell<Collected>>);

impl Reporter for Collector {
    fn findings(&mut self, _file: Option<&str>, findings: &[&Finding]) -> std::io::Result<()> {
        self.0
            .borrow_mut()
            .findings
            .extend(findings.iter().map(|f| (*f).clone()));
        Ok(())
    }

    fn finish(&mut self, errors: &[InputError], summary: &Summary) -> std::io::Result<()> {
        let mut c = self.0.borrow_mut();
        c.errors = errors.to_vec();
        c.summary = Some(summary.clone());
        Ok(())
    }
}

/// The reporting half of a run, whatever the input: config, rule selection, engine, reports,
/// severity overrides, exceptions and baseline. `scan` feeds it files, `cluster` live objects.
pub(crate) struct Pipeline<'a> {
    pub engine: Engine,
    pub run: Run<'a>,
    pub config: Option<Config>,
    metas: Vec<&'static RuleMeta>,
    exceptions: Option<Arc<Exceptions>>,
    /// Applied to the estate-wide rules' findings before they are reported (`cluster`
    /// replaces positions in its own JSON with the live object's kubectl command).
    pub estate_hook: Option<fn(&mut Finding)>,
}

impl<'a> Pipeline<'a> {
    /// Sets up the pipeline for rules of `input` (`Cluster` also runs the object rules).
    pub(crate) fn new(
        args: &'a ReportArgs,
        input: RuleInput,
        collect: Option<Rc<RefCell<Collected>>>,
    ) -> Result<Self> {
        let mut config = load_config(args)?;
        let specs = destinations(args)?;
        let mut settings = match &config {
            Some(c) => c.settings.clone(),
            None => Settings::default(),
        };
        apply_rule_options(&args.rule_options, &mut settings)?;
        // Source lines are copied into every finding: only when a report shows them.
        settings.source_lines = collect.is_some()
            || specs.iter().any(|s| {
                matches!(
                    s.format,
                    ReportFormat::Text | ReportFormat::Sarif | ReportFormat::Html
                )
            });
        // Command-line selectors replace the config's, list by list.
        let from_config = config
            .as_ref()
            .map(|c| c.selection.clone())
            .unwrap_or_default();
        let pick =
            |cli: &Vec<String>, cfg: Vec<String>| if cli.is_empty() { cfg } else { cli.clone() };
        let selection = Selection {
            select: pick(&args.select, from_config.select),
            extend_select: pick(&args.extend_select, from_config.extend_select),
            ignore: pick(&args.ignore, from_config.ignore),
        };
        let mut rules = selection.resolve()?;
        if input == RuleInput::Objects {
            // Rules found only in a live cluster have nothing to say about manifests.
            rules.retain(|r| r.meta().input == RuleInput::Objects);
        }
        if rules.is_empty() {
            bail!("the selection leaves no rule to run");
        }
        let exceptions = config
            .as_mut()
            .filter(|c| !c.exceptions.is_empty())
            .map(|c| {
                let today = c.exceptions.today;
                Arc::new(std::mem::replace(
                    &mut c.exceptions,
                    Exceptions::new(Vec::new(), today),
                ))
            });
        let mut engine = Engine::new(rules, settings);
        if let Some(ex) = &exceptions {
            engine = engine.with_filter(Box::new(ExceptionFilter(ex.clone())));
        }
        let metas: Vec<&'static RuleMeta> = engine.rules().iter().map(|r| r.meta()).collect();
        let mut reporters: Vec<Box<dyn Reporter>> = Vec::with_capacity(specs.len());
        if let Some(c) = &collect {
            c.borrow_mut().ran = engine
                .rules()
                .iter()
                .filter(|r| r.is_configured(engine.settings()))
                .map(|r| r.meta().code)
                .collect();
            reporters.push(Box::new(Collector(c.clone())));
        } else {
            for spec in &specs {
                reporters.push(reporter(spec, args, &metas)?);
            }
        }
        let reporter: Box<dyn Reporter> = match <[_; 1]>::try_from(reporters) {
            Ok([one]) => one,
            Err(reporters) => Box::new(Tee { reporters }),
        };
        let fail_on = args
            .fail_on
            .or(config.as_ref().and_then(|c| c.fail_on))
            .unwrap_or(Severity::High);
        let min_severity = args
            .min_severity
            .or(config.as_ref().and_then(|c| c.min_severity))
            .unwrap_or(Severity::Info);
        let baseline = args.baseline.as_deref().map(Baseline::load).transpose()?;
        let mut summary = Summary::new(fail_on);
        summary.rules = engine.rules().len();
        let run = Run {
            args,
            reporter,
            summary,
            errors: Vec::new(),
            estate: Estate::default(),
            estates: None,
            split: BTreeMap::new(),
            min_severity,
            severity: config
                .as_ref()
                .map(|c| c.severity.iter().copied().collect())
                .unwrap_or_default(),
            exceptions: exceptions.clone(),
            baseline,
            record: args.write_baseline.as_ref().map(|_| Vec::new()),
            progress: None,
        };
        Ok(Self {
            engine,
            run,
            config,
            metas,
            exceptions,
            estate_hook: None,
        })
    }

    /// Whether a rule runs.
    pub(crate) fn runs(&self, code: &str) -> bool {
        self.metas.iter().any(|m| m.code == code)
    }

    /// Estate-wide rules, exception notices, the baseline file, the report's end; the exit code.
    pub(crate) fn finish(self) -> Result<u8> {
        let Pipeline {
            engine,
            mut run,
            metas,
            exceptions,
            estate_hook,
            ..
        } = self;
        let args = run.args;
        // One estate after the other (files outside estate folders first), each handed over
        // in parts: the estates' findings are never all expanded at once.
        let estates = std::iter::once(std::mem::take(&mut run.estate))
            .chain(std::mem::take(&mut run.split).into_values());
        for estate in estates {
            let parts = engine.finish_in_parts(estate);
            std::thread::scope(|scope| -> Result<()> {
                // The next part is expanded while this thread writes the last one.
                let (part_tx, part_rx) = std::sync::mpsc::sync_channel::<Vec<Finding>>(1);
                scope.spawn(move || {
                    for part in parts {
                        if part_tx.send(part).is_err() {
                            break;
                        }
                    }
                });
                for mut part in part_rx {
                    if let Some(hook) = estate_hook {
                        part.iter_mut().for_each(hook);
                    }
                    run.emit_findings(None, &mut part, true)?;
                }
                Ok(())
            })?;
        }
        if let Some(ex) = &exceptions {
            let ran: HashSet<&'static str> = metas.iter().map(|m| m.code).collect();
            run.summary.exceptions = exception_notices(ex, &ran, args.quiet);
        }
        if let (Some(path), Some(record)) = (&args.write_baseline, run.record.take()) {
            Baseline::write(path, record)?;
        }
        run.summary.errors = run.errors.len();
        let errors = std::mem::take(&mut run.errors);
        run.reporter
            .finish(&errors, &run.summary)
            .context("writing the report")?;
        Ok(if !errors.is_empty() {
            EXIT_ERROR
        } else if run.summary.failed && args.write_baseline.is_none() {
            EXIT_FINDINGS
        } else {
            EXIT_CLEAN
        })
    }
}

/// Runs a scan; with `collect`, the findings go there instead of to the `--format` reports.
pub fn run_with(args: ScanArgs, collect: Option<Rc<RefCell<Collected>>>) -> Result<u8> {
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .ok();
    }
    let mut pipeline = Pipeline::new(&args.report, RuleInput::Objects, collect)?;
    // Config globs are relative to the config's folder; they are applied below, once the
    // walker has listed the files.
    let excludes = input::exclude_set(&args.exclude)?;

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
    pipeline.run.estates = EstateMap::new(
        &args.estate,
        &paths,
        pipeline
            .config
            .as_ref()
            .map(|c| (c.root.as_path(), c.estates.as_slice())),
    )?;
    if stdin {
        scan_stdin(&pipeline.engine, &mut pipeline.run)?;
    }
    if !paths.is_empty() {
        let mut errors = Vec::new();
        let input::Input { mut files, patches } =
            input::collect_files(&paths, &excludes, &mut errors);
        if let Some(c) = &pipeline.config {
            let named: HashSet<&PathBuf> = paths.iter().filter(|p| p.is_file()).collect();
            if let Some(include) = &c.include {
                files.retain(|f| {
                    named.contains(f)
                        || include.is_match(relative(&c.root, &input::display_path(f)))
                });
            }
            let rel_excludes = input::exclude_set(&c.exclude)?;
            files.retain(|f| {
                named.contains(f)
                    || !rel_excludes.is_match(relative(&c.root, &input::display_path(f)))
            });
        }
        pipeline.run.errors.extend(errors);
        pipeline.run.progress = progress_bar(&args.report, files.len());
        scan_files(&pipeline.engine, &mut pipeline.run, files, &patches)?;
        if let Some(p) = pipeline.run.progress.take() {
            p.finish_and_clear();
        }
    }
    pipeline.finish()
}

/// A progress bar on stderr, only when stderr is a terminal and the scan is not `--quiet`.
fn progress_bar(args: &ReportArgs, files: usize) -> Option<ProgressBar> {
    if args.quiet || files < 2 || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(files as u64), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} scanning {pos}/{len} files [{bar:30}] {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    Some(bar)
}

/// What the feeder, the workers and the writer share.
#[derive(Default)]
struct Shared {
    /// Parts of files checked ahead of their turn, and whether each file is complete.
    ready: BTreeMap<usize, (VecDeque<FileReport>, bool)>,
    /// The file the writer needs next.
    next_to_write: usize,
    /// How many files are written: the feeder hands out files less than [`WINDOW`] ahead.
    written: usize,
    /// The writer sleeps until a part of `next_to_write` arrives.
    writer_waiting: bool,
    /// The feeder sleeps at the window.
    feeder_waiting: bool,
    /// No more files are handed out: the writer stopped (an error) or a worker panicked.
    stopped: bool,
    /// The workers are gone (all files checked, or a panic).
    done: bool,
}

/// The shared state, the writer's wake-up call and the feeder's.
struct Pipe {
    shared: Mutex<Shared>,
    writer: Condvar,
    window: Condvar,
}

impl Pipe {
    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Hands a part of file `index` to the writer, waking it only when that is the file it
    /// waits for (the others wait their turn without a wake-up each).
    fn deliver(&self, index: usize, report: Option<FileReport>, last: bool) {
        let mut s = self.lock();
        let entry = s.ready.entry(index).or_default();
        entry.0.extend(report);
        entry.1 |= last;
        if s.writer_waiting && index == s.next_to_write {
            self.writer.notify_one();
        }
    }

    /// No more files: wakes whoever waits, so that nothing waits for a file that will not come.
    fn stop(&self) {
        self.lock().stopped = true;
        self.window.notify_all();
        self.writer.notify_one();
    }
}

/// Stops the scan when a worker panics while checking a file (the writer would wait for that
/// file forever); the panic then reaches the caller through the thread scope.
struct StopOnPanic<'a>(&'a Pipe);

impl Drop for StopOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.stop();
        }
    }
}

/// Marks the workers gone, even when one panicked, so that the writer never waits for them.
struct WorkersDone<'a>(&'a Pipe);

impl Drop for WorkersDone<'_> {
    fn drop(&mut self) {
        self.0.lock().done = true;
        self.0.writer.notify_one();
    }
}

/// Checks files on the thread pool while this thread writes their findings in path order.
/// A feeder thread hands the files to the pool in order, never more than [`WINDOW`] ahead of
/// the last one written; it waits on its own thread, so no pool thread ever waits for the
/// writer (a pool thread may be running a file on top of the parallel parts of another).
/// Workers start the next file as soon as they finish one (a slow file holds up only the
/// writer); the writer takes the reports in order, as many as are ready at once.
fn scan_files(
    engine: &Engine,
    run: &mut Run<'_>,
    files: Vec<PathBuf>,
    patches: &input::Patches,
) -> Result<()> {
    let pipe = Pipe {
        shared: Mutex::new(Shared::default()),
        writer: Condvar::new(),
        window: Condvar::new(),
    };
    let total = files.len();
    std::thread::scope(|scope| {
        let pipe = &pipe;
        let files = &files;
        scope.spawn(move || {
            let _done = WorkersDone(pipe);
            rayon::in_place_scope(|jobs| {
                for (index, path) in files.iter().enumerate() {
                    {
                        let mut s = pipe.lock();
                        while !s.stopped && index >= s.written + WINDOW {
                            s.feeder_waiting = true;
                            s = pipe.window.wait(s).unwrap_or_else(PoisonError::into_inner);
                            s.feeder_waiting = false;
                        }
                        if s.stopped {
                            break;
                        }
                    }
                    jobs.spawn(move |_| {
                        let _stop = StopOnPanic(pipe);
                        // Each part is handed over once the next one exists, the last with
                        // the file's end: a file of one part (most of them) is handed over
                        // once.
                        let mut held = None;
                        check_path(engine, path, patches.role(path), |part| {
                            if let Some(report) = held.replace(part) {
                                pipe.deliver(index, Some(report), false);
                            }
                        });
                        pipe.deliver(index, held, true);
                    });
                }
            });
        });
        // However the writer ends (done, an error, a panic), the feeder stops handing out files.
        struct StopOnExit<'a>(&'a Pipe);
        impl Drop for StopOnExit<'_> {
            fn drop(&mut self) {
                self.0.stop();
            }
        }
        let _stop = StopOnExit(pipe);
        let mut next = 0;
        let mut batch: Vec<FileReport> = Vec::new();
        while next < total {
            {
                let mut s = pipe.lock();
                loop {
                    while let Some((parts, complete)) = s.ready.get_mut(&next) {
                        batch.extend(parts.drain(..));
                        if !*complete {
                            break;
                        }
                        s.ready.remove(&next);
                        next += 1;
                    }
                    s.next_to_write = next;
                    if !batch.is_empty() || next == total || s.done {
                        break;
                    }
                    s.writer_waiting = true;
                    s = pipe.writer.wait(s).unwrap_or_else(PoisonError::into_inner);
                    s.writer_waiting = false;
                }
                if batch.is_empty() && s.done {
                    // A worker panicked: the scope passes the panic on.
                    break;
                }
            }
            for report in batch.drain(..) {
                run.emit(report)?;
            }
            let mut s = pipe.lock();
            s.written = next;
            if s.feeder_waiting {
                pipe.window.notify_one();
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
