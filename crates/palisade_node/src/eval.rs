//! Judges every control of the benchmark against the node.

use serde::Serialize;

use crate::catalog::{Check, CheckKind, Component, Control, Op, catalog};
use crate::config::Config;
use crate::discover::{Discovery, Process};
use crate::host::{FileInfo, Host};

/// The verdict on one control.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Pass,
    Fail,
    /// A manual control, or a manual control whose test failed: a person must look.
    Warn,
    /// The component is absent, the file is not used, the control belongs elsewhere.
    NotApplicable,
    /// Something needed could not be read.
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Warn => "WARN",
            Status::NotApplicable => "N/A",
            Status::Error => "ERROR",
        }
    }
}

/// One fact behind a verdict: a flag and where it came from, a config value and its line, a
/// file and its mode.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub text: String,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

impl Evidence {
    pub fn note(text: impl Into<String>) -> Evidence {
        Evidence {
            text: text.into(),
            file: None,
            line: None,
            column: None,
        }
    }

    pub(crate) fn file(text: impl Into<String>, file: &str) -> Evidence {
        Evidence {
            file: Some(file.to_owned()),
            ..Evidence::note(text)
        }
    }
}

/// The result of one control (a benchmark control or one of palisade's own node checks).
#[derive(Clone, Debug, Serialize)]
pub struct ControlResult {
    /// CIS id (`1.2.5`), or the code for palisade's own checks.
    pub id: String,
    pub code: &'static str,
    pub name: &'static str,
    /// master | etcd | controlplane | node | runtime | os
    pub section: String,
    pub group: String,
    pub title: String,
    pub automated: bool,
    pub status: Status,
    pub evidence: Vec<Evidence>,
    pub remediation: String,
}

/// Everything `palisade node` learned.
#[derive(Clone, Debug, Serialize)]
pub struct NodeReport {
    pub benchmark: String,
    /// The node's host name (`/etc/hostname`).
    pub node_name: String,
    pub distribution: Option<&'static str>,
    /// Components found, e.g. `kubelet (pid 812)`.
    pub components: Vec<String>,
    /// Problems reading `/proc` or a component's configuration.
    pub discovery_errors: Vec<String>,
    /// Things the reader should know that are not errors (several processes of a component).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    pub results: Vec<ControlResult>,
}

/// A value and how it was decided.
struct Value {
    text: String,
    /// Explicitly set (flag, config, environment), not a default.
    explicit: bool,
    evidence: Evidence,
}

pub(crate) struct Cx<'a> {
    pub host: &'a Host,
    pub d: &'a Discovery,
    /// The kubelet's `--config` merged with its `--config-dir` drop-ins.
    pub kubelet_config: Option<Result<Config, String>>,
    pub proxy_config: Option<Result<Config, String>>,
}

impl<'a> Cx<'a> {
    pub fn new(host: &'a Host, d: &'a Discovery) -> Cx<'a> {
        let kubelet_config = d
            .get(Component::Kubelet)
            .and_then(|p| kubelet_config(host, p));
        let proxy_config = d.get(Component::KubeProxy).and_then(|p| {
            let file = p.flags.get("config")?;
            Some(Config::load(&host.proc_path(Some(p.pid), file), file))
        });
        Cx {
            host,
            d,
            kubelet_config,
            proxy_config,
        }
    }

    fn component_config(&self, c: Component) -> Option<&Result<Config, String>> {
        match c {
            Component::Kubelet => self.kubelet_config.as_ref(),
            Component::KubeProxy => self.proxy_config.as_ref(),
            _ => None,
        }
    }
}

/// `--config` then every `*.conf` of `--config-dir` in lexical order, as the kubelet merges them.
fn kubelet_config(host: &Host, p: &Process) -> Option<Result<Config, String>> {
    let file = p.flags.get("config");
    let dir = p.flags.get("config-dir");
    if file.is_none() && dir.is_none() {
        return None;
    }
    let mut cfg = Config::default();
    if let Some(file) = file {
        match Config::load(&host.proc_path(Some(p.pid), file), file) {
            Ok(c) => cfg.overlay(c),
            Err(e) => return Some(Err(e)),
        }
    }
    if let Some(dir) = dir {
        let path = host.proc_path(Some(p.pid), dir);
        let mut names: Vec<String> = match std::fs::read_dir(&path) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.ends_with(".conf"))
                .collect(),
            Err(e) => return Some(Err(format!("cannot read --config-dir {dir}: {e}"))),
        };
        names.sort();
        for n in names {
            let shown = format!("{}/{n}", dir.trim_end_matches('/'));
            match Config::load(&path.join(&n), &shown) {
                Ok(c) => cfg.overlay(c),
                Err(e) => return Some(Err(e)),
            }
        }
    }
    Some(Ok(cfg))
}

