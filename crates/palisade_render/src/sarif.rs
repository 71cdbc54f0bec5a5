//! SARIF 2.1.0 for code-scanning UIs (GitHub code scanning, Azure DevOps, VS Code's SARIF
//! viewer). One run; one rule descriptor per selected rule; results streamed file by file.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use palisade_diagnostics::{Finding, Severity};
use palisade_rules::{InputError, RuleMeta};
use serde_json::{Value, json};

use crate::fingerprint::{FINGERPRINT_KEY, fingerprint};
use crate::{Reporter, Summary};

pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The base URI id under which relative paths are reported.
pub const SRCROOT: &str = "SRCROOT";
const DOCS_BASE: &str = "https://github.com/palisade-dev/palisade/blob/main/docs/rules/";
const REPOSITORY_BLOB: &str = "https://github.com/palisade-dev/palisade/blob/main/";

/// A rule's page; rules documented on a shared page (node controls) name it in `file`.
fn help_uri(meta: &RuleMeta) -> String {
    if meta.file.starts_with("docs/") {
        format!("{REPOSITORY_BLOB}{}", meta.file)
    } else {
        format!("{DOCS_BASE}{}.md", meta.code)
    }
}

/// GitHub's `security-severity` scale: critical ≥ 9.0, high 7.0–8.9, medium 4.0–6.9, low < 4.
pub fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// SARIF's `level` for a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// Streams one SARIF log: the header and rule descriptors first, results as they come, then
/// the invocation (with input errors as notifications).
pub struct SarifReporter<W: Write> {
    out: W,
    rules: Vec<&'static RuleMeta>,
    index: HashMap<&'static str, usize>,
    root: Option<PathBuf>,
    started: bool,
    first: bool,
}

impl<W: Write> SarifReporter<W> {
    /// `rules`: the rules that ran, in order; `root`: the absolute folder relative paths start
    /// from (normally the working folder), reported as `originalUriBaseIds.SRCROOT`.
    pub fn new(out: W, rules: Vec<&'static RuleMeta>, root: Option<PathBuf>) -> Self {
        let index = rules.iter().enumerate().map(|(i, r)| (r.code, i)).collect();
        Self {
            out,
            rules,
            index,
            root,
            started: false,
            first: true,
        }
    }

    fn rule_descriptor(meta: &RuleMeta) -> Value {
        let docs = palisade_rules::rule_doc_body(meta);
        json!({
            "id": meta.code,
            "name": meta.name,
            "shortDescription": { "text": meta.summary },
            "fullDescription": { "text": meta.summary },
            "help": { "text": docs, "markdown": docs },
            "helpUri": help_uri(meta),
            "defaultConfiguration": { "level": level(meta.severity) },
            "properties": {
                "security-severity": security_severity(meta.severity),
                "tags": ["security", "kubernetes", meta.section.as_str()],
                "precision": "very-high",
                "problem.severity": match meta.severity {
                    Severity::Critical | Severity::High => "error",
                    Severity::Medium => "warning",
                    Severity::Low | Severity::Info => "recommendation",
                },
            }
        })
    }

    fn start(&mut self) -> std::io::Result<()> {
        if self.started {
            return Ok(());
        }
        self.started = true;
        let rules: Vec<Value> = self
            .rules
            .iter()
            .map(|m| Self::rule_descriptor(m))
            .collect();
        let mut bases = serde_json::Map::new();
        if let Some(root) = &self.root {
            bases.insert(
                SRCROOT.to_owned(),
                json!({ "uri": dir_uri(root), "description": { "text": "The folder palisade ran in" } }),
            );
        }
        let driver = json!({
            "name": "palisade",
            "informationUri": "https://github.com/palisade-dev/palisade",
            "version": env!("CARGO_PKG_VERSION"),
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "rules": rules,
        });
        write!(
            self.out,
            "{{\"$schema\":\"{SARIF_SCHEMA}\",\"version\":\"2.1.0\",\"runs\":[{{\"tool\":{{\"driver\":"
        )?;
        serde_json::to_writer(&mut self.out, &driver)?;
        self.out.write_all(b"},\"originalUriBaseIds\":")?;
        serde_json::to_writer(&mut self.out, &bases)?;
        self.out
            .write_all(b",\"columnKind\":\"unicodeCodePoints\",\"results\":[")
    }

