//! The fix loop: check, apply the fixes that do not conflict, check again, until nothing is
//! left to apply; then verify the result before anyone writes it.

use std::collections::HashSet;

use palisade_diagnostics::{Applicability, Finding};
use palisade_rules::{Engine, FileRole, NetworkPolicyFact, ServiceAccountFact, SourceFile};
use palisade_yaml::{Document, DocumentChunk, ParsedChunk, parse_chunk, split_documents};

use crate::lower::{Edit, apply_edits, text_edits};

/// More passes than any fix set needs: each pass applies every fix that does not collide
/// with another, and fixes that create the same missing parent wait one pass each.
const MAX_PASSES: usize = 16;

/// Which fixes to apply.
#[derive(Clone, Copy, Debug, Default)]
pub struct FixOptions {
    /// Also apply fixes that may change how a workload runs.
    pub unsafe_fixes: bool,
    /// What the file is: a kustomize patch is checked as a fragment, so fields it leaves to
    /// its base are not added to it.
    pub role: FileRole,
}

/// What the other files of the input say, for decisions across files (the ServiceAccount
/// `default` of a namespace, its NetworkPolicies).
#[derive(Clone, Debug, Default)]
pub struct FixContext {
    pub service_accounts: Vec<ServiceAccountFact>,
    pub network_policies: Vec<NetworkPolicyFact>,
}

/// A fix that was applied.
#[derive(Clone, Debug)]
pub struct Applied {
    pub code: &'static str,
    pub title: String,
    pub resource: String,
    pub line: Option<u32>,
    pub applicability: Applicability,
}

/// A finding whose fix was not applied, and why.
#[derive(Clone, Debug)]
pub struct Left {
    pub code: &'static str,
    pub title: String,
    pub resource: String,
    pub line: Option<u32>,
    pub reason: String,
    pub applicability: Applicability,
}

/// The outcome for one text.
#[derive(Clone, Debug)]
pub struct FixOutcome {
    /// The fixed text; equal to the input when nothing was applied or verification failed.
    pub fixed: String,
    pub applied: Vec<Applied>,
    pub left: Vec<Left>,
    /// Why nothing was changed although fixes were pending: the input does not parse, or
    /// the fixed text failed verification.
    pub error: Option<String>,
}

impl FixOutcome {
    pub fn changed(&self, original: &str) -> bool {
        self.fixed != original
    }
}

/// Identifies a finding across passes: the same problem at the same field of the same object.
fn identity(f: &Finding) -> (&'static str, String, String) {
    let mut target = f.path.clone();
    if let Some(m) = &f.missing {
        if !target.is_empty() {
            target.push('.');
        }
        target.push_str(m);
    }
    (f.code, f.resource.to_string(), target)
}

fn describe(f: &Finding) -> String {
    match &f.container {
        Some(c) => format!("{} ({} `{}`)", f.resource, c.kind.as_str(), c.name),
        None => f.resource.to_string(),
    }
}

fn check(
    engine: &Engine,
    path: Option<&str>,
    text: &str,
    role: FileRole,
    context: Option<&FixContext>,
) -> (Vec<Finding>, Vec<String>) {
    let mut report = engine.check_file_as(SourceFile { path, text }, role);
    let errors = report
        .errors
        .iter()
        .map(|e| format!("{}:{}: {}", e.line, e.column, e.message))
        .collect();
    let mut estate = std::mem::take(&mut report.estate);
    if let Some(context) = context {
        estate
            .service_accounts
            .extend(context.service_accounts.iter().cloned());
        estate
            .network_policies
            .extend(context.network_policies.iter().cloned());
    }
    let mut findings = report.findings;
    findings.extend(engine.finish(estate));
    (findings, errors)
}

fn parse_all(text: &str) -> Vec<ParsedChunk<'_>> {
    split_documents(text)
        .into_iter()
        .map(|c: DocumentChunk| parse_chunk(text, c, false))
        .collect()
}

fn document_at<'a>(parsed: &'a [ParsedChunk<'a>], at: u32) -> Option<&'a Document<'a>> {
    parsed
        .iter()
        .flat_map(|p| p.documents.iter())
        .find(|d| d.range.start <= at && at <= d.range.end)
}

/// Applies the fixes `options` allow to `text` (one file) and verifies the result: it parses,
/// a further pass changes nothing, and every fixed finding is gone. When verification fails
/// the outcome holds the original text and the reason.
pub fn fix_text(
    engine: &Engine,
    path: Option<&str>,
    text: &str,
    options: FixOptions,
) -> FixOutcome {
    fix_text_in(engine, path, text, options, None)
}