fn result(control: &'static Control, status: Status, evidence: Vec<Evidence>) -> ControlResult {
    ControlResult {
        id: control.id.clone(),
        code: control.code,
        name: &control.name,
        section: control.section.clone(),
        group: control.group.clone(),
        title: control.title.clone(),
        automated: control.automated,
        status,
        evidence,
        remediation: control.remediation.clone(),
    }
}

/// Judges the benchmark's node-side controls (sections 1 to 4; section 5 is about cluster
/// objects and is checked through the API, not on a node).
pub(crate) fn judge_benchmark(cx: &Cx<'_>) -> Vec<ControlResult> {
    catalog()
        .controls
        .iter()
        .filter(|c| c.section != "policies")
        .map(|c| judge(cx, c))
        .collect()
}

fn judge(cx: &Cx<'_>, control: &'static Control) -> ControlResult {
    if control.checks.is_empty() {
        // Cluster-wide manual controls are reviewed where the control plane runs.
        let owner = match control.component {
            Component::Cluster | Component::ControlPlaneFiles => Component::ApiServer,
            c => c,
        };
        if cx.d.get(owner).is_none() {
            let (status, ev) = absence(cx, owner);
            return result(control, status, vec![ev]);
        }
        let look = control
            .manual_review
            .as_deref()
            .or(control.notes.as_deref())
            .unwrap_or(&control.remediation);
        let mut ev = vec![Evidence::note(format!("manual review — look at: {look}"))];
        if control.id == "3.2.2"
            && let Some(p) = cx.d.get(Component::ApiServer)
        {
            match p.flags.get("audit-policy-file") {
                Some(f) => match Config::load(&cx.host.proc_path(Some(p.pid), f), f) {
                    Ok(policy) => ev.extend(audit_policy_coverage(&policy, f)),
                    Err(e) => ev.push(Evidence::note(e)),
                },
                None => ev.push(Evidence::note(
                    "kube-apiserver has no --audit-policy-file (see 3.2.1)",
                )),
            }
        }
        return result(control, Status::Warn, ev);
    }
    let mut outcomes = Vec::new();
    for check in &control.checks {
        let outcome = match check.kind {
            CheckKind::Flag => flag_check(cx, control, check),
            CheckKind::Config => encryption_check(cx, check),
            CheckKind::FileMode | CheckKind::FileOwner => file_check(cx, check),
            CheckKind::Api => Outcome::Skip(
                Status::NotApplicable,
                Evidence::note("checked against the cluster API, not on the node"),
            ),
        };
        outcomes.push(outcome);
    }
    // A control is not applicable or in error as soon as one of its tests is.
    for status in [Status::Error, Status::NotApplicable] {
        if outcomes
            .iter()
            .any(|o| matches!(o, Outcome::Skip(s, _) if *s == status))
        {
            let mut ev: Vec<Evidence> = Vec::new();
            for o in outcomes {
                if let Outcome::Skip(s, e) = o
                    && s == status
                    && !ev.contains(&e)
                {
                    ev.push(e);
                }
            }
            return result(control, status, ev);
        }
    }
    let passed: Vec<bool> = outcomes
        .iter()
        .map(|o| matches!(o, Outcome::Judged(true, _)))
        .collect();
    let ok = if control.any {
        passed.iter().any(|&p| p)
    } else {
        passed.iter().all(|&p| p)
    };
    let status = match (ok, control.automated) {
        (true, _) => Status::Pass,
        (false, true) => Status::Fail,
        (false, false) => Status::Warn,
    };
    let ev = outcomes
        .into_iter()
        .flat_map(|o| match o {
            Outcome::Judged(_, e) => e,
            Outcome::Skip(_, e) => vec![e],
        })
        .collect();
    result(control, status, ev)
}

