//! Report formats, several reports at once, configuration, exceptions and baselines, through
//! the real binary.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn palisade_in(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("palisade").unwrap();
    cmd.current_dir(dir)
        .env_remove("NO_COLOR")
        .env("PALISADE_TODAY", "2026-06-15");
    cmd
}

fn palisade() -> Command {
    palisade_in(&workspace())
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(cmd: &mut Command) -> Out {
    let out = cmd.output().unwrap();
    Out {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

const SELECT: &str = "WKL001,WKL009,WKL012,NET001,IMG002";

fn sarif(args: &[&str]) -> Value {
    let out = run(palisade()
        .args(["scan", "examples/insecure", "--no-config", "-f", "sarif"])
        .args(args));
    assert_eq!(out.code, 1, "{}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap()
}

#[test]
fn sarif_is_valid_against_the_official_schema() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            workspace().join("crates/palisade_render/resources/sarif-schema-2.1.0.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "broken.yaml", "a: [\n");
    write(
        dir.path(),
        "ignored.yaml",
        &PODS.replace(
            "privileged: true",
            "privileged: true  # palisade: ignore[WKL001] the CNI agent programs the host",
        ),
    );
    let out = run(palisade().args([
        "scan",
        "examples",
        dir.path().to_str().unwrap(),
        "--no-config",
        "--show-suppressed",
        "-f",
        "sarif",
    ]));
    assert_eq!(out.code, 2);
    let log: Value = serde_json::from_str(&out.stdout).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let run0 = &log["runs"][0];
    assert_eq!(run0["columnKind"], "unicodeCodePoints");
    assert!(
        run0["originalUriBaseIds"]["SRCROOT"]["uri"]
            .as_str()
            .unwrap()
            .starts_with("file:///")
    );
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.len() > 30);
    for r in rules {
        assert!(
            r["help"]["markdown"]
                .as_str()
                .unwrap()
                .contains("## What it does")
        );
        let s: f64 = r["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&s));
    }
    let results = run0["results"].as_array().unwrap();
    assert!(results.len() > 20);
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        assert_eq!(
            r["partialFingerprints"]["palisade/v1"]
                .as_str()
                .unwrap()
                .len(),
            32
        );
    }
    // Suppressed findings are listed as suppressed, input errors as notifications.
    assert!(results.iter().any(|r| r["suppressions"].is_array()));
    let notes = run0["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(run0["invocations"][0]["executionSuccessful"], false);
}

#[test]
fn sarif_snapshot() {
    let mut log = sarif(&["--select", SELECT]);
    let run0 = &mut log["runs"][0];
    run0["originalUriBaseIds"]["SRCROOT"]["uri"] = "file:///[root]/".into();
    for r in run0["tool"]["driver"]["rules"].as_array_mut().unwrap() {
        let len = r["help"]["markdown"].as_str().unwrap().len();
        assert!(len > 200);
        r["help"] = "[rule documentation]".into();
    }
    run0["tool"]["driver"]["version"] = "[version]".into();
    run0["tool"]["driver"]["semanticVersion"] = "[version]".into();
    let results = log["runs"][0]["results"].as_array().unwrap();
    let related =
        results.iter().find(|r| r["ruleId"] == "WKL012").unwrap()["relatedLocations"][0].clone();
    assert_eq!(
        related["physicalLocation"]["artifactLocation"]["uri"],
        "examples/insecure/shop.yaml"
    );
    insta::assert_json_snapshot!("sarif", log);
}

#[test]
fn fingerprints_do_not_depend_on_lines() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(workspace().join("examples/insecure/shop.yaml")).unwrap();
    write(dir.path(), "shop.yaml", &text);
    let prints = |dir: &Path| -> Vec<(String, u64)> {
        let out = run(palisade_in(dir).args(["scan", "shop.yaml", "--no-config", "-f", "sarif"]));
        let log: Value = serde_json::from_str(&out.stdout).unwrap();
        let mut v: Vec<(String, u64)> = log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["partialFingerprints"]["palisade/v1"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                    r["locations"][0]["physicalLocation"]["region"]["startLine"]
                        .as_u64()
                        .unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let before = prints(dir.path());
    write(
        dir.path(),
        "shop.yaml",
        &format!("# moved down\n# by three\n# comment lines\n{text}"),
    );
    let after = prints(dir.path());
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b.0, a.0);
        assert_eq!(b.1 + 3, a.1);
    }
}

#[test]
fn junit_and_csv_snapshots() {
    let junit = run(palisade().args([
        "scan",
        "examples/insecure",
        "--no-config",
        "--select",
        SELECT,
        "-f",
        "junit",
    ]));
    assert_eq!(junit.code, 1);
    insta::assert_snapshot!("junit", junit.stdout);
    let csv = run(palisade().args([
        "scan",
        "examples/insecure",
        "--no-config",
        "--select",
        SELECT,
        "-f",
        "csv",
    ]));
    assert_eq!(csv.code, 1);
    // Every row has as many fields as the header, once quoted fields are accounted for.
    let rows = parse_csv(&csv.stdout);
    assert!(rows.len() > 3);
    for row in &rows {
        assert_eq!(row.len(), rows[0].len(), "{row:?}");
    }
    insta::assert_snapshot!("csv", csv.stdout);
    let html = run(palisade().args([
        "scan",
        "examples/insecure",
        "--no-config",
        "--select",
        "WKL001,NET001",
        "-f",
        "html",
    ]));
    assert_eq!(html.code, 1);
    insta::assert_snapshot!(
        "html",
        html.stdout
            .replace("><", ">\n<")
            .replace(env!("CARGO_PKG_VERSION"), "[version]")
    );
}

/// A small RFC 4180 reader, to check the writer's quoting.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    rows
}

#[test]
fn several_reports_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.sarif");
    let b = dir.path().join("b.json");
    let c = dir.path().join("c.html");
    let out = run(palisade().args([
        "scan",
        "examples/insecure",
        "--no-config",
        "--format",
        &format!("sarif={}", a.display()),
        "--format",
        "json",
        "--output",
        b.to_str().unwrap(),
        "-f",
        "html",
        "-o",
        c.to_str().unwrap(),
        "-f",
        "text",
    ]));
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("findings ("), "{}", out.stdout);
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(&a).unwrap()).unwrap();
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&b).unwrap()).unwrap();
    assert_eq!(
        sarif["runs"][0]["results"].as_array().unwrap().len(),
        json["findings"].as_array().unwrap().len()
    );
    let html = std::fs::read_to_string(&c).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(
        html.matches("<article class=\"finding\"").count(),
        json["findings"].as_array().unwrap().len()
    );

    // Two reports on stdout, or an --output without a format, are refused.
    let out = run(palisade().args(["scan", "examples", "-f", "json", "-f", "sarif"]));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("only one report can go to stdout"),
        "{}",
        out.stderr
    );
    let out = run(palisade().args(["scan", "examples", "-f", "json=x.json", "-o", "y.json"]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("has no --format"), "{}", out.stderr);
    let out = run(palisade().args(["scan", "examples", "-f", "yaml"]));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("expected one of text, json, sarif, junit, html, csv")
    );
}

