//! `palisade fix`: applies the fixes of fixable findings with minimal byte edits, verifies the
//! result, and writes it atomically (or prints a diff, or only says whether fixes are pending).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use palisade_diagnostics::Applicability;
use palisade_fix::{FixContext, FixOptions, FixOutcome, fix_text, fix_text_in, unified_diff};
use palisade_k8s::Quantity;
use palisade_rules::{DefaultResources, Engine, FileRole, Selection, Settings, SourceFile};
use rayon::prelude::*;

use crate::cli::FixArgs;
use crate::input;
use crate::{EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS};

fn settings(args: &FixArgs) -> Result<Settings> {
    let mut s = Settings::default();
    crate::scan::apply_rule_options(&args.rule_options, &mut s)?;
    let quantity = |q: &Option<String>, flag: &str| -> Result<Option<String>> {
        q.as_deref()
            .map(|q| {
                Quantity::parse(q)
                    .map(|_| q.to_owned())
                    .with_context(|| format!("{flag}: `{q}` is not a Kubernetes quantity"))
            })
            .transpose()
    };
    s.default_resources = DefaultResources {
        cpu_request: quantity(&args.default_cpu_request, "--default-cpu-request")?,
        memory_request: quantity(&args.default_memory_request, "--default-memory-request")?,
        cpu_limit: quantity(&args.default_cpu_limit, "--default-cpu-limit")?,
        memory_limit: quantity(&args.default_memory_limit, "--default-memory-limit")?,
    };
    if let Some(uid) = args.run_as_user {
        if uid <= 0 {
            bail!("--run-as-user: `{uid}` is root or invalid; give a non-zero user id");
        }
        s.fix_run_as_user = Some(uid);
    }
    Ok(s)
}

/// What happened to one input.
struct FileResult {
    shown: String,
    path: Option<PathBuf>,
    original: String,
    outcome: Option<FixOutcome>,
    error: Option<String>,
}

/// The facts every file contributes (ServiceAccounts, NetworkPolicies), so that each file is
/// fixed knowing the others, as `scan` judges them.
fn facts(engine: &Engine, files: &[PathBuf], patches: &input::Patches) -> FixContext {
    let parts: Vec<FixContext> = files
        .par_iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(p).ok()?;
            let report = engine.check_file_as(
                SourceFile {
                    path: None,
                    text: &text,
                },
                patches.role(p),
            );
            Some(FixContext {
                service_accounts: report.estate.service_accounts,
                network_policies: report.estate.network_policies,
            })
        })
        .collect();
    let mut all = FixContext::default();
    for part in parts {
        all.service_accounts.extend(part.service_accounts);
        all.network_policies.extend(part.network_policies);
    }
    all
}

fn fix_one(
    engine: &Engine,
    path: &Path,
    options: FixOptions,
    context: Option<&FixContext>,
) -> FileResult {
    let shown = input::display_path(path);
    let mut result = FileResult {
        shown: shown.clone(),
        path: Some(path.to_owned()),
        original: String::new(),
        outcome: None,
        error: None,
    };
    let text = match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => {
                result.error = Some("not valid UTF-8; left as it is".to_owned());
                return result;
            }
        },
        Err(e) => {
            result.error = Some(format!("cannot read: {e}"));
            return result;
        }
    };
    result.outcome = Some(fix_text_in(engine, Some(&shown), &text, options, context));
    result.original = text;
    result
}