/// The resources 3.2.2 asks the audit policy to record.
const AUDITED: &[&str] = &[
    "secrets",
    "configmaps",
    "tokenreviews",
    "pods",
    "deployments",
    "pods/exec",
    "pods/portforward",
    "pods/proxy",
    "services/proxy",
];

/// For each resource 3.2.2 names, the level of the first audit-policy rule that matches it
/// (rules are matched in order; users, verbs and namespaces are not considered, so this is a
/// guide for the manual review, not a verdict).
fn audit_policy_coverage(policy: &Config, file: &str) -> Vec<Evidence> {
    let mut out = Vec::new();
    for res in AUDITED {
        let mut found = None;
        for i in 0.. {
            let Some(level) = policy.get(&format!("rules[{i}].level")) else {
                break;
            };
            let mut names = Vec::new();
            for g in 0.. {
                let Some(list) = policy.get(&format!("rules[{i}].resources[{g}].resources")) else {
                    break;
                };
                names.extend(
                    list.items
                        .clone()
                        .unwrap_or_else(|| vec![list.value.clone()]),
                );
            }
            let has_groups = policy.get(&format!("rules[{i}].resources[0]")).is_some();
            let matches = !has_groups
                || names.iter().any(|n| {
                    n == res
                        || n == "*"
                        || (res.contains('/') && n.strip_suffix("/*") == res.split('/').next())
                });
            if matches {
                found = Some((i, level));
                break;
            }
        }
        out.push(match found {
            Some((i, level)) => Evidence {
                text: format!(
                    "{res}: rule {} logs at level {}{}",
                    i + 1,
                    level.value,
                    if level.value == "None" {
                        " (not recorded)"
                    } else {
                        ""
                    }
                ),
                file: Some(file.to_owned()),
                line: Some(level.line),
                column: Some(level.column),
            },
            None => Evidence::file(format!("{res}: no rule matches (not recorded)"), file),
        });
    }
    out
}

enum Outcome {
    Judged(bool, Vec<Evidence>),
    Skip(Status, Evidence),
}

fn absent_component(cx: &Cx<'_>, c: Component) -> Outcome {
    let (status, ev) = absence(cx, c);
    Outcome::Skip(status, ev)
}

/// Why a component's controls do not apply: it does not run (or `/proc` is unreadable).
fn absence(cx: &Cx<'_>, c: Component) -> (Status, Evidence) {
    if !cx.d.proc_readable {
        return (
            Status::Error,
            Evidence::note(format!(
                "cannot tell whether {} runs: {}",
                c.as_str(),
                cx.d.errors
                    .first()
                    .map(String::as_str)
                    .unwrap_or("/proc is not readable")
            )),
        );
    }
    (
        Status::NotApplicable,
        Evidence::note(format!("no {} process runs on this node", c.as_str())),
    )
}

