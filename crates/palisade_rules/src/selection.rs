use std::fmt;

use crate::meta::Rule;
use crate::registry::all_rules;

/// Which rules run: `select` and `ignore` take codes (`WKL001`), code prefixes (`WKL`,
/// `WKL00`), kebab-case names (`privileged-container`), checklist sections (`workloads`),
/// kubeaudit auditor names (`kubeaudit:privileged`) or `ALL`.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub select: Vec<String>,
    pub extend_select: Vec<String>,
    pub ignore: Vec<String>,
}

/// A selector that names no rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectionError {
    pub selector: String,
    pub suggestion: Option<String>,
}

impl fmt::Display for SelectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` matches no rule", self.selector)?;
        if let Some(s) = &self.suggestion {
            write!(f, "; did you mean `{s}`?")?;
        }
        write!(f, " (`palisade rules` lists them)")
    }
}

impl std::error::Error for SelectionError {}

fn selector_matches(selector: &str, rule: &dyn Rule) -> bool {
    let meta = rule.meta();
    let s = selector.trim();
    if s.eq_ignore_ascii_case("all") {
        return true;
    }
    if let Some(auditor) = s.strip_prefix("kubeaudit:") {
        return meta.kubeaudit == Some(auditor);
    }
    let upper = s.to_ascii_uppercase();
    meta.code.starts_with(&upper) && !upper.is_empty()
        || meta.name == s
        || meta.section.as_str() == s
}

/// Levenshtein distance, for "did you mean" suggestions.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1)
                .min(row[j] + 1)
                .min(prev + usize::from(ca != cb));
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

fn suggest(selector: &str) -> Option<String> {
    let s = selector.to_ascii_lowercase();
    all_rules()
        .iter()
        .map(|r| r.meta())
        .flat_map(|m| [m.name.to_owned(), m.code.to_ascii_lowercase()])
        .map(|candidate| (distance(&s, &candidate), candidate))
        .filter(|(d, c)| *d <= (c.len() / 3).max(1))
        .min()
        .map(|(_, c)| {
            if c.chars().all(|ch| ch.is_ascii_alphanumeric()) {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
}

impl Selection {
    /// Resolves the selection to rules, in registry order. Every selector must match at least
    /// one rule, so a typo never turns into a silent run of zero rules.
    pub fn resolve(&self) -> Result<Vec<&'static dyn Rule>, SelectionError> {
        let rules = all_rules();
        for selector in self
            .select
            .iter()
            .chain(&self.extend_select)
            .chain(&self.ignore)
        {
            if !rules.iter().any(|r| selector_matches(selector, *r)) {
                return Err(SelectionError {
                    selector: selector.clone(),
                    suggestion: suggest(selector),
                });
            }
        }
        Ok(rules
            .iter()
            .copied()
            .filter(|r| {
                let base = if self.select.is_empty() {
                    r.meta().default_enabled
                } else {
                    self.select.iter().any(|s| selector_matches(s, *r))
                };
                let extended = self.extend_select.iter().any(|s| selector_matches(s, *r));
                (base || extended) && !self.ignore.iter().any(|s| selector_matches(s, *r))
            })
            .collect())
    }
}
