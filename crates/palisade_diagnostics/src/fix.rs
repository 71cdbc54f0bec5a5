//! Fixes as route operations: one description, lowered by `palisade_fix` to byte edits on the
//! original text, to an RFC 6902 JSON Patch and to a `kubectl patch --type=json` hint.

use std::borrow::Cow;
use std::fmt;

use serde::{Serialize, Serializer};
pub use serde_json::Value;

/// What applying a fix promises. Ordered from the weakest promise to the strongest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Applicability {
    /// Shown to the user, never applied: the right value needs a human decision.
    DisplayOnly,
    /// Applied only with `--unsafe-fixes`: hardening that may break a workload that relies on
    /// what it removes (running as root, writing to its root filesystem, a capability).
    Unsafe,
    /// Cannot change how the workload runs: applied by default.
    Safe,
}

impl Applicability {
    pub fn as_str(self) -> &'static str {
        match self {
            Applicability::DisplayOnly => "display-only",
            Applicability::Unsafe => "unsafe",
            Applicability::Safe => "safe",
        }
    }
}

impl fmt::Display for Applicability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Applicability {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One step of a route: a mapping key or a sequence index.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    Key(Cow<'static, str>),
    Index(usize),
}

impl Step {
    /// A mapping key; the field names fixes use most are shared, not copied (a large scan
    /// builds hundreds of thousands of routes through the same few fields).
    pub fn key(key: &str) -> Step {
        Step::Key(match common_field(key) {
            Some(name) => Cow::Borrowed(name),
            None => Cow::Owned(key.to_owned()),
        })
    }
}

/// `key` as a static string, when it is a field name fixes often route through.
fn common_field(key: &str) -> Option<&'static str> {
    COMMON_FIELDS
        .binary_search(&key)
        .ok()
        .map(|i| COMMON_FIELDS[i])
}

/// Sorted, for [`common_field`]'s binary search.
const COMMON_FIELDS: &[&str] = &[
    "add",
    "allowPrivilegeEscalation",
    "annotations",
    "apiVersion",
    "appArmorProfile",
    "automountServiceAccountToken",
    "capabilities",
    "containers",
    "cpu",
    "drop",
    "ephemeralContainers",
    "hostIPC",
    "hostNetwork",
    "hostPID",
    "hostPath",
    "hostPort",
    "image",
    "imagePullPolicy",
    "initContainers",
    "items",
    "jobTemplate",
    "labels",
    "limits",
    "localhostProfile",
    "memory",
    "metadata",
    "ports",
    "privileged",
    "readOnlyRootFilesystem",
    "requests",
    "resources",
    "runAsGroup",
    "runAsNonRoot",
    "runAsUser",
    "seccompProfile",
    "securityContext",
    "serviceAccountName",
    "spec",
    "template",
    "type",
    "volumes",
];

/// A path from a document's root to a node, independent of how the YAML is written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Route(pub Vec<Step>);

impl Route {
    /// Parses Kubernetes' JSON field notation as `FieldPath` writes it:
    /// `spec.containers[0].securityContext`, `metadata.annotations["a.b/c"]`.
    pub fn parse(path: &str) -> Result<Self, String> {
        let mut steps = Vec::new();
        let bytes = path.as_bytes();
        let mut i = 0;
        let bad = |at: usize| format!("malformed field path `{path}` at byte {at}");
        while i < bytes.len() {
            match bytes[i] {
                b'.' if !steps.is_empty()
                    && !matches!(bytes.get(i + 1), None | Some(b'.' | b'[')) =>
                {
                    i += 1;
                }
                b'[' if bytes.get(i + 1) == Some(&b'"') => {
                    let mut key = String::new();
                    let mut j = i + 2;
                    loop {
                        match bytes.get(j) {
                            None => return Err(bad(i)),
                            Some(b'\\') => {
                                let next = path[j + 1..].chars().next().ok_or_else(|| bad(j))?;
                                key.push(next);
                                j += 1 + next.len_utf8();
                            }
                            Some(b'"') => break,
                            Some(_) => {
                                let ch = path[j..].chars().next().ok_or_else(|| bad(j))?;
                                key.push(ch);
                                j += ch.len_utf8();
                            }
                        }
                    }
                    if bytes.get(j + 1) != Some(&b']') {
                        return Err(bad(j));
                    }
                    steps.push(Step::key(&key));
                    i = j + 2;
                }
                b'[' => {
                    let end = path[i..].find(']').ok_or_else(|| bad(i))? + i;
                    let index = path[i + 1..end].parse().map_err(|_| bad(i))?;
                    steps.push(Step::Index(index));
                    i = end + 1;
                }
                _ => {
                    let end = path[i..].find(['.', '[']).map_or(path.len(), |e| e + i);
                    if end == i {
                        return Err(bad(i));
                    }
                    steps.push(Step::key(&path[i..end]));
                    i = end;
                }
            }
        }
        Ok(Route(steps))
    }

    pub fn key(mut self, key: &str) -> Self {
        self.0.push(Step::key(key));
        self
    }

    pub fn index(mut self, index: usize) -> Self {
        self.0.push(Step::Index(index));
        self
    }

    pub fn steps(&self) -> &[Step] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The route below `base`, when it starts with it.
    pub fn strip_prefix(&self, base: &Route) -> Option<Route> {
        self.0
            .starts_with(&base.0)
            .then(|| Route(self.0[base.0.len()..].to_vec()))
    }