/// The effective value of a flag check: the command line, else the component's config file,
/// else its environment, else the component's own default.
fn lookup(cx: &Cx<'_>, p: &Process, check: &Check) -> Result<Option<Value>, String> {
    let target = check.target.trim_start_matches('-');
    let (flag, gate) = match target.split_once(':') {
        Some(("feature-gates", gate)) => ("feature-gates", Some(gate)),
        _ => (target, None),
    };
    if let Some(gate) = gate {
        if let Some(v) = p.flags.feature_gates().get(gate) {
            return Ok(Some(Value {
                text: v.clone(),
                explicit: true,
                evidence: Evidence::note(format!(
                    "--feature-gates {gate}={v} ({})",
                    p.flag_source("feature-gates")
                )),
            }));
        }
    } else if let Some(v) = p.flags.get(flag) {
        return Ok(Some(Value {
            text: v.to_owned(),
            explicit: true,
            evidence: Evidence::note(format!("--{flag}={v} ({})", p.flag_source(flag))),
        }));
    }
    if p.component == Component::ApiServer
        && flag == "authorization-mode"
        && let Some(file) = p.flags.get("authorization-config")
    {
        let cfg = Config::load(&cx.host.proc_path(Some(p.pid), file), file)?;
        let types: Vec<&crate::config::ConfigValue> = (0..)
            .map_while(|i| cfg.get(&format!("authorizers[{i}].type")))
            .collect();
        let text = types
            .iter()
            .map(|v| v.value.as_str())
            .collect::<Vec<_>>()
            .join(",");
        let first = types.first();
        return Ok(Some(Value {
            evidence: Evidence {
                text: format!(
                    "--authorization-config={file}: authorizers in order: {}",
                    if text.is_empty() { "none" } else { &text }
                ),
                file: Some(file.to_owned()),
                line: first.map(|v| v.line),
                column: first.map(|v| v.column),
            },
            text,
            explicit: true,
        }));
    }
    if p.component == Component::ApiServer
        && flag == "anonymous-auth"
        && let Some(file) = p.flags.get("authentication-config")
    {
        let cfg = Config::load(&cx.host.proc_path(Some(p.pid), file), file)?;
        if let Some(v) = cfg.get("anonymous.enabled") {
            return Ok(Some(Value {
                text: v.value.clone(),
                explicit: true,
                evidence: Evidence {
                    text: format!("anonymous.enabled: {} in --authentication-config", v.value),
                    file: Some(v.file.clone()),
                    line: Some(v.line),
                    column: Some(v.column),
                },
            }));
        }
    }
    let with_config = match cx.component_config(p.component) {
        Some(Err(e)) => return Err(e.clone()),
        Some(Ok(cfg)) => Some(cfg),
        None => None,
    };
    if let (Some(cfg), Some(key)) = (with_config, &check.config_key)
        && let Some(v) = cfg.get(key).filter(|v| !v.value.is_empty())
    {
        return Ok(Some(Value {
            text: v.value.clone(),
            explicit: true,
            evidence: Evidence {
                text: format!("{key}: {}", v.value),
                file: Some(v.file.clone()),
                line: Some(v.line),
                column: Some(v.column),
            },
        }));
    }
    if let Some(env) = &check.env
        && let Some(v) = p.env.get(env)
    {
        return Ok(Some(Value {
            text: v.clone(),
            explicit: true,
            evidence: Evidence::note(format!(
                "{env}={v} in the environment of {} (pid {})",
                p.found_as, p.pid
            )),
        }));
    }
    let (default, how) = match (with_config, &check.config_default) {
        (Some(cfg), Some(d)) => (
            Some(d),
            format!(
                "not set in {}; the {} config-file default is",
                cfg.files.join(", "),
                p.component.as_str()
            ),
        ),
        _ if with_config.is_none() && check.config_key.is_some() => (
            check.default.as_ref(),
            format!(
                "not set, and {} (pid {}) runs without a config file; its flag default is",
                p.found_as, p.pid
            ),
        ),
        _ => (
            check.default.as_ref(),
            format!("not set; the {} default is", p.component.as_str()),
        ),
    };
    Ok(default.map(|d| Value {
        text: d.clone(),
        explicit: false,
        evidence: Evidence::note(format!("{how} `{d}`")),
    }))
}

fn is_zero_duration(v: &str) -> bool {
    !v.is_empty()
        && v.trim_end_matches(|c: char| c.is_ascii_alphabetic() || c == '0')
            .is_empty()
        && v.chars().any(|c| c == '0')
}

fn elements(v: &str) -> impl Iterator<Item = &str> {
    v.split(',').map(str::trim).filter(|e| !e.is_empty())
}

/// Whether `value` satisfies the check's operator.
fn satisfies(check: &Check, value: &str) -> bool {
    let expected = check.value.as_str();
    let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b) || (b == "0" && is_zero_duration(a));
    match check.op {
        Op::Present => true,
        Op::Absent => false,
        Op::Eq => eq(value, expected),
        Op::NotEq => !eq(value, expected),
        Op::Gte => match (value.trim().parse::<i64>(), expected.parse::<i64>()) {
            (Ok(a), Ok(b)) => a >= b,
            _ => false,
        },
        Op::Has | Op::NotHave => {
            let has = if check.element {
                elements(value).any(|e| e.eq_ignore_ascii_case(expected))
            } else {
                value.contains(expected)
            };
            has == (check.op == Op::Has)
        }
        Op::ValidElements => {
            let allowed: Vec<&str> = elements(expected).collect();
            elements(value).next().is_some() && elements(value).all(|e| allowed.contains(&e))
        }
        Op::Bitmask | Op::Other => false,
    }
}

