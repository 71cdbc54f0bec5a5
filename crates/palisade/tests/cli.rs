//! The `palisade` binary end to end: inputs, exit codes, output formats and error handling.

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

fn palisade() -> Command {
    let mut cmd = Command::cargo_bin("palisade").unwrap();
    cmd.current_dir(workspace()).env_remove("NO_COLOR");
    cmd
}

fn json_scan(args: &[&str]) -> (Value, i32) {
    let out = palisade()
        .arg("scan")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let value: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {text}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (value, code)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

const PRIVILEGED_POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
    - name: app
      image: nginx:1.27
      securityContext:
        privileged: true
";

#[test]
fn insecure_example_fails_and_hardened_example_is_clean() {
    let (report, code) = json_scan(&["examples/insecure"]);
    assert_eq!(code, 1, "{report}");
    assert!(report["summary"]["findings"].as_u64().unwrap() > 0);
    let (report, code) = json_scan(&["examples/hardened"]);
    let findings = report["findings"].as_array().unwrap();
    assert!(
        findings.is_empty(),
        "false positives on the hardened example: {findings:#?}"
    );
    assert_eq!(code, 0);
    assert_eq!(report["summary"]["objects"], 5);
}

#[test]
fn json_report_matches_its_schema() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(workspace().join("schemas/report.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "broken.yaml", "a: [\n");
    let (report, _) = json_scan(&[
        "examples",
        dir.path().to_str().unwrap(),
        "--show-suppressed",
    ]);
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let f = &report["findings"][0];
    for key in [
        "code",
        "name",
        "severity",
        "section",
        "message",
        "remediation",
        "file",
        "line",
        "column",
        "path",
        "resource",
        "container",
        "kubeaudit_code",
        "suppressed",
    ] {
        assert!(f.get(key).is_some(), "finding lacks `{key}`");
    }
}

#[test]
fn a_broken_document_is_reported_and_the_rest_is_still_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: ok}}\n---\nbad: [unclosed\n---\n{PRIVILEGED_POD}"
    );
    let file = write(dir.path(), "mixed.yaml", &text);
    write(dir.path(), "other.yaml", PRIVILEGED_POD);
    let (report, code) = json_scan(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 2, "input errors exit with 2");
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0]["file"], file.to_str().unwrap());
    assert_eq!(errors[0]["kind"], "syntax");
    assert!(errors[0]["line"].as_u64().unwrap() >= 5, "{errors:#?}");
    let privileged: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "WKL001")
        .collect();
    assert_eq!(
        privileged.len(),
        2,
        "the document after the broken one and the other file"
    );
    let in_mixed = privileged
        .iter()
        .find(|f| f["file"] == file.to_str().unwrap())
        .unwrap();
    assert_eq!(in_mixed["line"], 16);
    assert_eq!(in_mixed["column"], 21);
}

#[test]
fn stdin_stream_keeps_stream_positions() {
    let input =
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n---\n{PRIVILEGED_POD}");
    let out = palisade()
        .args(["scan", "-", "--format", "json", "--select", "WKL001"])
        .write_stdin(input)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &report["findings"][0];
    assert_eq!(f["file"], "<stdin>");
    assert_eq!(f["line"], 15);
    assert_eq!(f["path"], "spec.containers[0].securityContext.privileged");
    assert_eq!(f["resource"]["kind"], "Pod");
    assert_eq!(f["container"]["name"], "app");
    assert_eq!(f["container"]["kind"], "container");
    assert_eq!(f["kubeaudit_code"], "PrivilegedTrue");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn helm_templates_and_non_kubernetes_yaml_are_counted_not_misread() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "chart/templates/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n{{- if .Values.x }}\nspec: {}\n{{- end }}\n",
    );
    write(
        dir.path(),
        "values.yaml",
        "replicaCount: 1\nimage:\n  tag: latest\n",
    );
    let (report, code) = json_scan(&[dir.path().to_str().unwrap()]);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "one render-first note per template file");
    assert_eq!(errors[0]["kind"], "template");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("render it first")
    );
    assert_eq!(report["summary"]["templates"], 1);
    assert_eq!(report["summary"]["skipped_documents"], 1);
    assert_eq!(code, 2);
}

