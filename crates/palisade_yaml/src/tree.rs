use std::borrow::Cow;
use std::collections::HashMap;

use granit_parser::{Event, Options, Parser, StructureStyle};
use palisade_diagnostics::TextRange;

use crate::resolve::{Resolved, resolve_plain};
use crate::split::DocumentChunk;

/// Index of a node in its [`Document`]'s arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(u32);

/// How a scalar was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

impl ScalarStyle {
    pub fn is_quoted(self) -> bool {
        !matches!(self, ScalarStyle::Plain)
    }
}

/// A scalar's decoded text, how it was written and its explicit tag (`!!str`), if any.
#[derive(Clone, Debug)]
pub struct Scalar<'a> {
    pub value: Cow<'a, str>,
    pub style: ScalarStyle,
    pub tag: Option<Box<str>>,
}

impl Scalar<'_> {
    /// The type the Kubernetes API server reads this scalar as.
    pub fn resolved(&self) -> Resolved {
        if let Some(tag) = &self.tag {
            return match tag.as_ref() {
                "str" | "binary" | "timestamp" => Resolved::Str,
                "null" => Resolved::Null,
                "bool" | "int" | "float" => match resolve_plain(&self.value) {
                    Resolved::Str => Resolved::Str,
                    other => other,
                },
                _ => Resolved::Str,
            };
        }
        if self.style.is_quoted() {
            Resolved::Str
        } else {
            resolve_plain(&self.value)
        }
    }
}

#[derive(Clone, Debug)]
pub enum NodeValue<'a> {
    Scalar(Scalar<'a>),
    Mapping {
        entries: Vec<(NodeId, NodeId)>,
        flow: bool,
    },
    Sequence {
        items: Vec<NodeId>,
        flow: bool,
    },
}

/// A node of the tree with the byte range of its text in the file.
#[derive(Clone, Debug)]
pub struct Node<'a> {
    pub range: TextRange,
    pub value: NodeValue<'a>,
}

/// A comment: its range covers the `#` and the text up to the line break.
#[derive(Clone, Copy, Debug)]
pub struct Comment {
    pub range: TextRange,
}

/// One parsed YAML document. Ranges are offsets into the whole file's text, not the document's.
#[derive(Debug)]
pub struct Document<'a> {
    text: &'a str,
    nodes: Vec<Node<'a>>,
    root: Option<NodeId>,
    /// The document's range, markers included.
    pub range: TextRange,
    pub comments: Vec<Comment>,
}

/// A syntax error, with the byte offset where the parser stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    pub offset: usize,
}

/// The documents of one chunk, and the errors of those that could not be parsed.
#[derive(Debug, Default)]
pub struct ParsedChunk<'a> {
    pub documents: Vec<Document<'a>>,
    pub errors: Vec<ParseError>,
}

