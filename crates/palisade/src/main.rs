//! `palisade`: the command line.

mod baseline;
mod checklist;
mod cli;
mod cluster_cmd;
mod estates;
mod fix_cmd;
mod init;
mod input;
mod kustomize;
mod node_cmd;
mod rbac_cmd;
mod rules_cmd;
mod scan;
mod serve_cmd;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

// Scanning allocates many short-lived strings and trees on several threads at once; glibc's
// allocator spent a third of the scan time there, much of it in lock contention.
// `--no-default-features` keeps the system allocator (for heap profilers such as massif).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes, documented in the README.
pub const EXIT_CLEAN: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                EXIT_ERROR
            } else {
                EXIT_CLEAN
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Scan(args) => scan::run(*args),
        Command::Cluster(args) => cluster_cmd::run(*args),
        Command::Rules(args) => rules_cmd::run(args),
        Command::Node(args) => node_cmd::run(args),
        Command::Fix(args) => fix_cmd::run(*args),
        Command::Rbac(args) => rbac_cmd::run(args),
        Command::Init(args) => init::run(args),
        Command::Checklist(args) => checklist::run(args),
        Command::Serve(args) => serve_cmd::run(*args),
        Command::Completions(args) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(args.shell, &mut cmd, "palisade", &mut std::io::stdout());
            Ok(EXIT_CLEAN)
        }
        Command::Manpage => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd)
                .render(&mut std::io::stdout())
                .map(|()| EXIT_CLEAN)
                .map_err(Into::into)
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            anstream::eprintln!("palisade: error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
