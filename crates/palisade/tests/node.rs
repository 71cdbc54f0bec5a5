//! `palisade node` end to end: exit codes, the JSON report and its schema, text output.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn write(root: &Path, path: &str, mode: u32, text: &str) {
    let p = root.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn process(root: &Path, pid: u32, argv: &[&str]) {
    write(
        root,
        &format!("/proc/{pid}/cmdline"),
        0o644,
        &(argv.join("\0") + "\0"),
    );
}

/// A worker with a flags-only kubelet: anonymous auth and AlwaysAllow by default.
fn weak_worker() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "/etc/hostname", 0o644, "worker-1\n");
    write(
        r,
        "/proc/sys/kernel/unprivileged_bpf_disabled",
        0o644,
        "1\n",
    );
    write(r, "/etc/kubernetes/kubelet.conf", 0o600, "kind: Config\n");
    process(
        r,
        42,
        &[
            "/usr/bin/kubelet",
            "--kubeconfig",
            "/etc/kubernetes/kubelet.conf",
        ],
    );
    dir
}

fn node(root: &Path, args: &[&str]) -> (String, i32) {
    let out = Command::cargo_bin("palisade")
        .unwrap()
        .current_dir(workspace())
        .arg("node")
        .arg("--root")
        .arg(root)
        .args(args)
        .output()
        .unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        out.status.code().unwrap(),
    )
}