const PODS: &str = "apiVersion: v1
kind: Pod
metadata:
  name: cni
  namespace: kube-system
  labels:
    app: calico
spec:
  containers:
    - name: agent
      image: calico/node:v3.28.0
      securityContext:
        privileged: true
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
  containers:
    - name: app
      image: nginx:1.27
      securityContext:
        privileged: true
";

fn findings_of(out: &Out) -> Vec<(String, String)> {
    let v: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", out.stdout, out.stderr));
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_owned(),
                f["resource"]["name"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[test]
fn config_is_discovered_upwards_and_flags_override_it() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        ".palisade.yaml",
        "select: [WKL001]\nseverity:\n  privileged-container: low\nfail-on: medium\n",
    );
    write(dir.path(), "deploy/pods.yaml", PODS);
    let sub = dir.path().join("deploy");
    let out = run(palisade_in(&sub).args(["scan", "pods.yaml", "-f", "json"]));
    // Severity lowered to low, below fail-on medium: passes.
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["summary"]["rules"], 1);
    assert_eq!(v["summary"]["low"], 2);
    // The command line wins over the config.
    let out = run(palisade_in(&sub).args(["scan", "pods.yaml", "-f", "json", "--fail-on", "low"]));
    assert_eq!(out.code, 1);
    // --no-config ignores it.
    let out = run(palisade_in(&sub).args(["scan", "pods.yaml", "-f", "json", "--no-config"]));
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(v["summary"]["rules"].as_u64().unwrap() > 30);
}

