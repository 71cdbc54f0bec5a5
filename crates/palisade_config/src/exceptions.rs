//! Exceptions: accepted findings, each with a reason, an owner and an expiry date.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use globset::{Glob, GlobMatcher};
use palisade_diagnostics::{Finding, Suppression};
use serde_saphyr::{Location, Spanned};

use crate::ConfigError;
use crate::date::Date;
use crate::file::ExceptionSpec;

/// Looks up one of the object's labels by key.
pub type LabelLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// A checked exception.
#[derive(Debug)]
pub struct Exception {
    /// 1-based position in the `exceptions` list.
    pub index: usize,
    pub code: &'static str,
    /// The rule as written.
    pub rule: String,
    /// `file:line:column` of the entry.
    pub at: String,
    kind: Option<GlobMatcher>,
    namespace: Option<GlobMatcher>,
    name: Option<GlobMatcher>,
    labels: Vec<(String, GlobMatcher)>,
    container: Option<GlobMatcher>,
    file: Option<GlobMatcher>,
    root: std::path::PathBuf,
    pub reason: String,
    pub owner: Option<String>,
    pub expires: Option<Date>,
}

fn error(file: &str, loc: Location, message: String) -> ConfigError {
    ConfigError {
        file: file.to_owned(),
        line: loc.line(),
        column: loc.column(),
        message,
    }
}

fn glob(file: &str, g: &Option<Spanned<String>>) -> Result<Option<GlobMatcher>, ConfigError> {
    g.as_ref()
        .map(|g| {
            Glob::new(&g.value)
                .map(|g| g.compile_matcher())
                .map_err(|e| {
                    error(
                        file,
                        g.referenced,
                        format!("`{}` is not a valid glob: {}", g.value, e.kind()),
                    )
                })
        })
        .transpose()
}

impl Exception {
    pub(crate) fn compile(
        index: usize,
        code: &'static str,
        spec: ExceptionSpec,
        file: &str,
        root: &Path,
    ) -> Result<Exception, ConfigError> {
        if spec.reason.value.trim().is_empty() {
            return Err(error(
                file,
                spec.reason.referenced,
                "the exception's `reason` is empty: say why the finding is accepted".to_owned(),
            ));
        }
        let expires = spec
            .expires
            .as_ref()
            .map(|e| {
                Date::parse(&e.value.0).ok_or_else(|| {
                    error(
                        file,
                        e.referenced,
                        format!("`{}` is not a date; write it as YYYY-MM-DD", e.value.0),
                    )
                })
            })
            .transpose()?;
        let mut labels = Vec::with_capacity(spec.labels.len());
        for (k, v) in &spec.labels {
            let m = Glob::new(v).map_err(|e| {
                error(
                    file,
                    spec.rule.referenced,
                    format!("label `{k}`: `{v}` is not a valid glob: {}", e.kind()),
                )
            })?;
            labels.push((k.clone(), m.compile_matcher()));
        }
        Ok(Exception {
            index,
            code,
            rule: spec.rule.value.clone(),
            at: format!(
                "{file}:{}:{}",
                spec.rule.referenced.line(),
                spec.rule.referenced.column()
            ),
            kind: glob(file, &spec.kind)?,
            namespace: glob(file, &spec.namespace)?,
            name: glob(file, &spec.name)?,
            labels,
            container: glob(file, &spec.container)?,
            file: glob(file, &spec.file)?,
            root: root.to_path_buf(),
            reason: spec.reason.value,
            owner: spec.owner,
            expires,
        })
    }

    /// Whether the exception covers `f`. `label` looks up the object's labels; it is `None`
    /// for findings about the whole input, which an exception with `labels` never covers.
    pub fn matches(&self, f: &Finding, label: Option<LabelLookup<'_>>) -> bool {
        if f.code != self.code {
            return false;
        }
        let r = &f.resource;
        let opt = |m: &Option<GlobMatcher>, v: Option<&str>| match m {
            None => true,
            Some(m) => v.is_some_and(|v| m.is_match(v)),
        };
        if !opt(&self.kind, Some(&r.kind))
            || !opt(&self.namespace, r.namespace.as_deref())
            || !opt(&self.name, r.name.as_deref())
            || !opt(
                &self.container,
                f.container.as_ref().map(|c| c.name.as_str()),
            )
        {
            return false;
        }
        if let Some(m) = &self.file {
            let Some(file) = f.file.as_deref() else {
                return false;
            };
            if !m.is_match(relative(&self.root, file)) {
                return false;
            }
        }
        if !self.labels.is_empty() {
            let Some(label) = label else { return false };
            for (k, m) in &self.labels {
                if !label(k).is_some_and(|v| m.is_match(v)) {
                    return false;
                }
            }
        }
        true
    }

    pub fn is_expired(&self, today: Date) -> bool {
        self.expires.is_some_and(|e| e < today)
    }
}

/// `file` relative to `root` when it lies under it (both made absolute first).
pub fn relative(root: &Path, file: &str) -> String {
    let path = Path::new(file);
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    let abs = normalize(&abs);
    abs.strip_prefix(root)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| file.to_owned())
}

fn normalize(p: &Path) -> std::path::PathBuf {
    let mut out = std::path::PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// The config's exceptions, with a use counter each (shared by the scan's threads).
#[derive(Debug)]
pub struct Exceptions {
    pub today: Date,
    items: Vec<Exception>,
    used: Vec<AtomicUsize>,
}

impl Exceptions {
    pub fn new(items: Vec<Exception>, today: Date) -> Self {
        let used = items.iter().map(|_| AtomicUsize::new(0)).collect();
        Self { today, items, used }
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn items(&self) -> &[Exception] {
        &self.items
    }

    /// How many findings exception `i` (0-based) covered.
    pub fn uses(&self, i: usize) -> usize {
        self.used[i].load(Ordering::Relaxed)
    }

    /// Marks `f` suppressed when a live exception covers it. Expired exceptions never apply.
    /// Findings already suppressed in the manifest keep that suppression.
    pub fn apply(&self, f: &mut Finding, label: Option<LabelLookup<'_>>) {
        if f.suppressed.is_some() {
            return;
        }
        for (i, e) in self.items.iter().enumerate() {
            if e.is_expired(self.today) || !e.matches(f, label) {
                continue;
            }
            self.used[i].fetch_add(1, Ordering::Relaxed);
            let mut by = format!("exception #{} ({})", e.index, e.at);
            if let Some(owner) = &e.owner {
                by.push_str(&format!(", owner {owner}"));
            }
            if let Some(date) = e.expires {
                by.push_str(&format!(", expires {date}"));
            }
            f.suppressed = Some(Suppression {
                by,
                reason: Some(e.reason.clone()),
            });
            return;
        }
    }
}

/// Applies the config's exceptions to each object's findings inside the engine, where the
/// object's labels are at hand (`scan`, `cluster` and the admission webhook share it).
pub struct ExceptionFilter(pub std::sync::Arc<Exceptions>);

impl palisade_rules::FindingFilter for ExceptionFilter {
    fn apply(&self, object: &palisade_k8s::Object<'_>, findings: &mut [Finding]) {
        let label = |key: &str| -> Option<String> {
            object
                .labels()
                .into_iter()
                .find(|e| e.key == key)
                .and_then(|e| e.value.map(str::to_owned))
        };
        for f in findings {
            self.0.apply(f, Some(&label));
        }
    }
}
