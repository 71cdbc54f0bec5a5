//! kubeaudit conformance: runs every `type: audit` case of kubeaudit's own test suite
//! (transcribed in `expectations.yaml`) through the engine, with the rules that re-implement the
//! case's auditors plus MSC001 (`RedundantAuditorOverride`), and compares the SET of kubeaudit
//! result codes the findings carry with upstream's `rules_exact`. For `deprecatedapis` cases
//! that pin results, the messages and the number of resources with results are compared too.
//!
//! The folder is `$PALISADE_KUBEAUDIT_CONFORMANCE` (a relative path is taken from the workspace
//! root), by default `../shared/conformance/kubeaudit`. A missing folder fails the test.
//!
//! Cases where Palisade deliberately differs are listed in `docs/kubeaudit-compatibility.md`:
//! its one fenced `yaml` block holds `deviations: [{id, expect_codes, reason}]`, and for those
//! cases the test asserts `expect_codes` instead. An entry that names no case, or whose case
//! meets the upstream expectation anyway, fails the test.
//!
//! Every case is judged before the single assertion at the end, so one run lists every gap.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use palisade_diagnostics::{Finding, ObjectRef};
use palisade_k8s::Quantity;
use palisade_rules::{Engine, Selection, Settings, SourceFile, all_rules, parse_version};
use palisade_yaml::{Document, NodeId, parse_chunk, split_documents};

const ENV_VAR: &str = "PALISADE_KUBEAUDIT_CONFORMANCE";
const DEFAULT_DIR: &str = "../shared/conformance/kubeaudit";
const COMPAT_DOC: &str = "docs/kubeaudit-compatibility.md";

/// kubeaudit's auditors, as `expectations.yaml` names them.
const AUDITORS: [&str; 14] = [
    "apparmor",
    "asat",
    "capabilities",
    "deprecatedapis",
    "hostns",
    "image",
    "limits",
    "mounts",
    "netpols",
    "nonroot",
    "privesc",
    "privileged",
    "rootfs",
    "seccomp",
];

/// The sections besides `cases`, and why this test does not run them.
const OTHER_SECTIONS: [(&str, &str); 5] = [
    (
        "unit_cases",
        "kubeaudit's own helpers (naive image-string split, YAML merge for autofix); Palisade \
         parses image references as runtimes do and fixes by byte edits",
    ),
    (
        "config_cases",
        "kubeaudit's config file (`enabledAuditors`, invalid quantities) belongs to the \
         configuration loader and the CLI",
    ),
    (
        "output_cases",
        "json/sarif renderings of synthetic results belong to palisade_render",
    ),
    (
        "parse_cases",
        "Go decoding of the fixtures into typed objects; Palisade's object model is covered by \
         palisade_k8s and every audit case above",
    ),
    (
        "cluster_cases",
        "need a (fake or real) API server: cluster mode",
    ),
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .expect("palisade_rules lives in crates/ of the workspace")
        .to_owned()
}

// ---------------------------------------------------------------------------------------------
// Reading YAML with palisade_yaml

fn scalar(doc: &Document<'_>, node: NodeId) -> Option<String> {
    if doc.is_null(node) {
        return None;
    }
    doc.text_of(node).map(str::to_owned)
}

fn field(doc: &Document<'_>, map: NodeId, key: &str) -> Option<String> {
    doc.get(map, key).and_then(|n| scalar(doc, n))
}

fn string_list(
    doc: &Document<'_>,
    node: Option<NodeId>,
    what: &str,
) -> Result<Vec<String>, String> {
    let Some(node) = node.filter(|&n| !doc.is_null(n)) else {
        return Ok(Vec::new());
    };
    if !doc.is_sequence(node) {
        return Err(format!("`{what}` is not a list"));
    }
    doc.items(node)
        .iter()
        .map(|&item| scalar(doc, item).ok_or_else(|| format!("`{what}` holds a non-scalar")))
        .collect()
}

fn keys(doc: &Document<'_>, map: NodeId) -> Vec<String> {
    doc.entries(map)
        .iter()
        .filter_map(|&(k, _)| doc.text_of(k).map(str::to_owned))
        .collect()
}