impl<'a> Document<'a> {
    /// The whole file's text.
    pub fn text(&self) -> &'a str {
        self.text
    }

    pub fn root(&self) -> Option<NodeId> {
        self.root
    }

    pub fn node(&self, id: NodeId) -> &Node<'a> {
        &self.nodes[id.0 as usize]
    }

    pub fn range(&self, id: NodeId) -> TextRange {
        self.node(id).range
    }

    /// The source text of a node.
    pub fn source(&self, id: NodeId) -> &'a str {
        self.text.get(self.range(id).to_range()).unwrap_or("")
    }

    pub fn scalar(&self, id: NodeId) -> Option<&Scalar<'a>> {
        match &self.node(id).value {
            NodeValue::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The text of a scalar, whatever type it resolves to.
    pub fn text_of(&self, id: NodeId) -> Option<&str> {
        self.scalar(id).map(|s| s.value.as_ref())
    }

    /// The text of a scalar that the API server reads as a string.
    pub fn str(&self, id: NodeId) -> Option<&str> {
        let s = self.scalar(id)?;
        (s.resolved() == Resolved::Str).then_some(s.value.as_ref())
    }

    /// The resolved type of a scalar; `None` for collections.
    pub fn resolved(&self, id: NodeId) -> Option<Resolved> {
        self.scalar(id).map(Scalar::resolved)
    }

    pub fn bool(&self, id: NodeId) -> Option<bool> {
        match self.resolved(id)? {
            Resolved::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn int(&self, id: NodeId) -> Option<i64> {
        match self.resolved(id)? {
            Resolved::Int(i) => Some(i),
            _ => None,
        }
    }

    pub fn is_null(&self, id: NodeId) -> bool {
        self.resolved(id) == Some(Resolved::Null)
    }

    pub fn is_mapping(&self, id: NodeId) -> bool {
        matches!(self.node(id).value, NodeValue::Mapping { .. })
    }

    pub fn is_sequence(&self, id: NodeId) -> bool {
        matches!(self.node(id).value, NodeValue::Sequence { .. })
    }

    pub fn is_flow(&self, id: NodeId) -> bool {
        matches!(
            self.node(id).value,
            NodeValue::Mapping { flow: true, .. } | NodeValue::Sequence { flow: true, .. }
        )
    }

    /// The entries of a mapping, in source order; empty for anything else.
    pub fn entries(&self, id: NodeId) -> &[(NodeId, NodeId)] {
        match &self.node(id).value {
            NodeValue::Mapping { entries, .. } => entries,
            _ => &[],
        }
    }

    /// The items of a sequence; empty for anything else.
    pub fn items(&self, id: NodeId) -> &[NodeId] {
        match &self.node(id).value {
            NodeValue::Sequence { items, .. } => items,
            _ => &[],
        }
    }

    /// The value of `key` in a mapping, following `<<` merge keys. When a key repeats, the
    /// last occurrence wins, as it does when the API server converts YAML to JSON.
    pub fn get(&self, map: NodeId, key: &str) -> Option<NodeId> {
        self.get_entry(map, key).map(|(_, v)| v)
    }

    /// The key and value nodes of `key` in a mapping.
    pub fn get_entry(&self, map: NodeId, key: &str) -> Option<(NodeId, NodeId)> {
        let entries = self.entries(map);
        let mut found = None;
        let mut has_merge = false;
        for &(k, v) in entries {
            match self.text_of(k) {
                Some(t) if t == key => found = Some((k, v)),
                Some("<<") => has_merge = true,
                _ => {}
            }
        }
        if found.is_some() || !has_merge {
            return found;
        }
        for &(k, v) in entries {
            if self.text_of(k) == Some("<<") {
                let sources: Vec<NodeId> = if self.is_sequence(v) {
                    self.items(v).to_vec()
                } else {
                    vec![v]
                };
                for source in sources {
                    if source != map
                        && let Some(hit) = self.get_entry(source, key)
                    {
                        return Some(hit);
                    }
                }
            }
        }
        None
    }

    /// Follows a chain of keys from `from`.
    pub fn path(&self, from: NodeId, keys: &[&str]) -> Option<NodeId> {
        keys.iter().try_fold(from, |node, key| self.get(node, key))
    }

    /// Follows keys and returns the deepest node that exists with the number of keys consumed.
    pub fn deepest(&self, from: NodeId, keys: &[&str]) -> (NodeId, usize) {
        let mut node = from;
        for (depth, key) in keys.iter().enumerate() {
            match self.get(node, key) {
                Some(next) => node = next,
                None => return (node, depth),
            }
        }
        (node, keys.len())
    }

    /// Every node, in the order the parser produced them.
    pub fn nodes(&self) -> impl Iterator<Item = &Node<'a>> {
        self.nodes.iter()
    }

    /// Number of nodes, for benchmarks and tests.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }
}

enum Frame<'a> {
    Mapping {
        id: NodeId,
        entries: Vec<(NodeId, NodeId)>,
        key: Option<NodeId>,
        start: usize,
    },
    Sequence {
        id: NodeId,
        items: Vec<NodeId>,
        start: usize,
    },
    _Phantom(std::marker::PhantomData<&'a ()>),
}

struct Builder<'a> {
    text: &'a str,
    base: usize,
    nodes: Vec<Node<'a>>,
    stack: Vec<Frame<'a>>,
    anchors: HashMap<usize, NodeId>,
    root: Option<NodeId>,
    comments: Vec<Comment>,
    doc_start: usize,
}

impl<'a> Builder<'a> {
    fn push_node(&mut self, node: Node<'a>, anchor: usize) -> NodeId {
        let id = NodeId(self.nodes.len() as u32);
        self.nodes.push(node);
        if anchor != 0 {
            self.anchors.insert(anchor, id);
        }
        id
    }

    fn attach(&mut self, id: NodeId) {
        match self.stack.last_mut() {
            None => self.root = Some(id),
            Some(Frame::Mapping { entries, key, .. }) => match key.take() {
                None => *key = Some(id),
                Some(k) => entries.push((k, id)),
            },
            Some(Frame::Sequence { items, .. }) => items.push(id),
            Some(Frame::_Phantom(_)) => {}
        }
    }

