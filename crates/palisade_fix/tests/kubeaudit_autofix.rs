//! kubeaudit's autofix cases (`type: autofix` in `expectations.yaml`): each fixture is fixed
//! with `palisade fix --unsafe-fixes` and the rules that re-implement the case's auditors, the
//! fixed text is parsed again, and upstream's field-level assertions are evaluated on it.
//!
//! Cases where Palisade's fix deliberately differs are listed, with the reason, in the one
//! `yaml` block of `docs/kubeaudit-autofix-compatibility.md`; for them the test asserts that
//! the upstream assertion indeed fails (so a stale entry is caught) and that the fixed text
//! still parses. Every other case must pass.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use palisade_diagnostics::Severity;
use palisade_fix::{FixOptions, fix_text};
use palisade_k8s::{Object, PodSpec, Quantity, objects_in};
use palisade_rules::{Engine, Selection, Settings, SourceFile, all_rules};
use palisade_yaml::{Document, NodeId, ParsedChunk, Resolved, parse_chunk, split_documents};

const DEFAULT_DIR: &str = "../shared/conformance/kubeaudit";
const ENV_VAR: &str = "PALISADE_KUBEAUDIT_CONFORMANCE";
const DOC: &str = "docs/kubeaudit-autofix-compatibility.md";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .expect("crates/palisade_fix")
        .to_owned()
}

fn parse_all(text: &str) -> Vec<ParsedChunk<'_>> {
    split_documents(text)
        .into_iter()
        .map(|c| parse_chunk(text, c, false))
        .collect()
}

/// A YAML node as a comparable value.
#[derive(Clone, Debug, PartialEq)]
enum V {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<V>),
    Map,
}

fn value(doc: &Document<'_>, node: NodeId) -> V {
    if doc.is_sequence(node) {
        return V::List(doc.items(node).iter().map(|&i| value(doc, i)).collect());
    }
    if doc.is_mapping(node) {
        return V::Map;
    }
    match doc.resolved(node) {
        Some(Resolved::Null) => V::Null,
        Some(Resolved::Bool(b)) => V::Bool(b),
        Some(Resolved::Int(i)) => V::Int(i),
        _ => V::Str(doc.text_of(node).unwrap_or_default().to_owned()),
    }
}

fn expected(doc: &Document<'_>, node: NodeId) -> V {
    value(doc, node)
}

struct Case {
    id: String,
    fixture: Option<String>,
    inline: Option<String>,
    auditors: Vec<String>,
    settings: Result<Settings, String>,
    /// (target, path, predicate key, predicate node) of each assertion, as raw nodes.
    assertions: Vec<NodeId>,
}

fn text(doc: &Document<'_>, map: NodeId, key: &str) -> Option<String> {
    doc.get(map, key)
        .and_then(|n| doc.text_of(n))
        .map(str::to_owned)
}

fn settings(doc: &Document<'_>, config: Option<NodeId>) -> Result<Settings, String> {
    let mut s = Settings::default();
    let Some(auditors) = config.and_then(|c| doc.get(c, "auditors")) else {
        return Ok(s);
    };
    for &(k, section) in doc.entries(auditors) {
        for &(kk, v) in doc.entries(section) {
            match (doc.text_of(k), doc.text_of(kk)) {
                (Some("capabilities"), Some("allowAddList")) => {
                    s.allowed_capabilities = doc
                        .items(v)
                        .iter()
                        .filter_map(|&i| doc.text_of(i).map(str::to_ascii_uppercase))
                        .collect();
                }
                (Some("image"), Some("image")) => {
                    s.required_image = doc.text_of(v).map(str::to_owned);
                }
                (Some("limits"), Some("cpu")) => {
                    s.max_cpu = doc.text_of(v).and_then(Quantity::parse);
                }
                (Some("limits"), Some("memory")) => {
                    s.max_memory = doc.text_of(v).and_then(Quantity::parse);
                }
                (a, b) => return Err(format!("unknown config {a:?}.{b:?}")),
            }
        }
    }
    Ok(s)
}

