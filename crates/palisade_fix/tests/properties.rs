//! Laws of `palisade fix`, on generated workloads (proptest) and on the real corpus
//! (`../shared/corpus/real`, or `$PALISADE_CORPUS`): with every rule selected and unsafe fixes
//! on, the fixed text parses, a second run changes nothing, no fixable finding is left, every
//! comment line survives in order, and every line that changed holds a field some fix targets.

use std::path::{Path, PathBuf};

use palisade_fix::{FixOptions, fix_text};
use palisade_rules::{DefaultResources, Engine, Selection, Settings, SourceFile};
use proptest::prelude::*;
use similar::{ChangeTag, TextDiff};

fn engine() -> Engine {
    let rules = Selection {
        select: vec!["ALL".to_owned()],
        ..Selection::default()
    }
    .resolve()
    .expect("ALL");
    let settings = Settings {
        fix_run_as_user: Some(10001),
        default_resources: DefaultResources {
            cpu_request: Some("100m".to_owned()),
            memory_request: Some("128Mi".to_owned()),
            cpu_limit: Some("500m".to_owned()),
            memory_limit: Some("256Mi".to_owned()),
        },
        ..Settings::default()
    };
    Engine::new(rules, settings)
}

/// Words that appear on every line a fix may change or remove.
const TARGETS: &[&str] = &[
    "privileged",
    "allowPrivilegeEscalation",
    "readOnlyRootFilesystem",
    "runAsNonRoot",
    "runAsUser",
    "hostNetwork",
    "hostPID",
    "hostIPC",
    "imagePullPolicy",
    "apiVersion",
    "type:",
    "automountServiceAccountToken",
    "serviceAccount",
    "capabilities",
    "apparmor",
    "seccomp",
    "limits",
    "requests",
    "cpu:",
    "memory:",
    "drop",
    "add",
    "- ",
    "{",
];