    fn artifact(&self, file: Option<&str>) -> Value {
        match file {
            None | Some("<stdin>") => json!({ "uri": "stdin" }),
            Some(file) => {
                let path = Path::new(file);
                if path.is_absolute() {
                    if let Some(rel) = self.root.as_deref().and_then(|r| path.strip_prefix(r).ok())
                    {
                        json!({ "uri": encode_path(&rel.to_string_lossy()), "uriBaseId": SRCROOT })
                    } else {
                        json!({ "uri": format!("file://{}", encode_path(file)) })
                    }
                } else {
                    json!({ "uri": encode_path(file), "uriBaseId": SRCROOT })
                }
            }
        }
    }

    fn result(&self, f: &Finding) -> Value {
        let mut region = serde_json::Map::new();
        if let (Some(l), Some(c)) = (f.line, f.column) {
            region.insert("startLine".into(), l.into());
            region.insert("startColumn".into(), c.into());
            if let (Some(el), Some(ec)) = (f.end_line, f.end_column) {
                region.insert("endLine".into(), el.into());
                region.insert("endColumn".into(), ec.into());
            }
        }
        let mut physical = json!({ "artifactLocation": self.artifact(f.file.as_deref()) });
        if !region.is_empty() {
            physical["region"] = Value::Object(region);
            if let (Some(src), Some(l)) = (&f.source_line, f.line) {
                physical["contextRegion"] = json!({ "startLine": l, "snippet": { "text": src } });
            }
        }
        let r = &f.resource;
        let object = object_name(r);
        let mut logical = vec![json!({
            "name": r.name.as_deref().unwrap_or(&r.kind),
            "fullyQualifiedName": object,
            "kind": "resource",
            "properties": {
                "apiVersion": r.api_version,
                "kind": r.kind,
                "namespace": r.namespace,
                "name": r.name,
            }
        })];
        if let Some(c) = &f.container {
            logical.push(json!({
                "name": c.name,
                "fullyQualifiedName": format!("{object}/{}/{}", c.kind.field(), c.name),
                "kind": "member",
            }));
        }
        if !f.path.is_empty() {
            let field = match &f.missing {
                Some(m) => format!("{}.{m}", f.path),
                None => f.path.clone(),
            };
            logical.push(json!({
                "name": field,
                "fullyQualifiedName": format!("{object}:{field}"),
                "kind": "property",
            }));
        }
        let related: Vec<Value> = f
            .related
            .iter()
            .enumerate()
            .map(|(i, rel)| {
                let mut loc = json!({
                    "id": i + 1,
                    "message": { "text": rel.message },
                    "logicalLocations": [{
                        "name": rel.resource.name.as_deref().unwrap_or(&rel.resource.kind),
                        "fullyQualifiedName": format!("{}:{}", object_name(&rel.resource), rel.path),
                        "kind": "resource",
                    }],
                });
                if rel.file.is_some() || f.file.is_some() {
                    let file = rel.file.as_deref().or(f.file.as_deref());
                    let mut p = json!({ "artifactLocation": self.artifact(file) });
                    if let (Some(l), Some(c)) = (rel.line, rel.column) {
                        p["region"] = json!({ "startLine": l, "startColumn": c });
                    }
                    loc["physicalLocation"] = p;
                }
                loc
            })
            .collect();
        let mut message = f.message.clone();
        message.push_str("\n\nFix: ");
        message.push_str(&f.remediation);
        let mut result = json!({
            "ruleId": f.code,
            "level": level(f.severity),
            "message": { "text": message },
            "locations": [{
                "physicalLocation": physical,
                "logicalLocations": logical,
            }],
            "partialFingerprints": { FINGERPRINT_KEY: fingerprint(f) },
            "properties": {
                "severity": f.severity.as_str(),
                "security-severity": security_severity(f.severity),
                "section": f.section.as_str(),
                "path": f.path,
                "missing": f.missing,
                "kubeauditCode": f.kubeaudit_code,
                "pss": f.pss,
            }
        });
        if let Some(&i) = self.index.get(f.code) {
            result["ruleIndex"] = i.into();
        }
        if let (None, Some(cmd)) = (&f.file, &f.kubectl) {
            // A live object (`palisade cluster`): no file to point at, only the object.
            result["locations"][0]
                .as_object_mut()
                .map(|l| l.remove("physicalLocation"));
            result["properties"]["kubectl"] = cmd.as_str().into();
        }
        if !related.is_empty() {
            result["relatedLocations"] = Value::Array(related);
        }
        if let Some(s) = &f.suppressed {
            // Config exceptions and baselines live outside the file; everything else (labels,
            // annotations, comments) is written in the manifest itself.
            let kind = if s.by.starts_with("exception") {
                "external"
            } else {
                "inSource"
            };
            let mut sup = json!({ "kind": kind, "status": "accepted" });
            let mut justification = s.by.clone();
            if let Some(reason) = &s.reason {
                justification.push_str(": ");
                justification.push_str(reason);
            }
            sup["justification"] = justification.into();
            result["suppressions"] = json!([sup]);
        }
        // Rules do not propose fixes yet. When `Finding` gains edits, they become
        // `result.fixes[]` here: `artifactChanges[].replacements[]` with `deletedRegion` and
        // `insertedContent`.
        result
    }
}