/// The objects a target selects, as (document index, node) pairs of the fixed text.
fn select<'d>(
    target: &str,
    objects: &[Object<'d>],
) -> Result<Vec<(&'d Document<'d>, NodeId)>, String> {
    let mut out = Vec::new();
    let arg = |prefix: &str| {
        target
            .strip_prefix(prefix)
            .and_then(|r| r.strip_suffix(')'))
            .map(str::to_owned)
    };
    for o in objects {
        let doc = o.doc;
        let pod = PodSpec::of(o);
        match target {
            "pod_specs" => out.extend(pod.and_then(|p| p.node).map(|n| (doc, n))),
            "service_accounts" if o.kind == "ServiceAccount" && o.api_version == "v1" => {
                out.push((doc, o.node));
            }
            "service_accounts" => {}
            "containers" => {
                if let Some(p) = pod {
                    out.extend(
                        p.containers
                            .iter()
                            .filter(|c| {
                                c.kind != palisade_diagnostics::ContainerKind::EphemeralContainer
                            })
                            .map(|c| (doc, c.node)),
                    );
                }
            }
            _ => {
                if let Some(name) = arg("container(") {
                    if let Some(p) = pod {
                        out.extend(
                            p.containers
                                .iter()
                                .filter(|c| c.name == name)
                                .map(|c| (doc, c.node)),
                        );
                    }
                } else if let Some(i) = arg("container_index(") {
                    let i: usize = i.parse().map_err(|_| format!("bad target {target}"))?;
                    if let Some(p) = pod {
                        out.extend(
                            p.containers
                                .iter()
                                .filter(|c| {
                                    c.kind == palisade_diagnostics::ContainerKind::Container
                                        && c.index == i
                                })
                                .map(|c| (doc, c.node)),
                        );
                    }
                } else {
                    return Err(format!("unsupported target `{target}`"));
                }
            }
        }
    }
    Ok(out)
}

/// The value at a dotted path below `node` (`None` when a part is missing or null).
fn at(doc: &Document<'_>, node: NodeId, path: &str) -> Option<V> {
    let mut n = node;
    for key in path.split('.') {
        n = doc.get(n, key)?;
        if doc.is_null(n) {
            return None;
        }
    }
    Some(value(doc, n))
}

fn pod_annotation(o: &Object<'_>, key: &str) -> Option<String> {
    let pod = PodSpec::of(o)?;
    pod.pod_annotation(key)
        .and_then(|e| e.value.map(str::to_owned))
}

