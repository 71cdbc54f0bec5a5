//! `palisade checklist`: the hardening checklist, item by item, for the input.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::rc::Rc;

use anyhow::{Context, Result};
use clap::Parser;
use palisade_render::{evaluate, write_checklist_html, write_checklist_json, write_checklist_text};

use crate::cli::{ChecklistArgs, ChecklistFormat, Cli, Command};
use crate::scan::{self, Collected};
use crate::{EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS};

pub fn run(args: ChecklistArgs) -> Result<u8> {
    // The scan runs exactly as `palisade scan` would, with the same config discovery.
    let mut argv: Vec<std::ffi::OsString> = vec!["palisade".into(), "scan".into(), "-q".into()];
    argv.extend(args.paths.iter().map(|p| p.clone().into_os_string()));
    if let Some(c) = &args.config {
        argv.push("--config".into());
        argv.push(c.clone().into_os_string());
    }
    if args.no_config {
        argv.push("--no-config".into());
    }
    let Command::Scan(scan_args) = Cli::try_parse_from(argv)?.command else {
        unreachable!("parsed as `scan`")
    };
    let collected = Rc::new(RefCell::new(Collected::default()));
    let code = scan::run_with(*scan_args, Some(collected.clone()))?;
    let c = collected.borrow();
    let ran: HashSet<&str> = c.ran.iter().copied().collect();
    let items = evaluate(&ran, &c.findings);
    let summary = c.summary.clone().context("the scan did not finish")?;
    let mut out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(BufWriter::new(
            File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    match args.format {
        ChecklistFormat::Text => write_checklist_text(&mut out, &items, &summary)?,
        ChecklistFormat::Json => write_checklist_json(&mut out, &items, &summary)?,
        ChecklistFormat::Html => write_checklist_html(&mut out, &items, &summary)?,
    }
    for e in &c.errors {
        anstream::eprintln!(
            "palisade: error: {}:{}:{}: {}",
            e.file.as_deref().unwrap_or("<stdin>"),
            e.line,
            e.column,
            e.message
        );
    }
    Ok(match code {
        EXIT_ERROR => EXIT_ERROR,
        _ if summary.failed => EXIT_FINDINGS,
        _ => EXIT_CLEAN,
    })
}
