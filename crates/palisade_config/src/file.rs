//! The config file's shape. These types are both the parser (serde) and the JSON Schema
//! (schemars): `schemas/config.schema.json` is generated from them.

use std::collections::{BTreeMap, HashMap};

use palisade_diagnostics::Severity;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};
use serde_saphyr::Spanned;

/// The names looked for, in each folder from the working folder up to the root.
pub const CONFIG_NAMES: [&str; 2] = [".palisade.yaml", ".palisade.yml"];

/// `.palisade.yaml`: palisade's configuration. Command-line options override it.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "palisade configuration (.palisade.yaml)")]
pub struct ConfigFile {
    /// Run only these rules: codes (`WKL001`), code prefixes (`WKL`), rule names
    /// (`privileged-container`), sections (`workloads`), `kubeaudit:<auditor>` or `ALL`.
    /// Default: the rules enabled by default.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub select: Vec<Spanned<String>>,
    /// Run these rules in addition to the default (or `select`) set.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub extend_select: Vec<Spanned<String>>,
    /// Do not run these rules (same selectors as `select`).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub ignore: Vec<Spanned<String>>,
    /// Report these rules at another severity: `{WKL001: medium}` (rule code or name).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, SeverityName>")]
    pub severity: HashMap<Spanned<String>, SeverityName>,
    /// Exit with 1 when a finding is at or above this severity (`--fail-on`). Default: high.
    #[serde(default)]
    pub fail_on: Option<SeverityName>,
    /// Only report findings at or above this severity (`--min-severity`). Default: info.
    #[serde(default)]
    pub min_severity: Option<SeverityName>,
    /// Scan only files matching these globs, relative to this file's folder (files named on
    /// the command line are always scanned).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub include: Vec<Spanned<String>>,
    /// Skip files matching these globs (added to `--exclude`).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub exclude: Vec<Spanned<String>>,
    /// Folders that are separate estates (clusters), as globs relative to this file's folder
    /// (`*` matches one folder name, `**` any depth): estate-wide rules never combine objects
    /// of two estates (`--estate` on the command line replaces this list).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub estates: Vec<Spanned<String>>,
    /// Rule options.
    #[serde(default)]
    pub options: RuleOptions,
    /// Accepted findings, each with a reason, an optional owner and an optional expiry date.
    #[serde(default)]
    pub exceptions: Vec<ExceptionSpec>,
    /// How `palisade serve` (the admission webhook) decides: modes per namespace, the
    /// deny threshold, the answer to requests it cannot review, and which fixes it applies.
    #[serde(default)]
    pub serve: crate::serve::ServeSpec,
}

/// Options read by the rules. Each mirrors a command-line flag of `palisade scan`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RuleOptions {
    /// Capabilities containers may add (kubeaudit's `allowAddList`), e.g. `[NET_ADMIN]`.
    #[serde(default)]
    pub allowed_capabilities: Vec<String>,
    /// An image that must run with this exact tag, as `name:tag`.
    #[serde(default)]
    pub required_image: Option<String>,
    /// Largest CPU limit a container may set (a Kubernetes quantity: `2`, `500m`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub max_cpu: Option<Spanned<String>>,
    /// Largest memory limit a container may set (`1Gi`, `512Mi`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub max_memory: Option<Spanned<String>>,
    /// Host paths that must not be mounted; replaces the default list.
    #[serde(default)]
    pub sensitive_paths: Option<Vec<String>>,
    /// The Kubernetes version the manifests will be applied to, quoted: `"1.37"`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub target_version: Option<Spanned<VersionText>>,
    /// The Kubernetes version the cluster runs today, quoted: `"1.33"`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub current_version: Option<Spanned<VersionText>>,
    /// Cloud metadata addresses (CIDRs) egress must not reach, besides 169.254.169.254,
    /// fd00:ec2::254 and 100.100.100.200.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub metadata_cidrs: Vec<Spanned<String>>,
    /// Internal ranges (pod, service and node CIDRs, other private networks) whose
    /// reachability through `ipBlock` egress rules is reported.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub internal_cidrs: Vec<Spanned<String>>,
    /// Registries or repository prefixes images must come from: `registry.example.com`,
    /// `ghcr.io/acme/`.
    #[serde(default)]
    pub allowed_registries: Vec<String>,
    /// Approved images for every namespace, as patterns over `host/repository[:tag][@digest]`
    /// (`*` within a path segment, `**` across, `?` one character):
    /// `registry.example.com/base/**`, `docker.io/library/nginx:1.27*`.
    #[serde(default)]
    pub approved_images: Vec<String>,
    /// Approved image patterns per namespace, added to `approved-images` there.
    #[serde(default)]
    pub approved_images_by_namespace: std::collections::BTreeMap<String, Vec<String>>,
    /// The label that names a workload's or namespace's tenant (default `tenant`).
    #[serde(default)]
    pub tenant_label: Option<String>,
    /// For `palisade fix`: the non-zero user id that replaces `runAsUser: 0`.
    #[serde(default)]
    pub run_as_user: Option<i64>,
    /// For `palisade fix`: the CPU request written into containers that request none.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub default_cpu_request: Option<Spanned<String>>,
    /// For `palisade fix`: the memory request written into containers that request none.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub default_memory_request: Option<Spanned<String>>,
    /// For `palisade fix`: the CPU limit written into containers that set none.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub default_cpu_limit: Option<Spanned<String>>,
    /// For `palisade fix`: the memory limit written into containers that set none.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub default_memory_limit: Option<Spanned<String>>,
}

