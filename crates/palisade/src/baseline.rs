//! Baselines: `--write-baseline FILE` records today's findings by stable fingerprint, and
//! `--baseline FILE` then reports only the findings that are not in it. Fingerprints leave out
//! line numbers, so edits that move a finding do not make it new.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use palisade_diagnostics::Finding;
use palisade_render::{FINGERPRINT_KEY, fingerprint};
use serde::{Deserialize, Serialize};

pub const BASELINE_VERSION: u32 = 1;

/// One recorded finding. Only `fingerprint` is used for matching; the rest lets a reviewer read
/// the file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct BaselineEntry {
    pub file: String,
    pub code: String,
    pub object: String,
    pub fingerprint: String,
    pub message: String,
}

impl BaselineEntry {
    pub fn of(f: &Finding) -> Self {
        let mut object = f.resource.to_string();
        if let Some(c) = &f.container {
            object.push_str(&format!(" {} {}", c.kind.as_str(), c.name));
        }
        Self {
            file: f.file.as_deref().unwrap_or("<stdin>").to_owned(),
            code: f.code.to_owned(),
            object,
            fingerprint: fingerprint(f),
            message: f.message.clone(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BaselineFile {
    version: u32,
    scheme: String,
    findings: Vec<BaselineEntry>,
}

/// The fingerprints of a baseline, with how many findings each still covers (two findings
/// can share a fingerprint, e.g. the same object written twice in one file).
#[derive(Debug, Default)]
pub struct Baseline {
    counts: HashMap<String, usize>,
}

impl Baseline {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the baseline {}", path.display()))?;
        let file: BaselineFile = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a palisade baseline", path.display()))?;
        if file.version != BASELINE_VERSION || file.scheme != FINGERPRINT_KEY {
            bail!(
                "{}: baseline version {} / scheme `{}` is not the one this palisade writes ({BASELINE_VERSION} / `{FINGERPRINT_KEY}`); record it again with --write-baseline",
                path.display(),
                file.version,
                file.scheme
            );
        }
        let mut counts = HashMap::new();
        for e in file.findings {
            *counts.entry(e.fingerprint).or_insert(0) += 1;
        }
        Ok(Self { counts })
    }

    /// Whether `f` is in the baseline; each recorded finding covers one finding.
    pub fn take(&mut self, f: &Finding) -> bool {
        match self.counts.get_mut(&fingerprint(f)) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        }
    }

    pub fn write(path: &Path, mut findings: Vec<BaselineEntry>) -> Result<()> {
        findings.sort();
        let file = BaselineFile {
            version: BASELINE_VERSION,
            scheme: FINGERPRINT_KEY.to_owned(),
            findings,
        };
        let mut text = serde_json::to_string_pretty(&file)?;
        text.push('\n');
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
    }
}
