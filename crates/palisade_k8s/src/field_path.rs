use std::fmt;

/// A field path in Kubernetes' JSON notation: `spec.containers[0].securityContext`, with
/// `["…"]` for keys that hold dots or slashes (`metadata.annotations["a.b/c"]`).
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldPath(String);

impl FieldPath {
    pub fn new() -> Self {
        Self(String::new())
    }

    pub fn parse_dotted(path: &str) -> Self {
        let mut p = Self::new();
        for key in path.split('.').filter(|k| !k.is_empty()) {
            p = p.key(key);
        }
        p
    }

    pub fn key(&self, key: &str) -> Self {
        let mut s = self.0.clone();
        let plain = !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if plain {
            if !s.is_empty() {
                s.push('.');
            }
            s.push_str(key);
        } else {
            s.push_str("[\"");
            s.push_str(&key.replace('\\', "\\\\").replace('"', "\\\""));
            s.push_str("\"]");
        }
        Self(s)
    }

    pub fn keys(&self, keys: &[&str]) -> Self {
        keys.iter().fold(self.clone(), |p, k| p.key(k))
    }

    pub fn index(&self, index: usize) -> Self {
        Self(format!("{}[{index}]", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::FieldPath;

    #[test]
    fn renders_json_paths() {
        let p = FieldPath::new()
            .keys(&["spec", "containers"])
            .index(0)
            .key("securityContext");
        assert_eq!(p.as_str(), "spec.containers[0].securityContext");
        let a = FieldPath::new().keys(&["metadata", "annotations", "a.b/c"]);
        assert_eq!(a.as_str(), "metadata.annotations[\"a.b/c\"]");
    }

    /// Fix operations parse field paths back into routes (`palisade_diagnostics::Route`);
    /// keys come from the input (container names inside annotation keys), so every key must
    /// survive the round trip.
    #[test]
    fn every_key_round_trips_through_route() {
        use palisade_diagnostics::{Route, Step};
        let keys = [
            "plain",
            "a.b/c",
            "",
            "quote\"inside",
            "back\\slash",
            "]",
            "[",
            "[\"x\"]",
            "é-ü",
            "trailing\\",
            "spaces and\ttabs",
            "k8s.io/name",
        ];
        for key in keys {
            let path = FieldPath::new().key("spec").key(key).index(3).key(key);
            let route = Route::parse(path.as_str()).unwrap_or_else(|e| panic!("{key:?}: {e}"));
            let expected = [
                Step::key("spec"),
                Step::key(key),
                Step::Index(3),
                Step::key(key),
            ];
            assert_eq!(route.steps(), &expected, "{key:?} via {path}");
        }
    }
}
