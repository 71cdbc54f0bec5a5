//! `palisade init`: writes a commented starter `.palisade.yaml`.

use anyhow::{Context, Result, bail};

use crate::EXIT_CLEAN;
use crate::cli::InitArgs;

pub fn run(args: InitArgs) -> Result<u8> {
    if args.path.exists() && !args.force {
        bail!(
            "{} already exists (use --force to replace it)",
            args.path.display()
        );
    }
    std::fs::write(&args.path, palisade_config::STARTER)
        .with_context(|| format!("cannot write {}", args.path.display()))?;
    anstream::eprintln!("wrote {}", args.path.display());
    Ok(EXIT_CLEAN)
}
