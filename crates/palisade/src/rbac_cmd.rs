//! `palisade rbac`: effective permissions over the RBAC objects of the input.
//!
//! - `palisade rbac who-can VERB RESOURCE [-n NS] [PATHS…]`: the subjects that may do it, and
//!   through which binding and which rule of which role.
//! - `palisade rbac SUBJECT [PATHS…]`: what a ServiceAccount, user or group may do, through
//!   which bindings (including those to the groups it belongs to).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use palisade_diagnostics::RelatedLocation;
use palisade_rules::inventory::{BindingFact, Inventory, RbacRule, RoleFact, SubjectFact};
use palisade_rules::{
    Engine, FileRole, InputError, Settings, SourceFile, all_rules, dangerous_in, is_full_wildcard,
};
use serde_json::json;

use crate::cli::{Format, RbacArgs};
use crate::estates::EstateMap;
use crate::{EXIT_CLEAN, EXIT_ERROR, input};

/// One grant: a subject holds a rule of a role through a binding.
struct Grant<'a> {
    subject: &'a SubjectFact,
    binding: &'a BindingFact,
    /// The role and rule, or `None` when the role is `cluster-admin` and not in the input.
    rule: Option<(&'a RoleFact, &'a RbacRule)>,
}

/// A subject as asked on the command line.
#[derive(Debug, PartialEq, Eq)]
enum Query {
    ServiceAccount { namespace: String, name: String },
    User(String),
    Group(String),
}

fn parse_subject(text: &str) -> Result<Query> {
    if let Some(rest) = text.strip_prefix("system:serviceaccount:") {
        let Some((ns, name)) = rest.split_once(':') else {
            bail!("`{text}`: expected system:serviceaccount:NAMESPACE:NAME");
        };
        return Ok(Query::ServiceAccount {
            namespace: ns.to_owned(),
            name: name.to_owned(),
        });
    }
    for prefix in ["serviceaccount:", "sa:"] {
        if let Some(rest) = text.strip_prefix(prefix) {
            let Some((ns, name)) = rest.split_once('/') else {
                bail!("`{text}`: expected {prefix}NAMESPACE/NAME");
            };
            return Ok(Query::ServiceAccount {
                namespace: ns.to_owned(),
                name: name.to_owned(),
            });
        }
    }
    if let Some(rest) = text.strip_prefix("group:") {
        return Ok(Query::Group(rest.to_owned()));
    }
    if let Some(rest) = text.strip_prefix("user:") {
        return Ok(Query::User(rest.to_owned()));
    }
    Ok(Query::User(text.to_owned()))
}

impl Query {
    /// Whether a binding subject names this identity or a group it belongs to.
    fn matches(&self, s: &SubjectFact) -> bool {
        match self {
            Query::ServiceAccount { namespace, name } => match s.kind.as_str() {
                "ServiceAccount" => {
                    &s.name == name && s.namespace.as_deref().is_none_or(|n| n == namespace)
                }
                "Group" => {
                    s.name == "system:serviceaccounts"
                        || s.name == format!("system:serviceaccounts:{namespace}")
                        || s.name == "system:authenticated"
                }
                _ => false,
            },
            Query::User(name) => {
                (s.kind == "User" && &s.name == name)
                    || (s.kind == "Group" && s.name == "system:authenticated")
            }
            Query::Group(name) => s.kind == "Group" && &s.name == name,
        }
    }
}

/// An estate's folder (`None`: files outside estate folders) and its inventory.
type Estate = (Option<PathBuf>, Inventory);

