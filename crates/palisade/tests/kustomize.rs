//! Kustomize overlays: files referenced as patches by a kustomization are checked as
//! fragments (tests/fixtures/kustomize: a base and an overlay with strategic-merge, JSON 6902
//! and `../` patches).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

const FIXTURE: &str = "crates/palisade/tests/fixtures/kustomize";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn palisade(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("palisade").unwrap();
    cmd.current_dir(dir).env("NO_COLOR", "1");
    cmd
}

fn json(cmd: &mut Command) -> (Value, i32) {
    let out = cmd.args(["--format", "json"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {text}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (value, out.status.code().unwrap())
}

/// `code file:line:column path [missing]` for each finding.
fn findings(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let file = f["file"].as_str().unwrap_or("<none>");
            let file = file.strip_prefix(&format!("{FIXTURE}/")).unwrap_or(file);
            let mut s = format!(
                "{} {}:{}:{} {}",
                f["code"].as_str().unwrap(),
                file,
                f["line"],
                f["column"],
                f["path"].as_str().unwrap()
            );
            if let Some(m) = f["missing"].as_str() {
                s.push_str(&format!(" [{m}]"));
            }
            s
        })
        .collect()
}

fn copy_fixture(to: &Path) {
    for entry in walk(&workspace().join(FIXTURE)) {
        let rel = entry.strip_prefix(workspace().join(FIXTURE)).unwrap();
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&entry, dest).unwrap();
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn patch_files_report_only_what_they_set_and_stay_out_of_the_inventory() {
    let (report, code) = json(palisade(&workspace()).args(["scan", FIXTURE]));
    assert_eq!(code, 1);
    assert_eq!(
        findings(&report),
        [
            // The base is a resource: a complete object, its missing limits are reported.
            "WKL029 base/deployment.yaml:29:11 spec.template.spec.containers[0].resources [limits]",
            // Present and wrong in a patch: still reported.
            "WKL001 overlays/prod/patch-debug.yaml:13:25 \
             spec.template.spec.containers[0].securityContext.privileged",
            // `$patch: replace`: what the replacement leaves out is missing after the merge.
            "WKL020 overlays/prod/patch-pod-security.yaml:12:7 \
             spec.template.spec.securityContext [seccompProfile]",
            "WKL003 overlays/prod/patch-pod-security.yaml:18:11 \
             spec.template.spec.containers[1] [securityContext.allowPrivilegeEscalation]",
            "WKL004 overlays/prod/patch-pod-security.yaml:18:11 \
             spec.template.spec.containers[1] [securityContext.readOnlyRootFilesystem]",
            "WKL007 overlays/prod/patch-pod-security.yaml:18:11 \
             spec.template.spec.containers[1] [securityContext.capabilities.drop]",
            "IMG002 overlays/shared/patch-sidecar.yaml:15:18 spec.template.spec.containers[0].image",
            "IMG005 overlays/shared/patch-sidecar.yaml:15:18 spec.template.spec.containers[0].image",
            "NET003 base/deployment.yaml:7:14 metadata.namespace",
        ]
    );
    // The patch with template labels is not a second workload.
    let net003 = &report["findings"][8]["message"];
    assert!(
        net003.as_str().unwrap().contains("has 1 workload(s)"),
        "{net003}"
    );
    let summary = &report["summary"];
    assert_eq!(summary["fragments"], 4);
    // Each merged patch's missing securityContext fields, limits, requests, seccomp profile
    // and token automount (what the base sets), and the automount of the replacing one.
    assert_eq!(summary["fragment_findings"], 24);
    // The JSON 6902 operations are not Kubernetes objects, and no error.
    assert_eq!(summary["skipped_documents"], 1);
    assert_eq!(report["errors"], Value::Array(Vec::new()));
}

#[test]
fn the_text_summary_counts_fragments() {
    let out = palisade(&workspace())
        .args(["scan", FIXTURE])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(
            "4 kustomize patch fragments (24 findings about fields left to the base not reported)"
        ),
        "{text}"
    );
}

#[test]
fn a_patch_named_on_the_command_line_is_still_a_patch() {
    let (report, code) = json(palisade(&workspace()).args([
        "scan",
        &format!("{FIXTURE}/overlays/prod/patch-resources.yaml"),
    ]));
    assert_eq!(code, 0);
    assert_eq!(findings(&report), Vec::<String>::new());
    assert_eq!(report["summary"]["fragments"], 1);
    assert_eq!(report["summary"]["fragment_findings"], 7);
}

