//! Lowering route operations against a parsed document: to byte edits on the original text,
//! and to RFC 6902 JSON Patch operations.

use std::fmt;

use palisade_diagnostics::{Fix, Op, Route, Step, Value};
use palisade_yaml::{Document, NodeId, NodeValue, Resolved, ScalarStyle, resolve_plain};
use serde_json::json;

/// Why an operation cannot be lowered. Nothing is changed for a fix that has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LowerError(pub String);

impl fmt::Display for LowerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LowerError {}

fn err<T>(message: impl Into<String>) -> Result<T, LowerError> {
    Err(LowerError(message.into()))
}

/// A byte edit: replace `start..end` of the text with `content`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub content: String,
    /// For an insertion of a new entry at the end of an existing mapping: the mapping's start
    /// offset and the key. Two such insertions into the same mapping at the same offset can
    /// both be applied (their texts are concatenated); any other overlap is a conflict.
    pub(crate) entry_of: Option<(usize, String)>,
}

impl Edit {
    /// Whether this edit and `other` cannot both be applied in one pass.
    pub fn conflicts_with(&self, other: &Edit) -> bool {
        if self.start == self.end && other.start == other.end && self.start == other.start {
            return match (&self.entry_of, &other.entry_of) {
                (Some((a, ka)), Some((b, kb))) => a != b || ka == kb,
                _ => true,
            };
        }
        self.start < other.end.max(other.start + 1) && other.start < self.end.max(self.start + 1)
    }
}

/// Applies non-conflicting edits to `text`.
pub fn apply_edits(text: &str, edits: &[Edit]) -> String {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.start, e.end));
    let mut out = String::with_capacity(text.len() + 256);
    let mut at = 0;
    for e in sorted {
        out.push_str(&text[at..e.start.max(at)]);
        out.push_str(&e.content);
        at = e.end.max(at);
    }
    out.push_str(&text[at..]);
    out
}

/// How a document is written: indentation step, sequence style and line breaks.
struct Style {
    step: usize,
    indentless: bool,
    nl: &'static str,
}

/// An operation resolved against the tree: what exists of its route decides the edit.
enum Plan {
    /// The whole route exists.
    Replace {
        node: NodeId,
        key: Option<NodeId>,
        parent: Option<NodeId>,
        value: Value,
    },
    /// The route exists down to `node` (`depth` steps); the rest is missing.
    Insert {
        node: NodeId,
        key: Option<NodeId>,
        parent: Option<NodeId>,
        depth: usize,
        value: Value,
    },
    AppendTo {
        seq: NodeId,
        value: Value,
    },
    RemoveEntry {
        parent: NodeId,
        key: NodeId,
        value: NodeId,
    },
    RemoveItem {
        seq: NodeId,
        item: NodeId,
    },
    Nothing,
}

struct Walk {
    node: NodeId,
    key: Option<NodeId>,
    parent: Option<NodeId>,
    depth: usize,
}

fn walk(doc: &Document<'_>, route: &Route) -> Result<Walk, LowerError> {
    let Some(root) = doc.root() else {
        return err("the document is empty");
    };
    let mut w = Walk {
        node: root,
        key: None,
        parent: None,
        depth: 0,
    };
    for step in route.steps() {
        let here = doc.range(w.node);
        let next = match step {
            Step::Key(k) => {
                if !doc.is_mapping(w.node) {
                    return Ok(w);
                }
                let entries = doc.entries(w.node);
                let hit = entries
                    .iter()
                    .rev()
                    .find(|&&(key, _)| doc.text_of(key) == Some(k.as_ref()));
                match hit {
                    Some(&(key, value)) => (value, Some(key)),
                    None => {
                        if entries
                            .iter()
                            .any(|&(key, _)| doc.text_of(key) == Some("<<"))
                        {
                            return err(format!(
                                "`{}` uses a YAML merge key (`<<`): edit it by hand",
                                Route(route.steps()[..w.depth].to_vec())
                            ));
                        }
                        return Ok(w);
                    }
                }
            }
            Step::Index(i) => match doc.items(w.node).get(*i) {
                Some(&item) => (item, None),
                None => return err(format!("`{route}` has no item {i}")),
            },
        };
        let r = doc.range(next.0);
        let after_key = next.1.is_none_or(|k| r.start >= doc.range(k).end);
        if r.start < here.start || r.end > here.end || !after_key {
            return err(format!(
                "`{}` is a YAML alias: editing it would change every place that uses it",
                Route(route.steps()[..=w.depth].to_vec())
            ));
        }
        w.parent = Some(w.node);
        w.node = next.0;
        w.key = next.1;
        w.depth += 1;
    }
    Ok(w)
}