#[test]
fn config_include_and_exclude_globs() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        ".palisade.yaml",
        "select: [WKL001]\ninclude: [\"deploy/**\"]\nexclude: [\"deploy/old/**\"]\n",
    );
    write(dir.path(), "deploy/pods.yaml", PODS);
    write(dir.path(), "deploy/old/pods.yaml", PODS);
    write(dir.path(), "other/pods.yaml", PODS);
    let out = run(palisade_in(dir.path()).args(["scan", "-f", "json"]));
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["summary"]["files"], 1, "{}", out.stdout);
    assert_eq!(v["findings"][0]["file"], "deploy/pods.yaml");
    // From a subfolder the globs still count from the config's folder.
    let out = run(palisade_in(&dir.path().join("deploy")).args(["scan", "-f", "json"]));
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["summary"]["files"], 1, "{}", out.stdout);
    assert_eq!(v["findings"][0]["file"], "pods.yaml");
}

#[test]
fn config_errors_name_line_column_and_choices() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("unknown key", "selct: [WKL001]\n"),
        ("unknown option", "options:\n  max-cpus: 2\n"),
        ("unknown rule", "select: [WKL001, privileged-containr]\n"),
        ("unknown severity", "severity:\n  WKL001: severe\n"),
        ("severity of unknown rule", "severity:\n  WKL999: low\n"),
        ("fail-on", "fail-on: hgh\n"),
        ("unquoted version", "options:\n  target-version: 1.30\n"),
        ("bad version", "options:\n  target-version: \"one\"\n"),
        ("bad quantity", "options:\n  max-memory: lots\n"),
        (
            "exception without reason",
            "exceptions:\n  - rule: WKL001\n    name: web\n",
        ),
        (
            "exception with empty reason",
            "exceptions:\n  - rule: WKL001\n    reason: \"\"\n",
        ),
        (
            "exception of unknown rule",
            "exceptions:\n  - rule: WKL9\n    reason: x\n",
        ),
        (
            "bad expiry",
            "exceptions:\n  - rule: WKL001\n    reason: x\n    expires: 2026-02-30\n",
        ),
        (
            "unknown exception key",
            "exceptions:\n  - rule: WKL001\n    reason: x\n    until: 2027-01-01\n",
        ),
        ("bad glob", "exclude: [\"a/[\"]\n"),
        ("not a mapping", "- a\n"),
    ];
    let mut snapshot = String::new();
    for (name, text) in cases {
        let cfg = write(dir.path(), "bad.yaml", text);
        let out = run(palisade().args([
            "scan",
            "examples/hardened",
            "--config",
            cfg.to_str().unwrap(),
        ]));
        assert_eq!(out.code, 2, "{name}");
        let message = out.stderr.replace(dir.path().to_str().unwrap(), "[dir]");
        snapshot.push_str(&format!("# {name}\n{text}=> {message}\n"));
    }
    insta::assert_snapshot!("config_errors", snapshot);
}