/// Writes `text` next to `path` and renames it over `path`, keeping its permissions.
fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let permissions = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .permissions();
    let mut tmp = tempfile::Builder::new()
        .prefix(".palisade-fix-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.write_all(text.as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write a temporary file in {}", dir.display()))?;
    std::fs::set_permissions(tmp.path(), permissions)
        .with_context(|| format!("cannot set permissions in {}", dir.display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

#[derive(Default)]
struct Totals {
    applied: usize,
    files_changed: usize,
    left_unsafe: usize,
    left_display: usize,
    left_failed: usize,
    errors: usize,
}

pub fn run(args: FixArgs) -> Result<u8> {
    let selection = Selection {
        select: args.select.clone(),
        extend_select: args.extend_select.clone(),
        ignore: args.ignore.clone(),
    };
    let rules = selection.resolve()?;
    if rules.is_empty() {
        bail!("the selection leaves no rule to run");
    }
    let engine = Engine::new(rules, settings(&args)?);
    let options = FixOptions {
        unsafe_fixes: args.unsafe_fixes,
        ..FixOptions::default()
    };
    let stdin = args.paths.iter().any(|p| p.as_os_str() == "-");
    let paths: Vec<PathBuf> = args
        .paths
        .iter()
        .filter(|p| p.as_os_str() != "-")
        .cloned()
        .collect();
    let paths = if paths.is_empty() && !stdin {
        vec![PathBuf::from(".")]
    } else {
        paths
    };
    if stdin && !paths.is_empty() {
        bail!("`-` (stdin) cannot be combined with paths");
    }
    if args.json_patch {
        return json_patches(&engine, &args, stdin, &paths, options);
    }
    let mut results = Vec::new();
    let mut input_errors = Vec::new();
    if stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading stdin (it must be UTF-8)")?;
        let outcome = fix_text(&engine, Some("<stdin>"), &text, options);
        results.push(FileResult {
            shown: "<stdin>".to_owned(),
            path: None,
            original: text,
            outcome: Some(outcome),
            error: None,
        });
    } else {
        let excludes = input::exclude_set(&args.exclude)?;
        let input::Input { files, patches } =
            input::collect_files(&paths, &excludes, &mut input_errors);
        let context = (files.len() > 1).then(|| facts(&engine, &files, &patches));
        // Kustomize patches are fixed as fragments, as `scan` checks them: only what they set.
        results = files
            .par_iter()
            .map(|p| {
                let options = FixOptions {
                    role: patches.role(p),
                    ..options
                };
                fix_one(&engine, p, options, context.as_ref())
            })
            .collect();
    }

    // The diff, or the fixed stream for `-`, goes to stdout; the report then goes to stderr.
    let mut out = std::io::stdout();
    let mut report: Box<dyn Write> = if stdin || args.diff {
        Box::new(std::io::stderr())
    } else {
        Box::new(std::io::stdout())
    };
    let mut totals = Totals::default();
    for e in &input_errors {
        totals.errors += 1;
        writeln!(
            report,
            "{}: error: {}",
            e.file.as_deref().unwrap_or("<input>"),
            e.message
        )?;
    }
    let verb = if args.diff || args.check {
        "would fix"
    } else {
        "fixed"
    };
    for r in &results {
        if let Some(e) = &r.error {
            totals.errors += 1;
            writeln!(report, "{}: error: {e}", r.shown)?;
            continue;
        }
        let Some(outcome) = &r.outcome else { continue };
        for a in &outcome.applied {
            writeln!(
                report,
                "{}:{}: {} {verb}: {} ({}{})",
                r.shown,
                a.line.unwrap_or(0),
                a.code,
                a.title,
                a.resource,
                if a.applicability == Applicability::Unsafe {
                    ", unsafe fix"
                } else {
                    ""
                }
            )?;
        }
        totals.applied += outcome.applied.len();
        for l in &outcome.left {
            match l.applicability {
                Applicability::Unsafe if !args.unsafe_fixes => totals.left_unsafe += 1,
                Applicability::DisplayOnly => totals.left_display += 1,
                _ => totals.left_failed += 1,
            }
            if args.show_unsafe_fixes
                || l.applicability != Applicability::Unsafe
                || args.unsafe_fixes
            {
                writeln!(
                    report,
                    "{}:{}: {} not fixed: {} ({}): {}",
                    r.shown,
                    l.line.unwrap_or(0),
                    l.code,
                    l.title,
                    l.resource,
                    l.reason
                )?;
            }
        }
        if let Some(e) = &outcome.error {
            totals.errors += 1;
            writeln!(report, "{}: error: {e}", r.shown)?;
        }
        let changed = outcome.changed(&r.original);
        if changed {
            totals.files_changed += 1;
        }
        match &r.path {
            _ if args.diff && changed => {
                out.write_all(unified_diff(&r.shown, &r.original, &outcome.fixed).as_bytes())?;
            }
            _ if args.diff || args.check => {}
            Some(path) if changed => write_atomically(path, &outcome.fixed)?,
            Some(_) => {}
            // stdin: the whole stream, fixed or not.
            None => out.write_all(outcome.fixed.as_bytes())?,
        }
    }
    out.flush()?;
    let mut summary = format!(
        "{} {} finding(s) in {} file(s)",
        if args.diff || args.check {
            "Would fix"
        } else {
            "Fixed"
        },
        totals.applied,
        totals.files_changed
    );
    let left = totals.left_unsafe + totals.left_display + totals.left_failed;
    if left > 0 {
        let mut parts = Vec::new();
        if totals.left_unsafe > 0 {
            parts.push(format!(
                "{} unsafe (apply with --unsafe-fixes; list with --show-unsafe-fixes)",
                totals.left_unsafe
            ));
        }
        if totals.left_display > 0 {
            parts.push(format!("{} need a decision", totals.left_display));
        }
        if totals.left_failed > 0 {
            parts.push(format!("{} could not be applied", totals.left_failed));
        }
        summary.push_str(&format!("; {left} fix(es) left: {}", parts.join(", ")));
    }
    if totals.errors > 0 {
        summary.push_str(&format!("; {} error(s)", totals.errors));
    }
    writeln!(report, "{summary}.")?;
    Ok(if totals.errors > 0 {
        EXIT_ERROR
    } else if args.check && totals.applied > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    })
}