/// One accepted finding pattern. Every field given must match; globs use `*` and `?`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ExceptionSpec {
    /// The rule, by code (`WKL001`) or name (`privileged-container`).
    #[schemars(with = "String")]
    pub rule: Spanned<String>,
    /// Object kind glob, e.g. `DaemonSet`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub kind: Option<Spanned<String>>,
    /// Namespace glob, e.g. `kube-*`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub namespace: Option<Spanned<String>>,
    /// Object name glob, e.g. `calico-*`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub name: Option<Spanned<String>>,
    /// Labels the object must carry; values are globs.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Container name glob.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub container: Option<Spanned<String>>,
    /// File glob, relative to this file's folder.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub file: Option<Spanned<String>>,
    /// Why the finding is accepted. Required.
    #[schemars(with = "String")]
    pub reason: Spanned<String>,
    /// Who answers for it (a person or a team).
    #[serde(default)]
    pub owner: Option<String>,
    /// The last day the exception applies, `YYYY-MM-DD`. After it the findings come back and
    /// the exception is reported as expired.
    #[serde(default)]
    #[schemars(with = "Option<String>", regex(pattern = r"^\d{4}-\d{2}-\d{2}$"))]
    pub expires: Option<Spanned<DateText>>,
}

/// A severity name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SeverityName {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl From<SeverityName> for Severity {
    fn from(s: SeverityName) -> Severity {
        match s {
            SeverityName::Critical => Severity::Critical,
            SeverityName::High => Severity::High,
            SeverityName::Medium => Severity::Medium,
            SeverityName::Low => Severity::Low,
            SeverityName::Info => Severity::Info,
        }
    }
}

/// A version written as a string. YAML reads an unquoted `1.30` as the number 1.3, so a
/// number is refused with that explanation rather than silently misread.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VersionText(pub String);

impl<'de> Deserialize<'de> for VersionText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = VersionText;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a quoted Kubernetes version like \"1.37\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<VersionText, E> {
                Ok(VersionText(v.to_owned()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<VersionText, E> {
                Err(E::custom(format!(
                    "write the version quoted, e.g. \"1.30\": YAML reads the unquoted {v} as a number"
                )))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<VersionText, E> {
                self.visit_f64(v as f64)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<VersionText, E> {
                self.visit_f64(v as f64)
            }
        }
        d.deserialize_any(V)
    }
}

/// A date written `YYYY-MM-DD` (quoted or not).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DateText(pub String);

impl<'de> Deserialize<'de> for DateText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(DateText)
    }
}

/// The JSON Schema of the config file, pretty-printed with a final newline.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(ConfigFile);
    let mut s = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    s.push('\n');
    s
}