#[test]
fn exceptions_match_expire_and_go_stale() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pods.yaml", PODS);
    write(
        dir.path(),
        ".palisade.yaml",
        "select: [WKL001]
exceptions:
  - rule: privileged-container
    namespace: kube-*
    labels: {app: calico}
    container: agent
    reason: the CNI agent programs the host network
    owner: platform-team
    expires: 2026-12-31
  - rule: WKL001
    name: web
    reason: temporary, until the image is fixed
    owner: shop-team
    expires: 2026-06-14
  - rule: WKL001
    name: gone
    reason: this object was deleted
",
    );
    let out = run(palisade_in(dir.path()).args(["scan", "pods.yaml", "-f", "json"]));
    // The live exception hides `cni`; the expired one no longer hides `web`.
    assert_eq!(
        findings_of(&out),
        vec![("WKL001".to_owned(), "web".to_owned())]
    );
    assert_eq!(out.code, 1);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["summary"]["suppressed"], 1);
    insta::assert_json_snapshot!("exception_notices", v["summary"]["exceptions"]);
    insta::assert_snapshot!("exception_warnings", out.stderr);

    // With --show-suppressed the excepted finding says which exception and why.
    let out = run(palisade_in(dir.path()).args([
        "scan",
        "pods.yaml",
        "-f",
        "json",
        "--show-suppressed",
        "-q",
    ]));
    assert_eq!(out.stderr, "");
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let cni = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["resource"]["name"] == "cni")
        .unwrap();
    assert_eq!(cni["suppressed"], true);
    assert_eq!(
        cni["suppression"]["by"],
        "exception #1 (.palisade.yaml:3:11), owner platform-team, expires 2026-12-31"
    );
    assert_eq!(
        cni["suppression"]["reason"],
        "the CNI agent programs the host network"
    );

    // Before its expiry date the second exception applies too (the day itself included).
    let out = run(palisade_in(dir.path())
        .env("PALISADE_TODAY", "2026-06-14")
        .args(["scan", "pods.yaml", "-f", "json"]));
    assert_eq!(findings_of(&out), vec![]);
    assert_eq!(out.code, 0);
}

#[test]
fn baseline_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pods.yaml", PODS);
    let out = run(palisade_in(dir.path()).args([
        "scan",
        "pods.yaml",
        "--no-config",
        "--write-baseline",
        "baseline.json",
        "-f",
        "json",
    ]));
    assert_eq!(out.code, 0, "recording a baseline exits 0: {}", out.stderr);
    let recorded = findings_of(&out).len();
    assert!(recorded >= 4);
    let baseline: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("baseline.json")).unwrap())
            .unwrap();
    assert_eq!(baseline["findings"].as_array().unwrap().len(), recorded);
    assert_eq!(baseline["scheme"], "palisade/v1");

    // The same findings, moved down by edits, are not new.
    write(dir.path(), "pods.yaml", &format!("# header\n\n{PODS}"));
    let out = run(palisade_in(dir.path()).args([
        "scan",
        "pods.yaml",
        "--no-config",
        "--baseline",
        "baseline.json",
        "-f",
        "json",
    ]));
    assert_eq!(out.code, 0);
    assert_eq!(findings_of(&out), vec![]);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["summary"]["baselined"], recorded);

    // A new problem is reported.
    write(
        dir.path(),
        "pods.yaml",
        &format!(
            "{PODS}    - name: sidecar\n      image: busybox:1.36\n      securityContext:\n        privileged: true\n"
        ),
    );
    let out = run(palisade_in(dir.path()).args([
        "scan",
        "pods.yaml",
        "--no-config",
        "--baseline",
        "baseline.json",
        "--select",
        "WKL001",
        "-f",
        "json",
    ]));
    assert_eq!(out.code, 1);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let f = &v["findings"].as_array().unwrap();
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["container"]["name"], "sidecar");

    // A file that is not a baseline is an error.
    write(dir.path(), "bad.json", "{}");
    let out = run(palisade_in(dir.path()).args(["scan", "pods.yaml", "--baseline", "bad.json"]));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("is not a palisade baseline"),
        "{}",
        out.stderr
    );
}