fn resolve(doc: &Document<'_>, op: &Op) -> Result<Plan, LowerError> {
    let route = op.route();
    let w = walk(doc, route)?;
    let complete = w.depth == route.steps().len();
    if !complete
        && route.steps()[w.depth..]
            .iter()
            .any(|s| matches!(s, Step::Index(_)))
    {
        return err(format!("`{route}` has no such item"));
    }
    Ok(match op {
        Op::Set { value, .. } if complete => Plan::Replace {
            node: w.node,
            key: w.key,
            parent: w.parent,
            value: value.clone(),
        },
        Op::Set { value, .. } => Plan::Insert {
            node: w.node,
            key: w.key,
            parent: w.parent,
            depth: w.depth,
            value: value.clone(),
        },
        Op::Append { value, .. } if complete => {
            if doc.is_sequence(w.node) {
                Plan::AppendTo {
                    seq: w.node,
                    value: value.clone(),
                }
            } else if doc.is_null(w.node) {
                Plan::Replace {
                    node: w.node,
                    key: w.key,
                    parent: w.parent,
                    value: json!([value]),
                }
            } else {
                return err(format!("`{route}` is not a list"));
            }
        }
        Op::Append { value, .. } => Plan::Insert {
            node: w.node,
            key: w.key,
            parent: w.parent,
            depth: w.depth,
            value: json!([value]),
        },
        Op::Remove { .. } if complete => match (w.parent, w.key) {
            (Some(parent), Some(key)) => Plan::RemoveEntry {
                parent,
                key,
                value: w.node,
            },
            (Some(seq), None) if doc.is_sequence(seq) => Plan::RemoveItem { seq, item: w.node },
            _ => return err(format!("`{route}` is not a mapping entry or a list item")),
        },
        Op::Remove { .. } => Plan::Nothing,
    })
}

/// Wraps `value` in mappings for the missing keys `steps`.
fn nest(steps: &[Step], value: Value) -> Value {
    steps.iter().rev().fold(value, |v, s| match s {
        Step::Key(k) => {
            let mut m = serde_json::Map::new();
            m.insert(k.to_string(), v);
            Value::Object(m)
        }
        Step::Index(_) => json!([v]),
    })
}

/// Setting a mapping on an existing, non-empty mapping sets each of its keys: what the
/// mapping already holds and the mapping says nothing about stays. With `empty`, an empty
/// mapping is expanded too (JSON Patch adds each key; text edits rewrite `{}` whole).
fn expand(doc: &Document<'_>, ops: &[Op], empty: bool) -> Result<Vec<Op>, LowerError> {
    let mut out = Vec::with_capacity(ops.len());
    for op in ops {
        if let Op::Set {
            route,
            value: Value::Object(map),
        } = op
        {
            let w = walk(doc, route)?;
            if w.depth == route.steps().len()
                && doc.is_mapping(w.node)
                && (empty || !doc.entries(w.node).is_empty())
            {
                let parts: Vec<Op> = map
                    .iter()
                    .map(|(k, v)| Op::Set {
                        route: route.clone().key(k),
                        value: v.clone(),
                    })
                    .collect();
                out.extend(expand(doc, &parts, empty)?);
                continue;
            }
        }
        out.push(op.clone());
    }
    Ok(out)
}