#[test]
fn lists_are_expanded() {
    let dir = tempfile::tempdir().unwrap();
    let list = "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Pod\n    metadata: {name: a}\n    spec:\n      containers:\n        - name: app\n          image: x:1\n          securityContext: {privileged: true}\n";
    write(dir.path(), "list.yaml", list);
    write(
        dir.path(),
        "pods.json",
        r#"{"apiVersion":"v1","kind":"PodList","items":[{"metadata":{"name":"b"},"spec":{"containers":[{"name":"c","image":"x:1","securityContext":{"privileged":true}}]}}]}"#,
    );
    let (report, _) = json_scan(&[dir.path().to_str().unwrap(), "--select", "WKL001"]);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2, "{findings:#?}");
    let json = findings
        .iter()
        .find(|f| f["file"].as_str().unwrap().ends_with("pods.json"))
        .unwrap();
    assert_eq!(json["resource"]["kind"], "Pod");
    assert_eq!(
        json["path"],
        "items[0].spec.containers[0].securityContext.privileged"
    );
}

#[test]
fn unknown_selector_is_a_usage_error() {
    palisade()
        .args(["scan", "examples", "--select", "privileged-contaner"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("matches no rule")
                .and(predicate::str::contains("privileged-container")),
        );
}

#[test]
fn fail_on_and_min_severity() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "p.yaml", PRIVILEGED_POD);
    let path = dir.path().to_str().unwrap();
    palisade()
        .args(["scan", path, "--select", "WKL001"])
        .assert()
        .code(1);
    palisade()
        .args(["scan", path, "--select", "WKL001", "--fail-on", "critical"])
        .assert()
        .code(1);
    // Severity is critical: nothing at or above... there is no level above critical, so use a
    // rule selection that leaves nothing to fail on instead.
    let (report, code) = json_scan(&[path, "--select", "WKL001", "--min-severity", "critical"]);
    assert_eq!(code, 1);
    assert_eq!(report["summary"]["critical"], 1);
    palisade()
        .args(["scan", "examples/hardened"])
        .assert()
        .code(0);
}

#[test]
fn suppressions_are_counted_and_listed_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let commented = PRIVILEGED_POD.replace(
        "privileged: true",
        "privileged: true # palisade: ignore[WKL001] node agent needs /dev",
    );
    write(dir.path(), "p.yaml", &commented);
    let path = dir.path().to_str().unwrap();
    let (report, code) = json_scan(&[path, "--select", "WKL001,MSC"]);
    assert_eq!(code, 0);
    assert_eq!(report["summary"]["suppressed"], 1);
    assert!(report["findings"].as_array().unwrap().is_empty());
    let (report, _) = json_scan(&[path, "--select", "WKL001,MSC", "--show-suppressed"]);
    let f = &report["findings"][0];
    assert_eq!(f["suppressed"], true);
    assert_eq!(f["suppression"]["reason"], "node agent needs /dev");

    // Without a reason the suppression does not apply, and that is reported.
    let bare = PRIVILEGED_POD.replace(
        "privileged: true",
        "privileged: true # palisade: ignore[WKL001]",
    );
    write(dir.path(), "p.yaml", &bare);
    let (report, code) = json_scan(&[path, "--select", "WKL001,MSC"]);
    assert_eq!(code, 1);
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["WKL001", "MSC002"]);

    // An annotation with its reason.
    let annotated = PRIVILEGED_POD.replace(
        "  name: p\n",
        "  name: p\n  annotations:\n    palisade.dev/ignore: privileged-container,WKL003\n    palisade.dev/ignore-reason: audited by the platform team\n",
    );
    write(dir.path(), "p.yaml", &annotated);
    let (report, _) = json_scan(&[path, "--select", "WKL001,MSC"]);
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["MSC003"],
        "WKL003 is not reported here, so that entry is unused"
    );
    assert_eq!(report["summary"]["suppressed"], 1);
}

#[test]
fn gitignore_and_exclude_are_honoured() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".gitignore", "ignored/\n");
    write(dir.path(), "ignored/p.yaml", PRIVILEGED_POD);
    write(dir.path(), "vendor/p.yaml", PRIVILEGED_POD);
    write(dir.path(), "app/p.yml", PRIVILEGED_POD);
    write(dir.path(), "app/notes.txt", PRIVILEGED_POD);
    let root = dir.path().to_str().unwrap();
    let (report, _) = json_scan(&[root, "--exclude", "**/vendor"]);
    assert_eq!(report["summary"]["files"], 1);
    assert!(
        report["findings"][0]["file"]
            .as_str()
            .unwrap()
            .ends_with("app/p.yml")
    );
}