/// `--json-patch`: every fix the options allow, lowered to JSON Patch against the input as it
/// is (no fix loop: each patch applies to the object as written).
fn json_patches(
    engine: &Engine,
    args: &FixArgs,
    stdin: bool,
    paths: &[PathBuf],
    options: FixOptions,
) -> Result<u8> {
    let mut inputs: Vec<(String, String, FileRole)> = Vec::new();
    let mut errors = 0usize;
    if stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading stdin (it must be UTF-8)")?;
        inputs.push(("<stdin>".to_owned(), text, FileRole::Complete));
    } else {
        let excludes = input::exclude_set(&args.exclude)?;
        let mut input_errors = Vec::new();
        let input::Input { files, patches } =
            input::collect_files(paths, &excludes, &mut input_errors);
        for file in files {
            match std::fs::read_to_string(&file) {
                Ok(text) => inputs.push((input::display_path(&file), text, patches.role(&file))),
                Err(e) => {
                    errors += 1;
                    eprintln!("{}: error: cannot read: {e}", file.display());
                }
            }
        }
        errors += input_errors.len();
        for e in input_errors {
            eprintln!(
                "{}: error: {}",
                e.file.as_deref().unwrap_or("<input>"),
                e.message
            );
        }
    }
    let mut out = Vec::new();
    for (name, text, role) in &inputs {
        let body = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut report = engine.check_file_as(
            SourceFile {
                path: Some(name),
                text: body,
            },
            *role,
        );
        let estate = std::mem::take(&mut report.estate);
        let mut findings = report.findings;
        findings.extend(engine.finish(estate));
        let parsed: Vec<_> = palisade_yaml::split_documents(body)
            .into_iter()
            .map(|c| palisade_yaml::parse_chunk(body, c, false))
            .collect();
        for f in findings.iter().filter(|f| f.suppressed.is_none()) {
            let Some(fix) = &f.fix else { continue };
            let allowed = match fix.applicability {
                Applicability::Safe => true,
                Applicability::Unsafe => options.unsafe_fixes,
                Applicability::DisplayOnly => false,
            };
            let at = f.range.map_or(0, |r| r.start);
            let Some(doc) = parsed
                .iter()
                .flat_map(|p| p.documents.iter())
                .find(|d| d.range.start <= at && at <= d.range.end)
            else {
                continue;
            };
            let (patch, error) = match palisade_fix::json_patch(doc, fix) {
                Ok(p) => (Some(p), None),
                Err(e) => (None, Some(e.to_string())),
            };
            out.push(serde_json::json!({
                "file": name,
                "line": f.line,
                "code": f.code,
                "resource": f.resource,
                "title": fix.title,
                "applicability": fix.applicability.as_str(),
                "applied_by_default": allowed,
                "patch": patch,
                // The API server does not change an object's version through a patch.
                "kubectl": patch
                    .as_deref()
                    .filter(|p| !p.iter().any(|op| op["path"] == "/apiVersion"))
                    .map(|p| palisade_fix::kubectl_hint(&f.resource, p)),
                "error": error,
            }));
        }
    }
    let mut stdout = std::io::stdout();
    serde_json::to_writer_pretty(&mut stdout, &out)?;
    writeln!(stdout)?;
    Ok(if errors > 0 { EXIT_ERROR } else { EXIT_CLEAN })
}
