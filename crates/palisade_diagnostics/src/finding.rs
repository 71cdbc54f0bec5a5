use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use crate::{LineCol, TextRange};

/// How bad a finding is. Ordered from least to most severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity `{other}`; expected one of critical, high, medium, low, info"
            )),
        }
    }
}

impl Serialize for Severity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The section of the hardening checklist a rule belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Section {
    Images,
    Components,
    Network,
    Workloads,
    Misc,
}

impl Section {
    pub fn as_str(self) -> &'static str {
        match self {
            Section::Images => "images",
            Section::Components => "components",
            Section::Network => "network",
            Section::Workloads => "workloads",
            Section::Misc => "misc",
        }
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Section {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The identity of a Kubernetes object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ObjectRef {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        match (&self.namespace, &self.name) {
            (Some(ns), Some(name)) => write!(f, " {ns}/{name}"),
            (None, Some(name)) => write!(f, " {name}"),
            _ => Ok(()),
        }
    }
}

/// Which list of the pod spec a container comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContainerKind {
    Container,
    InitContainer,
    EphemeralContainer,
}

impl ContainerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ContainerKind::Container => "container",
            ContainerKind::InitContainer => "initContainer",
            ContainerKind::EphemeralContainer => "ephemeralContainer",
        }
    }

    /// The pod spec field that holds this kind of container.
    pub fn field(self) -> &'static str {
        match self {
            ContainerKind::Container => "containers",
            ContainerKind::InitContainer => "initContainers",
            ContainerKind::EphemeralContainer => "ephemeralContainers",
        }
    }
}

impl Serialize for ContainerKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The container a finding is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ContainerRef {
    pub name: String,
    pub kind: ContainerKind,
}

/// A Pod Security Standards level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PssLevel {
    Baseline,
    Restricted,
}

impl PssLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            PssLevel::Baseline => "baseline",
            PssLevel::Restricted => "restricted",
        }
    }
}

impl Serialize for PssLevel {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The Pod Security Standards control a finding violates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct PssRef {
    pub level: PssLevel,
    pub control: &'static str,
}

/// A secondary location: another object or field that led to the finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RelatedLocation {
    pub message: String,
    pub resource: ObjectRef,
    pub path: String,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

/// Why a finding does not count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Suppression {
    /// What suppressed it: the label, annotation or comment, as written.
    pub by: String,
    pub reason: Option<String>,
}

/// One problem found in one object, with its exact location.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub section: Section,
    pub message: String,
    /// Mostly a fixed text of the rule's, shared rather than copied.
    pub remediation: std::borrow::Cow<'static, str>,
    /// Shared by the findings of one object.
    pub resource: std::sync::Arc<ObjectRef>,
    pub container: Option<ContainerRef>,
    /// The file the object came from; `None` for stdin-less sources such as a live cluster.
    /// Shared by the findings of one file.
    pub file: Option<std::sync::Arc<str>>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    #[serde(rename = "endLine")]
    pub end_line: Option<u32>,
    #[serde(rename = "endColumn")]
    pub end_column: Option<u32>,
    #[serde(rename = "byteRange", serialize_with = "serialize_range")]
    pub range: Option<TextRange>,
    /// Path of the offending field, or of its nearest existing parent when it is missing.
    pub path: String,
    /// The part of the path that does not exist, when the problem is a missing field.
    pub missing: Option<String>,
    pub kubeaudit_code: Option<std::borrow::Cow<'static, str>>,
    pub pss: Option<PssRef>,
    /// What suppressed the finding, if anything; JSON adds a `suppressed` boolean beside it.
    #[serde(rename = "suppression")]
    pub suppressed: Option<Suppression>,
    /// For a live object (`palisade cluster`), the `kubectl` command that shows it; such
    /// findings have no file and no line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubectl: Option<String>,
    pub related: Vec<RelatedLocation>,
    /// How to fix the finding, when it can be fixed by editing the manifest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Box<crate::Fix>>,
    /// The source line holding the start of the range, for text output.
    #[serde(skip)]
    pub source_line: Option<String>,
}

fn serialize_range<S: Serializer>(range: &Option<TextRange>, s: S) -> Result<S::Ok, S::Error> {
    match range {
        Some(r) => [r.start, r.end].serialize(s),
        None => s.serialize_none(),
    }
}

impl Finding {
    pub fn start(&self) -> Option<LineCol> {
        Some(LineCol {
            line: self.line?,
            column: self.column?,
        })
    }

    pub fn is_suppressed(&self) -> bool {
        self.suppressed.is_some()
    }
}