/// `namespace/Kind/name` (`Kind/name` without a namespace).
fn object_name(r: &palisade_diagnostics::ObjectRef) -> String {
    let mut object = String::new();
    if let Some(ns) = &r.namespace {
        object.push_str(ns);
        object.push('/');
    }
    object.push_str(&r.kind);
    object.push('/');
    object.push_str(r.name.as_deref().unwrap_or(""));
    object
}

/// A `file://` URI for a folder, ending in `/` as SARIF requires of base URIs.
fn dir_uri(dir: &Path) -> String {
    let mut s = encode_path(&dir.to_string_lossy().replace('\\', "/"));
    if !s.starts_with('/') {
        s.insert(0, '/');
    }
    if !s.ends_with('/') {
        s.push('/');
    }
    format!("file://{s}")
}

/// Percent-encodes what a URI path may not hold, keeping `/`.
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else if b == b'\\' {
            out.push('/');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl<W: Write> Reporter for SarifReporter<W> {
    fn findings(&mut self, _file: Option<&str>, findings: &[&Finding]) -> std::io::Result<()> {
        self.start()?;
        for f in findings {
            if !self.first {
                self.out.write_all(b",")?;
            }
            self.first = false;
            self.out.write_all(b"\n")?;
            let result = self.result(f);
            serde_json::to_writer(&mut self.out, &result)?;
        }
        Ok(())
    }

    fn finish(&mut self, errors: &[InputError], summary: &Summary) -> std::io::Result<()> {
        self.start()?;
        let notifications: Vec<Value> = errors
            .iter()
            .map(|e| {
                let mut n = json!({
                    "level": "error",
                    "message": { "text": e.message },
                    "descriptor": { "id": format!("input/{}", e.kind) },
                });
                if e.file.is_some() || e.line > 0 {
                    let mut p = json!({ "artifactLocation": self.artifact(e.file.as_deref()) });
                    if e.line > 0 {
                        let mut region = json!({ "startLine": e.line });
                        if e.column > 0 {
                            region["startColumn"] = e.column.into();
                        }
                        p["region"] = region;
                    }
                    n["locations"] = json!([{ "physicalLocation": p }]);
                }
                n
            })
            .collect();
        let invocation = json!({
            "executionSuccessful": errors.is_empty(),
            "toolExecutionNotifications": notifications,
            "properties": { "summary": summary },
        });
        self.out.write_all(b"\n],\"invocations\":[")?;
        serde_json::to_writer(&mut self.out, &invocation)?;
        self.out.write_all(b"]}]}\n")?;
        self.out.flush()
    }
}
