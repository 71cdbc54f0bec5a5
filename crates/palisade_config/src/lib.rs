//! Palisade's configuration file, `.palisade.yaml`: rule selection, severity overrides, rule
//! options, path globs, the fail threshold and exceptions.
//!
//! The file is read with `serde-saphyr`, whose `Spanned<T>` keeps the line and column of every
//! value that is checked after parsing (rule codes, quantities, versions, dates), so every error
//! names its place in the file. The same types derive `schemars::JsonSchema`, and
//! `schemas/config.schema.json` is generated from them (`palisade config-schema`; a test fails
//! when the checked-in copy is stale).

mod date;
mod exceptions;
mod file;
mod serve;

pub use date::{Date, today};
pub use exceptions::{Exception, ExceptionFilter, Exceptions, LabelLookup, relative};
pub use file::{
    CONFIG_NAMES, ConfigFile, ExceptionSpec, RuleOptions, SeverityName, VersionText, json_schema,
};
pub use serve::{Failure, Mode, ServeConfig, ServeSpec};

use std::fmt;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use palisade_diagnostics::Severity;
use palisade_k8s::Quantity;
use palisade_rules::{Selection, Settings, all_rules, parse_version};
use serde_saphyr::Spanned;

/// The commented starter config `palisade init` writes.
pub const STARTER: &str = include_str!("../resources/starter.palisade.yaml");

/// A config error: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub line: u64,
    pub column: u64,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// The loaded configuration, checked and ready to use.
#[derive(Debug)]
pub struct Config {
    /// The file it came from.
    pub path: PathBuf,
    /// The folder globs and exceptions are relative to.
    pub root: PathBuf,
    pub selection: Selection,
    pub severity: Vec<(&'static str, Severity)>,
    pub settings: Settings,
    pub fail_on: Option<Severity>,
    pub min_severity: Option<Severity>,
    pub include: Option<GlobSet>,
    pub exclude: Vec<String>,
    /// Estate folder globs, relative to [`Config::root`].
    pub estates: Vec<String>,
    pub exceptions: Exceptions,
    /// The admission webhook's policy (`serve:`).
    pub serve: ServeConfig,
}

/// Looks for `.palisade.yaml` (or `.palisade.yml`) in `start` and its parents.
pub fn discover(start: &Path) -> Option<PathBuf> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        for name in CONFIG_NAMES {
            let candidate = d.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
        dir = d.parent();
    }
    None
}

struct Ctx<'a> {
    file: &'a str,
}

impl Ctx<'_> {
    fn at<T>(&self, s: &Spanned<T>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.to_owned(),
            line: s.referenced.line(),
            column: s.referenced.column(),
            message: message.into(),
        }
    }
}

/// Finds the rule a code or name names exactly.
fn rule_code(name: &str) -> Option<&'static str> {
    all_rules()
        .iter()
        .map(|r| r.meta())
        .find(|m| m.code.eq_ignore_ascii_case(name) || m.name == name)
        .map(|m| m.code)
}

fn rule_error(cx: &Ctx<'_>, s: &Spanned<String>, what: &str) -> ConfigError {
    let err = Selection {
        select: vec![s.value.clone()],
        ..Selection::default()
    }
    .resolve()
    .err();
    let hint = err
        .and_then(|e| e.suggestion)
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default();
    cx.at(
        s,
        format!(
            "`{}` is not a rule {what}{hint} (`palisade rules` lists the codes and names)",
            s.value
        ),
    )
}

/// Parses and checks a config file's text. `file` names it in errors.
pub fn parse(text: &str, file: &str, root: &Path) -> Result<Config, ConfigError> {
    let raw: ConfigFile = if text.trim().is_empty() {
        ConfigFile::default()
    } else {
        serde_saphyr::from_str(text).map_err(|e| {
            let loc = e.location();
            let message = e.without_snippet().to_string();
            let mut message = strip_position(message.lines().next().unwrap_or_default()).to_owned();
            if message == "missing field `reason`" {
                message.push_str(": every exception says why the finding is accepted");
            } else if message == "expected mapping start" {
                message.push_str(": the config is a mapping of keys (`palisade init` writes one)");
            }
            ConfigError {
                file: file.to_owned(),
                line: loc.map(|l| l.line()).unwrap_or(0),
                column: loc.map(|l| l.column()).unwrap_or(0),
                message,
            }
        })?
    };
    check(raw, file, root)
}