    fn close(&mut self, end: usize, flow_end: usize) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        let (id, value, start, last) = match frame {
            Frame::Mapping {
                id, entries, start, ..
            } => {
                let last = entries.last().map(|&(_, v)| v);
                let flow = matches!(
                    self.nodes[id.0 as usize].value,
                    NodeValue::Mapping { flow: true, .. }
                );
                (id, NodeValue::Mapping { entries, flow }, start, last)
            }
            Frame::Sequence { id, items, start } => {
                let last = items.last().copied();
                let flow = matches!(
                    self.nodes[id.0 as usize].value,
                    NodeValue::Sequence { flow: true, .. }
                );
                (id, NodeValue::Sequence { items, flow }, start, last)
            }
            Frame::_Phantom(_) => return,
        };
        let flow = matches!(
            value,
            NodeValue::Mapping { flow: true, .. } | NodeValue::Sequence { flow: true, .. }
        );
        // A block collection ends with its last child; the parser's end event sits at the
        // next token, which may be lines further down.
        let end = if flow {
            flow_end
        } else {
            last.map_or(end, |l| self.nodes[l.0 as usize].range.end as usize)
        };
        let node = &mut self.nodes[id.0 as usize];
        node.value = value;
        node.range = TextRange::new(start, end.max(start));
        self.attach(id);
    }

    fn finish(&mut self, end: usize) -> Document<'a> {
        Document {
            text: self.text,
            nodes: std::mem::take(&mut self.nodes),
            root: self.root.take(),
            range: TextRange::new(self.doc_start, end),
            comments: std::mem::take(&mut self.comments),
        }
    }

    fn reset(&mut self) {
        self.nodes.clear();
        self.stack.clear();
        self.anchors.clear();
        self.root = None;
        self.comments.clear();
    }
}

fn style_of(style: granit_parser::ScalarStyle) -> ScalarStyle {
    match style {
        granit_parser::ScalarStyle::Plain => ScalarStyle::Plain,
        granit_parser::ScalarStyle::SingleQuoted => ScalarStyle::SingleQuoted,
        granit_parser::ScalarStyle::DoubleQuoted => ScalarStyle::DoubleQuoted,
        granit_parser::ScalarStyle::Literal => ScalarStyle::Literal,
        _ => ScalarStyle::Folded,
    }
}

fn core_tag(tag: Option<&granit_parser::Tag>) -> Option<Box<str>> {
    let tag = tag?;
    Some(
        tag.core_suffix()
            .map_or_else(|| tag.original().into_boxed_str(), Into::into),
    )
}