/// The JSON Patch operations of a fix, with paths from the object's root.
pub fn json_patch(doc: &Document<'_>, fix: &Fix) -> Result<Vec<Value>, LowerError> {
    let ops = expand(doc, &fix.ops, true)?;
    let mut out = Vec::with_capacity(ops.len());
    for op in &ops {
        let route = op.route();
        let local = |steps: &[Step]| -> Result<String, LowerError> {
            Route(steps.to_vec())
                .strip_prefix(&fix.base)
                .map(|r| r.json_pointer())
                .ok_or_else(|| LowerError(format!("`{route}` is outside the object")))
        };
        let steps = route.steps();
        match resolve(doc, op)? {
            Plan::Replace { value, .. } => {
                out.push(json!({"op": "replace", "path": local(steps)?, "value": value}));
            }
            Plan::Insert {
                node, depth, value, ..
            } => {
                if doc.is_null(node) && depth > 0 {
                    let nested = nest(&steps[depth..], value);
                    out.push(
                        json!({"op": "replace", "path": local(&steps[..depth])?, "value": nested}),
                    );
                } else {
                    let nested = nest(&steps[depth + 1..], value);
                    out.push(
                        json!({"op": "add", "path": local(&steps[..=depth])?, "value": nested}),
                    );
                }
            }
            Plan::AppendTo { value, .. } => {
                out.push(
                    json!({"op": "add", "path": format!("{}/-", local(steps)?), "value": value}),
                );
            }
            Plan::RemoveEntry { .. } | Plan::RemoveItem { .. } => {
                out.push(json!({"op": "remove", "path": local(steps)?}));
            }
            Plan::Nothing => {}
        }
    }
    Ok(out)
}

/// The byte edits of a fix on the document's text.
pub fn text_edits(doc: &Document<'_>, fix: &Fix) -> Result<Vec<Edit>, LowerError> {
    let text = doc.text();
    let style = Style::of(doc);
    let ops = expand(doc, &fix.ops, false)?;
    let mut edits = Vec::with_capacity(ops.len());
    for op in &ops {
        let steps = op.route().steps();
        let lw = Lowerer {
            doc,
            text,
            style: &style,
        };
        match resolve(doc, op)? {
            Plan::Replace {
                node,
                key,
                parent,
                value,
            } => edits.push(lw.replace(node, key, parent, &value)?),
            Plan::Insert {
                node,
                key,
                parent,
                depth,
                value,
            } => {
                let Step::Key(first) = &steps[depth] else {
                    return err("cannot create a list item");
                };
                let nested = nest(&steps[depth + 1..], value);
                if doc.is_null(node) {
                    let mut m = serde_json::Map::new();
                    m.insert(first.to_string(), nested);
                    edits.push(lw.replace(node, key, parent, &Value::Object(m))?);
                } else if doc.is_mapping(node) {
                    edits.push(lw.insert_entry(node, first, &nested)?);
                } else {
                    return err(format!(
                        "`{}` is not a mapping",
                        Route(steps[..depth].to_vec())
                    ));
                }
            }
            Plan::AppendTo { seq, value } => edits.push(lw.append(seq, &value)?),
            Plan::RemoveEntry { parent, key, value } => {
                edits.push(lw.remove(parent, key, value)?);
            }
            Plan::RemoveItem { seq, item } => edits.push(lw.remove_item(seq, item)?),
            Plan::Nothing => {}
        }
    }
    for (i, a) in edits.iter().enumerate() {
        if edits[i + 1..].iter().any(|b| a.conflicts_with(b)) {
            return err("the fix's operations overlap");
        }
    }
    Ok(edits)
}

