//! Recognising un-rendered Helm templates, without mistaking Go templates that are data
//! (Prometheus alert text, Istio injection templates in block scalars) for them.

use memchr::memmem;

use crate::tree::{Document, NodeValue, ScalarStyle};

/// Helm's own objects and functions: only a chart uses these.
const HELM_OBJECTS: &[&str] = &[
    ".Values",
    ".Release",
    ".Chart",
    ".Capabilities",
    ".Files",
    "$.Values",
    "$.Release",
    "$.Chart",
    "include ",
    "tpl ",
    "toYaml ",
    "required ",
];

/// Go template control words: charts use them, and so do templates that are data.
const CONTROL_WORDS: &[&str] = &[
    "if ",
    "else",
    "end ",
    "end}",
    "range ",
    "with ",
    "define ",
    "template ",
    "- ",
];

/// Byte offsets of every `{{` in `text`.
pub fn template_marks(text: &str) -> Vec<usize> {
    memmem::find_iter(text.as_bytes(), b"{{").collect()
}

fn action(text: &str, at: usize) -> &str {
    let Some(rest) = text.get(at + 2..) else {
        return "";
    };
    rest.strip_prefix('-')
        .unwrap_or(rest)
        .trim_start_matches([' ', '\t'])
}

/// Whether the action opened at `at` uses a Helm object or function (`.Values`, `include`).
pub fn is_helm_object(text: &str, at: usize) -> bool {
    let rest = action(text, at);
    HELM_OBJECTS.iter().any(|a| rest.starts_with(a))
}

/// Whether the action opened at `at` uses a Helm object, a function or a control word.
pub fn is_helm_action(text: &str, at: usize) -> bool {
    let rest = action(text, at);
    is_helm_object(text, at) || CONTROL_WORDS.iter().any(|a| rest.starts_with(a))
}

/// The first template mark in `marks` that makes `doc` an un-rendered Helm template: a Helm
/// action that became YAML structure, or a Helm object (`.Values`, `include`…) inside a plain
/// or quoted scalar. Marks inside block scalars (`|`, `>`) are data, and so are templates of
/// other tools (`{{ $labels.x }}`, `{{path.basename}}`, `{{ .Spec.Model }}`).
pub fn template_in_document(doc: &Document<'_>, marks: &[usize]) -> Option<usize> {
    let range = doc.range;
    let marks: Vec<usize> = marks
        .iter()
        .copied()
        .filter(|&m| m >= range.start as usize && m < range.end as usize)
        .collect();
    if marks.is_empty() {
        return None;
    }
    let mut scalars: Vec<(u32, u32, ScalarStyle)> = doc
        .nodes()
        .filter_map(|n| match &n.value {
            NodeValue::Scalar(s) => Some((n.range.start, n.range.end, s.style)),
            _ => None,
        })
        .collect();
    scalars.sort_unstable_by_key(|s| s.0);
    let text = doc.text();
    for m in marks {
        let m32 = m as u32;
        let idx = scalars.partition_point(|s| s.0 <= m32);
        let containing = idx.checked_sub(1).map(|i| scalars[i]).filter(|s| m32 < s.1);
        let template = match containing {
            None => is_helm_action(text, m),
            Some((_, _, ScalarStyle::Literal | ScalarStyle::Folded)) => false,
            Some(_) => is_helm_object(text, m),
        };
        if template {
            return Some(m);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DocumentChunk, parse_chunk};

    fn check(text: &str) -> Option<usize> {
        let parsed = parse_chunk(
            text,
            DocumentChunk {
                start: 0,
                end: text.len(),
            },
            false,
        );
        let marks = template_marks(text);
        if !parsed.errors.is_empty() {
            return marks.first().copied();
        }
        template_in_document(&parsed.documents[0], &marks)
    }

    #[test]
    fn helm_structure_and_plain_values_are_templates() {
        assert_eq!(check("name: {{ .Release.Name }}\n"), Some(6));
        assert!(check("image: repo:{{ .Values.tag }}\n").is_some());
        assert!(check("name: \"{{ .Release.Name }}-web\"\n").is_some());
        assert!(check("a: 1\n{{- if .Values.x }}\nb: 2\n{{- end }}\n").is_some());
    }

    #[test]
    fn go_templates_in_data_are_not() {
        assert!(check("summary: \"{{ $labels.instance }} down\"\n").is_none());
        assert!(check("tpl: |\n  {{- if .Values.global }}x{{ end }}\n").is_none());
        assert!(check("path: apps/{{path.basename}}\n").is_none());
        assert!(check("args: \"--x \\\n  {{- if .Spec.Tensor -}}y{{- end }}\"\n").is_none());
        assert!(check("description: failed to send {{ $value | humanize }}\n").is_none());
        assert!(check("a: b\n").is_none());
    }
}
