use memchr::memmem;

/// Helm objects and functions that only appear in an un-rendered chart template.
const HELM_ACTIONS: &[&str] = &[
    ".Values",
    ".Release",
    ".Chart",
    ".Capabilities",
    ".Files",
    ".Template",
    "include ",
    "template ",
    "tpl ",
    "toYaml ",
    "if ",
    "else",
    "end ",
    "end}",
    "range ",
    "with ",
    "define ",
    "$.Values",
    "$.Release",
];

/// Returns the byte offset of the first Helm template action (`{{ .Values.x }}`,
/// `{{- include … }}`) in `text`, if the text is an un-rendered chart template.
///
/// Only Helm's own objects and control words count, so Go templates that are data (Prometheus
/// alert annotations such as `{{ $labels.instance }}`) are not mistaken for templates.
pub fn unrendered_template(text: &str) -> Option<usize> {
    let finder = memmem::Finder::new(b"{{");
    let bytes = text.as_bytes();
    for at in finder.find_iter(bytes) {
        let mut rest = &text[at + 2..];
        rest = rest.strip_prefix('-').unwrap_or(rest);
        let rest = rest.trim_start_matches([' ', '\t']);
        if HELM_ACTIONS.iter().any(|a| rest.starts_with(a)) {
            return Some(at);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::unrendered_template;

    #[test]
    fn detects_helm_but_not_prometheus_templates() {
        assert_eq!(unrendered_template("name: {{ .Release.Name }}\n"), Some(6));
        assert!(unrendered_template("{{- if .Values.x }}\n").is_some());
        assert!(unrendered_template("summary: \"{{ $labels.instance }} down\"\n").is_none());
        assert!(unrendered_template("a: b\n").is_none());
    }
}