impl Style {
    fn of(doc: &Document<'_>) -> Self {
        let text = doc.text();
        let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
        let mut step = None;
        let mut indentless = None;
        for node in doc.nodes() {
            let NodeValue::Mapping {
                entries,
                flow: false,
            } = &node.value
            else {
                continue;
            };
            for &(k, v) in entries {
                let kr = doc.range(k);
                let vr = doc.range(v);
                if vr.start <= kr.start || line_start(text, vr.start as usize) <= kr.start as usize
                {
                    continue;
                }
                match &doc.node(v).value {
                    NodeValue::Mapping { flow: false, .. } if step.is_none() => {
                        let d = column(text, vr.start as usize)
                            .saturating_sub(column(text, kr.start as usize));
                        if d > 0 {
                            step = Some(d);
                        }
                    }
                    NodeValue::Sequence { flow: false, items } if indentless.is_none() => {
                        if let Some(&first) = items.first()
                            && let Some(dash) = dash_before(text, doc.range(first).start as usize)
                        {
                            indentless =
                                Some(column(text, dash) == column(text, kr.start as usize));
                        }
                    }
                    _ => {}
                }
            }
            if step.is_some() && indentless.is_some() {
                break;
            }
        }
        Self {
            step: step.unwrap_or(2),
            indentless: indentless.unwrap_or(false),
            nl,
        }
    }
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// Bytes from the start of the line; YAML indentation is spaces only.
fn column(text: &str, at: usize) -> usize {
    at - line_start(text, at)
}

/// The `-` of the block sequence item starting at `at`, on the same line.
fn dash_before(text: &str, at: usize) -> Option<usize> {
    let ls = line_start(text, at);
    let before = &text[ls..at];
    let i = before.rfind('-')?;
    before[i + 1..].bytes().all(|b| b == b' ').then_some(ls + i)
}

/// The offset just after the line holding `at - 1` (so `at` itself when it starts a line),
/// and whether a line break must be written first (the text ends without one).
fn after_line(text: &str, at: usize) -> (usize, bool) {
    if at > 0 && text.as_bytes()[at - 1] == b'\n' {
        return (at, false);
    }
    // A block scalar (`|`, `>`) ends where the next token starts: after the indentation of
    // the following line.
    let ls = line_start(text, at);
    if ls < at && text[ls..at].bytes().all(|b| b == b' ' || b == b'\t') {
        return (ls, false);
    }
    match text[at..].find('\n') {
        Some(i) => (at + i + 1, false),
        None => (text.len(), true),
    }
}

struct Lowerer<'a, 'd> {
    doc: &'a Document<'d>,
    text: &'d str,
    style: &'a Style,
}

impl Lowerer<'_, '_> {
    fn in_flow(&self, parent: Option<NodeId>) -> bool {
        parent.is_some_and(|p| self.doc.is_flow(p))
    }

    fn replace(
        &self,
        node: NodeId,
        key: Option<NodeId>,
        parent: Option<NodeId>,
        value: &Value,
    ) -> Result<Edit, LowerError> {
        let doc = self.doc;
        let r = doc.range(node);
        let (start, end) = (r.start as usize, r.end as usize);
        let edit = |start, end, content| Edit {
            start,
            end,
            content,
            entry_of: None,
        };
        let scalar_value = !matches!(value, Value::Object(_) | Value::Array(_));
        if let Some(s) = doc.scalar(node) {
            if scalar_value {
                let flow = self.in_flow(parent);
                let rendered = render_scalar(value, Some(s.style), flow);
                if start == end {
                    let colon = self.colon_after(key)?;
                    return Ok(edit(colon + 1, colon + 1, format!(" {rendered}")));
                }
                if matches!(s.style, ScalarStyle::Literal | ScalarStyle::Folded) {
                    return err("replacing a block scalar is not supported");
                }
                return Ok(edit(start, end, rendered));
            }
            if !doc.is_null(node) {
                return err("the field holds a value of another type");
            }
            // A block value needs the key's column; in flow style, or without a key, the value
            // is written in flow style where it stands.
            let block_key = if self.in_flow(parent) { None } else { key };
            let Some(key) = block_key else {
                let flow = render_flow(value);
                if start == end {
                    let colon = self.colon_after(key)?;
                    return Ok(edit(colon + 1, colon + 1, format!(" {flow}")));
                }
                return Ok(edit(start, end, flow));
            };
            let indent = column(self.text, doc.range(key).start as usize) + self.style.step;
            let block = self.render_block_value(value, indent);
            let colon = self.colon_after(Some(key))?;
            if start == end {
                // `key:` with nothing after it: the lines go after the key's line, which may
                // end with a comment.
                let eol = self.text[colon..]
                    .find(['\r', '\n'])
                    .map_or(self.text.len(), |i| colon + i);
                return Ok(edit(eol, eol, block));
            }
            let between = &self.text[colon + 1..start];
            if between.contains(['\n', '#']) {
                return err("a comment sits between the key and its value");
            }
            // `key: null` or `key: ~`: the value goes, the block follows the colon.
            return Ok(edit(colon + 1, end, block));
        }
        if scalar_value {
            return err("the field holds a mapping or list, not a single value");
        }
        if doc.is_flow(node) || self.in_flow(parent) {
            return Ok(edit(start, end, render_flow(value)));
        }
        let indent = column(self.text, start);
        let block = self.render_block_value(value, indent);
        // The block starts with a line break and the indentation; the node starts at its
        // column already.
        let trimmed = block
            .trim_start_matches(['\r', '\n'])
            .trim_start_matches(' ');
        Ok(edit(start, end, trimmed.to_owned()))
    }