#[test]
fn json_report_matches_the_schema_and_fails_on_critical_controls() {
    let dir = weak_worker();
    let (text, code) = node(dir.path(), &["--format", "json"]);
    assert_eq!(code, 1, "{text}");
    let report: Value = serde_json::from_str(&text).unwrap();
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(workspace().join("schemas/report.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let anonymous = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "NOD411")
        .expect("4.2.1 fails");
    assert_eq!(anonymous["name"], "cis-4.2.1");
    assert_eq!(anonymous["severity"], "critical");
    assert_eq!(anonymous["section"], "components");
    assert_eq!(anonymous["resource"]["kind"], "Node");
    assert_eq!(anonymous["resource"]["name"], "worker-1");
    let results = report["node"]["results"].as_array().unwrap();
    let r = results.iter().find(|r| r["id"] == "4.1.5").unwrap();
    assert_eq!(r["status"], "pass");
    let r = results.iter().find(|r| r["id"] == "1.2.6").unwrap();
    assert_eq!(r["status"], "not-applicable");
    assert_eq!(report["summary"]["critical"], 2);
}

#[test]
fn text_report_has_a_summary_table_and_fail_on_is_honoured() {
    let dir = weak_worker();
    let (text, code) = node(dir.path(), &["--fail-on", "critical"]);
    assert_eq!(code, 1);
    assert!(text.contains("[FAIL ] 4.2.1 Anonymous requests to the kubelet are disabled"));
    assert!(text.contains("== Summary =="));
    assert!(
        text.lines()
            .any(|l| l.starts_with("4 Worker Nodes") && l.split_whitespace().count() == 8),
        "{text}"
    );
    // Below the threshold: exit 0.
    write(
        dir.path(),
        "/var/lib/kubelet/config.yaml",
        0o600,
        "kind: KubeletConfiguration\n",
    );
    process(
        dir.path(),
        42,
        &["kubelet", "--config=/var/lib/kubelet/config.yaml"],
    );
    let (_, code) = node(dir.path(), &["--fail-on", "critical"]);
    assert_eq!(code, 0);
}

#[test]
fn unreadable_proc_and_bad_root_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (_, code) = node(dir.path(), &[]);
    assert_eq!(code, 2);
    Command::cargo_bin("palisade")
        .unwrap()
        .args(["node", "--root", "/nonexistent/palisade-root"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--root /nonexistent/palisade-root: No such file",
        ));
}

/// The shipped manifest passes `palisade scan`: nothing above low, host access suppressed with
/// reasons.
#[test]
fn deploy_manifest_passes_scan() {
    let out = Command::cargo_bin("palisade")
        .unwrap()
        .current_dir(workspace())
        .args(["scan", "deploy/palisade-node.yaml", "--format", "json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0));
    let s = &report["summary"];
    for sev in ["critical", "high", "medium"] {
        assert_eq!(s[sev], 0, "{sev}: {report}");
    }
    assert!(s["suppressed"].as_u64().unwrap() >= 4);
}

#[test]
fn sarif_report_is_valid_and_lists_the_judged_controls() {
    let dir = weak_worker();
    let (text, code) = node(dir.path(), &["--format", "sarif"]);
    assert_eq!(code, 1, "{text}");
    let sarif: Value = serde_json::from_str(&text).unwrap();
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            workspace().join("crates/palisade_render/resources/sarif-schema-2.1.0.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let anonymous = rules
        .iter()
        .find(|r| r["id"] == "NOD411")
        .expect("4.2.1 listed");
    assert_eq!(anonymous["name"], "cis-4.2.1");
    assert!(
        anonymous["helpUri"]
            .as_str()
            .unwrap()
            .ends_with("docs/node.md"),
        "{anonymous}"
    );
    // Only controls judged on this worker: no API server controls.
    assert!(
        !rules.iter().any(|r| r["id"] == "NOD127"),
        "1.2.6 was not judged"
    );
    let result = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "NOD411")
        .expect("4.2.1 reported");
    assert_eq!(result["level"], "error");
}

#[test]
fn junit_has_a_suite_per_judged_control() {
    let dir = weak_worker();
    let (text, code) = node(dir.path(), &["--format", "junit"]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("<testsuite name=\"NOD411 cis-4.2.1\""),
        "{text}"
    );
    assert!(
        text.contains("<testsuite name=\"NOD405 cis-4.1.5\""),
        "{text}"
    );
    assert!(!text.contains("cis-1.2.6"), "{text}");
    // Node findings have no file: they are about the running node, not stdin.
    assert!(text.contains("classname=\"NOD411.(live)\""), "{text}");
    assert!(!text.contains("stdin"), "{text}");
    // 4.2.1 failed, 4.1.5 passed.
    let suite = |name: &str| {
        let start = text.find(&format!("<testsuite name=\"{name}")).unwrap();
        let end = start + text[start..].find("</testsuite>").unwrap();
        text[start..end].to_owned()
    };
    assert!(suite("NOD411").contains("<failure"), "{}", suite("NOD411"));
    assert!(!suite("NOD405").contains("<failure"), "{}", suite("NOD405"));
}

#[test]
fn checklist_shows_the_items_node_controls_decide() {
    let dir = weak_worker();
    let (text, code) = node(dir.path(), &["--format", "checklist"]);
    assert_eq!(code, 1, "{text}");
    let line = |title: &str| {
        text.lines()
            .find(|l| l.contains(title))
            .unwrap_or_else(|| panic!("no `{title}` in\n{text}"))
            .to_owned()
    };
    assert!(
        line("authorization-mode=Webhook").contains("[       FAIL]"),
        "{text}"
    );
    // No API server on a worker.
    assert!(
        line("authorization-mode=Node,RBAC").contains("[not checked]"),
        "{text}"
    );
    assert!(text.contains("none of its controls applies to this node: CIS 1.2.6, 1.2.7, 1.2.8"));
    assert!(
        text.contains("critical NOD411 Node worker-1: CIS 4.2.1"),
        "{text}"
    );
}

#[test]
fn csv_and_html_reports_carry_the_findings() {
    let dir = weak_worker();
    let (csv, code) = node(dir.path(), &["--format", "csv"]);
    assert_eq!(code, 1);
    assert!(
        csv.lines()
            .any(|l| l.contains("NOD411") && l.contains("critical")),
        "{csv}"
    );
    let (html, _) = node(dir.path(), &["--format", "html"]);
    assert!(html.contains("NOD411"), "{}", &html[..html.len().min(2000)]);
}

#[test]
fn several_processes_of_a_component_are_named_and_pid_chooses() {
    let dir = weak_worker();
    let r = dir.path();
    write(
        r,
        "/etc/kubernetes/hardened.yaml",
        0o600,
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nauthentication:\n  anonymous:\n    enabled: false\n  webhook:\n    enabled: true\n  x509:\n    clientCAFile: /etc/kubernetes/pki/ca.crt\nauthorization:\n  mode: Webhook\n",
    );
    process(
        r,
        77,
        &[
            "/usr/bin/kubelet",
            "--config",
            "/etc/kubernetes/hardened.yaml",
        ],
    );
    let out = Command::cargo_bin("palisade")
        .unwrap()
        .args(["node", "--format", "json", "--root"])
        .arg(r)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "2 kubelet processes run (pids 42, 77): judged pid 42, the first; choose another with --pid"
        ),
        "{stderr}"
    );
    let status = |report: &Value, id: &str| {
        report["node"]["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == id)
            .unwrap()["status"]
            .clone()
    };
    let first: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status(&first, "4.2.1"), "fail");
    let (text, _) = node(r, &["--format", "json", "--pid", "77"]);
    let chosen: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(status(&chosen, "4.2.1"), "pass");
    assert_eq!(status(&chosen, "4.2.2"), "pass");
    let (text, code) = node(r, &["--pid", "999"]);
    assert_eq!(code, 2, "{text}");
}
