//! The checklist view: each item of the hardening checklist with its status for the input
//! (pass, fail with the findings, not checked, or not checkable from manifests and which mode
//! checks it), as text, JSON or a printable HTML page.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::Write;

use palisade_diagnostics::Finding;
use serde::{Deserialize, Serialize};

use crate::Summary;
use crate::html::escape;

/// The item → rule mapping, one data file.
pub const CHECKLIST_DATA: &str = include_str!("../resources/checklist.yaml");

/// One checklist item as written in the data file.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItem {
    pub id: String,
    pub section: String,
    pub title: String,
    #[serde(default)]
    pub rules: Vec<String>,
    /// Modes that check this item beyond manifests.
    #[serde(default)]
    pub modes: Vec<String>,
    /// The CIS Kubernetes Benchmark controls (`1.2.7`) that `palisade node` judges for it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cis: Vec<String>,
}

/// The checklist's items, in order.
pub fn checklist_items() -> Vec<ChecklistItem> {
    serde_saphyr::from_str(CHECKLIST_DATA).expect("resources/checklist.yaml is valid")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ItemStatus {
    Pass,
    Fail,
    /// Its rules exist but none ran (deselected).
    NotChecked,
    /// Manifests cannot show it; `modes` can.
    NotCheckable,
}

impl ItemStatus {
    pub fn label(self) -> &'static str {
        match self {
            ItemStatus::Pass => "pass",
            ItemStatus::Fail => "FAIL",
            ItemStatus::NotChecked => "not checked",
            ItemStatus::NotCheckable => "n/a",
        }
    }
}

/// One finding, as the checklist shows it.
#[derive(Clone, Debug, Serialize)]
pub struct ItemFinding {
    pub code: &'static str,
    pub severity: &'static str,
    pub message: String,
    pub object: String,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ItemResult {
    #[serde(flatten)]
    pub item: ChecklistItem,
    pub status: ItemStatus,
    pub findings: Vec<ItemFinding>,
    /// Why an item was not checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn item_finding(f: &Finding) -> ItemFinding {
    ItemFinding {
        code: f.code,
        severity: f.severity.as_str(),
        message: f.message.clone(),
        object: f.resource.to_string(),
        file: f.file.as_deref().map(str::to_owned),
        line: f.line,
        column: f.column,
    }
}

/// What `palisade node` concluded about one control.
#[derive(Clone, Copy, Debug)]
pub struct NodeVerdict<'a> {
    /// The CIS id (`1.2.7`).
    pub id: &'a str,
    /// Judged pass, fail or warn (not "not applicable" and not an error).
    pub judged: bool,
    /// Its finding, when it failed or warned.
    pub finding: Option<&'a Finding>,
}