    /// The `:` that follows a mapping key.
    fn colon_after(&self, key: Option<NodeId>) -> Result<usize, LowerError> {
        let Some(key) = key else {
            return err("the value has no key");
        };
        let from = self.doc.range(key).end as usize;
        let rest = &self.text[from..];
        let i = rest
            .find(':')
            .filter(|&i| {
                rest[..i]
                    .bytes()
                    .all(|b| b == b' ' || b == b'"' || b == b'\'')
            })
            .ok_or_else(|| LowerError("cannot find the key's colon".to_owned()))?;
        Ok(from + i)
    }

    /// A value written below a `key:` line: a line break, then the block at `indent`; no
    /// trailing line break (the key's own line break follows).
    fn render_block_value(&self, value: &Value, indent: usize) -> String {
        let mut out = String::new();
        match value {
            Value::Object(m) if !m.is_empty() => {
                for (k, v) in m {
                    out.push_str(self.style.nl);
                    self.render_entry(&mut out, k, v, indent);
                }
            }
            Value::Array(items) if !items.is_empty() => {
                let dash = if self.style.indentless {
                    indent.saturating_sub(self.style.step)
                } else {
                    indent
                };
                for item in items {
                    out.push_str(self.style.nl);
                    self.render_item(&mut out, item, dash);
                }
            }
            other => {
                out.push(' ');
                out.push_str(&render_flow(other));
                return out;
            }
        }
        out
    }

    /// `key: value` at `indent`, without a final line break.
    fn render_entry(&self, out: &mut String, key: &str, value: &Value, indent: usize) {
        push_indent(out, indent);
        out.push_str(&render_key(key));
        out.push(':');
        match value {
            Value::Object(m) if !m.is_empty() => {
                out.push_str(&self.render_block_value(value, indent + self.style.step));
            }
            Value::Array(a) if !a.is_empty() => {
                // Sequence items go one step in, or level with the key when the document
                // writes its sequences indentless.
                out.push_str(&self.render_block_value(value, indent + self.style.step));
            }
            other => {
                out.push(' ');
                out.push_str(&render_flow(other));
            }
        }
    }

    /// `- item` with the dash at `dash`, without a final line break.
    fn render_item(&self, out: &mut String, item: &Value, dash: usize) {
        push_indent(out, dash);
        out.push_str("- ");
        match item {
            Value::Object(m) if !m.is_empty() => {
                let mut first = true;
                for (k, v) in m {
                    let mut entry = String::new();
                    self.render_entry(&mut entry, k, v, dash + 2);
                    if first {
                        out.push_str(entry.trim_start_matches(' '));
                        first = false;
                    } else {
                        out.push_str(self.style.nl);
                        out.push_str(&entry);
                    }
                }
            }
            other => out.push_str(&render_flow(other)),
        }
    }

    fn insert_entry(&self, map: NodeId, key: &str, value: &Value) -> Result<Edit, LowerError> {
        let doc = self.doc;
        let r = doc.range(map);
        let entries = doc.entries(map);
        if doc.is_flow(map) {
            let rendered = format!("{}: {}", render_key(key), render_flow(value));
            return Ok(match entries.last() {
                Some(&(_, last)) => {
                    let at = doc.range(last).end as usize;
                    Edit {
                        start: at,
                        end: at,
                        content: format!(", {rendered}"),
                        entry_of: Some((r.start as usize, key.to_owned())),
                    }
                }
                None => {
                    let at = r.start as usize + 1;
                    Edit {
                        start: at,
                        end: at,
                        content: rendered,
                        entry_of: None,
                    }
                }
            });
        }
        let Some(&(first_key, _)) = entries.first() else {
            return err("cannot insert into an empty block mapping");
        };
        let indent = column(self.text, doc.range(first_key).start as usize);
        let mut content = String::new();
        let (at, break_first) = after_line(self.text, r.end as usize);
        if break_first {
            content.push_str(self.style.nl);
        }
        self.render_entry(&mut content, key, value, indent);
        if !break_first {
            content.push_str(self.style.nl);
        }
        Ok(Edit {
            start: at,
            end: at,
            content,
            entry_of: Some((r.start as usize, key.to_owned())),
        })
    }