/// The inventories of the input: one per estate with `--estate` (files outside estate
/// folders first, then by folder), else one.
fn load(paths: &[PathBuf], estate_globs: &[String]) -> Result<(Vec<Estate>, Vec<InputError>)> {
    let collector = all_rules()
        .iter()
        .copied()
        .find(|r| r.meta().code == "CMP005")
        .context("the RBAC inventory rule is missing")?;
    let engine = Engine::new(vec![collector], Settings::default());
    let mut errors = Vec::new();
    let excludes = input::exclude_set(&[])?;
    let estates = EstateMap::new(estate_globs, paths, None)?;
    let mut inventories: BTreeMap<Option<PathBuf>, Inventory> = BTreeMap::new();
    inventories.insert(None, Inventory::default());
    let mut absorb = |text: &str, shown: &str, role: FileRole, errors: &mut Vec<InputError>| {
        let mut report = engine.check_file_as(
            SourceFile {
                path: Some(shown),
                text,
            },
            role,
        );
        errors.append(&mut report.errors);
        let key = match &estates {
            Some(m) if shown != "<stdin>" => m.estate_of(shown),
            _ => None,
        };
        inventories
            .entry(key)
            .or_default()
            .merge(std::mem::take(&mut report.estate.inventory));
    };
    let (stdin, files): (Vec<&PathBuf>, Vec<&PathBuf>) =
        paths.iter().partition(|p| p.as_os_str() == "-");
    if !stdin.is_empty() {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .context("cannot read stdin")?;
        absorb(&text, "<stdin>", FileRole::Complete, &mut errors);
    }
    let files: Vec<PathBuf> = files.into_iter().cloned().collect();
    let input::Input { files, patches } = input::collect_files(&files, &excludes, &mut errors);
    for file in files {
        let shown = input::display_path(&file);
        match std::fs::read_to_string(&file) {
            // A patch's RBAC objects are merged into their base's: counted there.
            Ok(text) => absorb(&text, &shown, patches.role(&file), &mut errors),
            Err(e) => errors.push(InputError {
                file: Some(shown),
                line: 0,
                column: 0,
                message: format!("cannot read: {e}"),
                kind: "io",
            }),
        }
    }
    let mut inventories: Vec<Estate> = inventories.into_iter().collect();
    if estate_globs.is_empty() {
        inventories.truncate(1);
    } else {
        // Files outside estate folders make an estate only when there are some.
        inventories.retain(|(key, inv)| {
            key.is_some() || !inv.bindings.is_empty() || !inv.roles.is_empty()
        });
    }
    Ok((inventories, errors))
}

/// Every grant of the inventory whose subject passes `keep`.
fn grants<'a>(inv: &'a Inventory, keep: impl Fn(&SubjectFact) -> bool) -> Vec<Grant<'a>> {
    let mut out = Vec::new();
    for b in &inv.bindings {
        let role = inv.role_of(b);
        for s in b.subjects.iter().filter(|s| keep(s)) {
            match role {
                Some(role) => {
                    for (holder, rule) in inv.effective_rules(role) {
                        out.push(Grant {
                            subject: s,
                            binding: b,
                            rule: Some((holder, rule)),
                        });
                    }
                }
                None if b.role_cluster && b.role_name == "cluster-admin" => out.push(Grant {
                    subject: s,
                    binding: b,
                    rule: None,
                }),
                None => {}
            }
        }
    }
    out
}

fn at(loc: &RelatedLocation) -> String {
    format!(
        "{}:{}:{}",
        loc.file.as_deref().unwrap_or("<input>"),
        loc.line.unwrap_or(0),
        loc.column.unwrap_or(0)
    )
}

fn scope(b: &BindingFact) -> String {
    match b.scope() {
        None => "cluster-wide".to_owned(),
        Some(ns) => format!("namespace {ns}"),
    }
}

fn grant_json(g: &Grant<'_>) -> serde_json::Value {
    let loc = |l: &RelatedLocation| json!({"file": l.file, "line": l.line, "column": l.column});
    json!({
        "subject": {"kind": g.subject.kind, "name": g.subject.name, "namespace": g.subject.namespace},
        "binding": {"kind": g.binding.kind(), "name": g.binding.name, "namespace": g.binding.namespace,
                    "location": loc(&g.binding.loc)},
        "scope": g.binding.scope(),
        "role": {"kind": if g.binding.role_cluster { "ClusterRole" } else { "Role" },
                 "name": g.binding.role_name},
        "rule": g.rule.map(|(holder, r)| json!({
            "from": format!("{} {}", holder.kind(), holder.name),
            "apiGroups": r.api_groups, "resources": r.resources, "verbs": r.verbs,
            "resourceNames": r.resource_names, "nonResourceURLs": r.non_resource_urls,
            "dangerous": dangerous_in(r).iter().map(|d| d.what).collect::<Vec<_>>(),
            "location": loc(&r.loc),
        })),
    })
}