/// Judges the items `palisade node` checks (those with `cis` controls): fail when a control
/// failed or warned above info, pass when at least one of them was judged, else not checked
/// (none of their components runs on the node).
pub fn evaluate_node(verdicts: &[NodeVerdict<'_>]) -> Vec<ItemResult> {
    checklist_items()
        .into_iter()
        .filter(|item| !item.cis.is_empty())
        .map(|item| {
            let mine: Vec<&NodeVerdict<'_>> = verdicts
                .iter()
                .filter(|v| item.cis.iter().any(|c| c == v.id))
                .collect();
            let findings: Vec<ItemFinding> = mine
                .iter()
                .filter_map(|v| v.finding)
                .filter(|f| f.severity > palisade_diagnostics::Severity::Info)
                .map(item_finding)
                .collect();
            let (status, note) = if !findings.is_empty() {
                (ItemStatus::Fail, None)
            } else if mine.iter().any(|v| v.judged) {
                (ItemStatus::Pass, None)
            } else {
                (
                    ItemStatus::NotChecked,
                    Some(format!(
                        "none of its controls applies to this node: CIS {}",
                        item.cis.join(", ")
                    )),
                )
            };
            ItemResult {
                item,
                status,
                findings,
                note,
            }
        })
        .collect()
}

/// Judges every item: `ran` is the set of rule codes that ran; `findings` are the reported
/// (unsuppressed) findings.
pub fn evaluate(ran: &HashSet<&str>, findings: &[Finding]) -> Vec<ItemResult> {
    checklist_items()
        .into_iter()
        .map(|item| {
            let mine: Vec<ItemFinding> = findings
                .iter()
                .filter(|f| f.suppressed.is_none() && item.rules.iter().any(|r| r == f.code))
                .map(item_finding)
                .collect();
            let status = if item.rules.is_empty() {
                ItemStatus::NotCheckable
            } else if !mine.is_empty() {
                ItemStatus::Fail
            } else if item.rules.iter().any(|r| ran.contains(r.as_str())) {
                ItemStatus::Pass
            } else {
                ItemStatus::NotChecked
            };
            let note = (status == ItemStatus::NotChecked)
                .then(|| {
                format!(
                    "its rules were not selected, or have nothing to check without their options: {}",
                    item.rules.join(", ")
                )
            });
            ItemResult {
                item,
                status,
                findings: mine,
                note,
            }
        })
        .collect()
}

fn counts(items: &[ItemResult]) -> [(ItemStatus, usize); 4] {
    let n = |s| items.iter().filter(|i| i.status == s).count();
    [
        (ItemStatus::Pass, n(ItemStatus::Pass)),
        (ItemStatus::Fail, n(ItemStatus::Fail)),
        (ItemStatus::NotChecked, n(ItemStatus::NotChecked)),
        (ItemStatus::NotCheckable, n(ItemStatus::NotCheckable)),
    ]
}

fn at(f: &ItemFinding) -> String {
    match (&f.file, f.line, f.column) {
        (Some(file), Some(l), Some(c)) => format!("{file}:{l}:{c}"),
        (Some(file), _, _) => file.clone(),
        _ => String::new(),
    }
}

fn modes(item: &ChecklistItem) -> String {
    item.modes
        .iter()
        .map(|m| format!("`palisade {m}`"))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Plain text, one line per item and one per finding.
pub fn write_text(out: &mut dyn Write, items: &[ItemResult], s: &Summary) -> std::io::Result<()> {
    let mut section = "";
    for r in items {
        if r.item.section != section {
            section = &r.item.section;
            writeln!(out, "\n{}", section.to_uppercase())?;
        }
        writeln!(out, "  [{:>11}] {}", r.status.label(), r.item.title)?;
        match r.status {
            ItemStatus::NotCheckable => {
                writeln!(out, "                checked by {}", modes(&r.item))?;
            }
            ItemStatus::NotChecked => {
                if let Some(note) = &r.note {
                    writeln!(out, "                {note}")?;
                }
            }
            _ => {}
        }
        for f in &r.findings {
            let at = at(f);
            let at = if at.is_empty() {
                at
            } else {
                format!(" ({at})")
            };
            writeln!(
                out,
                "                {} {} {}: {}{at}",
                f.severity, f.code, f.object, f.message,
            )?;
        }
    }
    let c = counts(items);
    let input = if s.stats.files > 0 {
        format!(" ({} objects in {} files)", s.stats.objects, s.stats.files)
    } else {
        String::new()
    };
    writeln!(
        out,
        "\n{} pass, {} fail, {} not checked, {} not checkable from manifests{input}",
        c[0].1, c[1].1, c[2].1, c[3].1
    )?;
    out.flush()
}

#[derive(Serialize)]
struct JsonChecklist<'a> {
    version: u32,
    items: &'a [ItemResult],
    pass: usize,
    fail: usize,
    not_checked: usize,
    not_checkable: usize,
    summary: &'a Summary,
}

pub fn write_json(out: &mut dyn Write, items: &[ItemResult], s: &Summary) -> std::io::Result<()> {
    let c = counts(items);
    serde_json::to_writer_pretty(
        &mut *out,
        &JsonChecklist {
            version: 1,
            items,
            pass: c[0].1,
            fail: c[1].1,
            not_checked: c[2].1,
            not_checkable: c[3].1,
            summary: s,
        },
    )?;
    writeln!(out)?;
    out.flush()
}

/// A printable page (no script, no fetches).
pub fn write_html(out: &mut dyn Write, items: &[ItemResult], s: &Summary) -> std::io::Result<()> {
    let c = counts(items);
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\"><title>Palisade hardening checklist</title><style>
body{{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d232a}}h1{{font-size:22px}}h2{{font-size:16px;margin-top:22px;text-transform:capitalize}}
table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #ccd;padding:6px 8px;vertical-align:top;text-align:left}}
.st{{font-weight:700;white-space:nowrap}}.pass{{color:#2e7d32}}.fail{{color:#c62828}}.not-checked,.not-checkable{{color:#5f6b76}}
ul{{margin:4px 0;padding-left:18px}}code{{background:#eef;padding:0 3px}}@media print{{body{{margin:0}}}}
</style></head><body><h1>Palisade hardening checklist</h1><p>{} objects in {} files · <b class=\"pass\">{} pass</b> · <b class=\"fail\">{} fail</b> · {} not checked · {} not checkable from manifests</p>",
        s.stats.objects, s.stats.files, c[0].1, c[1].1, c[2].1, c[3].1
    );
    let mut section = "";
    for r in items {
        if r.item.section != section {
            if !section.is_empty() {
                h.push_str("</tbody></table>");
            }
            section = &r.item.section;
            let _ = write!(
                h,
                "<h2>{}</h2><table><thead><tr><th style=\"width:8em\">Status</th><th>Item</th><th>Details</th></tr></thead><tbody>",
                escape(section)
            );
        }
        let status_class = match r.status {
            ItemStatus::Pass => "pass",
            ItemStatus::Fail => "fail",
            ItemStatus::NotChecked => "not-checked",
            ItemStatus::NotCheckable => "not-checkable",
        };
        let mut details = String::new();
        match r.status {
            ItemStatus::NotCheckable => {
                let _ = write!(details, "checked by {}", escape(&modes(&r.item)));
            }
            ItemStatus::NotChecked if r.item.rules.is_empty() => {
                details.push_str(&escape(r.note.as_deref().unwrap_or_default()));
            }
            ItemStatus::NotChecked => {
                let _ = write!(
                    details,
                    "rules not selected or not configured: {}",
                    escape(&r.item.rules.join(", "))
                );
            }
            ItemStatus::Pass if r.item.rules.is_empty() => {
                let _ = write!(details, "CIS {}", escape(&r.item.cis.join(", ")));
            }
            ItemStatus::Pass => {
                let _ = write!(details, "rules {}", escape(&r.item.rules.join(", ")));
            }
            ItemStatus::Fail => {
                details.push_str("<ul>");
                for f in &r.findings {
                    let _ = write!(
                        details,
                        "<li><b>{}</b> <code>{}</code> {}: {} <small>{}</small></li>",
                        f.severity,
                        f.code,
                        escape(&f.object),
                        escape(&f.message),
                        escape(&at(f))
                    );
                }
                details.push_str("</ul>");
            }
        }
        let _ = write!(
            h,
            "<tr data-item=\"{}\" data-status=\"{status_class}\"><td class=\"st {status_class}\">{}</td><td>{}</td><td>{details}</td></tr>",
            escape(&r.item.id),
            r.status.label(),
            escape(&r.item.title)
        );
    }
    h.push_str("</tbody></table></body></html>\n");
    out.write_all(h.as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_belongs_to_an_item_and_every_item_is_sound() {
        let items = checklist_items();
        // Rules found only in a live cluster are the items' `modes: [cluster]`.
        let codes: Vec<&str> = palisade_rules::all_rules()
            .iter()
            .filter(|r| r.meta().input == palisade_rules::RuleInput::Objects)
            .map(|r| r.meta().code)
            .collect();
        for code in &codes {
            assert!(
                items.iter().any(|i| i.rules.iter().any(|r| r == code)),
                "rule {code} belongs to no item of resources/checklist.yaml"
            );
        }
        let mut ids = HashSet::new();
        for i in &items {
            assert!(ids.insert(i.id.clone()), "duplicate item {}", i.id);
            assert!(
                ["images", "components", "network", "workloads", "misc"]
                    .contains(&i.section.as_str()),
                "{}: unknown section {}",
                i.id,
                i.section
            );
            assert!(
                !i.rules.is_empty() || !i.modes.is_empty(),
                "{}: checked by nothing",
                i.id
            );
            for r in &i.rules {
                assert!(codes.contains(&r.as_str()), "{}: unknown rule {r}", i.id);
            }
            for m in &i.modes {
                assert!(
                    ["node", "cluster", "image", "logs", "serve"].contains(&m.as_str()),
                    "{}: unknown mode {m}",
                    i.id
                );
            }
        }
    }
}