fn describe_op(check: &Check) -> String {
    let v = &check.value;
    match check.op {
        Op::Present => "must be set".to_owned(),
        Op::Absent => "must not be set".to_owned(),
        Op::Eq => format!("must be `{v}`"),
        Op::NotEq => format!("must not be `{v}`"),
        Op::Gte => format!("must be at least {v}"),
        Op::Has => format!("must include `{v}`"),
        Op::NotHave => format!("must not include `{v}`"),
        Op::ValidElements => format!("every element must be one of {v}"),
        Op::Bitmask | Op::Other => String::new(),
    }
}

fn flag_check(cx: &Cx<'_>, control: &Control, check: &Check) -> Outcome {
    let Some(p) = cx.d.get(control.component) else {
        return absent_component(cx, control.component);
    };
    // Audit events sent to a webhook leave the node: that satisfies the audit-log intent, and
    // the log-file rotation settings then have no file to rotate.
    if p.component == Component::ApiServer
        && p.flags.get("audit-log-path").is_none()
        && let Some(hook) = p.flags.get("audit-webhook-config-file")
    {
        let ev = Evidence::note(format!(
            "--audit-webhook-config-file={hook} ({}): audit events go to a webhook, off the node",
            p.flag_source("audit-webhook-config-file")
        ));
        match check.target.as_str() {
            "--audit-log-path" => return Outcome::Judged(true, vec![ev]),
            "--audit-log-maxage" | "--audit-log-maxbackup" | "--audit-log-maxsize" => {
                return Outcome::Skip(Status::NotApplicable, ev);
            }
            _ => {}
        }
    }
    let value = match lookup(cx, p, check) {
        Ok(v) => v,
        Err(e) => return Outcome::Skip(Status::Error, Evidence::note(e)),
    };
    let name = check.target.trim_start_matches('-');
    let rule = describe_op(check);
    match value {
        Some(v) => {
            let ok = match check.op {
                Op::Present => v.explicit,
                Op::Absent => !v.explicit,
                _ => satisfies(check, &v.text),
            };
            let mut ev = v.evidence;
            if !ok {
                ev.text = format!("{} — {name} {rule}", ev.text);
            }
            Outcome::Judged(ok, vec![ev])
        }
        None => {
            let ok = match check.op {
                Op::Absent => true,
                Op::Present => false,
                _ => check.if_absent_pass,
            };
            let mut text = format!("--{name} is not set ({} pid {})", p.found_as, p.pid);
            if let (Some(key), Some(Ok(cfg))) =
                (&check.config_key, cx.component_config(p.component))
            {
                text = format!(
                    "--{name} is not set ({} pid {}) and {key} is not in {}",
                    p.found_as,
                    p.pid,
                    cfg.files.join(", ")
                );
            }
            if !ok {
                text = format!("{text} — {name} {rule}");
            }
            Outcome::Judged(ok, vec![Evidence::note(text)])
        }
    }
}

/// 1.2.28: every resource list that covers Secrets must start with a real encryption provider.
fn encryption_check(cx: &Cx<'_>, check: &Check) -> Outcome {
    let Some(p) = cx.d.get(Component::ApiServer) else {
        return absent_component(cx, Component::ApiServer);
    };
    let Some(file) = p.flags.get("encryption-provider-config") else {
        return Outcome::Judged(
            false,
            vec![Evidence::note(
                "--encryption-provider-config is not set: Secrets are stored in etcd in plain text",
            )],
        );
    };
    let cfg = match Config::load(&cx.host.proc_path(Some(p.pid), file), file) {
        Ok(c) => c,
        Err(e) => return Outcome::Skip(Status::Error, Evidence::note(e)),
    };
    let allowed: Vec<&str> = elements(&check.value).collect();
    let mut ev = Vec::new();
    let mut covers_secrets = false;
    let mut ok = true;
    for i in 0.. {
        let Some(res) = cfg.get(&format!("resources[{i}].resources")) else {
            break;
        };
        let prefix = format!("resources[{i}].providers[0].");
        let first = cfg
            .values
            .iter()
            .find(|(k, _)| k.starts_with(&prefix))
            .map(|(k, v)| {
                // Point at the provider's list item, not at a value inside it.
                let item = cfg
                    .get(&format!("resources[{i}].providers[0]"))
                    .unwrap_or(v);
                (
                    k[prefix.len()..].split('.').next().unwrap_or("").to_owned(),
                    item,
                )
            });
        let secrets = elements(&res.value).any(|r| r == "secrets" || r == "*.*" || r == "*.");
        let (provider, at) = match &first {
            Some((name, v)) => (name.as_str(), Some(*v)),
            None => ("none", None),
        };
        let good = allowed.contains(&provider);
        if secrets {
            covers_secrets = true;
            ok &= good;
        }
        ev.push(Evidence {
            text: format!(
                "resources [{}]: first provider `{provider}`{}",
                res.value,
                if secrets && !good {
                    format!(" — must be one of {}", check.value)
                } else {
                    String::new()
                }
            ),
            file: Some(file.to_owned()),
            line: at.map(|v| v.line),
            column: at.map(|v| v.column),
        });
    }
    if !covers_secrets {
        ok = false;
        ev.push(Evidence::file(
            "no resources entry covers `secrets`: Secrets are not encrypted",
            file,
        ));
    }
    Outcome::Judged(ok, ev)
}