    fn append(&self, seq: NodeId, value: &Value) -> Result<Edit, LowerError> {
        let doc = self.doc;
        let r = doc.range(seq);
        let items = doc.items(seq);
        if doc.is_flow(seq) {
            let rendered = render_flow(value);
            return Ok(match items.last() {
                Some(&last) => {
                    let at = doc.range(last).end as usize;
                    Edit {
                        start: at,
                        end: at,
                        content: format!(", {rendered}"),
                        entry_of: None,
                    }
                }
                None => Edit {
                    start: r.start as usize + 1,
                    end: r.start as usize + 1,
                    content: rendered,
                    entry_of: None,
                },
            });
        }
        let Some(&first) = items.first() else {
            return err("cannot append to an empty block list");
        };
        let Some(dash) = dash_before(self.text, doc.range(first).start as usize) else {
            return err("cannot find the list's `-`");
        };
        let mut content = String::new();
        let (at, break_first) = after_line(self.text, r.end as usize);
        if break_first {
            content.push_str(self.style.nl);
        }
        self.render_item(&mut content, value, column(self.text, dash));
        if !break_first {
            content.push_str(self.style.nl);
        }
        Ok(Edit {
            start: at,
            end: at,
            content,
            entry_of: None,
        })
    }

    fn remove_item(&self, seq: NodeId, item: NodeId) -> Result<Edit, LowerError> {
        let r = self.doc.range(item);
        let (start, end) = (r.start as usize, r.end as usize);
        let edit = |start, end| Edit {
            start,
            end,
            content: String::new(),
            entry_of: None,
        };
        if self.doc.is_flow(seq) {
            let rest = &self.text[end..];
            let after = rest.trim_start_matches([' ', '\t']);
            if let Some(after_comma) = after.strip_prefix(',') {
                let skip = rest.len() - after_comma.len();
                let trailing = after_comma.len() - after_comma.trim_start_matches(' ').len();
                return Ok(edit(start, end + skip + trailing));
            }
            let before = self.text[..start].trim_end_matches([' ', '\t', '\r', '\n']);
            let from = if before.ends_with(',') {
                before.len() - 1
            } else {
                start
            };
            return Ok(edit(from, end));
        }
        let Some(dash) = dash_before(self.text, start) else {
            return err("cannot find the list item's `-`");
        };
        let ls = line_start(self.text, dash);
        if !self.text[ls..dash].bytes().all(|b| b == b' ') {
            return err("the list item shares its line with other content: remove it by hand");
        }
        let (to, _) = after_line(self.text, end.max(dash + 1));
        Ok(edit(ls, to))
    }