#[test]
fn stdin_and_files_no_kustomization_references_are_complete_objects() {
    let patch = std::fs::read_to_string(
        workspace()
            .join(FIXTURE)
            .join("overlays/prod/patch-resources.yaml"),
    )
    .unwrap();
    let expected = [
        "WKL020 <stdin>:11:5 spec.template.spec [securityContext.seccompProfile]",
        "WKL003 <stdin>:13:11 spec.template.spec.containers[0] \
         [securityContext.allowPrivilegeEscalation]",
        "WKL004 <stdin>:13:11 spec.template.spec.containers[0] \
         [securityContext.readOnlyRootFilesystem]",
        "WKL005 <stdin>:13:11 spec.template.spec.containers[0] [securityContext.runAsNonRoot]",
        "WKL007 <stdin>:13:11 spec.template.spec.containers[0] \
         [securityContext.capabilities.drop]",
        "WKL029 <stdin>:14:11 spec.template.spec.containers[0].resources [limits]",
        "WKL027 <stdin>:11:5 spec.template.spec [automountServiceAccountToken]",
    ];
    // `kustomize build … | palisade scan -`: the stream is what will be applied.
    let (report, _) = json(
        palisade(&workspace())
            .args(["scan", "-"])
            .write_stdin(patch.clone()),
    );
    assert_eq!(findings(&report), expected);
    assert_eq!(report["summary"]["fragments"], 0);
    // The same file in a folder whose kustomization does not reference it.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("patch-resources.yaml"), &patch).unwrap();
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        "resources: [patch-resources.yaml]\npatchesStrategicMerge: [other.yaml]\n",
    )
    .unwrap();
    let (report, _) = json(palisade(dir.path()).args(["scan", "."]));
    let file_findings: Vec<String> = findings(&report)
        .into_iter()
        .map(|f| f.replace("patch-resources.yaml", "<stdin>"))
        .collect();
    assert_eq!(file_findings, expected);
}

#[test]
fn a_malformed_kustomization_is_an_error_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let patch = std::fs::read_to_string(
        workspace()
            .join(FIXTURE)
            .join("overlays/prod/patch-debug.yaml"),
    )
    .unwrap();
    std::fs::write(dir.path().join("patch.yaml"), &patch).unwrap();
    // No extension: kustomize reads it, the scan does not scan it as manifests.
    std::fs::write(
        dir.path().join("Kustomization"),
        "patchesStrategicMerge: patch.yaml\npatches:\n  - path: patch.yaml\n",
    )
    .unwrap();
    let (report, code) = json(palisade(dir.path()).args(["scan", "."]));
    assert_eq!(code, 2);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["file"], "Kustomization");
    assert_eq!(
        (errors[0]["line"].clone(), errors[0]["column"].clone()),
        (1.into(), 24.into())
    );
    assert_eq!(errors[0]["kind"], "kustomization");
    assert_eq!(
        errors[0]["message"],
        "kustomization: `patchesStrategicMerge` must be a list"
    );
    // What could be read (`patches`) still applies, and the file is scanned.
    assert_eq!(
        findings(&report),
        ["WKL001 patch.yaml:13:25 spec.template.spec.containers[0].securityContext.privileged"]
    );

    // A syntax error in a kustomization.yaml is reported once, by the scan of the file.
    std::fs::remove_file(dir.path().join("Kustomization")).unwrap();
    std::fs::write(dir.path().join("kustomization.yaml"), "patches: [\n").unwrap();
    let (report, code) = json(palisade(dir.path()).args(["scan", "."]));
    assert_eq!(code, 2);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["file"], "kustomization.yaml");
    assert_eq!(errors[0]["kind"], "syntax");
    assert!(report["summary"]["objects"].as_u64().unwrap() >= 1);
}

#[test]
fn fix_leaves_what_patches_do_not_set_to_the_base() {
    let dir = tempfile::tempdir().unwrap();
    copy_fixture(dir.path());
    let out = palisade(dir.path())
        .args(["fix", "--unsafe-fixes", "."])
        .output()
        .unwrap();
    let report = String::from_utf8(out.stderr).unwrap() + &String::from_utf8(out.stdout).unwrap();
    for line in [
        "overlays/prod/patch-debug.yaml:13: WKL001 fixed",
        "overlays/prod/patch-pod-security.yaml:12: WKL020 fixed",
        "overlays/prod/patch-pod-security.yaml:18: WKL003 fixed",
        "overlays/prod/patch-pod-security.yaml:18: WKL004 fixed",
        "overlays/prod/patch-pod-security.yaml:18: WKL007 fixed",
        "Fixed 5 finding(s) in 2 file(s)",
    ] {
        assert!(report.contains(line), "{line}: {report}");
    }
    let fixture = workspace().join(FIXTURE);
    // Merged patches get nothing they leave to the base.
    for file in [
        "overlays/prod/patch-resources.yaml",
        "overlays/shared/patch-sidecar.yaml",
        "overlays/prod/ops.yaml",
    ] {
        assert_eq!(
            std::fs::read_to_string(dir.path().join(file)).unwrap(),
            std::fs::read_to_string(fixture.join(file)).unwrap(),
            "{file} changed"
        );
    }
    let debug = std::fs::read_to_string(dir.path().join("overlays/prod/patch-debug.yaml")).unwrap();
    let before = std::fs::read_to_string(fixture.join("overlays/prod/patch-debug.yaml")).unwrap();
    assert_eq!(
        debug,
        before.replace("privileged: true", "privileged: false")
    );
    // The replacing one is completed, and the scan is then clean on it.
    let replaced =
        std::fs::read_to_string(dir.path().join("overlays/prod/patch-pod-security.yaml")).unwrap();
    assert!(
        replaced.contains(
            "        runAsUser: 10001\n        seccompProfile:\n          type: RuntimeDefault\n"
        ),
        "{replaced}"
    );
    let (report, _) = json(palisade(dir.path()).args(["scan", "."]));
    assert!(
        !findings(&report)
            .iter()
            .any(|f| f.contains("patch-pod-security") || f.contains("patch-debug")),
        "{:?}",
        findings(&report)
    );
}
