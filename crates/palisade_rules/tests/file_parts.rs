//! `Engine::check_file_in_parts` reports a large file in parts: together they must be exactly
//! what `check_file` reports, and a file that is an un-rendered Helm template anywhere is
//! still reported whole, as a template.

use palisade_rules::{Engine, FileReport, FileRole, Settings, SourceFile, all_rules};

fn engine() -> Engine {
    Engine::new(all_rules().to_vec(), Settings::default())
}

fn pod(i: usize, extra: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\n  namespace: ns{}\nspec:\n  \
         containers:\n  - name: c\n    image: nginx:1.{i}\n    securityContext:\n      \
         privileged: {}\n{extra}",
        i % 7,
        i.is_multiple_of(2)
    )
}

fn large_file(docs: usize, special: Option<(usize, &str)>) -> String {
    (0..docs)
        .map(|i| match special {
            Some((at, extra)) if at == i => pod(i, extra),
            _ => pod(i, ""),
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

fn in_parts(text: &str) -> Vec<FileReport> {
    let mut parts = Vec::new();
    engine().check_file_in_parts(
        SourceFile {
            path: Some("big.yaml"),
            text,
        },
        FileRole::Complete,
        |p| parts.push(p),
    );
    parts
}

fn whole(text: &str) -> FileReport {
    engine().check_file(SourceFile {
        path: Some("big.yaml"),
        text,
    })
}

fn summary(reports: &[FileReport]) -> (String, Vec<String>, [usize; 4]) {
    let findings: Vec<_> = reports.iter().flat_map(|r| &r.findings).collect();
    let errors = reports
        .iter()
        .flat_map(|r| &r.errors)
        .map(|e| format!("{}:{}:{} {}", e.line, e.column, e.kind, e.message))
        .collect();
    let mut stats = [0; 4];
    for r in reports {
        stats[0] += r.stats.files;
        stats[1] += r.stats.documents;
        stats[2] += r.stats.objects;
        stats[3] += r.stats.templates;
    }
    (serde_json::to_string(&findings).unwrap(), errors, stats)
}

#[test]
fn parts_together_are_the_whole_file() {
    // A Go template of another tool in a block scalar is data, not a Helm chart.
    let data = "    command: [\"sh\", \"-c\"]\n    args:\n    - |\n      echo {{ .Spec.Model }} {{- if .Spec.X }}x{{- end }}\n";
    let text = large_file(1_300, Some((700, data)));
    let parts = in_parts(&text);
    assert!(parts.len() >= 3, "{} parts", parts.len());
    let whole = whole(&text);
    assert_eq!(summary(&parts), summary(std::slice::from_ref(&whole)));
    assert_eq!(summary(&parts).2, [1, 1_300, 1_300, 0]);
    assert!(!whole.findings.is_empty());
}

#[test]
fn a_helm_template_anywhere_makes_the_whole_file_one_template_report() {
    let helm = "    env:\n    - name: X\n      value: {{ .Values.x }}\n";
    let text = large_file(1_300, Some((1_250, helm)));
    let parts = in_parts(&text);
    assert_eq!(parts.len(), 1);
    let (findings, errors, stats) = summary(&parts);
    assert_eq!(findings, "[]");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("un-rendered Helm template"),
        "{errors:?}"
    );
    assert_eq!(stats[3], 1);
    assert_eq!(summary(&parts), summary(&[whole(&text)]));
}

#[test]
fn broken_documents_are_located_in_parts_too() {
    let broken = "  labels: [unclosed\n";
    let text = large_file(1_100, Some((900, broken)));
    let parts = in_parts(&text);
    assert!(parts.len() >= 2);
    let (_, errors, _) = summary(&parts);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(summary(&parts), summary(&[whole(&text)]));
}