/// Drops serde-saphyr's own ` at line L, column C` suffix: the position is put in front.
fn strip_position(message: &str) -> &str {
    if let Some(i) = message.rfind(" at line ") {
        let tail = &message[i + " at line ".len()..];
        if let Some((l, c)) = tail.split_once(", column ")
            && l.bytes().all(|b| b.is_ascii_digit())
            && c.bytes().all(|b| b.is_ascii_digit())
        {
            return &message[..i];
        }
    }
    message
}

/// Reads, parses and checks a config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: file.clone(),
        line: 0,
        column: 0,
        message: format!("cannot read: {e}"),
    })?;
    let root = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let root = root.canonicalize().unwrap_or(root);
    parse(&text, &file, &root)
}

fn selectors(cx: &Ctx<'_>, list: &[Spanned<String>]) -> Result<Vec<String>, ConfigError> {
    for s in list {
        let probe = Selection {
            select: vec![s.value.clone()],
            ..Selection::default()
        };
        if let Err(e) = probe.resolve() {
            let hint = e
                .suggestion
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            return Err(cx.at(
                s,
                format!(
                    "`{}` matches no rule{hint}; use a rule code (WKL001), a code prefix (WKL), a rule name (privileged-container), a section (images, components, network, workloads, misc), `kubeaudit:<auditor>` or ALL",
                    s.value
                ),
            ));
        }
    }
    Ok(list.iter().map(|s| s.value.clone()).collect())
}

fn globset(cx: &Ctx<'_>, list: &[Spanned<String>]) -> Result<Option<GlobSet>, ConfigError> {
    if list.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for g in list {
        let glob = Glob::new(&g.value).map_err(|e| {
            cx.at(
                g,
                format!("`{}` is not a valid glob: {}", g.value, e.kind()),
            )
        })?;
        b.add(glob);
    }
    b.build()
        .map(Some)
        .map_err(|e| cx.at(&list[0], format!("invalid globs: {e}")))
}

