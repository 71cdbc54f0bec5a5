//! Palisade's own suppressions: the `palisade.dev/ignore` annotation (with a required
//! `palisade.dev/ignore-reason`) and `# palisade: ignore[CODE] reason` comments.

use palisade_diagnostics::{Finding, LineIndex, Suppression, TextRange};
use palisade_k8s::Entry;
use palisade_yaml::Document;

pub const IGNORE_ANNOTATION: &str = "palisade.dev/ignore";
pub const REASON_ANNOTATION: &str = "palisade.dev/ignore-reason";

/// A `# palisade: ignore[…]` comment.
#[derive(Clone, Debug)]
pub(crate) struct CommentDirective {
    /// The 1-based line whose findings it suppresses.
    pub target_line: u32,
    pub codes: Vec<String>,
    pub reason: Option<String>,
    pub range: TextRange,
    pub used: bool,
}

/// A `palisade.dev/ignore` annotation.
#[derive(Clone, Debug)]
pub(crate) struct AnnotationDirective<'d> {
    pub entry: Entry<'d>,
    pub codes: Vec<String>,
    pub reason: Option<String>,
    pub used: Vec<bool>,
}

pub(crate) fn matches(token: &str, finding: &Finding) -> bool {
    token.eq_ignore_ascii_case(finding.code) || token == finding.name || token == "all"
}

fn split_codes(text: &str) -> Vec<String> {
    text.split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Reads the `# palisade: ignore[…]` comments of a document.
pub(crate) fn comment_directives(
    doc: &Document<'_>,
    text: &str,
    lines: &LineIndex,
) -> Vec<CommentDirective> {
    let mut out = Vec::new();
    for comment in &doc.comments {
        let Some(body) = text.get(comment.range.to_range()) else {
            continue;
        };
        let body = body.trim_start_matches('#').trim();
        let Some(rest) = body.strip_prefix("palisade:") else {
            continue;
        };
        let rest = rest.trim();
        let Some(rest) = rest.strip_prefix("ignore[") else {
            continue;
        };
        let Some((codes, reason)) = rest.split_once(']') else {
            continue;
        };
        let reason = reason.trim().trim_start_matches(['-', ':', '—']).trim();
        let line = lines.line_of(comment.range.start as usize);
        let line_range = lines.line_range(line, text);
        let before = &text[line_range.start as usize..comment.range.start as usize];
        // A comment after content applies to its own line; one on a line of its own applies
        // to the next line that holds content.
        let target = if before.trim().is_empty() {
            let mut next = line + 1;
            while next < lines.line_count() {
                let t = text[lines.line_range(next, text).to_range()].trim();
                if !t.is_empty() && !t.starts_with('#') {
                    break;
                }
                next += 1;
            }
            next
        } else {
            line
        };
        out.push(CommentDirective {
            target_line: target as u32 + 1,
            codes: split_codes(codes),
            reason: (!reason.is_empty()).then(|| reason.to_owned()),
            range: comment.range,
            used: false,
        });
    }
    out
}

/// Reads `palisade.dev/ignore` from a set of annotations.
pub(crate) fn annotation_directive<'d>(
    annotations: &[Entry<'d>],
) -> Option<AnnotationDirective<'d>> {
    let entry = *annotations
        .iter()
        .rev()
        .find(|e| e.key == IGNORE_ANNOTATION)?;
    let codes = split_codes(entry.value.unwrap_or(""));
    let reason = annotations
        .iter()
        .rev()
        .find(|e| e.key == REASON_ANNOTATION)
        .and_then(|e| e.value)
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned);
    let used = vec![false; codes.len()];
    Some(AnnotationDirective {
        entry,
        codes,
        reason,
        used,
    })
}

/// Suppresses `finding` with the first directive that names it. Directives without a reason
/// never suppress: they are reported instead.
pub(crate) fn apply(
    finding: &mut Finding,
    annotations: &mut [AnnotationDirective<'_>],
    comments: &mut [CommentDirective],
) {
    if finding.suppressed.is_some() {
        return;
    }
    for a in annotations.iter_mut() {
        if let Some(i) = a.codes.iter().position(|c| matches(c, finding)) {
            a.used[i] = true;
            if a.reason.is_some() {
                finding.suppressed = Some(Suppression {
                    by: format!("annotation {IGNORE_ANNOTATION}"),
                    reason: a.reason.clone(),
                });
                return;
            }
        }
    }
    let Some(line) = finding.line else { return };
    for c in comments.iter_mut().filter(|c| c.target_line == line) {
        if c.codes.iter().any(|code| matches(code, finding)) {
            c.used = true;
            if c.reason.is_some() {
                finding.suppressed = Some(Suppression {
                    by: "comment # palisade: ignore".to_owned(),
                    reason: c.reason.clone(),
                });
                return;
            }
        }
    }
}