/// The component whose files a target holds, when the target is tied to one.
fn target_component(target: &str) -> Option<Component> {
    Some(match target {
        "etcd_data_dir" => Component::Etcd,
        "scheduler_kubeconfig" => Component::Scheduler,
        "controller_manager_kubeconfig" => Component::ControllerManager,
        "kubelet_kubeconfig" | "kubelet_config" | "kubelet_client_ca" | "kubelet_service" => {
            Component::Kubelet
        }
        "proxy_kubeconfig" => Component::KubeProxy,
        _ => return None,
    })
}

enum Files {
    Found(Vec<FileInfo>),
    Skip(Status, String),
}

/// The files a target names on this node: what the running component itself names first,
/// then the benchmark's candidate paths.
fn resolve_files(cx: &Cx<'_>, target: &str) -> Files {
    let host = cx.host;
    let stat_named = |p: &Process, how: &str, file: &str| -> Files {
        match host.stat(&host.proc_path(Some(p.pid), file), file) {
            Ok(info) => Files::Found(vec![info]),
            Err(e) => Files::Skip(
                Status::Error,
                format!("{how} names {file} but it cannot be read: {e}"),
            ),
        }
    };
    let owner = target_component(target);
    let process = owner.and_then(|c| cx.d.get(c));
    if let (Some(c), None) = (owner, process) {
        return Files::Skip(
            if cx.d.proc_readable {
                Status::NotApplicable
            } else {
                Status::Error
            },
            format!(
                "no {} process runs on this node, so its files are not in use",
                c.as_str()
            ),
        );
    }
    if let Some(p) = process {
        let flag = |name: &str| {
            p.flags
                .get(name)
                .map(|v| (format!("--{name}"), v.to_owned()))
        };
        let config_key = |key: &str| {
            cx.kubelet_config
                .as_ref()
                .and_then(|c| c.as_ref().ok())
                .and_then(|c| c.get(key))
                .map(|v| (format!("{key} in {}", v.file), v.value.clone()))
        };
        let named = match target {
            "etcd_data_dir" => flag("data-dir").or_else(|| {
                p.env
                    .get("ETCD_DATA_DIR")
                    .map(|v| ("ETCD_DATA_DIR".to_owned(), v.clone()))
            }),
            "scheduler_kubeconfig" | "controller_manager_kubeconfig" | "kubelet_kubeconfig" => {
                flag("kubeconfig")
            }
            "kubelet_client_ca" => {
                flag("client-ca-file").or_else(|| config_key("authentication.x509.clientCAFile"))
            }
            "proxy_kubeconfig" => flag("kubeconfig").or_else(|| {
                cx.proxy_config
                    .as_ref()
                    .and_then(|c| c.as_ref().ok())
                    .and_then(|c| c.get("clientConnection.kubeconfig"))
                    .map(|v| {
                        (
                            format!("clientConnection.kubeconfig in {}", v.file),
                            v.value.clone(),
                        )
                    })
            }),
            "kubelet_config" => {
                let mut files = Vec::new();
                if let Some(f) = p.flags.get("config") {
                    match host.stat(&host.proc_path(Some(p.pid), f), f) {
                        Ok(i) => files.push(i),
                        Err(e) => {
                            return Files::Skip(
                                Status::Error,
                                format!("--config names {f} but it cannot be read: {e}"),
                            );
                        }
                    }
                }
                if let Some(Ok(cfg)) = &cx.kubelet_config {
                    for f in cfg
                        .files
                        .iter()
                        .skip(usize::from(p.flags.get("config").is_some()))
                    {
                        if let Ok(i) = host.stat(&host.proc_path(Some(p.pid), f), f) {
                            files.push(i);
                        }
                    }
                }
                if files.is_empty() {
                    return Files::Skip(
                        Status::NotApplicable,
                        format!(
                            "{} (pid {}) runs without --config: it has no config file",
                            p.found_as, p.pid
                        ),
                    );
                }
                return Files::Found(files);
            }
            _ => None,
        };
        if let Some((how, file)) = named {
            return stat_named(p, &how, &file);
        }
        if matches!(
            target,
            "kubelet_client_ca" | "proxy_kubeconfig" | "kubelet_kubeconfig"
        ) {
            return Files::Skip(
                Status::NotApplicable,
                format!("{} (pid {}) names no such file", p.found_as, p.pid),
            );
        }
    }
    let Some(t) = catalog().targets.get(target) else {
        return Files::Skip(Status::Error, format!("unknown file target {target}"));
    };
    let mut out = Vec::new();
    let roots: Vec<String> = match target {
        "pki_dir" | "pki_certificates" | "pki_keys" => pki_roots(cx),
        "cni_files" => vec![
            "/etc/cni/net.d".to_owned(),
            "/var/lib/cni/networks".to_owned(),
        ],
        _ => Vec::new(),
    };
    if !roots.is_empty() {
        for r in &roots {
            let mut all = Vec::new();
            if host.walk(&host.path(r), r, &mut all).is_ok() {
                out.extend(all.into_iter().filter(|f| match target {
                    "pki_certificates" => !f.is_dir && f.path.ends_with(".crt"),
                    "pki_keys" => !f.is_dir && f.path.ends_with(".key"),
                    "cni_files" => !f.is_dir,
                    _ => true,
                }));
            }
        }
        if out.is_empty() {
            return Files::Skip(
                Status::NotApplicable,
                format!("no matching file under {}", roots.join(", ")),
            );
        }
        return Files::Found(out);
    }
    if !t.fixed.is_empty() {
        for f in &t.fixed {
            if let Ok(i) = host.stat(&host.path(f), f) {
                out.push(i);
            }
        }
        if out.is_empty() {
            return Files::Skip(
                Status::NotApplicable,
                format!("none of {} exists", t.fixed.join(", ")),
            );
        }
        return Files::Found(out);
    }
    for c in &t.candidates {
        if let Ok(i) = host.stat(&host.path(c), c) {
            if i.is_dir && target == "etcd_manifest" {
                let mut all = Vec::new();
                let _ = host.walk(&host.path(c), c, &mut all);
                out.extend(all.into_iter().filter(|f| {
                    !f.is_dir
                        && f.path
                            .rsplit('/')
                            .next()
                            .is_some_and(|n| n.contains("etcd"))
                }));
            } else {
                out.push(i);
            }
            break;
        }
    }
    if out.is_empty() {
        return Files::Skip(
            Status::NotApplicable,
            format!(
                "not on this node (looked for {}{})",
                t.candidates.first().map(String::as_str).unwrap_or(target),
                if t.candidates.len() > 1 {
                    format!(" and {} other known paths", t.candidates.len() - 1)
                } else {
                    String::new()
                }
            ),
        );
    }
    Files::Found(out)
}