#[test]
fn text_output_is_plain_without_a_terminal() {
    palisade()
        .args(["scan", "examples/insecure"])
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("--> examples/insecure/shop.yaml:")
                .and(predicate::str::contains("\u{1b}[").not())
                .and(predicate::str::contains("critical[WKL001]")),
        );
    palisade()
        .args(["scan", "examples/insecure", "--color", "always"])
        .env("NO_COLOR", "1")
        .assert()
        .stdout(predicate::str::contains("\u{1b}[").not());
}

#[test]
fn rules_lists_and_documents_every_rule() {
    palisade().arg("rules").assert().success().stdout(
        predicate::str::contains("WKL001").and(predicate::str::contains("privileged-container")),
    );
    palisade()
        .args(["rules", "privileged-container"])
        .assert()
        .success()
        .stdout(predicate::str::contains("## Why is this bad?"));
    palisade().args(["rules", "NOPE01"]).assert().code(2);
}

#[test]
fn missing_paths_are_input_errors() {
    let (report, code) = json_scan(&["does/not/exist.yaml", "examples/hardened"]);
    assert_eq!(code, 2);
    assert_eq!(report["errors"][0]["kind"], "io");
    assert_eq!(report["summary"]["objects"], 5);
}

const RBAC_FIXTURES: &str = "crates/palisade_rules/resources/test/fixtures/components";