/// [`fix_text`] for one file of a larger input: `context` holds the facts of the other files
/// (ServiceAccounts, NetworkPolicies), so that decisions across files are those
/// `palisade scan` makes.
pub fn fix_text_in(
    engine: &Engine,
    path: Option<&str>,
    text: &str,
    options: FixOptions,
    context: Option<&FixContext>,
) -> FixOutcome {
    let (bom, body) = match text.strip_prefix('\u{feff}') {
        Some(rest) => ("\u{feff}", rest),
        None => ("", text),
    };
    let unchanged = |applied, left, error| FixOutcome {
        fixed: text.to_owned(),
        applied,
        left,
        error,
    };
    let (first, errors) = check(engine, path, body, options.role, context);
    if !errors.is_empty() {
        let pending = first
            .iter()
            .any(|f| f.fix.is_some() && f.suppressed.is_none());
        let error = pending.then(|| {
            format!(
                "the file does not parse ({}); it is left as it is",
                errors.join("; ")
            )
        });
        let left = first
            .iter()
            .filter(|f| f.fix.is_some() && f.suppressed.is_none())
            .map(|f| left_of(f, "the file does not parse".to_owned()))
            .collect();
        return unchanged(Vec::new(), left, error);
    }
    let mut current = body.to_owned();
    let mut applied: Vec<Applied> = Vec::new();
    let mut applied_ids = HashSet::new();
    let mut left: Vec<Left> = Vec::new();
    let mut failed = HashSet::new();
    // Lines as the user's file has them: those of the first check.
    let first_lines: std::collections::HashMap<_, _> =
        first.iter().map(|f| (identity(f), f.line)).collect();
    let mut findings = first;
    let mut converged = false;
    for _ in 0..MAX_PASSES {
        let parsed = parse_all(&current);
        let mut accepted: Vec<Edit> = Vec::new();
        let mut accepted_findings = Vec::new();
        let mut waiting = false;
        for f in &findings {
            let Some(fix) = &f.fix else { continue };
            if f.suppressed.is_some() || failed.contains(&identity(f)) {
                continue;
            }
            let allowed = match fix.applicability {
                Applicability::Safe => true,
                Applicability::Unsafe => options.unsafe_fixes,
                Applicability::DisplayOnly => false,
            };
            if !allowed {
                continue;
            }
            let at = f.range.map_or(0, |r| r.start);
            let Some(doc) = document_at(&parsed, at) else {
                failed.insert(identity(f));
                left.push(left_of(f, "its document was not found".to_owned()));
                continue;
            };
            match text_edits(doc, fix) {
                Ok(edits) => {
                    if edits
                        .iter()
                        .any(|e| accepted.iter().any(|a| a.conflicts_with(e)))
                    {
                        waiting = true;
                        continue;
                    }
                    accepted.extend(edits);
                    accepted_findings.push(f);
                }
                Err(e) => {
                    failed.insert(identity(f));
                    left.push(left_of(f, e.0));
                }
            }
        }
        if accepted.is_empty() {
            converged = !waiting;
            break;
        }
        for f in accepted_findings {
            // Only findings with fixes are accepted.
            let Some(fix) = f.fix.as_ref() else { continue };
            applied_ids.insert(identity(f));
            applied.push(Applied {
                code: f.code,
                title: fix.title.to_string(),
                resource: describe(f),
                line: first_lines.get(&identity(f)).copied().flatten(),
                applicability: fix.applicability,
            });
        }
        drop(parsed);
        current = apply_edits(&current, &accepted);
        let (next, errors) = check(engine, path, &current, options.role, context);
        if !errors.is_empty() {
            return unchanged(
                Vec::new(),
                left,
                Some(format!(
                    "the fixed text does not parse ({}); nothing was written",
                    errors.join("; ")
                )),
            );
        }
        findings = next;
    }
    if !converged {
        return unchanged(
            Vec::new(),
            left,
            Some(format!(
                "the fixes did not settle after {MAX_PASSES} passes; nothing was written"
            )),
        );
    }
    // Every fixed finding must be gone.
    let still: Vec<String> = findings
        .iter()
        .filter(|f| f.suppressed.is_none() && applied_ids.contains(&identity(f)))
        .map(|f| format!("{} at {}", f.code, describe(f)))
        .collect();
    if !still.is_empty() {
        return unchanged(
            Vec::new(),
            left,
            Some(format!(
                "after fixing, {} still reported; nothing was written",
                still.join(", ")
            )),
        );
    }
    // What is left: fixes not allowed by the options, and those that failed above.
    for f in &findings {
        let Some(fix) = &f.fix else { continue };
        if f.suppressed.is_some() || failed.contains(&identity(f)) {
            continue;
        }
        let reason = match fix.applicability {
            Applicability::Unsafe if !options.unsafe_fixes => format!(
                "unsafe: {}; apply with --unsafe-fixes",
                fix.caveat
                    .as_deref()
                    .unwrap_or("it may change how the workload runs")
            ),
            Applicability::DisplayOnly => "needs a decision: apply it by hand".to_owned(),
            _ => continue,
        };
        left.push(left_of(f, reason));
    }
    applied.sort_by_key(|a| (a.line, a.code));
    left.sort_by_key(|l| (l.line, l.code));
    FixOutcome {
        fixed: format!("{bom}{current}"),
        applied,
        left,
        error: None,
    }
}

fn left_of(f: &Finding, reason: String) -> Left {
    let fix = f.fix.as_ref();
    Left {
        code: f.code,
        title: fix.map(|x| x.title.to_string()).unwrap_or_default(),
        resource: describe(f),
        line: f.line,
        reason,
        applicability: fix.map_or(Applicability::DisplayOnly, |x| x.applicability),
    }
}