/// The PKI folders: kubeadm's, plus the k3s/rke2 TLS folders where present.
fn pki_roots(cx: &Cx<'_>) -> Vec<String> {
    [
        "/etc/kubernetes/pki",
        "/var/lib/rancher/k3s/server/tls",
        "/var/lib/rancher/rke2/server/tls",
    ]
    .into_iter()
    .filter(|r| cx.host.path(r).is_dir())
    .map(str::to_owned)
    .collect()
}

fn file_check(cx: &Cx<'_>, check: &Check) -> Outcome {
    let files = match resolve_files(cx, &check.target) {
        Files::Found(f) => f,
        Files::Skip(s, why) => return Outcome::Skip(s, Evidence::note(why)),
    };
    let mut ok = true;
    let mut ev = Vec::new();
    match check.kind {
        CheckKind::FileMode => {
            let allowed = u32::from_str_radix(&check.value, 8).unwrap_or(0);
            for f in &files {
                let extra = (f.mode & 0o7777) & !allowed;
                let good = extra == 0;
                ok &= good;
                // Every failing file, and the first passing one as a sample.
                if !good || ev.is_empty() || files.len() == 1 {
                    ev.push(Evidence::file(
                        format!(
                            "{}{}",
                            f.describe(),
                            if good {
                                String::new()
                            } else {
                                format!(" — must be {:o} or stricter", allowed)
                            }
                        ),
                        &f.path,
                    ));
                }
            }
        }
        _ => {
            let (uid, gid, why) = match expected_owner(cx, &check.value) {
                Ok(x) => x,
                Err(e) => return Outcome::Skip(Status::Error, Evidence::note(e)),
            };
            if let Some(why) = why {
                ev.push(Evidence::note(why));
            }
            for f in &files {
                let good = f.uid == uid && f.gid == gid;
                ok &= good;
                if !good || ev.iter().all(|e| e.file.is_none()) || files.len() == 1 {
                    ev.push(Evidence::file(
                        format!(
                            "{}{}",
                            f.describe(),
                            if good {
                                String::new()
                            } else {
                                format!(" — must be owned by {uid}:{gid} ({})", check.value)
                            }
                        ),
                        &f.path,
                    ));
                }
            }
        }
    }
    if files.len() > 1 {
        ev.push(Evidence::note(format!("{} files checked", files.len())));
    }
    Outcome::Judged(ok, ev)
}