/// Evaluates one assertion; `Err` says why it does not hold.
fn check(
    case_doc: &Document<'_>,
    a: NodeId,
    objects: &[Object<'_>],
    remaining: &[(Severity, String)],
) -> Result<(), String> {
    let target = text(case_doc, a, "target").ok_or("assertion without target")?;
    if target == "reaudit_of_fixed_manifest" {
        let check = text(case_doc, a, "check").unwrap_or_default();
        let severity = text(case_doc, a, "severity").unwrap_or_default();
        // kubeaudit's `error` results are failed checks; its `warning` results are advice. A
        // finding of the re-audit at medium or above counts as an error.
        let errors: Vec<&str> = remaining
            .iter()
            .filter(|(s, _)| *s >= Severity::Medium)
            .map(|(_, c)| c.as_str())
            .collect();
        let n = errors.len();
        return match (check.as_str(), severity.as_str()) {
            ("no_result_with_severity", "error") | ("all_results_have_severity", "warning")
                if n == 0 =>
            {
                Ok(())
            }
            ("no_result_with_severity" | "all_results_have_severity", _) => Err(format!(
                "{n} finding(s) at medium or above remain after fixing: {}",
                errors.join(", ")
            )),
            _ => Err(format!("unsupported check `{check}`")),
        };
    }
    if target == "document_count" {
        let want = case_doc.get(a, "equals").and_then(|n| case_doc.int(n));
        let got = objects.len() as i64;
        return if want == Some(got) {
            Ok(())
        } else {
            Err(format!("document_count is {got}, expected {want:?}"))
        };
    }
    if let Some(ns) = target
        .strip_prefix("network_policies_in_namespace(")
        .and_then(|r| r.strip_suffix(')'))
    {
        let check = text(case_doc, a, "check").unwrap_or_default();
        let (direction, list) = match check.as_str() {
            "has_deny_all_ingress" => ("Ingress", "ingress"),
            "has_deny_all_egress" => ("Egress", "egress"),
            other => return Err(format!("unsupported check `{other}`")),
        };
        let want = case_doc.get(a, "equals").and_then(|n| case_doc.bool(n));
        let got = objects.iter().any(|o| {
            let doc = o.doc;
            o.kind == "NetworkPolicy"
                && o.namespace() == Some(ns)
                && o.get(&["spec"]).is_some_and(|spec| {
                    let selector_empty = doc.get(spec, "podSelector").is_none_or(|p| {
                        doc.get(p, "matchLabels")
                            .is_none_or(|m| doc.entries(m).is_empty())
                            && doc
                                .get(p, "matchExpressions")
                                .is_none_or(|m| doc.items(m).is_empty())
                    });
                    let no_rules = doc.get(spec, list).is_none_or(|l| doc.items(l).is_empty());
                    let listed = doc.get(spec, "policyTypes").is_some_and(|t| {
                        doc.items(t)
                            .iter()
                            .any(|&i| doc.text_of(i) == Some(direction))
                    });
                    selector_empty && no_rules && listed
                })
        });
        return if want == Some(got) {
            Ok(())
        } else {
            Err(format!(
                "{check} in namespace `{ns}` is {got}, expected {want:?} (`palisade fix` edits \
                 objects; it does not create NetworkPolicies)"
            ))
        };
    }
    if target == "pod_annotations" {
        let keys: Vec<String> = case_doc
            .get(a, "keys")
            .map(|k| {
                case_doc
                    .items(k)
                    .iter()
                    .filter_map(|&i| case_doc.text_of(i).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let prefixes: Vec<String> = case_doc
            .get(a, "prefixes")
            .map(|k| {
                case_doc
                    .items(k)
                    .iter()
                    .filter_map(|&i| case_doc.text_of(i).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        for o in objects {
            if let Some(pod) = PodSpec::of(o) {
                for e in pod.pod_annotations() {
                    if keys.iter().any(|k| k == e.key)
                        || prefixes.iter().any(|p| e.key.starts_with(p.as_str()))
                    {
                        return Err(format!("annotation `{}` is still there", e.key));
                    }
                }
            }
        }
        return Ok(());
    }
    let path = text(case_doc, a, "path").ok_or("assertion without path")?;
    let selected = select(&target, objects)?;
    for (doc, node) in selected {
        let got = if let Some(key) = path
            .strip_prefix("pod_annotation(")
            .and_then(|r| r.strip_suffix(')'))
        {
            // `{container.name}` is the container being checked.
            let name = doc
                .get(node, "name")
                .and_then(|n| doc.text_of(n))
                .unwrap_or("");
            let key = key.replace("{container.name}", name);
            let owner = objects
                .iter()
                .find(|o| {
                    let r = doc.range(o.node);
                    std::ptr::eq(o.doc, doc)
                        && r.start <= doc.range(node).start
                        && doc.range(node).end <= r.end
                })
                .ok_or("no object holds the container")?;
            pod_annotation(owner, &key).map(V::Str)
        } else {
            at(doc, node, &path)
        };
        let where_ = format!("{target} {path}");
        if let Some(e) = case_doc.get(a, "equals") {
            let want = expected(case_doc, e);
            if got.as_ref() != Some(&want) {
                return Err(format!("{where_} is {got:?}, expected {want:?}"));
            }
        }
        if case_doc.get(a, "absent").is_some() && got.is_some() {
            return Err(format!("{where_} is {got:?}, expected absent"));
        }
        if case_doc.get(a, "empty_string_or_absent").is_some()
            && !matches!(&got, None | Some(V::Null))
            && got != Some(V::Str(String::new()))
        {
            return Err(format!("{where_} is {got:?}, expected empty or absent"));
        }
        if let Some(e) = case_doc.get(a, "equals_or_absent_if_false") {
            let want = case_doc.bool(e).unwrap_or(false);
            let ok = if want {
                got == Some(V::Bool(true))
            } else {
                matches!(got, None | Some(V::Bool(false)))
            };
            if !ok {
                return Err(format!("{where_} is {got:?}, expected {want} (or absent)"));
            }
        }
        if let Some(e) = case_doc.get(a, "set_equals") {
            let V::List(want) = expected(case_doc, e) else {
                return Err("set_equals is not a list".to_owned());
            };
            let have = match &got {
                None => Vec::new(),
                Some(V::List(l)) => l.clone(),
                Some(other) => vec![other.clone()],
            };
            if have.len() != want.len() || want.iter().any(|w| !have.contains(w)) {
                return Err(format!("{where_} is {have:?}, expected the set {want:?}"));
            }
        }
        if let Some(e) = case_doc.get(a, "one_of") {
            let V::List(want) = expected(case_doc, e) else {
                return Err("one_of is not a list".to_owned());
            };
            if !got.as_ref().is_some_and(|g| want.contains(g)) {
                return Err(format!("{where_} is {got:?}, expected one of {want:?}"));
            }
        }
    }
    Ok(())
}

/// Runs a case; `Err` says why it fails.
fn run(case: &Case, case_doc: &Document<'_>, dir: &Path) -> Result<(), String> {
    let source = match (&case.inline, &case.fixture) {
        (Some(t), _) => t.clone(),
        (None, Some(f)) => std::fs::read_to_string(dir.join("fixtures").join(f))
            .map_err(|e| format!("cannot read fixture {f}: {e}"))?,
        _ => return Err("no manifest".to_owned()),
    };
    let settings = case.settings.clone()?;
    let mut select = Vec::new();
    for a in &case.auditors {
        if all_rules()
            .iter()
            .any(|r| r.meta().kubeaudit == Some(a.as_str()))
        {
            select.push(format!("kubeaudit:{a}"));
        }
    }
    if select.is_empty() {
        return Err(format!("no rule re-implements {:?}", case.auditors));
    }
    let rules = Selection {
        select,
        ..Selection::default()
    }
    .resolve()
    .map_err(|e| e.to_string())?;
    let engine = Engine::new(rules, settings);
    let outcome = fix_text(
        &engine,
        Some("case.yaml"),
        &source,
        FixOptions {
            unsafe_fixes: true,
            ..FixOptions::default()
        },
    );
    if let Some(e) = outcome.error {
        return Err(format!("fix failed: {e}"));
    }
    let mut report = engine.check_file(SourceFile {
        path: Some("case.yaml"),
        text: &outcome.fixed,
    });
    if !report.errors.is_empty() {
        return Err(format!(
            "the fixed text does not parse: {:?}",
            report.errors
        ));
    }
    let estate = std::mem::take(&mut report.estate);
    let mut findings = report.findings;
    findings.extend(engine.finish(estate));
    let remaining: Vec<(Severity, String)> = findings
        .iter()
        .filter(|f| f.suppressed.is_none() && f.kubeaudit_code.is_some())
        .map(|f| {
            let code = format!("{} {}", f.code, f.kubeaudit_code.as_deref().unwrap_or(""));
            (f.severity, code)
        })
        .collect();
    let parsed = parse_all(&outcome.fixed);
    let objects: Vec<Object<'_>> = parsed
        .iter()
        .flat_map(|p| p.documents.iter())
        .flat_map(objects_in)
        .collect();
    let mut why = Vec::new();
    for &a in &case.assertions {
        if let Err(e) = check(case_doc, a, &objects, &remaining) {
            why.push(e);
        }
    }
    if why.is_empty() {
        Ok(())
    } else {
        Err(why.join("; "))
    }
}

fn deviations(markdown: &str) -> BTreeMap<String, String> {
    const OPEN: &str = "```yaml\n";
    let start = markdown.find(OPEN).expect("the doc has a ```yaml block") + OPEN.len();
    let len = markdown[start..].find("\n```").expect("closed block");
    let body = &markdown[start..start + len + 1];
    let parsed = parse_all(body);
    let doc = &parsed[0].documents[0];
    let root = doc.root().expect("root");
    let list = doc
        .get(root, "autofix_deviations")
        .expect("`autofix_deviations`");
    doc.items(list)
        .iter()
        .map(|&i| {
            let id = text(doc, i, "id").expect("id");
            let reason = text(doc, i, "reason").filter(|r| !r.trim().is_empty());
            (
                id.clone(),
                reason.unwrap_or_else(|| panic!("{id}: empty reason")),
            )
        })
        .collect()
}

#[test]
fn kubeaudit_autofix_cases() {
    let root = workspace_root();
    let dir = match std::env::var_os(ENV_VAR) {
        Some(d) => root.join(d),
        None => root.join(DEFAULT_DIR),
    };
    let text_ = std::fs::read_to_string(dir.join("expectations.yaml"))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let parsed = parse_all(&text_);
    let doc = &parsed[0].documents[0];
    let droot = doc.root().expect("root");
    let markdown = std::fs::read_to_string(root.join(DOC)).expect(DOC);
    let deviations = deviations(&markdown);

    let mut cases = Vec::new();
    for &c in doc.items(doc.get(droot, "cases").expect("cases")) {
        if text(doc, c, "type").as_deref() != Some("autofix") {
            continue;
        }
        cases.push(Case {
            id: text(doc, c, "id").expect("id"),
            fixture: text(doc, c, "fixture"),
            inline: text(doc, c, "inline_manifest"),
            auditors: doc
                .get(c, "auditors")
                .map(|l| {
                    doc.items(l)
                        .iter()
                        .filter_map(|&i| doc.text_of(i).map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            settings: settings(doc, doc.get(c, "config")),
            assertions: doc
                .get(c, "assertions")
                .map(|l| doc.items(l).to_vec())
                .unwrap_or_default(),
        });
    }
    let declared = doc
        .path(droot, &["counts", "cases_autofix"])
        .and_then(|n| doc.int(n));
    assert_eq!(declared, Some(cases.len() as i64), "autofix case count");

    let (mut passed, mut deviated) = (0, 0);
    let mut failures = String::new();
    for case in &cases {
        let result = run(case, doc, &dir);
        match (result, deviations.get(&case.id)) {
            (Ok(()), None) => {
                passed += 1;
                println!("ok         {}", case.id);
            }
            (Err(why), Some(_))
                if !why.starts_with("fix failed") && !why.contains("does not parse") =>
            {
                deviated += 1;
                println!("deviation  {}: {why}", case.id);
            }
            (Err(why), _) => {
                let _ = writeln!(failures, "{}: {why}", case.id);
            }
            (Ok(()), Some(_)) => {
                let _ = writeln!(
                    failures,
                    "{}: listed in {DOC} but meets the upstream assertions: remove the entry",
                    case.id
                );
            }
        }
    }
    for id in deviations.keys() {
        if !cases.iter().any(|c| &c.id == id) {
            let _ = writeln!(failures, "{DOC}: {id} names no autofix case");
        }
    }
    println!(
        "kubeaudit autofix: {} cases, {passed} pass as upstream, {deviated} documented deviations",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "kubeaudit autofix failures:\n{failures}"
    );
}