fn is_comment_line(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// Checks every law on one text; `Err` says which one broke.
fn laws(engine: &Engine, name: &str, text: &str) -> Result<(), String> {
    let options = FixOptions {
        unsafe_fixes: true,
        ..FixOptions::default()
    };
    let before = engine.check_file(SourceFile {
        path: Some(name),
        text,
    });
    let out = fix_text(engine, Some(name), text, options);
    if !before.errors.is_empty() || before.stats.templates > 0 {
        // Input that does not parse (or a template) is left as it is.
        return if out.fixed == text {
            Ok(())
        } else {
            Err("a file that does not parse was changed".to_owned())
        };
    }
    if let Some(e) = &out.error {
        return Err(format!("fix failed: {e}"));
    }
    let after = engine.check_file(SourceFile {
        path: Some(name),
        text: &out.fixed,
    });
    if !after.errors.is_empty() {
        return Err(format!("the fixed text does not parse: {:?}", after.errors));
    }
    let again = fix_text(engine, Some(name), &out.fixed, options);
    if again.fixed != out.fixed {
        return Err("a second run changes the text again".to_owned());
    }
    let failed: Vec<String> = out
        .left
        .iter()
        .filter(|l| l.applicability != palisade_diagnostics::Applicability::DisplayOnly)
        .map(|l| format!("{} line {:?}: {}", l.code, l.line, l.reason))
        .collect();
    if !failed.is_empty() {
        return Err(format!("fixes left unapplied: {}", failed.join("; ")));
    }
    let fixable: Vec<String> = after
        .findings
        .iter()
        .filter(|f| {
            f.suppressed.is_none()
                && f.fix.as_ref().is_some_and(|x| {
                    x.applicability != palisade_diagnostics::Applicability::DisplayOnly
                })
        })
        .map(|f| format!("{} {}", f.code, f.message))
        .collect();
    if !fixable.is_empty() {
        return Err(format!("fixable findings left: {}", fixable.join("; ")));
    }
    // Comment lines survive, in order.
    let mut fixed_lines = out.fixed.lines().filter(|l| is_comment_line(l));
    for c in text.lines().filter(|l| is_comment_line(l)) {
        if !fixed_lines.any(|f| f == c) {
            return Err(format!("comment line lost: {c:?}"));
        }
    }
    // Only targeted lines change.
    // A text without a final line break gets one when a line is added after its last line;
    // that line's text does not change.
    let with_break = |t: &str| {
        if t.ends_with('\n') {
            t.to_owned()
        } else {
            format!("{t}\n")
        }
    };
    let (a, b) = (with_break(text), with_break(&out.fixed));
    let diff = TextDiff::from_lines(&a, &b);
    for change in diff.iter_all_changes() {
        if change.tag() == ChangeTag::Delete {
            let line = change.value();
            if is_comment_line(line) || !TARGETS.iter().any(|t| line.contains(t)) {
                return Err(format!("an untargeted line changed: {line:?}"));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Generated workloads

#[derive(Clone, Debug)]
struct Gen {
    deployment: bool,
    step: usize,
    indentless: bool,
    host_network: bool,
    pod_non_root_false: bool,
    containers: Vec<GenContainer>,
    comments: Vec<bool>,
}

#[derive(Clone, Debug)]
struct GenContainer {
    latest: bool,
    pull_if_not_present: bool,
    /// 0: none, 1: block, 2: flow, 3: empty `{}`, 4: `securityContext:` with no value.
    sc_style: u8,
    privileged: Option<bool>,
    escalation: bool,
    root: bool,
    drop_net_raw: bool,
    add_net_admin: bool,
}

fn container_strategy() -> impl Strategy<Value = GenContainer> {
    (
        any::<bool>(),
        any::<bool>(),
        0u8..5,
        proptest::option::of(any::<bool>()),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(latest, pull, sc_style, privileged, escalation, root, drop_net_raw, add)| {
                GenContainer {
                    latest,
                    pull_if_not_present: pull,
                    sc_style,
                    privileged,
                    escalation,
                    root,
                    drop_net_raw,
                    add_net_admin: add,
                }
            },
        )
}

fn gen_strategy() -> impl Strategy<Value = Gen> {
    (
        any::<bool>(),
        prop_oneof![Just(2usize), Just(4usize)],
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        proptest::collection::vec(container_strategy(), 1..4),
        proptest::collection::vec(any::<bool>(), 64),
    )
        .prop_map(
            |(deployment, step, indentless, host_network, pod_false, containers, comments)| Gen {
                deployment,
                step,
                indentless,
                host_network,
                pod_non_root_false: pod_false,
                containers,
                comments,
            },
        )
}

struct Writer {
    out: String,
    comments: Vec<bool>,
    n: usize,
}

impl Writer {
    fn line(&mut self, indent: usize, text: &str) {
        let comment = self.comments.get(self.n % self.comments.len()).copied();
        self.n += 1;
        if comment == Some(true) {
            self.out.push_str(&" ".repeat(indent));
            self.out.push_str(&format!("# note {}\n", self.n));
        }
        self.out.push_str(&" ".repeat(indent));
        self.out.push_str(text);
        self.out.push('\n');
    }
}

fn render(g: &Gen) -> String {
    let s = g.step;
    let mut w = Writer {
        out: String::new(),
        comments: g.comments.clone(),
        n: 0,
    };
    let (api, kind) = if g.deployment {
        ("apps/v1", "Deployment")
    } else {
        ("v1", "Pod")
    };
    w.line(0, &format!("apiVersion: {api}"));
    w.line(0, &format!("kind: {kind}"));
    w.line(0, "metadata:");
    w.line(s, "name: generated # the name");
    w.line(0, "spec:");
    let mut base = s;
    if g.deployment {
        w.line(s, "selector: {matchLabels: {app: x}}");
        w.line(s, "template:");
        w.line(2 * s, "metadata: {labels: {app: x}}");
        w.line(2 * s, "spec:");
        base = 3 * s;
    }
    if g.host_network {
        w.line(base, "hostNetwork: true # needed for the CNI");
    }
    if g.pod_non_root_false {
        w.line(base, "securityContext:");
        w.line(base + s, "runAsNonRoot: false");
    }
    w.line(base, "containers:");
    let dash = if g.indentless { base } else { base + s };
    for (i, c) in g.containers.iter().enumerate() {
        let inner = dash + 2;
        w.line(dash, &format!("- name: c{i}"));
        let tag = if c.latest { "latest" } else { "1.2.3" };
        w.line(inner, &format!("image: \"registry.example.com/app:{tag}\""));
        if c.pull_if_not_present {
            w.line(inner, "imagePullPolicy: IfNotPresent");
        }
        let mut fields: Vec<String> = Vec::new();
        if let Some(p) = c.privileged {
            fields.push(format!("privileged: {p}"));
        }
        if c.escalation {
            fields.push("allowPrivilegeEscalation: true".to_owned());
        }
        if c.root {
            fields.push("runAsUser: 0".to_owned());
        }
        match c.sc_style {
            1 if !fields.is_empty() || c.drop_net_raw || c.add_net_admin => {
                w.line(inner, "securityContext:");
                for f in &fields {
                    w.line(inner + s, f);
                }
                if c.drop_net_raw || c.add_net_admin {
                    w.line(inner + s, "capabilities:");
                    if c.drop_net_raw {
                        w.line(inner + 2 * s, "drop:");
                        w.line(inner + 2 * s, "- NET_RAW");
                    }
                    if c.add_net_admin {
                        w.line(inner + 2 * s, "add: [NET_ADMIN]");
                    }
                }
            }
            2 => {
                if c.drop_net_raw {
                    fields.push("capabilities: {drop: [NET_RAW]}".to_owned());
                }
                w.line(
                    inner,
                    &format!("securityContext: {{{}}}", fields.join(", ")),
                );
            }
            3 => w.line(inner, "securityContext: {}"),
            4 => w.line(inner, "securityContext: # to do"),
            _ => {}
        }
    }
    w.out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn generated_workloads_obey_the_laws(g in gen_strategy()) {
        let text = render(&g);
        let engine = engine();
        if let Err(e) = laws(&engine, "generated.yaml", &text) {
            prop_assert!(false, "{e}\n--- input ---\n{text}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The real corpus

fn corpus() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::env::var_os("PALISADE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/corpus/real"))
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            out.push(p);
        }
    }
}

#[test]
fn real_corpus_obeys_the_laws() {
    let dir = corpus();
    assert!(
        dir.is_dir(),
        "corpus {} is missing (set PALISADE_CORPUS)",
        dir.display()
    );
    let mut files = Vec::new();
    yaml_files(&dir, &mut files);
    assert!(
        files.len() > 1000,
        "the corpus looks incomplete: {} files",
        files.len()
    );
    let engine = engine();
    let mut failures = Vec::new();
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        if let Err(e) = laws(&engine, &path.display().to_string(), &text) {
            failures.push(format!("{}: {e}", path.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} files break a law:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}