fn report_errors(errors: &[InputError]) {
    for e in errors {
        anstream::eprintln!(
            "palisade: error: {}:{}:{}: {}",
            e.file.as_deref().unwrap_or("<stdin>"),
            e.line,
            e.column,
            e.message
        );
    }
}

pub fn run(args: RbacArgs) -> Result<u8> {
    let Some(first) = args.query.first() else {
        bail!("expected `who-can VERB RESOURCE` or a SUBJECT (see `palisade rbac --help`)");
    };
    let (who_can, rest) = if first == "who-can" {
        if args.query.len() < 3 {
            bail!("usage: palisade rbac who-can VERB RESOURCE [-n NAMESPACE] [PATHS…]");
        }
        (
            Some((args.query[1].as_str(), args.query[2].as_str())),
            &args.query[3..],
        )
    } else {
        (None, &args.query[1..])
    };
    let mut paths: Vec<PathBuf> = rest.iter().map(PathBuf::from).collect();
    if paths.is_empty() {
        paths.push(".".into());
    }
    let (inventories, errors) = load(&paths, &args.estate)?;
    report_errors(&errors);
    let mut out = anstream::stdout().lock();
    let split = !args.estate.is_empty();
    let mut answers = Vec::new();
    for (i, (estate, inv)) in inventories.iter().enumerate() {
        // Shown relative to the working folder when it is under it.
        let cwd = std::env::current_dir().unwrap_or_default();
        let name = estate
            .as_deref()
            .map(|e| input::display_path(e.strip_prefix(&cwd).unwrap_or(e)));
        if split && args.format == Format::Text {
            if i > 0 {
                writeln!(out)?;
            }
            match &name {
                Some(n) => writeln!(out, "estate {n}:")?,
                None => writeln!(out, "outside estate folders:")?,
            }
        }
        let answer = match who_can {
            Some((verb, resource)) => who_can_cmd(inv, verb, resource, &args, &mut out)?,
            None => subject_cmd(inv, first, &args, &mut out)?,
        };
        if let Some(mut v) = answer {
            if split {
                v["estate"] = json!(name);
            }
            answers.push(v);
        }
    }
    if args.format == Format::Json {
        let v = if split {
            json!({ "estates": answers })
        } else {
            answers.pop().unwrap_or_default()
        };
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    }
    Ok(if errors.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_ERROR
    })
}

fn who_can_cmd(
    inv: &Inventory,
    verb: &str,
    resource: &str,
    args: &RbacArgs,
    out: &mut impl Write,
) -> Result<Option<serde_json::Value>> {
    // `deployments.apps` names the group, as kubectl writes it; without one, any group.
    let (resource, group) = match resource.split_once('.') {
        Some((r, g)) => (r, Some(if g == "core" { "" } else { g })),
        None => (resource, None),
    };
    let ns = args.namespace.as_deref();
    let all = grants(inv, |_| true);
    let found: Vec<&Grant<'_>> = all
        .iter()
        .filter(|g| {
            ns.is_none_or(|n| {
                g.binding.cluster || g.binding.namespace.as_deref().is_none_or(|b| b == n)
            })
        })
        .filter(|g| match g.rule {
            None => true,
            Some((_, r)) => match group {
                Some(grp) => r.grants(grp, verb, resource),
                None => r.api_groups.iter().any(|grp| r.grants(grp, verb, resource)),
            },
        })
        .collect();
    let missing = missing_roles(inv);
    if args.format == Format::Json {
        let v = json!({
            "verb": verb, "resource": resource, "group": group, "namespace": ns,
            "grants": found.iter().map(|g| grant_json(g)).collect::<Vec<_>>(),
            "unresolvedRoles": missing,
        });
        return Ok(Some(v));
    }
    let what = match ns {
        Some(n) => format!("{verb} {resource} in namespace {n}"),
        None => format!("{verb} {resource}"),
    };
    if found.is_empty() {
        writeln!(out, "no subject of the input can {what}")?;
    } else {
        writeln!(out, "who can {what}:")?;
        for g in &found {
            write_grant(out, g, true)?;
        }
    }
    write_missing(out, &missing)?;
    Ok(None)
}

