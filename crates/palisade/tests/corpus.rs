//! The real corpus (../shared/corpus/real: 2,591 files from 17 public projects) is scanned with
//! every default rule, one estate per project (`--estate '*'`): no crash, every input error
//! located, every finding well-formed and pointing at the text it names, and no finding that
//! reasons from another project's objects.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn corpus() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = std::env::var_os("PALISADE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/corpus/real"));
    assert!(
        dir.is_dir(),
        "corpus folder {} is missing (set PALISADE_CORPUS)",
        dir.display()
    );
    dir
}

#[test]
fn real_corpus_scans_cleanly() {
    let dir = corpus();
    let out = Command::cargo_bin("palisade")
        .unwrap()
        .args([
            "scan", "--format", "json", "--select", "ALL", "--estate", "*",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    let code = out.status.code().expect("palisade was killed");
    assert!(
        code <= 2,
        "exit code {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let summary = &report["summary"];
    assert!(summary["objects"].as_u64().unwrap() > 7_500, "{summary}");

    for e in report["errors"].as_array().unwrap() {
        assert!(e["file"].is_string(), "{e}");
        assert!(e["line"].as_u64().unwrap() >= 1, "unlocated error {e}");
        assert!(!e["message"].as_str().unwrap().is_empty());
    }

    // The project a file belongs to: the first folder below the corpus.
    let project = |file: &str| -> String {
        Path::new(file)
            .strip_prefix(&dir)
            .unwrap_or_else(|_| panic!("{file} is outside the corpus"))
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .into_owned()
    };
    let mut texts: HashMap<String, String> = HashMap::new();
    let mut by_rule: HashMap<String, usize> = HashMap::new();
    for f in report["findings"].as_array().unwrap() {
        *by_rule
            .entry(f["code"].as_str().unwrap().to_owned())
            .or_default() += 1;
        for key in ["message", "remediation", "name", "severity", "section"] {
            assert!(
                !f[key].as_str().unwrap_or("").is_empty(),
                "{key} empty in {f}"
            );
        }
        assert!(!f["resource"]["kind"].as_str().unwrap().is_empty(), "{f}");
        let file = f["file"].as_str().expect("corpus findings have a file");
        // Estate-wide findings cite only objects of their own project (in one estate, the
        // NetworkPolicies kube-prometheus puts in `monitoring` made 5 kyverno test StatefulSets
        // and a kubernetes/examples Deployment in `monitoring` "not selected by any policy").
        for r in f["related"].as_array().into_iter().flatten() {
            if let Some(other) = r["file"].as_str() {
                assert_eq!(
                    project(other),
                    project(file),
                    "a finding cites another project's object: {f}"
                );
            }
        }
        let text = texts
            .entry(file.to_owned())
            .or_insert_with(|| std::fs::read_to_string(file).unwrap());
        let range = f["byteRange"].as_array().expect("byte range");
        let (start, end) = (
            range[0].as_u64().unwrap() as usize,
            range[1].as_u64().unwrap() as usize,
        );
        assert!(start <= end && end <= text.len(), "range out of file: {f}");
        assert!(
            text.is_char_boundary(start) && text.is_char_boundary(end),
            "{f}"
        );
        let line = f["line"].as_u64().unwrap() as usize;
        let expected_line = text[..start].matches('\n').count() + 1;
        assert_eq!(
            line, expected_line,
            "line does not match the byte range: {f}"
        );
    }
    // The findings one estate made of other projects' objects: workloads in namespaces that
    // only another project has policies for.
    let artefacts = [
        ("kubernetes__examples", "prometheus-adapter"),
        ("kyverno__policies", "badss01"),
        ("kyverno__policies", "badss02"),
        ("kyverno__policies", "badss03"),
        ("kyverno__policies", "goodss01"),
        ("kyverno__policies", "skipss01"),
        (
            "open-telemetry__opentelemetry-operator",
            "opentelemetry-operator-webhook",
        ),
    ];
    for f in report["findings"].as_array().unwrap() {
        if f["code"] != "NET004" {
            continue;
        }
        let at = (
            project(f["file"].as_str().unwrap()),
            f["resource"]["name"].as_str().unwrap_or(""),
        );
        assert!(
            !artefacts.iter().any(|(p, n)| *p == at.0 && *n == at.1),
            "NET004 judged a workload against another project's policies: {f}"
        );
    }
    let mut counts: Vec<_> = by_rule.into_iter().collect();
    counts.sort();
    println!("corpus: {summary}\nfindings by rule: {counts:?}");
}