#[test]
fn init_writes_a_config_that_loads() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(palisade_in(dir.path()).args(["init"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = std::fs::read_to_string(dir.path().join(".palisade.yaml")).unwrap();
    assert!(text.contains("exceptions:"));
    write(dir.path(), "pods.yaml", PODS);
    let out = run(palisade_in(dir.path()).args(["scan", "pods.yaml"]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    // It does not overwrite.
    let out = run(palisade_in(dir.path()).args(["init"]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("already exists"));
}

#[test]
fn completions_man_page_and_kubectl_plugin_name() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run(palisade().args(["completions", shell]));
        assert_eq!(out.code, 0);
        assert!(out.stdout.contains("palisade"), "{shell}");
        assert!(out.stdout.contains("fail-on"), "{shell}");
    }
    let out = run(palisade().args(["manpage"]));
    assert_eq!(out.code, 0);
    assert!(out.stdout.starts_with(".ie") || out.stdout.contains(".TH palisade"));

    // Installed as `kubectl-palisade`, the binary works as `kubectl palisade`.
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("kubectl-palisade");
    #[cfg(unix)]
    std::os::unix::fs::symlink(assert_cmd::cargo::cargo_bin("palisade"), &link).unwrap();
    #[cfg(unix)]
    {
        let out = run(Command::new(&link).current_dir(workspace()).args([
            "scan",
            "examples/hardened",
            "--no-config",
        ]));
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(out.stdout.contains("no findings"));
    }
}

#[test]
fn checklist_view() {
    let out = run(palisade().args(["checklist", "examples", "--no-config"]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    insta::assert_snapshot!("checklist_text", out.stdout);

    let out = run(palisade().args([
        "checklist",
        "examples/hardened",
        "--no-config",
        "-f",
        "json",
    ]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let items = v["items"].as_array().unwrap();
    assert_eq!(v["fail"], 0);
    for i in items {
        let status = i["status"].as_str().unwrap();
        let rules = i["rules"].as_array().unwrap();
        match status {
            "not-checkable" => {
                assert!(rules.is_empty() && !i["modes"].as_array().unwrap().is_empty())
            }
            "pass" => assert!(!rules.is_empty() && i["findings"].as_array().unwrap().is_empty()),
            // Approved images are a list only the user can give.
            "not-checked" if i["id"] == "images-minimal" => {}
            other => panic!("{other} on the hardened example: {i}"),
        }
    }
    // With approved images configured, the item is checked.
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "c.yaml",
        "options:\n  approved-images: [\"registry.example.com/shop/*\"]\n",
    );
    let out = run(palisade().args([
        "checklist",
        "examples/hardened",
        "--config",
        cfg.to_str().unwrap(),
        "-f",
        "json",
    ]));
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let minimal = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "images-minimal")
        .unwrap();
    assert_eq!(minimal["status"], "pass", "{minimal}");
    // Items whose rules are all deselected are "not checked", not "pass".
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "c.yaml", "ignore: [images]\n");
    let out = run(palisade().args([
        "checklist",
        "examples/insecure",
        "--config",
        cfg.to_str().unwrap(),
        "-f",
        "json",
    ]));
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let pinned = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "images-pinned")
        .unwrap();
    assert_eq!(pinned["status"], "not-checked");

    let html = dir.path().join("checklist.html");
    let out = run(palisade()
        .args(["checklist", "examples", "--no-config", "-f", "html", "-o"])
        .arg(&html));
    assert_eq!(out.code, 1);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("data-item=\"images-pinned\" data-status=\"fail\""));
    assert!(page.contains("data-item=\"components-etcd\" data-status=\"not-checkable\""));
}
