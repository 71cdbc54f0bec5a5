//! `palisade fix` end to end: in-place writes, `--diff`, `--check`, `--unsafe-fixes`, stdin,
//! selection, files that do not parse, permissions and cross-file decisions.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn palisade(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("palisade").unwrap();
    cmd.current_dir(dir).env_remove("NO_COLOR");
    cmd
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const POD: &str = "# the web pod
apiVersion: v1
kind: Pod
metadata:
  name: web   # keep this name
spec:
  containers:
    - name: app
      image: nginx:1.27
      securityContext:
        privileged: true # why?
---
apiVersion: rbac.authorization.k8s.io/v1beta1
kind: Role
metadata: {name: r}
rules: []
";

#[test]
fn safe_fixes_by_default_and_the_rest_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "pod.yaml", POD);
    palisade(dir.path())
        .args(["fix", "pod.yaml"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "pod.yaml:13: CMP001 fixed: change `apiVersion` to `rbac.authorization.k8s.io/v1`",
        ))
        .stdout(predicate::str::contains(
            "unsafe (apply with --unsafe-fixes",
        ));
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text,
        POD.replace(
            "rbac.authorization.k8s.io/v1beta1",
            "rbac.authorization.k8s.io/v1"
        )
    );
}

#[test]
fn unsafe_fixes_keep_comments_and_converge() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "pod.yaml", POD);
    palisade(dir.path())
        .args(["fix", "--unsafe-fixes", "pod.yaml"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("WKL001 fixed"));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("        privileged: false # why?\n"),
        "{text}"
    );
    assert!(text.starts_with("# the web pod\n"));
    assert!(text.contains("  name: web   # keep this name\n"));
    // Nothing is left to fix, so `--check` passes and the file stays as it is.
    palisade(dir.path())
        .args(["fix", "--unsafe-fixes", "--check", "pod.yaml"])
        .assert()
        .code(0);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}

#[test]
fn diff_and_check_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "pod.yaml", POD);
    palisade(dir.path())
        .args(["fix", "--diff", "--unsafe-fixes", "pod.yaml"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("--- a/pod.yaml\n+++ b/pod.yaml\n"))
        .stdout(predicate::str::contains(
            "-        privileged: true # why?\n+        privileged: false # why?\n",
        ));
    palisade(dir.path())
        .args(["fix", "--check", "pod.yaml"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "Would fix 1 finding(s) in 1 file(s)",
        ));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), POD);
}

#[test]
fn selection_limits_the_fixes() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "pod.yaml", POD);
    palisade(dir.path())
        .args(["fix", "--unsafe-fixes", "--select", "WKL001", "pod.yaml"])
        .assert()
        .code(0);
    let text = std::fs::read_to_string(&path).unwrap();
    let expected = POD.replace("privileged: true", "privileged: false");
    assert_eq!(text, expected);
}

#[test]
fn stdin_writes_the_fixed_stream_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    palisade(dir.path())
        .args(["fix", "-"])
        .write_stdin(POD)
        .assert()
        .code(0)
        .stdout(POD.replace(
            "rbac.authorization.k8s.io/v1beta1",
            "rbac.authorization.k8s.io/v1",
        ))
        .stderr(predicate::str::contains("<stdin>:13: CMP001 fixed"));
}

#[test]
fn a_file_that_does_not_parse_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let broken = format!("{POD}---\nbad: [unclosed\n");
    let path = write(dir.path(), "broken.yaml", &broken);
    palisade(dir.path())
        .args(["fix", "--unsafe-fixes", "broken.yaml"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("does not parse"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);
}

#[cfg(unix)]
#[test]
fn permissions_are_kept_and_unchanged_files_untouched() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "pod.yaml", POD);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let clean = write(
        dir.path(),
        "clean.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
    );
    let before = std::fs::metadata(&clean).unwrap().modified().unwrap();
    palisade(dir.path()).args(["fix", "."]).assert().code(0);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    assert_eq!(
        std::fs::metadata(&clean).unwrap().modified().unwrap(),
        before
    );
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.starts_with(".palisade-fix-")),
        "{names:?}"
    );
}

#[test]
fn a_service_account_in_another_file_is_taken_into_account() {
    let dir = tempfile::tempdir().unwrap();
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns}\nspec:\n  containers:\n    - name: app\n      image: nginx:1.27\n";
    let path = write(dir.path(), "pod.yaml", pod);
    write(
        dir.path(),
        "sa.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default, namespace: ns}\nautomountServiceAccountToken: false\n",
    );
    palisade(dir.path())
        .args(["fix", "--unsafe-fixes", "--select", "WKL027", "."])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("Fixed 0 finding(s)"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), pod);
    // Alone, the pod gets the fix.
    palisade(dir.path())
        .args(["fix", "--unsafe-fixes", "--select", "WKL027", "pod.yaml"])
        .assert()
        .code(0);
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("  automountServiceAccountToken: false\n")
    );
}

#[test]
fn json_patch_lists_every_fix_with_a_kubectl_command() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "pod.yaml", POD);
    let out = palisade(dir.path())
        .args([
            "fix",
            "--json-patch",
            "--select",
            "WKL001,CMP001",
            "pod.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let entries = v.as_array().unwrap();
    assert_eq!(entries.len(), 2, "{v:#}");
    let wkl = entries.iter().find(|e| e["code"] == "WKL001").unwrap();
    assert_eq!(
        wkl["patch"],
        serde_json::json!([{"op": "replace", "path": "/spec/containers/0/securityContext/privileged", "value": false}])
    );
    assert_eq!(wkl["applied_by_default"], false);
    assert_eq!(
        wkl["kubectl"],
        "kubectl patch pod web --type=json -p '[{\"op\":\"replace\",\"path\":\"/spec/containers/0/securityContext/privileged\",\"value\":false}]'"
    );
    let cmp = entries.iter().find(|e| e["code"] == "CMP001").unwrap();
    assert_eq!(cmp["applicability"], "safe");
    assert!(cmp["kubectl"].is_null());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), POD);
}

#[test]
fn postponed_decisions_are_taken_with_a_single_thread() {
    // Each file's postponed decisions are taken on the thread that fixes it: handed to the
    // thread pool instead, they would wait for a thread that is waiting for them.
    let dir = tempfile::tempdir().unwrap();
    let pods: String = (1..=3)
        .map(|n| {
            format!(
                "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{n}, namespace: ns}}\nspec:\n  containers:\n    - name: app\n      image: nginx:1.27\n"
            )
        })
        .collect();
    write(dir.path(), "a.yaml", &pods);
    write(dir.path(), "b.yaml", &pods);
    palisade(dir.path())
        .env("RAYON_NUM_THREADS", "1")
        .timeout(std::time::Duration::from_secs(60))
        .args(["fix", "--unsafe-fixes", "--select", "WKL027", "."])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("Fixed 6 finding(s) in 2 file(s)."));
}