/// Parses one chunk of `text` (usually one document, see [`crate::split_documents`]) into
/// documents. A broken document is reported in `errors` and skipped; the chunk's other
/// documents are still returned. Comments are collected only when `comments` is true.
pub fn parse_chunk(text: &str, chunk: DocumentChunk, comments: bool) -> ParsedChunk<'_> {
    let piece = &text[chunk.start..chunk.end];
    let base = chunk.start;
    let mut options = Options::default();
    options.emit_comments = comments;
    let mut parser = Parser::new_from_str_with_options(piece, options);
    let mut out = ParsedChunk::default();
    let mut b = Builder {
        text,
        base,
        // About one node per 12 bytes of typical manifests: growing the arena from empty
        // copied it a dozen times per document.
        nodes: Vec::with_capacity(piece.len() / 12 + 16),
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        comments: Vec::new(),
        doc_start: base,
    };
    let mut in_document = false;
    while let Some(next) = parser.next_event() {
        let (event, span) = match next {
            Ok(pair) => pair,
            Err(err) => {
                let offset = err.marker().byte_offset().unwrap_or(0) + base;
                out.errors.push(ParseError {
                    message: err.info(),
                    offset,
                });
                b.reset();
                in_document = false;
                match parser.proceed_next_document() {
                    Ok(true) => continue,
                    _ => break,
                }
            }
        };
        let range = span.byte_range().unwrap_or(0..0);
        let (start, end) = (range.start + b.base, range.end + b.base);
        match event {
            Event::StreamStart | Event::StreamEnd => {}
            Event::DocumentStart(..) => {
                b.reset();
                b.doc_start = start;
                in_document = true;
            }
            Event::DocumentEnd => {
                if in_document {
                    let doc = b.finish(end.max(start));
                    out.documents.push(doc);
                }
                in_document = false;
            }
            Event::Comment(..) => b.comments.push(Comment {
                range: TextRange::new(start, end),
            }),
            Event::Alias(anchor) => {
                if let Some(&target) = b.anchors.get(&anchor) {
                    b.attach(target);
                } else {
                    let id = b.push_node(
                        Node {
                            range: TextRange::new(start, end),
                            value: NodeValue::Scalar(Scalar {
                                value: Cow::Borrowed(""),
                                style: ScalarStyle::Plain,
                                tag: None,
                            }),
                        },
                        0,
                    );
                    b.attach(id);
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                let scalar = Scalar {
                    value,
                    style: style_of(style),
                    tag: core_tag(tag.as_deref()),
                };
                let id = b.push_node(
                    Node {
                        range: TextRange::new(start, end),
                        value: NodeValue::Scalar(scalar),
                    },
                    anchor,
                );
                b.attach(id);
            }
            Event::SequenceStart(style, anchor, _) => {
                let flow = style == StructureStyle::Flow;
                let id = b.push_node(
                    Node {
                        range: TextRange::new(start, end),
                        value: NodeValue::Sequence {
                            items: Vec::new(),
                            flow,
                        },
                    },
                    anchor,
                );
                b.stack.push(Frame::Sequence {
                    id,
                    items: Vec::new(),
                    start,
                });
            }
            Event::MappingStart(style, anchor, _) => {
                let flow = style == StructureStyle::Flow;
                let id = b.push_node(
                    Node {
                        range: TextRange::new(start, end),
                        value: NodeValue::Mapping {
                            entries: Vec::new(),
                            flow,
                        },
                    },
                    anchor,
                );
                b.stack.push(Frame::Mapping {
                    id,
                    entries: Vec::new(),
                    key: None,
                    start,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => b.close(start, end),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::split_documents;

    fn parse(text: &str) -> ParsedChunk<'_> {
        parse_chunk(
            text,
            DocumentChunk {
                start: 0,
                end: text.len(),
            },
            true,
        )
    }

    #[test]
    fn ranges_are_exact_bytes() {
        let text = "a:\n  name: \"x-é\"   # trailing\n  list: [1, 2]\n";
        let parsed = parse(text);
        let doc = &parsed.documents[0];
        let root = doc.root().unwrap();
        let name = doc.path(root, &["a", "name"]).unwrap();
        assert_eq!(doc.source(name), "\"x-é\"");
        assert_eq!(doc.str(name), Some("x-é"));
        let list = doc.path(root, &["a", "list"]).unwrap();
        assert_eq!(doc.source(list), "[1, 2]");
        assert_eq!(doc.comments.len(), 1);
        let a = doc.get(root, "a").unwrap();
        assert!(doc.source(a).starts_with("name") && doc.source(a).ends_with("[1, 2]"));
    }

    #[test]
    fn yaml_1_1_and_quotes() {
        let text = "a: yes\nb: \"true\"\nc: !!str on\nd: 0\n";
        let parsed = parse(text);
        let doc = &parsed.documents[0];
        let root = doc.root().unwrap();
        assert_eq!(doc.bool(doc.get(root, "a").unwrap()), Some(true));
        assert_eq!(doc.bool(doc.get(root, "b").unwrap()), None);
        assert_eq!(doc.str(doc.get(root, "b").unwrap()), Some("true"));
        assert_eq!(doc.bool(doc.get(root, "c").unwrap()), None);
        assert_eq!(doc.int(doc.get(root, "d").unwrap()), Some(0));
    }

    #[test]
    fn merge_keys_and_aliases() {
        let text = "base: &b\n  x: 1\nchild:\n  <<: *b\n  y: 2\n";
        let parsed = parse(text);
        let doc = &parsed.documents[0];
        let root = doc.root().unwrap();
        assert_eq!(doc.int(doc.path(root, &["child", "x"]).unwrap()), Some(1));
    }

    #[test]
    fn broken_document_does_not_hide_the_next() {
        let text = "a: 1\n---\nbad: [unclosed\n---\nc: 3\n";
        let mut docs = 0;
        let mut errors = Vec::new();
        for chunk in split_documents(text) {
            let parsed = parse_chunk(text, chunk, false);
            docs += parsed.documents.len();
            errors.extend(parsed.errors);
        }
        assert_eq!(docs, 2);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].offset >= 9 && errors[0].offset <= text.find("c: 3").unwrap());
    }
}
