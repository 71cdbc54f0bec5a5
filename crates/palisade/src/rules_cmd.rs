//! `palisade rules [CODE]`: the rule list, or one rule's documentation.

use std::io::Write;

use anyhow::{Result, bail};
use palisade_rules::{RuleInput, all_rules, render_rule_doc};
use serde_json::json;

use crate::EXIT_CLEAN;
use crate::cli::{Format, RulesArgs};

pub fn run(args: RulesArgs) -> Result<u8> {
    let mut out = anstream::stdout().lock();
    if let Some(wanted) = &args.rule {
        let Some(rule) = all_rules().iter().find(|r| {
            r.meta().code.eq_ignore_ascii_case(wanted) || r.meta().name == wanted.as_str()
        }) else {
            bail!("no rule `{wanted}` (`palisade rules` lists them)");
        };
        let m = rule.meta();
        match args.format {
            Format::Text => write!(out, "{}", render_rule_doc(m))?,
            Format::Json => writeln!(out, "{}", rule_json(m, true))?,
        }
        return Ok(EXIT_CLEAN);
    }
    match args.format {
        Format::Json => {
            let rules: Vec<_> = all_rules()
                .iter()
                .map(|r| rule_json(r.meta(), false))
                .collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&rules)?)?;
        }
        Format::Text => {
            for r in all_rules() {
                let m = r.meta();
                writeln!(
                    out,
                    "{:<7} {:<34} {:<10} {:<8} {}{}{}",
                    m.code,
                    m.name,
                    m.section.as_str(),
                    m.severity.as_str(),
                    m.summary,
                    if m.input == RuleInput::Cluster {
                        " (palisade cluster)"
                    } else {
                        ""
                    },
                    if m.default_enabled {
                        ""
                    } else {
                        " (off by default)"
                    }
                )?;
            }
        }
    }
    Ok(EXIT_CLEAN)
}

fn rule_json(m: &palisade_rules::RuleMeta, docs: bool) -> serde_json::Value {
    let mut v = json!({
        "code": m.code,
        "name": m.name,
        "section": m.section.as_str(),
        "severity": m.severity.as_str(),
        "summary": m.summary,
        "kubeaudit": m.kubeaudit,
        "default_enabled": m.default_enabled,
        "input": match m.input {
            RuleInput::Objects => "objects",
            RuleInput::Cluster => "cluster",
            RuleInput::Node => "node",
        },
    });
    if docs {
        v["docs"] = json!(palisade_rules::rule_doc_body(m));
    }
    v
}