    /// The RFC 6901 JSON Pointer of this route (`/spec/containers/0`).
    pub fn json_pointer(&self) -> String {
        let mut out = String::new();
        for step in &self.0 {
            out.push('/');
            match step {
                Step::Key(k) => out.push_str(&k.replace('~', "~0").replace('/', "~1")),
                Step::Index(i) => out.push_str(&i.to_string()),
            }
        }
        out
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, step) in self.0.iter().enumerate() {
            match step {
                Step::Key(k) => {
                    let plain = !k.is_empty()
                        && k.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                    if plain {
                        if n > 0 {
                            f.write_str(".")?;
                        }
                        f.write_str(k)?;
                    } else {
                        write!(f, "[\"{}\"]", k.replace('\\', "\\\\").replace('"', "\\\""))?;
                    }
                }
                Step::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

impl Serialize for Route {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One change to a document, addressed by route.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "camelCase")]
pub enum Op {
    /// Sets the value at `route`: replaces it when it exists, otherwise inserts it into the
    /// nearest existing mapping, creating the missing mappings on the way
    /// (`securityContext:`).
    Set { route: Route, value: Value },
    /// Appends `value` to the sequence at `route`, creating the sequence when it is missing.
    Append { route: Route, value: Value },
    /// Removes the mapping entry at `route`; nothing happens when it does not exist.
    Remove { route: Route },
}

impl Op {
    /// `Set` from a field path as rules write it.
    ///
    /// # Panics
    /// When `path` is not a well-formed field path: rules build them with `FieldPath`.
    pub fn set(path: &str, value: impl Into<Value>) -> Self {
        Op::Set {
            route: Route::parse(path).expect("rules build well-formed field paths"),
            value: value.into(),
        }
    }

    /// `Append` from a field path.
    ///
    /// # Panics
    /// When `path` is not a well-formed field path.
    pub fn append(path: &str, value: impl Into<Value>) -> Self {
        Op::Append {
            route: Route::parse(path).expect("rules build well-formed field paths"),
            value: value.into(),
        }
    }

    /// `Remove` from a field path.
    ///
    /// # Panics
    /// When `path` is not a well-formed field path.
    pub fn remove(path: &str) -> Self {
        Op::Remove {
            route: Route::parse(path).expect("rules build well-formed field paths"),
        }
    }

    pub fn route(&self) -> &Route {
        match self {
            Op::Set { route, .. } | Op::Append { route, .. } | Op::Remove { route } => route,
        }
    }
}

/// A fix for one finding: what it does, how safe it is, and the operations.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Fix {
    /// What the fix does, in the imperative: "set `privileged: false`". Mostly fixed texts,
    /// shared rather than copied into each of the many findings that carry them.
    pub title: Cow<'static, str>,
    pub applicability: Applicability,
    /// Why the fix is not safe, shown when it is left unapplied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caveat: Option<Cow<'static, str>>,
    /// Where the object sits in its document (`items[2]` in a `List`); routes in `ops` are
    /// from the document's root, JSON Patches from the object's.
    #[serde(skip)]
    pub base: Route,
    pub ops: Vec<Op>,
}

impl Fix {
    fn new(
        applicability: Applicability,
        title: impl Into<Cow<'static, str>>,
        ops: Vec<Op>,
    ) -> Self {
        Self {
            title: title.into(),
            applicability,
            caveat: None,
            base: Route::default(),
            ops,
        }
    }

    pub fn safe(title: impl Into<Cow<'static, str>>, ops: Vec<Op>) -> Self {
        Self::new(Applicability::Safe, title, ops)
    }

    /// A fix that may break a workload; `caveat` says how.
    pub fn unsafe_(
        title: impl Into<Cow<'static, str>>,
        caveat: impl Into<Cow<'static, str>>,
        ops: Vec<Op>,
    ) -> Self {
        let mut fix = Self::new(Applicability::Unsafe, title, ops);
        fix.caveat = Some(caveat.into());
        fix
    }

    pub fn display_only(title: impl Into<Cow<'static, str>>, ops: Vec<Op>) -> Self {
        Self::new(Applicability::DisplayOnly, title, ops)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_round_trip_field_paths() {
        for path in [
            "spec.containers[0].securityContext",
            "metadata.annotations[\"a.b/c\"]",
            "items[3].spec.template.spec.containers[1].securityContext.capabilities.drop",
            "metadata.annotations[\"q\\\"x\"]",
        ] {
            let route = Route::parse(path).unwrap();
            assert_eq!(route.to_string(), path);
        }
        let r = Route::parse("metadata.annotations[\"a.b/c~d\"]").unwrap();
        assert_eq!(r.json_pointer(), "/metadata/annotations/a.b~1c~0d");
        assert!(Route::parse("a[x]").is_err());
        assert!(Route::parse("a[\"x").is_err());
        assert!(Route::parse("a..b").is_err());
    }

    #[test]
    fn common_fields_are_shared_and_equal_to_copies() {
        assert!(COMMON_FIELDS.windows(2).all(|w| w[0] < w[1]), "sorted");
        for field in COMMON_FIELDS {
            assert!(matches!(Step::key(field), Step::Key(Cow::Borrowed(_))));
        }
        assert!(matches!(Step::key("sysctls"), Step::Key(Cow::Owned(_))));
        assert_eq!(Step::key("spec"), Step::Key(Cow::Owned("spec".to_owned())));
        let route = Route::parse("spec.template.spec.containers[0].securityContext").unwrap();
        assert_eq!(
            route,
            Route::default()
                .key("spec")
                .key("template")
                .key("spec")
                .key("containers")
                .index(0)
                .key("securityContext")
        );
    }

    #[test]
    fn strip_prefix_only_under_the_base() {
        let r = Route::parse("items[2].spec.x").unwrap();
        let base = Route::parse("items[2]").unwrap();
        assert_eq!(r.strip_prefix(&base).unwrap().to_string(), "spec.x");
        assert!(r.strip_prefix(&Route::parse("items[1]").unwrap()).is_none());
    }
}