    fn remove(&self, parent: NodeId, key: NodeId, value: NodeId) -> Result<Edit, LowerError> {
        let doc = self.doc;
        let (ks, ve) = (doc.range(key).start as usize, doc.range(value).end as usize);
        let ve = ve.max(doc.range(key).end as usize);
        if doc.is_flow(parent) {
            let rest = &self.text[ve..];
            let after = rest.trim_start_matches([' ', '\t']);
            if let Some(after_comma) = after.strip_prefix(',') {
                let skip = rest.len() - after_comma.len();
                let trailing = after_comma.len() - after_comma.trim_start_matches(' ').len();
                return Ok(Edit {
                    start: ks,
                    end: ve + skip + trailing,
                    content: String::new(),
                    entry_of: None,
                });
            }
            let before = self.text[..ks].trim_end_matches([' ', '\t', '\r', '\n']);
            let start = if before.ends_with(',') {
                before.len() - 1
            } else {
                ks
            };
            return Ok(Edit {
                start,
                end: ve,
                content: String::new(),
                entry_of: None,
            });
        }
        let ls = line_start(self.text, ks);
        if !self.text[ls..ks].bytes().all(|b| b == b' ') {
            return err("the entry shares its line with a list item's `-`: remove it by hand");
        }
        let (end, _) = after_line(self.text, ve);
        Ok(Edit {
            start: ls,
            end,
            content: String::new(),
            entry_of: None,
        })
    }
}

fn push_indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// Whether a string can be written without quotes and still read back as the same string.
fn plain_ok(s: &str, flow: bool) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if resolve_plain(s) != Resolved::Str || s.parse::<f64>().is_ok() {
        return false;
    }
    if "-?:,[]{}#&*!|>'\"%@` \t".contains(first) || s.ends_with([' ', '\t', ':']) {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.chars().any(char::is_control) {
        return false;
    }
    !(flow && s.contains([',', '[', ']', '{', '}']))
}

fn render_key(key: &str) -> String {
    if plain_ok(key, true) {
        key.to_owned()
    } else {
        serde_json::to_string(key).unwrap_or_default()
    }
}

/// A scalar as YAML text; strings keep the quoting of the value they replace when it can
/// hold them.
fn render_scalar(value: &Value, prefer: Option<ScalarStyle>, flow: bool) -> String {
    match value {
        Value::String(s) => match prefer {
            Some(ScalarStyle::SingleQuoted) if !s.contains(['\n', '\r']) => {
                format!("'{}'", s.replace('\'', "''"))
            }
            Some(ScalarStyle::DoubleQuoted) => serde_json::to_string(s).unwrap_or_default(),
            _ if plain_ok(s, flow) => s.clone(),
            _ => serde_json::to_string(s).unwrap_or_default(),
        },
        Value::Null => "null".to_owned(),
        other => other.to_string(),
    }
}

/// A value in flow style: `{type: RuntimeDefault}`, `[ALL]`.
fn render_flow(value: &Value) -> String {
    match value {
        Value::Object(m) => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", render_key(k), render_flow(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Value::Array(a) => {
            let parts: Vec<String> = a.iter().map(render_flow).collect();
            format!("[{}]", parts.join(", "))
        }
        other => render_scalar(other, None, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_diagnostics::Fix;
    use palisade_yaml::{DocumentChunk, parse_chunk};

    fn fixed(text: &str, ops: Vec<Op>) -> String {
        let parsed = parse_chunk(
            text,
            DocumentChunk {
                start: 0,
                end: text.len(),
            },
            false,
        );
        let doc = &parsed.documents[0];
        let edits = text_edits(doc, &Fix::safe("t", ops)).unwrap();
        apply_edits(text, &edits)
    }

    #[test]
    fn replaces_a_scalar_in_place() {
        let t = "spec:\n  privileged: true # why\n  x: 1\n";
        let out = fixed(t, vec![Op::set("spec.privileged", false)]);
        assert_eq!(out, "spec:\n  privileged: false # why\n  x: 1\n");
    }

    #[test]
    fn keeps_quote_style() {
        let t = "a:\n  b: 'x'\n  c: \"y\"\n";
        let out = fixed(t, vec![Op::set("a.b", "z"), Op::set("a.c", "w")]);
        assert_eq!(out, "a:\n  b: 'z'\n  c: \"w\"\n");
    }

    #[test]
    fn creates_missing_parents_with_the_documents_indentation() {
        let t = "spec:\n    containers:\n    - name: app\n      image: x  # pinned\n    # end\n";
        let out = fixed(
            t,
            vec![Op::set(
                "spec.containers[0].securityContext.privileged",
                false,
            )],
        );
        assert_eq!(
            out,
            "spec:\n    containers:\n    - name: app\n      image: x  # pinned\n      securityContext:\n          privileged: false\n    # end\n"
        );
    }

    #[test]
    fn flow_mappings_stay_flow() {
        let t = "c: {name: app, securityContext: {runAsUser: 1}}\n";
        let out = fixed(
            t,
            vec![
                Op::set("c.securityContext.privileged", false),
                Op::set("c.resources.limits.cpu", "1"),
            ],
        );
        assert_eq!(
            out,
            "c: {name: app, securityContext: {runAsUser: 1, privileged: false}, resources: {limits: {cpu: \"1\"}}}\n"
        );
    }

    #[test]
    fn fills_empty_and_null_values() {
        let t = "a:\n  sc:\n  b: ~ # c\n  e: {}\n";
        let out = fixed(
            t,
            vec![
                Op::set("a.sc.x", true),
                Op::set("a.b.w", 1),
                Op::set("a.e.z", "s"),
            ],
        );
        assert_eq!(
            out,
            "a:\n  sc:\n    x: true\n  b:\n    w: 1 # c\n  e: {z: s}\n"
        );
    }

    #[test]
    fn setting_a_mapping_merges_into_an_existing_one() {
        let t = "r:\n  requests:\n    storage: 1Gi\n";
        let out = fixed(
            t,
            vec![Op::set(
                "r.requests",
                json!({"cpu": "100m", "memory": "128Mi"}),
            )],
        );
        assert_eq!(
            out,
            "r:\n  requests:\n    storage: 1Gi\n    cpu: 100m\n    memory: 128Mi\n"
        );
        let out = fixed("r: {}\n", vec![Op::set("r", json!({"a": 1, "b": 2}))]);
        assert_eq!(out, "r: {a: 1, b: 2}\n");
    }

    #[test]
    fn appends_to_lists() {
        let t = "c:\n  drop:\n    - NET_RAW\n  add: [A]\nd: x";
        let out = fixed(
            t,
            vec![Op::append("c.drop", "ALL"), Op::append("c.add", "B")],
        );
        assert_eq!(
            out,
            "c:\n  drop:\n    - NET_RAW\n    - ALL\n  add: [A, B]\nd: x"
        );
        let out = fixed("c:\n  x: 1", vec![Op::append("c.drop", "ALL")]);
        assert_eq!(out, "c:\n  x: 1\n  drop:\n    - ALL");
    }

    #[test]
    fn removes_entries() {
        let t = "a:\n  b: 1 # gone\n  c: 2\nf: {x: 1, y: 2}\n";
        let out = fixed(
            t,
            vec![Op::remove("a.b"), Op::remove("f.x"), Op::remove("a.zz")],
        );
        assert_eq!(out, "a:\n  c: 2\nf: {y: 2}\n");
    }

    #[test]
    fn inserts_after_a_block_scalar() {
        let t = "spec:\n  c:\n    args:\n      - |\n        sleep 1\n  restartPolicy: Always\n";
        let out = fixed(t, vec![Op::set("spec.c.x", true)]);
        assert_eq!(
            out,
            "spec:\n  c:\n    args:\n      - |\n        sleep 1\n    x: true\n  restartPolicy: Always\n"
        );
    }

    #[test]
    fn removes_list_items() {
        let t = "a:\n  - x # one\n  - y\nb: [p, q, r]\n";
        let out = fixed(t, vec![Op::remove("a[0]"), Op::remove("b[1]")]);
        assert_eq!(out, "a:\n  - y\nb: [p, r]\n");
        let out = fixed("b: [p, q]\n", vec![Op::remove("b[1]")]);
        assert_eq!(out, "b: [p]\n");
    }

    #[test]
    fn quotes_strings_that_would_change_type() {
        assert_eq!(render_scalar(&json!("yes"), None, false), "\"yes\"");
        assert_eq!(render_scalar(&json!("500m"), None, false), "500m");
        assert_eq!(render_scalar(&json!("1"), None, false), "\"1\"");
        assert_eq!(render_scalar(&json!("a: b"), None, false), "\"a: b\"");
        assert_eq!(
            render_scalar(&json!("runtime/default"), None, false),
            "runtime/default"
        );
    }

    #[test]
    fn refuses_aliases_and_merges() {
        let t = "base: &b\n  x: 1\nuse: *b\nm:\n  <<: *b\n";
        let parsed = parse_chunk(
            t,
            DocumentChunk {
                start: 0,
                end: t.len(),
            },
            false,
        );
        let doc = &parsed.documents[0];
        assert!(text_edits(doc, &Fix::safe("t", vec![Op::set("use.x", 2)])).is_err());
        assert!(text_edits(doc, &Fix::safe("t", vec![Op::set("m.y", 2)])).is_err());
    }

    #[test]
    fn json_patch_adds_under_the_deepest_existing_node() {
        let t = "kind: List\nitems:\n- spec:\n    containers:\n    - name: a\n";
        let parsed = parse_chunk(
            t,
            DocumentChunk {
                start: 0,
                end: t.len(),
            },
            false,
        );
        let doc = &parsed.documents[0];
        let mut fix = Fix::safe(
            "t",
            vec![Op::set(
                "items[0].spec.containers[0].securityContext.privileged",
                false,
            )],
        );
        fix.base = Route::parse("items[0]").unwrap();
        let patch = json_patch(doc, &fix).unwrap();
        assert_eq!(
            patch,
            vec![
                json!({"op": "add", "path": "/spec/containers/0/securityContext", "value": {"privileged": false}})
            ]
        );
    }
}
