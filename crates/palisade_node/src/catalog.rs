//! The benchmark's controls, read once from the vendored `data/cis-controls.yaml`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use palisade_yaml::{Document, DocumentChunk, NodeId, parse_chunk};

use crate::codes::CONTROL_CODES;

/// The vendored control data (see `data/README.md`).
pub const CONTROLS_YAML: &str = include_str!("../data/cis-controls.yaml");

/// What part of the node a control inspects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Component {
    ApiServer,
    ControllerManager,
    Scheduler,
    Etcd,
    Kubelet,
    KubeProxy,
    ControlPlaneFiles,
    Cluster,
}

impl Component {
    pub fn as_str(self) -> &'static str {
        match self {
            Component::ApiServer => "kube-apiserver",
            Component::ControllerManager => "kube-controller-manager",
            Component::Scheduler => "kube-scheduler",
            Component::Etcd => "etcd",
            Component::Kubelet => "kubelet",
            Component::KubeProxy => "kube-proxy",
            Component::ControlPlaneFiles => "control-plane files",
            Component::Cluster => "cluster",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "apiserver" => Component::ApiServer,
            "controller-manager" => Component::ControllerManager,
            "scheduler" => Component::Scheduler,
            "etcd" => Component::Etcd,
            "kubelet" => Component::Kubelet,
            "kube-proxy" => Component::KubeProxy,
            "control-plane-files" => Component::ControlPlaneFiles,
            "cluster" => Component::Cluster,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckKind {
    Flag,
    Config,
    FileMode,
    FileOwner,
    Api,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Present,
    Absent,
    Eq,
    NotEq,
    Gte,
    Has,
    NotHave,
    ValidElements,
    Bitmask,
    Other,
}

/// One test of a control.
#[derive(Clone, Debug)]
pub struct Check {
    pub kind: CheckKind,
    /// A flag (`--profiling`), a file target (`kubelet_config`) or an API resource.
    pub target: String,
    pub config_key: Option<String>,
    pub env: Option<String>,
    /// Key inside a `config` target.
    pub key: Option<String>,
    pub op: Op,
    /// `match: element`: membership of a whole comma-separated element.
    pub element: bool,
    pub value: String,
    /// What kube-bench concludes when the flag or key is absent: `Some(true)` = pass.
    pub if_absent_pass: bool,
    /// The component's own value when nothing sets it (flag default).
    pub default: Option<String>,
    /// The kubelet's KubeletConfiguration default, when it differs from the flag default.
    pub config_default: Option<String>,
}

/// One recommendation of the benchmark.
#[derive(Clone, Debug)]
pub struct Control {
    pub id: String,
    pub code: &'static str,
    /// `cis-1.2.5`: the control's id as a rule name.
    pub name: String,
    /// master | etcd | controlplane | node | policies
    pub section: String,
    pub group: String,
    pub component: Component,
    pub title: String,
    pub automated: bool,
    /// `combine: any` (kube-bench `bin_op: or`).
    pub any: bool,
    pub multiple: bool,
    pub checks: Vec<Check>,
    pub remediation: String,
    pub notes: Option<String>,
    /// For manual controls: what a person should look at.
    pub manual_review: Option<String>,
}

/// A named file of the benchmark and where to look for it.
#[derive(Clone, Debug, Default)]
pub struct Target {
    pub candidates: Vec<String>,
    pub fixed: Vec<String>,
    pub glob: Option<String>,
}

#[derive(Debug)]
pub struct Catalog {
    pub benchmark: String,
    pub controls: Vec<Control>,
    pub targets: BTreeMap<String, Target>,
}

/// The parsed control data. Panics only if the embedded file is broken, which the crate's tests
/// rule out.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| parse(CONTROLS_YAML).expect("the embedded cis-controls.yaml is valid"))
}

fn text(doc: &Document<'_>, map: NodeId, key: &str) -> Option<String> {
    doc.get(map, key)
        .and_then(|v| doc.text_of(v))
        .map(|s| s.trim().to_owned())
}

fn strings(doc: &Document<'_>, map: NodeId, key: &str) -> Vec<String> {
    doc.get(map, key)
        .map(|v| {
            doc.items(v)
                .iter()
                .filter_map(|&i| doc.text_of(i).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Parses control data in the schema of `cis-controls.yaml`.
pub fn parse(source: &str) -> Result<Catalog, String> {
    let parsed = parse_chunk(
        source,
        DocumentChunk {
            start: 0,
            end: source.len(),
        },
        false,
    );
    if let Some(e) = parsed.errors.first() {
        return Err(format!("at byte {}: {}", e.offset, e.message));
    }
    let doc = parsed.documents.first().ok_or("empty control data")?;
    let root = doc.root().ok_or("empty control data")?;
    let bench = doc.get(root, "benchmark").ok_or("no `benchmark`")?;
    let benchmark = format!(
        "{} v{}",
        text(doc, bench, "name").unwrap_or_default(),
        text(doc, bench, "version").unwrap_or_default()
    );
    let mut targets = BTreeMap::new();
    if let Some(t) = doc.get(root, "targets") {
        for &(k, v) in doc.entries(t) {
            let name = doc.text_of(k).unwrap_or_default().to_owned();
            targets.insert(
                name,
                Target {
                    candidates: strings(doc, v, "candidates"),
                    fixed: strings(doc, v, "fixed"),
                    glob: text(doc, v, "glob"),
                },
            );
        }
    }
    let list = doc.get(root, "controls").ok_or("no `controls`")?;
    let mut controls = Vec::new();
    for &c in doc.items(list) {
        let id = text(doc, c, "id").ok_or("a control without `id`")?;
        let field =
            |key: &str| text(doc, c, key).ok_or_else(|| format!("control {id}: no `{key}`"));
        let code = CONTROL_CODES
            .iter()
            .find(|(cis, _)| *cis == id)
            .map(|(_, code)| *code)
            .ok_or_else(|| format!("control {id} has no code in codes.rs"))?;
        let component = field("component")?;
        let component = Component::parse(&component)
            .ok_or_else(|| format!("control {id}: unknown component `{component}`"))?;
        let mut checks = Vec::new();
        if let Some(list) = doc.get(c, "checks") {
            for &k in doc.items(list) {
                checks.push(parse_check(doc, k).map_err(|e| format!("control {id}: {e}"))?);
            }
        }
        controls.push(Control {
            name: format!("cis-{id}"),
            code,
            section: field("section")?,
            group: field("group")?,
            component,
            title: field("title")?,
            automated: doc.get(c, "automated").and_then(|v| doc.bool(v)) == Some(true),
            any: text(doc, c, "combine").as_deref() == Some("any"),
            multiple: doc.get(c, "multiple").and_then(|v| doc.bool(v)) == Some(true),
            checks,
            remediation: field("remediation")?,
            notes: text(doc, c, "notes"),
            manual_review: text(doc, c, "manual_review"),
            id,
        });
    }
    Ok(Catalog {
        benchmark,
        controls,
        targets,
    })
}

fn parse_check(doc: &Document<'_>, k: NodeId) -> Result<Check, String> {
    let get = |key: &str| text(doc, k, key);
    let kind = match get("kind").as_deref() {
        Some("flag") => CheckKind::Flag,
        Some("config") => CheckKind::Config,
        Some("file_mode") => CheckKind::FileMode,
        Some("file_owner") => CheckKind::FileOwner,
        Some("api") => CheckKind::Api,
        other => return Err(format!("unknown check kind {other:?}")),
    };
    let op = match get("op").as_deref() {
        Some("present") => Op::Present,
        Some("absent") => Op::Absent,
        Some("eq") => Op::Eq,
        Some("noteq") => Op::NotEq,
        Some("gte") => Op::Gte,
        Some("has") => Op::Has,
        Some("nothave") => Op::NotHave,
        Some("valid_elements") => Op::ValidElements,
        Some("bitmask") => Op::Bitmask,
        Some(_) if kind == CheckKind::Api => Op::Other,
        other => return Err(format!("unknown op {other:?}")),
    };
    Ok(Check {
        kind,
        target: get("target").ok_or("a check without `target`")?,
        config_key: get("config_key"),
        env: get("env"),
        key: get("key"),
        op,
        element: get("match").as_deref() == Some("element"),
        value: get("value").unwrap_or_default(),
        if_absent_pass: get("if_absent").as_deref() == Some("pass"),
        default: get("default"),
        config_default: get("config_default"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_control_parses_with_the_counts_the_file_declares() {
        let c = catalog();
        assert_eq!(c.controls.len(), 131);
        assert_eq!(c.controls.iter().filter(|c| c.automated).count(), 65);
        let by = |s: &str| c.controls.iter().filter(|c| c.section == s).count();
        assert_eq!(
            (
                by("master"),
                by("etcd"),
                by("controlplane"),
                by("node"),
                by("policies")
            ),
            (60, 7, 5, 25, 34)
        );
        assert_eq!(c.benchmark, "CIS Kubernetes Benchmark v1.12");
        assert!(c.targets.contains_key("kubelet_config"));
    }

    #[test]
    fn every_control_has_a_unique_code_in_the_schema_pattern() {
        let c = catalog();
        let mut seen = std::collections::HashSet::new();
        for control in &c.controls {
            let code = control.code.as_bytes();
            assert!(code.len() == 6 && code[..3] == *b"NOD");
            assert!(code[3..].iter().all(u8::is_ascii_digit), "{}", control.code);
            assert!(seen.insert(control.code), "duplicate {}", control.code);
            assert_eq!(&control.code[3..4], &control.id[..1], "{}", control.id);
        }
        assert_eq!(CONTROL_CODES.len(), c.controls.len());
    }

    #[test]
    fn spot_checks_match_the_source() {
        let c = catalog();
        let find = |id: &str| c.controls.iter().find(|c| c.id == id).unwrap();
        let k = &find("4.2.1").checks[0];
        assert_eq!(k.target, "--anonymous-auth");
        assert_eq!(
            k.config_key.as_deref(),
            Some("authentication.anonymous.enabled")
        );
        assert_eq!(k.default.as_deref(), Some("true"));
        assert_eq!(k.config_default.as_deref(), Some("false"));
        assert_eq!(find("1.2.4").checks.len(), 2);
        assert!(find("1.2.10").checks[0].if_absent_pass);
        assert!(find("1.2.6").checks[0].element);
        assert_eq!(find("1.1.1").code, "NOD101");
        assert_eq!(find("4.2.1").code, "NOD411");
    }
}
