//! The `serve:` section: how `palisade serve` turns findings into admission decisions.

use std::collections::{BTreeMap, HashMap};

use globset::{Glob, GlobMatcher};
use palisade_diagnostics::Severity;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::ConfigError;
use crate::file::SeverityName;

/// What the webhook does with the findings of a namespace's objects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Deny requests with a finding at or above the threshold; the other findings are
    /// returned as warnings.
    #[default]
    Enforce,
    /// Never deny: every finding is returned as a warning (`kubectl` prints them).
    Warn,
    /// Never deny and return nothing: the decision that would have been made is only logged.
    DryRun,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Warn => "warn",
            Mode::DryRun => "dry-run",
        }
    }
}

/// What the webhook answers to a request it cannot review (an object that does not parse, an
/// internal error): the request itself is well-formed enough to answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Failure {
    /// Allow it, with a warning that says why it was not reviewed.
    Allow,
    /// Deny it, saying why (the same choice as the webhook's `failurePolicy: Fail`).
    #[default]
    Deny,
}

impl Failure {
    pub fn as_str(self) -> &'static str {
        match self {
            Failure::Allow => "allow",
            Failure::Deny => "deny",
        }
    }
}

/// `serve:` in `.palisade.yaml`: the admission webhook's policy.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ServeSpec {
    /// The mode of namespaces that `namespaces` does not list (and of cluster-scoped
    /// objects). Default: enforce.
    #[serde(default)]
    pub default_mode: Option<Mode>,
    /// The mode per namespace: a name or a glob (`team-*`) to `enforce`, `warn` or
    /// `dry-run`. An exact name wins over globs; among globs, the longest pattern wins.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Mode>")]
    pub namespaces: HashMap<Spanned<String>, Mode>,
    /// Deny when a finding is at or above this severity. Default: `fail-on`, else high.
    #[serde(default)]
    pub threshold: Option<SeverityName>,
    /// What to answer to a request that cannot be reviewed: `allow` or `deny` (default).
    #[serde(default)]
    pub failure: Option<Failure>,
    /// The mutating webhook also applies the fixes that may change how a workload runs
    /// (`runAsNonRoot`, `readOnlyRootFilesystem`, dropped capabilities…). Default: false.
    #[serde(default)]
    pub unsafe_fixes: bool,
    /// The mutating webhook may change or remove fields the request sets (`privileged:
    /// true` → `false`). Default: false: only fields the request leaves out are added.
    #[serde(default)]
    pub overwrite: bool,
}

/// The checked `serve:` section.
#[derive(Debug, Default)]
pub struct ServeConfig {
    pub default_mode: Mode,
    /// Exact names.
    pub exact: HashMap<String, Mode>,
    /// Globs, longest pattern first.
    pub globs: Vec<(String, GlobMatcher, Mode)>,
    pub threshold: Option<Severity>,
    pub failure: Failure,
    pub unsafe_fixes: bool,
    pub overwrite: bool,
}

impl ServeConfig {
    /// The mode of a namespace (`None`: a cluster-scoped object).
    pub fn mode_for(&self, namespace: Option<&str>) -> Mode {
        let Some(ns) = namespace else {
            return self.default_mode;
        };
        if let Some(&m) = self.exact.get(ns) {
            return m;
        }
        self.globs
            .iter()
            .find(|(_, g, _)| g.is_match(ns))
            .map(|&(_, _, m)| m)
            .unwrap_or(self.default_mode)
    }

    pub(crate) fn check(spec: ServeSpec, file: &str) -> Result<ServeConfig, ConfigError> {
        let mut exact = HashMap::new();
        let mut globs = Vec::new();
        for (k, mode) in spec.namespaces {
            let name = k.value.trim();
            let at = |message: String| ConfigError {
                file: file.to_owned(),
                line: k.referenced.line(),
                column: k.referenced.column(),
                message,
            };
            if name.is_empty() {
                return Err(at(
                    "`serve.namespaces`: a namespace name is empty".to_owned()
                ));
            }
            if name.contains(['*', '?', '[', '{']) {
                let g = Glob::new(name)
                    .map_err(|e| at(format!("`{name}` is not a valid glob: {}", e.kind())))?;
                globs.push((name.to_owned(), g.compile_matcher(), mode));
            } else {
                exact.insert(name.to_owned(), mode);
            }
        }
        globs.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        Ok(ServeConfig {
            default_mode: spec.default_mode.unwrap_or_default(),
            exact,
            globs,
            threshold: spec.threshold.map(Severity::from),
            failure: spec.failure.unwrap_or_default(),
            unsafe_fixes: spec.unsafe_fixes,
            overwrite: spec.overwrite,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn serve(text: &str) -> Result<ServeConfig, ConfigError> {
        crate::parse(text, "c.yaml", Path::new("/")).map(|c| c.serve)
    }

    #[test]
    fn defaults_enforce_and_deny_without_fixes() {
        let s = serve("").unwrap();
        assert_eq!(s.mode_for(Some("shop")), Mode::Enforce);
        assert_eq!(s.mode_for(None), Mode::Enforce);
        assert_eq!(s.failure, Failure::Deny);
        assert_eq!(s.threshold, None);
        assert!(!s.unsafe_fixes && !s.overwrite);
    }

    #[test]
    fn exact_names_win_over_globs_and_the_longest_glob_wins() {
        let s = serve(
            "serve:\n  default-mode: warn\n  threshold: critical\n  failure: allow\n  unsafe-fixes: true\n  namespaces:\n    team-*: dry-run\n    team-pay*: enforce\n    team-x: warn\n",
        )
        .unwrap();
        assert_eq!(s.mode_for(Some("other")), Mode::Warn);
        assert_eq!(s.mode_for(Some("team-a")), Mode::DryRun);
        assert_eq!(s.mode_for(Some("team-payments")), Mode::Enforce);
        assert_eq!(s.mode_for(Some("team-x")), Mode::Warn);
        assert_eq!(s.mode_for(None), Mode::Warn);
        assert_eq!(s.threshold, Some(Severity::Critical));
        assert_eq!(s.failure, Failure::Allow);
        assert!(s.unsafe_fixes);
    }

    #[test]
    fn bad_modes_and_globs_are_errors_with_their_place() {
        let e = serve("serve:\n  namespaces:\n    shop: block\n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.contains("enforce"), "{e}");
        let e = serve("serve:\n  namespaces:\n    \"a[\": warn\n").unwrap_err();
        assert_eq!((e.line, e.column), (3, 5), "{e}");
        assert!(e.message.contains("not a valid glob"), "{e}");
        let e = serve("serve:\n  failure: open\n").unwrap_err();
        assert!(e.message.contains("allow"), "{e}");
        let e = serve("serve:\n  mode: warn\n").unwrap_err();
        assert!(e.message.contains("default-mode"), "{e}");
    }
}