#[test]
fn rbac_who_can_names_subject_binding_and_rule() {
    let out = palisade()
        .args([
            "rbac", "who-can", "get", "secrets", "-n", "shop", "--format", "json",
        ])
        .arg(format!("{RBAC_FIXTURES}/CMP006.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let grants = v["grants"].as_array().unwrap();
    let subjects: Vec<String> = grants
        .iter()
        .map(|g| format!("{}/{}", g["subject"]["namespace"], g["subject"]["name"]))
        .collect();
    assert_eq!(subjects, ["\"shop\"/\"default\"", "\"shop\"/\"exporter\""]);
    assert_eq!(grants[0]["binding"]["name"], "default-reads-secrets");
    assert_eq!(grants[0]["rule"]["location"]["line"], 8);
    assert_eq!(grants[0]["rule"]["dangerous"][0], "read Secrets");
    // `view` is not defined in the input: listed, not guessed.
    assert_eq!(v["unresolvedRoles"].as_array().unwrap().len(), 1);
}

#[test]
fn rbac_subject_lists_what_it_can_do() {
    palisade()
        .args(["rbac", "sa:shop/default"])
        .arg(format!("{RBAC_FIXTURES}/CMP006.yaml"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "get,list,watch on secrets (core)  [read Secrets]",
        ))
        .stdout(predicate::str::contains(
            "via RoleBinding default-reads-secrets",
        ));
    palisade()
        .args(["rbac", "user:nobody"])
        .arg(format!("{RBAC_FIXTURES}/CMP006.yaml"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("holds no permission"));
    palisade()
        .args(["rbac", "system:serviceaccount:broken"])
        .assert()
        .code(2);
}

#[test]
fn approved_images_from_the_command_line_and_per_namespace_from_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let pods = write(
        dir.path(),
        "pods.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: payments}\nspec:\n  containers: [{name: c, image: registry.example.com/payments/ledger:1}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: shop}\nspec:\n  containers: [{name: c, image: registry.example.com/payments/ledger:1}]\n",
    );
    let pods = pods.to_str().unwrap();
    let codes = |report: &Value| -> Vec<String> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == "IMG007")
            .map(|f| f["resource"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    // No patterns: the rule is silent.
    let (report, _) = json_scan(&["--no-config", "--select", "IMG007", pods]);
    assert!(codes(&report).is_empty());
    let (report, code) = json_scan(&[
        "--no-config",
        "--select",
        "IMG007",
        "--approved-image",
        "registry.example.com/base/**",
        pods,
    ]);
    assert_eq!(codes(&report), ["a", "b"]);
    assert_eq!(code, 0, "medium is below the default fail-on");
    let config = write(
        dir.path(),
        "palisade.yaml",
        "options:\n  approved-images: [\"registry.example.com/base/**\"]\n  approved-images-by-namespace:\n    payments: [\"registry.example.com/payments/*\"]\n",
    );
    let (report, _) = json_scan(&[
        "--config",
        config.to_str().unwrap(),
        "--select",
        "IMG007",
        pods,
    ]);
    assert_eq!(codes(&report), ["b"]);
}

/// Two unrelated projects that both use namespace `monitoring`: one has a policy for its own
/// pods, the other none.
fn two_projects(dir: &Path) {
    write(
        dir,
        "projects/metrics/policy.yaml",
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: exporter, namespace: monitoring}\nspec:\n  podSelector:\n    matchLabels: {app: exporter}\n  policyTypes: [Ingress]\n",
    );
    write(
        dir,
        "projects/metrics/exporter.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: exporter, namespace: monitoring, labels: {app: exporter}}\nspec:\n  containers: [{name: c, image: registry.example.com/exporter:1}]\n",
    );
    write(
        dir,
        "projects/cache/memcached.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: memcached, namespace: monitoring, labels: {app: memcached}}\nspec:\n  containers: [{name: c, image: registry.example.com/memcached:1}]\n",
    );
    write(
        dir,
        "projects/cache/rbac.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: reader, namespace: monitoring}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}\nsubjects:\n  - {kind: ServiceAccount, name: memcached, namespace: monitoring}\n",
    );
    write(
        dir,
        "projects/metrics/rbac.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: reader, namespace: monitoring}\nrules:\n  - {apiGroups: [\"\"], resources: [secrets], verbs: [get]}\n",
    );
}

#[test]
fn estates_keep_unrelated_projects_apart() {
    let dir = tempfile::tempdir().unwrap();
    two_projects(dir.path());
    let root = dir.path().join("projects");
    let root = root.to_str().unwrap();
    let net004 = |report: &Value| -> Vec<String> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == "NET004")
            .map(|f| f["resource"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    // One estate: the metrics project's policy makes `monitoring` look protected, so the
    // cache project's pod is "not selected by any policy".
    let (report, _) = json_scan(&["--no-config", "--select", "NET004", root]);
    assert_eq!(net004(&report), ["memcached"]);
    // One estate per project: the cache project has no policy at all (NET003's question).
    let (report, _) = json_scan(&["--no-config", "--select", "NET", "--estate", "*", root]);
    assert!(net004(&report).is_empty(), "{report}");
    let net003: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "NET003")
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        net003
            .iter()
            .filter(|f| f.ends_with("cache/memcached.yaml"))
            .count(),
        1,
        "{report}"
    );
    // The same from the config, relative to its folder.
    let config = write(dir.path(), "palisade.yaml", "estates: [\"projects/*\"]\n");
    let (report, _) = json_scan(&[
        "--config",
        config.to_str().unwrap(),
        "--select",
        "NET004",
        root,
    ]);
    assert!(net004(&report).is_empty(), "{report}");
    // A glob that matches no folder leaves one estate.
    let (report, _) = json_scan(&[
        "--no-config",
        "--select",
        "NET004",
        "--estate",
        "none-*",
        root,
    ]);
    assert_eq!(net004(&report), ["memcached"]);
}

#[test]
fn rbac_answers_estate_by_estate() {
    let dir = tempfile::tempdir().unwrap();
    two_projects(dir.path());
    let root = dir.path().join("projects");
    // One estate: the cache project's binding resolves to the metrics project's Role.
    let out = palisade()
        .args(["rbac", "sa:monitoring/memcached", "--format", "json"])
        .arg(&root)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["grants"].as_array().unwrap().len(), 1, "{v}");
    // Per project: it refers to a Role its own estate does not hold.
    let out = palisade()
        .args([
            "rbac",
            "sa:monitoring/memcached",
            "--format",
            "json",
            "--estate",
            "*",
        ])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let estates = v["estates"].as_array().unwrap();
    let names: Vec<&str> = estates
        .iter()
        .map(|e| e["estate"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{v}");
    assert!(names[0].ends_with("projects/cache") && names[1].ends_with("projects/metrics"));
    assert!(
        estates
            .iter()
            .all(|e| e["grants"].as_array().unwrap().is_empty()),
        "{v}"
    );
    assert_eq!(estates[0]["unresolvedRoles"].as_array().unwrap().len(), 1);
    palisade()
        .args(["rbac", "sa:monitoring/memcached", "--estate", "*"])
        .arg(&root)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("projects/cache:\n"))
        .stdout(predicate::str::contains("holds no permission"));
}