fn check(raw: ConfigFile, file: &str, root: &Path) -> Result<Config, ConfigError> {
    let cx = Ctx { file };
    let selection = Selection {
        select: selectors(&cx, &raw.select)?,
        extend_select: selectors(&cx, &raw.extend_select)?,
        ignore: selectors(&cx, &raw.ignore)?,
    };
    let mut overrides: Vec<(&Spanned<String>, Severity)> = raw
        .severity
        .iter()
        .map(|(k, v)| (k, Severity::from(*v)))
        .collect();
    overrides.sort_by_key(|(k, _)| (k.referenced.line(), k.referenced.column()));
    let mut severity = Vec::with_capacity(overrides.len());
    for (k, sev) in overrides {
        let code = rule_code(&k.value).ok_or_else(|| rule_error(&cx, k, "code or name"))?;
        severity.push((code, sev));
    }

    // Every field of `Settings`, so a new option cannot be forgotten here.
    let defaults = Settings::default();
    let RuleOptions {
        allowed_capabilities,
        required_image,
        max_cpu,
        max_memory,
        sensitive_paths,
        target_version,
        current_version,
        metadata_cidrs,
        internal_cidrs,
        allowed_registries,
        approved_images,
        approved_images_by_namespace,
        tenant_label,
        run_as_user,
        default_cpu_request,
        default_memory_request,
        default_cpu_limit,
        default_memory_limit,
    } = raw.options;
    let quantity = |q: &Option<Spanned<String>>| -> Result<Option<Quantity>, ConfigError> {
        q.as_ref()
            .map(|q| {
                Quantity::parse(&q.value).ok_or_else(|| {
                    cx.at(
                        q,
                        format!(
                            "`{}` is not a Kubernetes quantity (e.g. `500m`, `2`, `1Gi`, `512Mi`)",
                            q.value
                        ),
                    )
                })
            })
            .transpose()
    };
    let version = |v: &Option<Spanned<VersionText>>| -> Result<Option<(u32, u32)>, ConfigError> {
        v.as_ref()
            .map(|v| {
                parse_version(&v.value.0).ok_or_else(|| {
                    cx.at(
                        v,
                        format!("`{}` is not a Kubernetes version like \"1.37\"", v.value.0),
                    )
                })
            })
            .transpose()
    };
    let cidrs = |list: &[Spanned<String>]| -> Result<Vec<String>, ConfigError> {
        list.iter()
            .map(|c| {
                let text = c.value.trim();
                palisade_rules::inventory::Cidr::parse(text)
                    .map(|_| text.to_owned())
                    .ok_or_else(|| {
                        cx.at(
                            c,
                            format!("`{text}` is not a CIDR like 10.0.0.0/8 or fd00::/8"),
                        )
                    })
            })
            .collect()
    };
    let checked_quantity = |q: &Option<Spanned<String>>| -> Result<Option<String>, ConfigError> {
        Ok(quantity(q)?.and(q.as_ref().map(|q| q.value.trim().to_owned())))
    };
    let settings = Settings {
        allowed_capabilities: allowed_capabilities
            .iter()
            .map(|c| {
                c.trim()
                    .to_ascii_uppercase()
                    .trim_start_matches("CAP_")
                    .to_owned()
            })
            .collect(),
        required_image,
        max_cpu: quantity(&max_cpu)?,
        max_memory: quantity(&max_memory)?,
        sensitive_paths: sensitive_paths.unwrap_or(defaults.sensitive_paths),
        target_version: version(&target_version)?.unwrap_or(defaults.target_version),
        current_version: version(&current_version)?,
        metadata_cidrs: cidrs(&metadata_cidrs)?,
        internal_cidrs: cidrs(&internal_cidrs)?,
        allowed_registries: allowed_registries
            .iter()
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty())
            .collect(),
        approved_images: approved_images
            .iter()
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect(),
        approved_images_by_namespace: approved_images_by_namespace
            .into_iter()
            .map(|(ns, patterns)| {
                (
                    ns,
                    patterns
                        .iter()
                        .map(|p| p.trim().to_owned())
                        .filter(|p| !p.is_empty())
                        .collect(),
                )
            })
            .collect(),
        tenant_label: tenant_label
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
            .unwrap_or(defaults.tenant_label),
        fix_run_as_user: run_as_user,
        // Decided by the run from its reports, not by the config.
        source_lines: defaults.source_lines,
        default_resources: palisade_rules::DefaultResources {
            cpu_request: checked_quantity(&default_cpu_request)?,
            memory_request: checked_quantity(&default_memory_request)?,
            cpu_limit: checked_quantity(&default_cpu_limit)?,
            memory_limit: checked_quantity(&default_memory_limit)?,
        },
    };

    let serve = ServeConfig::check(raw.serve, file)?;
    let include = globset(&cx, &raw.include)?;
    for g in &raw.exclude {
        Glob::new(&g.value).map_err(|e| {
            cx.at(
                g,
                format!("`{}` is not a valid glob: {}", g.value, e.kind()),
            )
        })?;
    }
    for g in &raw.estates {
        Glob::new(&g.value).map_err(|e| {
            cx.at(
                g,
                format!("`{}` is not a valid glob: {}", g.value, e.kind()),
            )
        })?;
    }
    let mut exceptions = Vec::with_capacity(raw.exceptions.len());
    for (i, spec) in raw.exceptions.into_iter().enumerate() {
        let code = rule_code(&spec.rule.value)
            .ok_or_else(|| rule_error(&cx, &spec.rule, "code or name"))?;
        exceptions.push(Exception::compile(i + 1, code, spec, file, root)?);
    }
    Ok(Config {
        path: PathBuf::from(file),
        root: root.to_path_buf(),
        selection,
        severity,
        settings,
        fail_on: raw.fail_on.map(Severity::from),
        min_severity: raw.min_severity.map(Severity::from),
        include,
        exclude: raw.exclude.into_iter().map(|s| s.value).collect(),
        estates: raw.estates.into_iter().map(|s| s.value).collect(),
        exceptions: Exceptions::new(exceptions, today()),
        serve,
    })
}