/// Parses a text that must be exactly one YAML document.
fn with_document<T>(text: &str, what: &str, f: impl FnOnce(&Document<'_>, NodeId) -> T) -> T {
    let chunks = split_documents(text);
    assert_eq!(
        chunks.len(),
        1,
        "{what}: expected exactly one YAML document"
    );
    let parsed = parse_chunk(text, chunks[0], false);
    assert!(parsed.errors.is_empty(), "{what}: {:?}", parsed.errors);
    assert_eq!(parsed.documents.len(), 1, "{what}: expected one document");
    let doc = &parsed.documents[0];
    let root = doc
        .root()
        .filter(|&r| doc.is_mapping(r))
        .unwrap_or_else(|| panic!("{what}: the root is not a mapping"));
    f(doc, root)
}

// ---------------------------------------------------------------------------------------------
// expectations.yaml

enum Manifest {
    Fixture(String),
    Inline(String),
}

struct ExpectedResults {
    resources_with_results: Option<usize>,
    /// (rule, message) of every pinned result.
    results: Vec<(String, String)>,
    exact: bool,
}

struct AuditCase {
    id: String,
    manifest: Manifest,
    auditors: Vec<String>,
    /// The case's `config` as Palisade settings; an error makes the case fail.
    settings: Result<Settings, String>,
    rules_exact: BTreeSet<String>,
    results: Option<ExpectedResults>,
}

impl AuditCase {
    fn describe_manifest(&self) -> String {
        match &self.manifest {
            Manifest::Fixture(f) => format!("fixture {f}"),
            Manifest::Inline(_) => "inline manifest".to_owned(),
        }
    }
}

struct Expectations {
    /// The header's `counts`.
    counts: BTreeMap<String, usize>,
    audit: Vec<AuditCase>,
    autofix: usize,
    /// Cases of another type: they fail the test.
    unknown_types: Vec<String>,
    /// Length of every other top-level list.
    sections: BTreeMap<String, usize>,
}

fn parse_expectations(text: &str) -> Expectations {
    with_document(text, "expectations.yaml", |doc, root| {
        let counts = doc
            .get(root, "counts")
            .map(|c| {
                doc.entries(c)
                    .iter()
                    .filter_map(|&(k, v)| {
                        Some((
                            doc.text_of(k)?.to_owned(),
                            usize::try_from(doc.int(v)?).ok()?,
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut out = Expectations {
            counts,
            audit: Vec::new(),
            autofix: 0,
            unknown_types: Vec::new(),
            sections: BTreeMap::new(),
        };
        let cases = doc
            .get(root, "cases")
            .expect("expectations.yaml has no `cases`");
        for &case in doc.items(cases) {
            let id = field(doc, case, "id").expect("a case without `id`");
            match field(doc, case, "type").as_deref() {
                Some("audit") => out.audit.push(parse_audit_case(doc, case, id)),
                Some("autofix") => out.autofix += 1,
                other => out.unknown_types.push(format!("{id} (type {other:?})")),
            }
        }
        for (section, _) in OTHER_SECTIONS {
            let len = doc.get(root, section).map_or(0, |s| doc.items(s).len());
            out.sections.insert(section.to_owned(), len);
        }
        out
    })
}

fn parse_audit_case(doc: &Document<'_>, case: NodeId, id: String) -> AuditCase {
    let manifest = match (
        field(doc, case, "inline_manifest"),
        field(doc, case, "fixture"),
    ) {
        (Some(text), _) => Manifest::Inline(text),
        (None, Some(path)) => Manifest::Fixture(path),
        (None, None) => panic!("{id}: neither `fixture` nor `inline_manifest`"),
    };
    let auditors = string_list(doc, doc.get(case, "auditors"), "auditors")
        .unwrap_or_else(|e| panic!("{id}: {e}"));
    let settings = match doc.get(case, "config") {
        Some(config) => settings_from_config(doc, config),
        None => Ok(Settings::default()),
    };
    let expect = doc
        .get(case, "expect")
        .unwrap_or_else(|| panic!("{id}: no `expect`"));
    let rules_exact_node = doc
        .get(expect, "rules_exact")
        .unwrap_or_else(|| panic!("{id}: no `expect.rules_exact`"));
    let rules_exact = string_list(doc, Some(rules_exact_node), "expect.rules_exact")
        .unwrap_or_else(|e| panic!("{id}: {e}"))
        .into_iter()
        .collect();
    let results = doc.get(expect, "results").map(|list| ExpectedResults {
        resources_with_results: doc
            .get(expect, "resources_with_results")
            .and_then(|n| doc.int(n))
            .and_then(|n| usize::try_from(n).ok()),
        results: doc
            .items(list)
            .iter()
            .map(|&r| {
                let rule = field(doc, r, "rule").unwrap_or_else(|| panic!("{id}: result rule"));
                let message =
                    field(doc, r, "message").unwrap_or_else(|| panic!("{id}: result message"));
                (rule, message)
            })
            .collect(),
        exact: doc
            .get(expect, "results_exact")
            .and_then(|n| doc.bool(n))
            .unwrap_or(false),
    });
    AuditCase {
        id,
        manifest,
        auditors,
        settings,
        rules_exact,
        results,
    }
}

/// kubeaudit's configuration as Palisade settings. Every key is understood or the case fails:
/// nothing is ignored silently.
fn settings_from_config(doc: &Document<'_>, config: NodeId) -> Result<Settings, String> {
    let mut settings = Settings::default();
    for key in keys(doc, config) {
        match key.as_str() {
            // Informational: `auditors` already lists the effective set.
            "enabledAuditors" => {}
            "auditors" => {}
            other => return Err(format!("unknown config key `{other}`")),
        }
    }
    let Some(auditors) = doc.get(config, "auditors") else {
        return Ok(settings);
    };
    for auditor in keys(doc, auditors) {
        let section = doc.get(auditors, &auditor).expect("key just listed");
        for key in keys(doc, section) {
            let value = doc.get(section, &key).expect("key just listed");
            let text = || scalar(doc, value).filter(|s| !s.is_empty());
            let quantity = |what: &str| {
                text()
                    .map(|t| Quantity::parse(&t).ok_or(format!("invalid {what} quantity `{t}`")))
                    .transpose()
            };
            let version = |what: &str| {
                text()
                    .map(|t| parse_version(&t).ok_or(format!("invalid {what} version `{t}`")))
                    .transpose()
            };
            match (auditor.as_str(), key.as_str()) {
                ("capabilities", "allowAddList") => {
                    settings.allowed_capabilities = string_list(doc, Some(value), "allowAddList")?;
                }
                ("image", "image") => settings.required_image = text(),
                ("limits", "cpu") => settings.max_cpu = quantity("cpu")?,
                ("limits", "memory") => settings.max_memory = quantity("memory")?,
                ("mounts", "denyPathsList") => {
                    let paths = string_list(doc, Some(value), "denyPathsList")?;
                    // kubeaudit: an empty list means the default list.
                    if !paths.is_empty() {
                        settings.sensitive_paths = paths;
                    }
                }
                ("deprecatedapis", "currentVersion") => {
                    settings.current_version = version("currentVersion")?;
                }
                ("deprecatedapis", "targetedVersion") => {
                    if let Some(v) = version("targetedVersion")? {
                        settings.target_version = v;
                    }
                }
                (a, k) => return Err(format!("unknown config key `auditors.{a}.{k}`")),
            }
        }
    }
    Ok(settings)
}

// ---------------------------------------------------------------------------------------------
// docs/kubeaudit-compatibility.md

#[derive(Debug)]
struct Deviation {
    id: String,
    expect_codes: BTreeSet<String>,
}

/// The deviations of the compatibility doc's one `yaml` block, and the doc's text outside it.
fn parse_deviations(markdown: &str) -> Result<(Vec<Deviation>, String), String> {
    const OPEN: &str = "```yaml\n";
    let starts: Vec<usize> = markdown.match_indices(OPEN).map(|(i, _)| i).collect();
    let [start] = starts[..] else {
        return Err(format!(
            "expected exactly one ```yaml block, found {}",
            starts.len()
        ));
    };
    let body_start = start + OPEN.len();
    let body_len = markdown[body_start..]
        .find("\n```")
        .ok_or("the ```yaml block is not closed")?;
    let body = &markdown[body_start..body_start + body_len + 1];
    let outside = format!(
        "{}{}",
        &markdown[..start],
        &markdown[body_start + body_len + 4..]
    );
    let deviations = with_document(body, "deviations block", |doc, root| {
        if keys(doc, root) != ["deviations"] {
            return Err("the yaml block must hold exactly one key, `deviations`".to_owned());
        }
        let list = doc.get(root, "deviations").expect("key just checked");
        if !doc.is_sequence(list) {
            return Err("`deviations` is not a list".to_owned());
        }
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for &item in doc.items(list) {
            let mut entry_keys = keys(doc, item);
            entry_keys.sort();
            if entry_keys != ["expect_codes", "id", "reason"] {
                return Err(format!(
                    "a deviation must have exactly `id`, `expect_codes` and `reason`; got {entry_keys:?}"
                ));
            }
            let id = field(doc, item, "id").ok_or("a deviation has an empty `id`")?;
            if field(doc, item, "reason").is_none_or(|r| r.trim().is_empty()) {
                return Err(format!("deviation {id}: `reason` is empty"));
            }
            let expect_codes = string_list(doc, doc.get(item, "expect_codes"), "expect_codes")?
                .into_iter()
                .collect();
            if !seen.insert(id.clone()) {
                return Err(format!("deviation {id} is listed twice"));
            }
            out.push(Deviation { id, expect_codes });
        }
        Ok(out)
    })?;
    Ok((deviations, outside))
}

// ---------------------------------------------------------------------------------------------
// Running a case

/// What the engine reported for one case.
struct Run {
    codes: BTreeSet<String>,
    /// Anything that makes the case fail whatever the codes: no rule for an auditor, a config
    /// error, input errors, a missing fixture.
    problems: Vec<String>,
    /// Why the pinned `deprecatedapis` results do not match, if they do not.
    results_mismatch: Option<String>,
}

fn rules_for(auditor: &str) -> Vec<&'static str> {
    all_rules()
        .iter()
        .map(|r| r.meta())
        .filter(|m| m.kubeaudit == Some(auditor))
        .map(|m| m.code)
        .collect()
}

fn run_case(case: &AuditCase, dir: &Path) -> Run {
    let mut run = Run {
        codes: BTreeSet::new(),
        problems: Vec::new(),
        results_mismatch: None,
    };
    let mut select = vec!["MSC001".to_owned()];
    let mut without_rules = Vec::new();
    for auditor in &case.auditors {
        if !AUDITORS.contains(&auditor.as_str()) {
            run.problems
                .push(format!("`{auditor}` is not a kubeaudit auditor"));
        } else if rules_for(auditor).is_empty() {
            without_rules.push(auditor.as_str());
        } else {
            select.push(format!("kubeaudit:{auditor}"));
        }
    }
    if !without_rules.is_empty() {
        run.problems.push(format!(
            "no rule re-implements (`kubeaudit: Some(..)`) auditor(s): {}",
            without_rules.join(", ")
        ));
    }
    let settings = match &case.settings {
        Ok(s) => s.clone(),
        Err(e) => {
            run.problems.push(format!("config: {e}"));
            Settings::default()
        }
    };
    let (name, text) = match &case.manifest {
        Manifest::Inline(text) => ("inline.yaml".to_owned(), text.clone()),
        Manifest::Fixture(path) => match std::fs::read_to_string(dir.join("fixtures").join(path)) {
            Ok(text) => (path.clone(), text),
            Err(e) => {
                run.problems
                    .push(format!("cannot read fixture {path}: {e}"));
                return run;
            }
        },
    };
    let rules = Selection {
        select,
        ..Selection::default()
    }
    .resolve()
    .expect("every selector names at least one rule");
    let engine = Engine::new(rules, settings);
    let mut report = engine.check_file(SourceFile {
        path: Some(&name),
        text: &text,
    });
    for e in &report.errors {
        run.problems.push(format!(
            "input error at {}:{}: {} ({})",
            e.line, e.column, e.message, e.kind
        ));
    }
    let estate = std::mem::take(&mut report.estate);
    let mut findings = report.findings;
    findings.extend(engine.finish(estate));
    // Suppressed findings count: they carry the `…Allowed` codes.
    let ka: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.kubeaudit_code.is_some())
        .collect();
    run.codes = ka
        .iter()
        .filter_map(|f| f.kubeaudit_code.as_deref().map(str::to_owned))
        .collect();
    if let Some(expected) = &case.results {
        run.results_mismatch = compare_results(expected, &ka);
    }
    run
}

/// Compares pinned results (rule and message) and the number of resources with results.
fn compare_results(expected: &ExpectedResults, findings: &[&Finding]) -> Option<String> {
    let mut problems = Vec::new();
    let resources: BTreeSet<&ObjectRef> = findings.iter().map(|f| &*f.resource).collect();
    if let Some(n) = expected.resources_with_results
        && resources.len() != n
    {
        problems.push(format!(
            "{} resource(s) with results, expected {n}",
            resources.len()
        ));
    }
    let mut got: Vec<(String, String)> = findings
        .iter()
        .map(|f| {
            (
                f.kubeaudit_code.as_deref().unwrap_or_default().to_owned(),
                f.message.clone(),
            )
        })
        .collect();
    got.sort();
    let mut want = expected.results.clone();
    want.sort();
    let mismatch = if expected.exact {
        got != want
    } else {
        want.iter().any(|w| !got.contains(w))
    };
    if mismatch {
        let show = |v: &[(String, String)]| {
            v.iter()
                .map(|(r, m)| format!("{r}: {m:?}"))
                .collect::<Vec<_>>()
                .join("; ")
        };
        problems.push(format!(
            "results{}: expected [{}], got [{}]",
            if expected.exact { " (exact)" } else { "" },
            show(&want),
            show(&got)
        ));
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

// ---------------------------------------------------------------------------------------------
// Judging a case

#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// Meets the upstream expectation.
    Upstream,
    /// Meets its documented deviation.
    Deviation,
    Fail(String),
}

fn show_codes(codes: &BTreeSet<String>) -> String {
    format!("[{}]", codes.iter().cloned().collect::<Vec<_>>().join(", "))
}

fn code_diff(expected: &BTreeSet<String>, got: &BTreeSet<String>) -> String {
    let mut s = format!(
        "expected {}\n      got      {}",
        show_codes(expected),
        show_codes(got)
    );
    let missing: BTreeSet<String> = expected.difference(got).cloned().collect();
    let extra: BTreeSet<String> = got.difference(expected).cloned().collect();
    if !missing.is_empty() {
        let _ = write!(s, "\n      missing  {}", show_codes(&missing));
    }
    if !extra.is_empty() {
        let _ = write!(s, "\n      extra    {}", show_codes(&extra));
    }
    s
}

fn judge(upstream: &BTreeSet<String>, deviation: Option<&Deviation>, run: &Run) -> Verdict {
    let clean = run.problems.is_empty();
    let meets_upstream = clean && run.codes == *upstream && run.results_mismatch.is_none();
    let mut detail = String::new();
    for p in &run.problems {
        let _ = write!(detail, "\n      problem  {p}");
    }
    match deviation {
        None if meets_upstream => Verdict::Upstream,
        None => {
            let mut s = code_diff(upstream, &run.codes);
            if let Some(m) = &run.results_mismatch {
                let _ = write!(s, "\n      results  {m}");
            }
            Verdict::Fail(s + &detail)
        }
        Some(_) if meets_upstream => Verdict::Fail(format!(
            "listed as a deviation in {COMPAT_DOC}, but meets the upstream expectation {}: \
             remove the entry",
            show_codes(upstream)
        )),
        Some(d) if d.expect_codes == *upstream => Verdict::Fail(format!(
            "the deviation in {COMPAT_DOC} expects exactly upstream's codes {}: it deviates \
             from nothing",
            show_codes(upstream)
        )),
        Some(d) if clean && run.codes == d.expect_codes => Verdict::Deviation,
        Some(d) => Verdict::Fail(format!(
            "(documented deviation; upstream expects {})\n      {}{detail}",
            show_codes(upstream),
            code_diff(&d.expect_codes, &run.codes)
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Doc consistency

/// Every rule that re-implements an auditor must be named in that auditor's row of the doc's
/// auditor table (`| \`auditor\` | … |`), and every deviation must appear outside the yaml
/// block (in the human-readable table).
fn doc_problems(outside: &str, deviations: &[Deviation]) -> Vec<String> {
    let mut problems = Vec::new();
    for auditor in AUDITORS {
        let prefix = format!("| `{auditor}` |");
        let row = outside.lines().find(|l| l.starts_with(&prefix));
        for code in rules_for(auditor) {
            if !row.is_some_and(|r| r.contains(code)) {
                problems.push(format!(
                    "{COMPAT_DOC}: {code} re-implements `{auditor}` but the auditor table row \
                     `{prefix} …` does not name it"
                ));
            }
        }
    }
    for d in deviations {
        if !outside.contains(&format!("`{}`", d.id)) {
            problems.push(format!(
                "{COMPAT_DOC}: deviation {} is missing from the human-readable table",
                d.id
            ));
        }
    }
    problems
}

// ---------------------------------------------------------------------------------------------

fn conformance_dir() -> PathBuf {
    let root = workspace_root();
    match std::env::var_os(ENV_VAR) {
        Some(dir) => root.join(dir),
        None => root.join(DEFAULT_DIR),
    }
}

#[test]
fn kubeaudit_conformance() {
    let dir = conformance_dir();
    let expectations_path = dir.join("expectations.yaml");
    assert!(
        expectations_path.is_file(),
        "kubeaudit conformance data not found: {} does not exist. Point {ENV_VAR} at the folder \
         holding expectations.yaml, fixtures/ and AUDITS.md (default: {DEFAULT_DIR} from the \
         workspace root).",
        expectations_path.display()
    );
    let text = std::fs::read_to_string(&expectations_path).expect("read expectations.yaml");
    let expectations = parse_expectations(&text);

    let doc_path = workspace_root().join(COMPAT_DOC);
    let markdown = std::fs::read_to_string(&doc_path)
        .unwrap_or_else(|e| panic!("{}: {e}", doc_path.display()));
    let (deviations, outside) =
        parse_deviations(&markdown).unwrap_or_else(|e| panic!("{COMPAT_DOC}: {e}"));

    // Failures, grouped by the auditor that prefixes the case id.
    let mut failures: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut fail = |group: &str, text: String| {
        failures.entry(group.to_owned()).or_default().push(text);
    };

    // The counts must match the header, so no case is lost to a parsing slip.
    let count = |key: &str| expectations.counts.get(key).copied();
    let mut count_problems = Vec::new();
    let mut check_count = |key: &str, actual: usize| {
        if count(key) != Some(actual) {
            count_problems.push(format!(
                "counts.{key} is {:?} but the file holds {actual}",
                count(key)
            ));
        }
    };
    check_count("cases_audit", expectations.audit.len());
    check_count("cases_autofix", expectations.autofix);
    check_count(
        "cases",
        expectations.audit.len() + expectations.autofix + expectations.unknown_types.len(),
    );
    for (section, len) in &expectations.sections {
        check_count(section, *len);
    }
    for p in count_problems {
        fail("expectations.yaml", p);
    }
    for t in &expectations.unknown_types {
        fail("expectations.yaml", format!("case {t}: unknown case type"));
    }

    let by_id: BTreeMap<&str, &Deviation> = deviations.iter().map(|d| (d.id.as_str(), d)).collect();
    for d in &deviations {
        if !expectations.audit.iter().any(|c| c.id == d.id) {
            fail(
                "docs",
                format!(
                    "{COMPAT_DOC}: deviation {} names no audit case: remove or fix the entry",
                    d.id
                ),
            );
        }
    }
    for p in doc_problems(&outside, &deviations) {
        fail("docs", p);
    }

    let (mut passed, mut deviated, mut failed) = (0usize, 0usize, 0usize);
    let mut seen_ids = BTreeSet::new();
    for case in &expectations.audit {
        if !seen_ids.insert(case.id.as_str()) {
            fail("expectations.yaml", format!("case id {} repeats", case.id));
        }
        let run = run_case(case, &dir);
        let verdict = judge(
            &case.rules_exact,
            by_id.get(case.id.as_str()).copied(),
            &run,
        );
        let group = case.id.split('.').next().unwrap_or("?");
        match verdict {
            Verdict::Upstream => {
                passed += 1;
                println!("ok         {}", case.id);
            }
            Verdict::Deviation => {
                deviated += 1;
                println!("deviation  {}", case.id);
            }
            Verdict::Fail(why) => {
                failed += 1;
                println!("FAIL       {}", case.id);
                fail(
                    group,
                    format!(
                        "{} [{}] ({})\n      {why}",
                        case.id,
                        case.auditors.join(","),
                        case.describe_manifest()
                    ),
                );
            }
        }
    }

    println!(
        "kubeaudit conformance: {} audit cases, {passed} passed as upstream, {deviated} asserted \
         as documented deviations, {failed} failed; {} autofix cases belong to `palisade fix` \
         (not run here)",
        expectations.audit.len(),
        expectations.autofix
    );
    for (section, why) in OTHER_SECTIONS {
        let n = expectations.sections.get(section).copied().unwrap_or(0);
        println!("  {section}: {n} not run here: {why}");
    }

    if !failures.is_empty() {
        let mut msg = String::from("kubeaudit conformance failures, by auditor:\n");
        for (group, items) in &failures {
            let _ = writeln!(msg, "\n{group} ({}):", items.len());
            for item in items {
                let _ = writeln!(msg, "  {item}");
            }
        }
        panic!("{msg}");
    }
}

// ---------------------------------------------------------------------------------------------
// The harness's own logic, on small inputs

mod harness {
    use super::*;

    fn codes(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn run(list: &[&str]) -> Run {
        Run {
            codes: codes(list),
            problems: Vec::new(),
            results_mismatch: None,
        }
    }

    fn deviation(list: &[&str]) -> Deviation {
        Deviation {
            id: "x".to_owned(),
            expect_codes: codes(list),
        }
    }

    #[test]
    fn judges_cases() {
        let upstream = codes(&["A"]);
        assert_eq!(judge(&upstream, None, &run(&["A"])), Verdict::Upstream);
        assert!(matches!(
            judge(&upstream, None, &run(&["A", "B"])),
            Verdict::Fail(_)
        ));
        assert!(matches!(
            judge(&upstream, None, &run(&[])),
            Verdict::Fail(_)
        ));
        // A documented deviation is asserted instead of upstream's expectation.
        let d = deviation(&["B"]);
        assert_eq!(judge(&upstream, Some(&d), &run(&["B"])), Verdict::Deviation);
        assert!(matches!(
            judge(&upstream, Some(&d), &run(&["C"])),
            Verdict::Fail(_)
        ));
        // A stale deviation fails: the case meets upstream.
        let Verdict::Fail(why) = judge(&upstream, Some(&d), &run(&["A"])) else {
            panic!("a stale deviation must fail");
        };
        assert!(why.contains("remove the entry"), "{why}");
        // A deviation equal to upstream deviates from nothing.
        assert!(matches!(
            judge(&upstream, Some(&deviation(&["A"])), &run(&["B"])),
            Verdict::Fail(_)
        ));
        // Problems (e.g. an auditor without rules) fail even an empty expectation.
        let mut r = run(&[]);
        r.problems.push("no rule".to_owned());
        assert!(matches!(judge(&codes(&[]), None, &r), Verdict::Fail(_)));
        // A results mismatch fails a case whose codes match.
        let mut r = run(&["A"]);
        r.results_mismatch = Some("message".to_owned());
        assert!(matches!(judge(&upstream, None, &r), Verdict::Fail(_)));
    }

    fn finding(code: &str, message: &str, name: &str) -> Finding {
        Finding {
            code: "CMP001",
            name: "test",
            severity: palisade_diagnostics::Severity::Medium,
            section: palisade_diagnostics::Section::Components,
            message: message.to_owned(),
            remediation: "".into(),
            resource: std::sync::Arc::new(ObjectRef {
                api_version: "batch/v1beta1".to_owned(),
                kind: "CronJob".to_owned(),
                namespace: None,
                name: Some(name.to_owned()),
            }),
            container: None,
            file: None,
            line: None,
            column: None,
            end_line: None,
            end_column: None,
            range: None,
            path: String::new(),
            missing: None,
            kubeaudit_code: Some(code.to_owned().into()),
            pss: None,
            suppressed: None,
            kubectl: None,
            related: Vec::new(),
            fix: None,
            source_line: None,
        }
    }

    #[test]
    fn compares_pinned_results() {
        let expected = ExpectedResults {
            resources_with_results: Some(1),
            results: vec![("DeprecatedAPIUsed".to_owned(), "m".to_owned())],
            exact: true,
        };
        let one = finding("DeprecatedAPIUsed", "m", "a");
        assert_eq!(compare_results(&expected, &[&one]), None);
        let other_message = finding("DeprecatedAPIUsed", "other", "a");
        assert!(compare_results(&expected, &[&other_message]).is_some());
        // Two resources with results where one is expected.
        let second = finding("DeprecatedAPIUsed", "m", "b");
        assert!(compare_results(&expected, &[&one, &second]).is_some());
        // An extra result on the same resource breaks `results_exact` only.
        let extra = finding("Other", "x", "a");
        assert!(compare_results(&expected, &[&one, &extra]).is_some());
        let loose = ExpectedResults {
            exact: false,
            ..expected
        };
        assert_eq!(compare_results(&loose, &[&one, &extra]), None);
        assert!(compare_results(&loose, &[]).is_some());
    }

    #[test]
    fn reads_the_deviation_block() {
        let md = "intro `a.b`\n\n```yaml\ndeviations:\n- id: a.b\n  expect_codes: [X]\n  \
                  reason: because\n```\ntail\n";
        let (devs, outside) = parse_deviations(md).unwrap();
        assert_eq!(devs.len(), 1);
        assert_eq!(devs[0].id, "a.b");
        assert_eq!(devs[0].expect_codes, codes(&["X"]));
        assert!(outside.contains("intro") && outside.contains("tail"));
        assert!(!outside.contains("deviations:"));
        assert!(
            doc_problems(&outside, &devs)
                .iter()
                .all(|p| !p.contains("a.b"))
        );
        let (empty, _) = parse_deviations("```yaml\ndeviations: []\n```\n").unwrap();
        assert!(empty.is_empty());
        assert!(parse_deviations("no block").is_err());
        assert!(parse_deviations("```yaml\ndeviations: []\n```\n```yaml\nx: 1\n```\n").is_err());
        let no_reason = "```yaml\ndeviations:\n- id: a\n  expect_codes: []\n  reason: ''\n```\n";
        assert!(parse_deviations(no_reason).is_err());
        let twice = "```yaml\ndeviations:\n- {id: a, expect_codes: [], reason: r}\n- {id: a, \
                     expect_codes: [], reason: r}\n```\n";
        assert!(parse_deviations(twice).is_err());
    }

    #[test]
    fn reads_kubeaudit_config() {
        let text = "config:\n  enabledAuditors: {deprecatedapis: false}\n  auditors:\n    \
                    capabilities: {allowAddList: [NET_ADMIN]}\n    image: {image: 'scratch:1.5'}\n    \
                    limits: {cpu: 600m, memory: '384'}\n    mounts: {denyPathsList: []}\n    \
                    deprecatedapis: {currentVersion: '1.20', targetedVersion: '1.25'}\n";
        let s = with_document(text, "test", |doc, root| {
            settings_from_config(doc, doc.get(root, "config").unwrap())
        })
        .unwrap();
        assert_eq!(s.allowed_capabilities, ["NET_ADMIN"]);
        assert_eq!(s.required_image.as_deref(), Some("scratch:1.5"));
        assert_eq!(s.max_cpu, Quantity::parse("600m"));
        assert_eq!(s.max_memory, Quantity::parse("384"));
        assert_eq!(s.sensitive_paths, Settings::default().sensitive_paths);
        assert_eq!(s.current_version, Some((1, 20)));
        assert_eq!(s.target_version, (1, 25));
        let bad = "config: {auditors: {limits: {cpu: lots}}}\n";
        let err = with_document(bad, "test", |doc, root| {
            settings_from_config(doc, doc.get(root, "config").unwrap())
        });
        assert!(err.is_err());
        let unknown = "config: {auditors: {image: {tag: x}}}\n";
        let err = with_document(unknown, "test", |doc, root| {
            settings_from_config(doc, doc.get(root, "config").unwrap())
        });
        assert!(err.is_err());
    }
}