/// Writes the answer, or returns it for JSON output.
fn subject_cmd(
    inv: &Inventory,
    text: &str,
    args: &RbacArgs,
    out: &mut impl Write,
) -> Result<Option<serde_json::Value>> {
    let query = parse_subject(text)?;
    let mut found = grants(inv, |s| query.matches(s));
    if let Some(n) = args.namespace.as_deref() {
        found
            .retain(|g| g.binding.cluster || g.binding.namespace.as_deref().is_none_or(|b| b == n));
    }
    let missing: Vec<String> = inv
        .bindings
        .iter()
        .filter(|b| b.subjects.iter().any(|s| query.matches(s)))
        .filter(|b| inv.role_of(b).is_none() && !(b.role_cluster && b.role_name == "cluster-admin"))
        .map(|b| {
            format!(
                "{} {} → {} (role not in the input)",
                b.kind(),
                b.name,
                b.role_name
            )
        })
        .collect();
    if args.format == Format::Json {
        let v = json!({
            "subject": text,
            "grants": found.iter().map(grant_json).collect::<Vec<_>>(),
            "unresolvedRoles": missing,
        });
        return Ok(Some(v));
    }
    if found.is_empty() {
        writeln!(
            out,
            "{text} holds no permission through the RBAC objects of the input"
        )?;
    } else {
        writeln!(out, "{text} can:")?;
        for g in &found {
            write_grant(out, g, false)?;
        }
    }
    write_missing(out, &missing)?;
    Ok(None)
}

fn write_grant(out: &mut impl Write, g: &Grant<'_>, show_subject: bool) -> Result<()> {
    let via = format!(
        "via {} {} ({}) at {}",
        g.binding.kind(),
        g.binding.name,
        scope(g.binding),
        at(&g.binding.loc)
    );
    let who = if show_subject {
        format!("{}  ", g.subject.describe())
    } else {
        String::new()
    };
    match g.rule {
        None => writeln!(out, "  {who}everything (ClusterRole cluster-admin) {via}")?,
        Some((holder, rule)) => {
            let danger = dangerous_in(rule);
            let flag = if is_full_wildcard(rule) {
                "  [everything: admin-equivalent]".to_owned()
            } else if danger.is_empty() {
                String::new()
            } else {
                format!(
                    "  [{}]",
                    danger.iter().map(|d| d.what).collect::<Vec<_>>().join("; ")
                )
            };
            writeln!(out, "  {who}{}{flag}", rule.describe())?;
            writeln!(
                out,
                "      {via}; rule of {} {} at {}",
                holder.kind(),
                holder.name,
                at(&rule.loc)
            )?;
        }
    }
    Ok(())
}

fn missing_roles(inv: &Inventory) -> Vec<String> {
    inv.bindings
        .iter()
        .filter(|b| inv.role_of(b).is_none() && !(b.role_cluster && b.role_name == "cluster-admin"))
        .map(|b| {
            format!(
                "{} {} → {} (role not in the input)",
                b.kind(),
                b.name,
                b.role_name
            )
        })
        .collect()
}

fn write_missing(out: &mut impl Write, missing: &[String]) -> Result<()> {
    if missing.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "\nnot resolved ({} binding(s) refer to roles the input does not hold):",
        missing.len()
    )?;
    for m in missing.iter().take(20) {
        writeln!(out, "  {m}")?;
    }
    if missing.len() > 20 {
        writeln!(out, "  … and {} more", missing.len() - 20)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_parse() {
        assert_eq!(
            parse_subject("system:serviceaccount:shop:default").unwrap(),
            Query::ServiceAccount {
                namespace: "shop".into(),
                name: "default".into()
            }
        );
        assert_eq!(
            parse_subject("sa:ci/deployer").unwrap(),
            Query::ServiceAccount {
                namespace: "ci".into(),
                name: "deployer".into()
            }
        );
        assert_eq!(
            parse_subject("group:admins").unwrap(),
            Query::Group("admins".into())
        );
        assert_eq!(parse_subject("alice").unwrap(), Query::User("alice".into()));
        assert!(parse_subject("system:serviceaccount:broken").is_err());
    }
}
