//! The JSON report encodes findings by hand; this keeps it byte for byte what serde derives
//! from `Finding`, on every finding the rule fixtures produce and on hand-made edge cases.

use std::path::{Path, PathBuf};

use palisade_diagnostics::{
    ContainerKind, ContainerRef, Finding, Fix, ObjectRef, Op, RelatedLocation, Severity,
    Suppression, TextRange,
};
use palisade_render::encode_finding;
use palisade_rules::{Engine, Settings, SourceFile, all_rules};
use serde::Serialize;

/// The report's finding object as serde derives it.
#[derive(Serialize)]
struct Derived<'a> {
    #[serde(flatten)]
    finding: &'a Finding,
    suppressed: bool,
}

fn assert_same(f: &Finding) {
    let expected = serde_json::to_string(&Derived {
        finding: f,
        suppressed: f.suppressed.is_some(),
    })
    .unwrap();
    let mut out = Vec::new();
    encode_finding(&mut out, &mut String::new(), f);
    let actual = String::from_utf8(out).unwrap();
    assert_eq!(actual, expected);
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

#[test]
fn fixture_findings_encode_like_serde() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    yaml_files(
        &root.join("crates/palisade_rules/resources/test"),
        &mut files,
    );
    yaml_files(&root.join("examples"), &mut files);
    assert!(
        files.len() > 70,
        "fixtures not found under {}",
        root.display()
    );

    let engine = Engine::new(all_rules().to_vec(), Settings::default());
    let mut estate = palisade_rules::Estate::default();
    let (mut count, mut with_fix, mut with_related, mut suppressed) = (0, 0, 0, 0);
    let mut check = |f: &Finding| {
        assert_same(f);
        count += 1;
        with_fix += usize::from(f.fix.is_some());
        with_related += usize::from(!f.related.is_empty());
        suppressed += usize::from(f.suppressed.is_some());
    };
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let path = file.to_string_lossy();
        let mut report = engine.check_file(SourceFile {
            path: Some(&path),
            text: &text,
        });
        report.findings.iter().for_each(&mut check);
        estate.merge(std::mem::take(&mut report.estate));
    }
    engine.finish(estate).iter().for_each(&mut check);
    // The fixtures exercise every optional part of a finding.
    assert!(count > 1_000, "{count} findings");
    assert!(with_fix > 100 && with_related > 10 && suppressed > 10);
}

#[test]
fn edge_cases_encode_like_serde() {
    let mut f = Finding {
        code: "WKL001",
        name: "privileged-container",
        severity: Severity::Critical,
        section: palisade_diagnostics::Section::Workloads,
        message: "quotes \" backslash \\ newline \n tab \t control \u{1} é 🙂".to_owned(),
        remediation: "".into(),
        resource: std::sync::Arc::new(ObjectRef {
            api_version: "v1".to_owned(),
            kind: "Pod".to_owned(),
            namespace: None,
            name: Some("a\"b".to_owned()),
        }),
        container: Some(ContainerRef {
            name: "c".to_owned(),
            kind: ContainerKind::EphemeralContainer,
        }),
        file: None,
        line: None,
        column: Some(0),
        end_line: Some(u32::MAX),
        end_column: None,
        range: Some(TextRange { start: 0, end: 7 }),
        path: "metadata.annotations[\"a.b/c\"]".to_owned(),
        missing: Some("x".to_owned()),
        kubeaudit_code: None,
        pss: None,
        suppressed: Some(Suppression {
            by: "# palisade: ignore[WKL001]".to_owned(),
            reason: None,
        }),
        kubectl: Some("kubectl get pod -n x y -o yaml".to_owned()),
        related: vec![RelatedLocation {
            message: "m".to_owned(),
            resource: ObjectRef::default(),
            path: String::new(),
            file: Some("f".to_owned()),
            line: Some(1),
            column: None,
        }],
        fix: Some(Box::new(Fix::unsafe_(
            "t",
            "c",
            vec![
                Op::set("metadata.annotations[\"q\\\"x\"]", "v"),
                Op::append("spec.x", serde_json::json!({"a": [1, 2.5, null, true]})),
                Op::remove("spec.y"),
            ],
        ))),
        source_line: Some("ignored".to_owned()),
    };
    assert_same(&f);
    f.fix = Some(Box::new(Fix::safe("s", Vec::new())));
    f.related.clear();
    f.kubectl = None;
    f.suppressed = None;
    f.container = None;
    assert_same(&f);
}
