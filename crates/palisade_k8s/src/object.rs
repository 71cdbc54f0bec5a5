use palisade_diagnostics::ObjectRef;
use palisade_yaml::{Document, NodeId};

use crate::FieldPath;

/// A Kubernetes object: a mapping with `apiVersion` and `kind`, at the root of a document or
/// inside the `items` of a `List`.
#[derive(Clone)]
pub struct Object<'d> {
    pub doc: &'d Document<'d>,
    pub node: NodeId,
    pub api_version: &'d str,
    pub kind: &'d str,
    /// Where the object sits in its document: empty at the root, `items[3]` in a list.
    pub base: FieldPath,
}

/// A key and its value in a string map such as `labels` or `annotations`.
#[derive(Clone, Copy, Debug)]
pub struct Entry<'d> {
    pub key: &'d str,
    /// The value's text; `None` when it is not a scalar.
    pub value: Option<&'d str>,
    pub key_node: NodeId,
    pub value_node: NodeId,
}

impl<'d> Object<'d> {
    /// The API group: `apps` for `apps/v1`, empty for the core group (`v1`).
    pub fn group(&self) -> &'d str {
        self.api_version.rsplit_once('/').map_or("", |(g, _)| g)
    }

    pub fn version(&self) -> &'d str {
        self.api_version
            .rsplit_once('/')
            .map_or(self.api_version, |(_, v)| v)
    }

    pub fn get(&self, keys: &[&str]) -> Option<NodeId> {
        self.doc.path(self.node, keys)
    }

    pub fn metadata(&self) -> Option<NodeId> {
        self.doc.get(self.node, "metadata")
    }

    pub fn name(&self) -> Option<&'d str> {
        let meta = self.metadata()?;
        let name = self.doc.get(meta, "name")?;
        self.doc.text_of(name).filter(|s| !s.is_empty())
    }

    pub fn namespace(&self) -> Option<&'d str> {
        let meta = self.metadata()?;
        let ns = self.doc.get(meta, "namespace")?;
        self.doc.text_of(ns).filter(|s| !s.is_empty())
    }

    /// The entries of a string map (`labels`, `annotations`) under a metadata node.
    pub fn string_map(&self, metadata: Option<NodeId>, field: &str) -> Vec<Entry<'d>> {
        let Some(map) = metadata.and_then(|m| self.doc.get(m, field)) else {
            return Vec::new();
        };
        self.doc
            .entries(map)
            .iter()
            .filter_map(|&(k, v)| {
                Some(Entry {
                    key: self.doc.text_of(k)?,
                    value: self.doc.text_of(v),
                    key_node: k,
                    value_node: v,
                })
            })
            .collect()
    }

    pub fn labels(&self) -> Vec<Entry<'d>> {
        self.string_map(self.metadata(), "labels")
    }

    pub fn annotations(&self) -> Vec<Entry<'d>> {
        self.string_map(self.metadata(), "annotations")
    }

    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef {
            api_version: self.api_version.to_owned(),
            kind: self.kind.to_owned(),
            namespace: self.namespace().map(str::to_owned),
            name: self.name().map(str::to_owned),
        }
    }

    /// A field path inside this object.
    pub fn path(&self, keys: &[&str]) -> FieldPath {
        self.base.keys(keys)
    }
}

/// The objects of a document: the root object, or every item of a `*List`. Returns an empty
/// list when the document is not a Kubernetes object (no `apiVersion` or `kind`).
pub fn objects_in<'d>(doc: &'d Document<'d>) -> Vec<Object<'d>> {
    let Some(root) = doc.root() else {
        return Vec::new();
    };
    let Some((api_version, kind)) = identity(doc, root) else {
        return Vec::new();
    };
    let root_object = Object {
        doc,
        node: root,
        api_version,
        kind,
        base: FieldPath::new(),
    };
    let Some(items) = doc.get(root, "items").filter(|&i| doc.is_sequence(i)) else {
        return vec![root_object];
    };
    if !kind.ends_with("List") {
        return vec![root_object];
    }
    let item_kind = &kind[..kind.len() - 4];
    doc.items(items)
        .iter()
        .enumerate()
        .filter(|&(_, &item)| doc.is_mapping(item))
        .map(|(i, &item)| {
            let (api_version, kind) = identity(doc, item).unwrap_or((api_version, item_kind));
            Object {
                doc,
                node: item,
                api_version,
                kind,
                base: FieldPath::new().key("items").index(i),
            }
        })
        .filter(|o| !o.kind.is_empty())
        .collect()
}

fn identity<'d>(doc: &'d Document<'d>, node: NodeId) -> Option<(&'d str, &'d str)> {
    if !doc.is_mapping(node) {
        return None;
    }
    let api_version = doc.text_of(doc.get(node, "apiVersion")?)?;
    let kind = doc.text_of(doc.get(node, "kind")?)?;
    (!api_version.is_empty() && !kind.is_empty()).then_some((api_version, kind))
}
