//! Configuration files (KubeletConfiguration, KubeProxyConfiguration, k3s config.yaml, etcd
//! config, EncryptionConfiguration, ...), flattened to dotted keys with the position of every
//! value so evidence can point at the line that sets it.

use std::collections::BTreeMap;
use std::path::Path;

use palisade_diagnostics::LineIndex;
use palisade_yaml::{Document, DocumentChunk, NodeId, parse_chunk};

/// One value of a configuration file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigValue {
    /// Scalars as written; lists joined with `,`.
    pub value: String,
    /// The items, when the value is a list of scalars.
    pub items: Option<Vec<String>>,
    /// The file, as the process names it.
    pub file: String,
    pub line: u32,
    pub column: u32,
}

/// A flattened configuration: `authentication.anonymous.enabled` → value. Lists of mappings
/// are indexed: `resources[0].providers[1].aescbc`.
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub values: BTreeMap<String, ConfigValue>,
    /// Every file merged in, in order.
    pub files: Vec<String>,
}

impl Config {
    pub fn get(&self, key: &str) -> Option<&ConfigValue> {
        self.values.get(key)
    }

    /// Merges `other` over `self`, key by key (the kubelet's drop-in semantics: a drop-in sets
    /// only the fields it names; a list replaces the whole list).
    pub fn overlay(&mut self, other: Config) {
        for key in other.values.keys() {
            // A list or a scalar replaces everything that was below the same key.
            let prefix = format!("{key}[");
            self.values.retain(|k, _| !k.starts_with(&prefix));
        }
        self.values.extend(other.values);
        self.files.extend(other.files);
    }

    /// Reads and flattens a YAML or JSON file; `display` is the path as the process names it.
    pub fn load(path: &Path, display: &str) -> Result<Config, String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read {display}: {e}"))?;
        Config::parse(&text, display)
    }

    pub fn parse(text: &str, display: &str) -> Result<Config, String> {
        let parsed = parse_chunk(
            text,
            DocumentChunk {
                start: 0,
                end: text.len(),
            },
            false,
        );
        if let Some(e) = parsed.errors.first() {
            let at = LineIndex::new(text).line_col(e.offset, text);
            return Err(format!(
                "{display}:{}:{}: not valid YAML or JSON: {}",
                at.line, at.column, e.message
            ));
        }
        let mut config = Config {
            values: BTreeMap::new(),
            files: vec![display.to_owned()],
        };
        let index = LineIndex::new(text);
        for doc in &parsed.documents {
            if let Some(root) = doc.root() {
                let mut cx = Flatten {
                    doc,
                    text,
                    index: &index,
                    file: display,
                    out: &mut config.values,
                };
                cx.walk(root, String::new());
            }
        }
        Ok(config)
    }
}

struct Flatten<'a, 'd> {
    doc: &'a Document<'d>,
    text: &'a str,
    index: &'a LineIndex,
    file: &'a str,
    out: &'a mut BTreeMap<String, ConfigValue>,
}

impl Flatten<'_, '_> {
    fn value(&self, node: NodeId, value: String, items: Option<Vec<String>>) -> ConfigValue {
        let at = self
            .index
            .line_col(self.doc.range(node).start as usize, self.text);
        ConfigValue {
            value,
            items,
            file: self.file.to_owned(),
            line: at.line,
            column: at.column,
        }
    }

    fn walk(&mut self, node: NodeId, key: String) {
        let doc = self.doc;
        if doc.is_mapping(node) {
            if doc.entries(node).is_empty() && !key.is_empty() {
                // `identity: {}` names a provider: keep the key.
                let v = self.value(node, "{}".to_owned(), None);
                self.out.insert(key.clone(), v);
            }
            for &(k, v) in doc.entries(node) {
                let name = doc.text_of(k).unwrap_or_default();
                let sub = if key.is_empty() {
                    name.to_owned()
                } else {
                    format!("{key}.{name}")
                };
                self.walk(v, sub);
            }
        } else if doc.is_sequence(node) {
            let items = doc.items(node);
            if items.iter().all(|&i| doc.scalar(i).is_some()) {
                let list: Vec<String> = items
                    .iter()
                    .filter_map(|&i| doc.text_of(i).map(str::to_owned))
                    .collect();
                let v = self.value(node, list.join(","), Some(list));
                self.out.insert(key, v);
            } else {
                for (n, &i) in items.iter().enumerate() {
                    let item = format!("{key}[{n}]");
                    if doc.is_mapping(i) {
                        // The item itself, for its position (an empty value).
                        let v = self.value(i, String::new(), None);
                        self.out.insert(item.clone(), v);
                    }
                    self.walk(i, item);
                }
            }
        } else if !doc.is_null(node)
            && let Some(t) = doc.text_of(node)
        {
            let v = self.value(node, t.to_owned(), None);
            self.out.insert(key, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_with_positions_and_overlays_by_key() {
        let mut base = Config::parse(
            "authentication:\n  anonymous:\n    enabled: true\ntlsCipherSuites: [A, B]\nfeatureGates:\n  X: true\n",
            "/var/lib/kubelet/config.yaml",
        )
        .unwrap();
        let v = base.get("authentication.anonymous.enabled").unwrap();
        assert_eq!((v.value.as_str(), v.line, v.column), ("true", 3, 14));
        assert_eq!(base.get("tlsCipherSuites").unwrap().value, "A,B");
        let drop_in = Config::parse(
            "{\"authentication\": {\"anonymous\": {\"enabled\": false}}, \"featureGates\": {\"Y\": false}}",
            "/etc/kubernetes/kubelet.conf.d/10.conf",
        )
        .unwrap();
        base.overlay(drop_in);
        let v = base.get("authentication.anonymous.enabled").unwrap();
        assert_eq!(v.value, "false");
        assert_eq!(v.file, "/etc/kubernetes/kubelet.conf.d/10.conf");
        assert!(base.get("featureGates.X").is_some() && base.get("featureGates.Y").is_some());
    }

    #[test]
    fn lists_of_mappings_are_indexed() {
        let c = Config::parse(
            "resources:\n- resources: [secrets]\n  providers:\n  - identity: {}\n  - aescbc:\n      keys: [{name: k, secret: s}]\n",
            "enc.yaml",
        )
        .unwrap();
        assert_eq!(c.get("resources[0].resources").unwrap().value, "secrets");
        assert!(
            c.get("resources[0].providers[1].aescbc.keys[0].name")
                .is_some()
        );
        assert_eq!(
            c.get("resources[0].providers[0].identity").unwrap().value,
            "{}"
        );
    }

    #[test]
    fn broken_yaml_is_a_clear_error() {
        let e = Config::parse("a: [b\n", "x.yaml").unwrap_err();
        assert!(e.starts_with("x.yaml:"), "{e}");
    }
}
