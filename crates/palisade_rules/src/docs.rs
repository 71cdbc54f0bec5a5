use std::fmt::Write as _;

use crate::meta::{RuleInput, RuleMeta, RuleStatus};

/// The rule's doc comment, without the one-space indent doc comments carry.
pub fn rule_doc_body(meta: &RuleMeta) -> String {
    meta.docs
        .lines()
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The Markdown documentation of a rule: heading, metadata table and doc comment.
pub fn render_rule_doc(meta: &RuleMeta) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# {} `{}`\n", meta.code, meta.name);
    let _ = writeln!(s, "{}\n", meta.summary);
    let status = match meta.status {
        RuleStatus::Stable { since } => format!("stable since {since}"),
        RuleStatus::Preview { since } => format!("preview since {since}"),
    };
    let _ = writeln!(s, "| | |\n|---|---|");
    let _ = writeln!(s, "| Section | {} |", meta.section);
    let _ = writeln!(s, "| Severity | {} |", meta.severity);
    let _ = writeln!(
        s,
        "| Enabled by default | {} |",
        if meta.default_enabled { "yes" } else { "no" }
    );
    let _ = writeln!(
        s,
        "| kubeaudit auditor | {} |",
        meta.kubeaudit.unwrap_or("—")
    );
    if meta.input == RuleInput::Cluster {
        let _ = writeln!(s, "| Input | live cluster only (`palisade cluster`) |");
    }
    let _ = writeln!(s, "| Status | {status} |\n");
    s.push_str(&rule_doc_body(meta));
    s.push('\n');
    s
}