/// The numeric owner a `user:group` check expects, resolved against the host's own user
/// database. When the named user does not exist (kubeadm runs etcd as root in a container, with
/// no etcd user), the owner must be the account the component actually runs as.
fn expected_owner(cx: &Cx<'_>, spec: &str) -> Result<(u32, u32, Option<String>), String> {
    let (user, group) = spec.split_once(':').unwrap_or((spec, spec));
    if user == "root" && group == "root" {
        return Ok((0, 0, None));
    }
    match (cx.host.user_id(user), cx.host.group_id(group)) {
        (Some(u), Some(g)) => Ok((
            u,
            g,
            Some(format!(
                "{user}:{group} is {u}:{g} in the host's /etc/passwd and /etc/group"
            )),
        )),
        _ => {
            let runs_as =
                cx.d.get(Component::Etcd)
                    .filter(|_| user == "etcd")
                    .and_then(|p| Some((p.uid?, p.gid?, p.found_as.clone(), p.pid)));
            match runs_as {
                Some((u, g, name, pid)) => Ok((
                    u,
                    g,
                    Some(format!(
                        "the host has no {user}:{group} account; {name} (pid {pid}) runs as {u}:{g}, so the data must be owned by {u}:{g}"
                    )),
                )),
                None => Err(format!(
                    "the host has no {user}:{group} account and the account etcd runs as is unknown"
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(op: Op, value: &str, element: bool) -> Check {
        Check {
            kind: CheckKind::Flag,
            target: "--x".into(),
            config_key: None,
            env: None,
            key: None,
            op,
            element,
            value: value.into(),
            if_absent_pass: false,
            default: None,
            config_default: None,
        }
    }

    #[test]
    fn operators_test_whole_elements_and_numbers() {
        assert!(!satisfies(
            &check(Op::Has, "Node", true),
            "NodeRestriction,RBAC"
        ));
        assert!(satisfies(&check(Op::Has, "Node", true), "Node,RBAC"));
        assert!(satisfies(
            &check(Op::NotHave, "AlwaysAllow", true),
            "Node, RBAC"
        ));
        assert!(satisfies(&check(Op::Gte, "30", false), "30"));
        assert!(!satisfies(&check(Op::Gte, "30", false), "true"));
        assert!(satisfies(&check(Op::Eq, "false", false), "False"));
        assert!(!satisfies(&check(Op::NotEq, "0", false), "0s"));
        assert!(!satisfies(&check(Op::NotEq, "0", false), "0m0s"));
        assert!(satisfies(&check(Op::NotEq, "0", false), "4h0m0s"));
        assert!(satisfies(&check(Op::ValidElements, "a,b", false), "b, a"));
        assert!(!satisfies(&check(Op::ValidElements, "a,b", false), ""));
        assert!(!satisfies(&check(Op::ValidElements, "a,b", false), "a,c"));
    }
}
