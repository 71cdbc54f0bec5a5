//! Fixes for findings, from one description to three outputs.
//!
//! A rule describes its fix as route operations ([`palisade_diagnostics::Op`]: set a value,
//! append to a list, remove a key). This crate lowers them
//!
//! * to byte edits on the original text ([`text_edits`]), inferring indentation, sequence
//!   style and block or flow style from the document, so every comment, quote, key order and
//!   blank line that the fix does not target survives; a document is never re-serialised;
//! * to RFC 6902 JSON Patch operations ([`json_patch`]), from the object's root;
//! * to a `kubectl patch --type=json` command ([`kubectl_hint`]) for objects in a cluster.
//!
//! [`fix_text`] runs the fix loop on one file and verifies the result before it is written.

mod apply;
mod lower;

pub use apply::{Applied, FixContext, FixOptions, FixOutcome, Left, fix_text, fix_text_in};
pub use lower::{Edit, LowerError, apply_edits, json_patch, text_edits};

use palisade_diagnostics::{ObjectRef, Value};

/// A `kubectl patch` command that applies a JSON Patch to the live object.
pub fn kubectl_hint(object: &ObjectRef, patch: &[Value]) -> String {
    let json = serde_json::to_string(patch).unwrap_or_default();
    let resource = match object.api_version.split_once('/') {
        Some((group, _)) => format!("{}.{group}", object.kind.to_ascii_lowercase()),
        None => object.kind.to_ascii_lowercase(),
    };
    let mut cmd = format!(
        "kubectl patch {resource} {}",
        object.name.as_deref().unwrap_or("<name>")
    );
    if let Some(ns) = &object.namespace {
        cmd.push_str(" -n ");
        cmd.push_str(ns);
    }
    cmd.push_str(" --type=json -p '");
    cmd.push_str(&json.replace('\'', "'\\''"));
    cmd.push('\'');
    cmd
}

/// A unified diff between two texts, with `name` in the headers.
pub fn unified_diff(name: &str, before: &str, after: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kubectl_hint_names_the_object_and_quotes_the_patch() {
        let o = ObjectRef {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: Some("web".into()),
            name: Some("api".into()),
        };
        let patch = vec![json!({"op": "add", "path": "/a", "value": "it's"})];
        assert_eq!(
            kubectl_hint(&o, &patch),
            r#"kubectl patch deployment.apps api -n web --type=json -p '[{"op":"add","path":"/a","value":"it'\''s"}]'"#
        );
    }
}
