//! The webhook's manifests (`deploy/webhook/`) pass `palisade scan` with nothing above low,
//! and hold what the deployment promises (replicas, PDB, anti-affinity, scoped webhooks).

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn webhook_manifests_pass_scan() {
    let out = Command::cargo_bin("palisade")
        .unwrap()
        .current_dir(workspace())
        .args([
            "scan",
            "deploy/webhook",
            "--no-config",
            "--format",
            "json",
            "--show-suppressed",
        ])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    let s = &report["summary"];
    for sev in ["critical", "high", "medium"] {
        assert_eq!(s[sev], 0, "{sev}: {report:#}");
    }
    assert_eq!(s["suppressed"], 0, "nothing is hidden: {report:#}");
    assert!(
        report["errors"].as_array().unwrap().is_empty(),
        "{report:#}"
    );
    // The files were all read as objects.
    assert_eq!(s["objects"], 16, "{s}");
}

#[test]
fn webhook_manifests_hold_the_promised_settings() {
    let text =
        |p: &str| std::fs::read_to_string(workspace().join("deploy/webhook").join(p)).unwrap();
    let deployment = text("base/deployment.yaml");
    for needle in [
        "replicas: 2",
        "kind: PodDisruptionBudget",
        "minAvailable: 1",
        "podAntiAffinity:",
        "requiredDuringSchedulingIgnoredDuringExecution:",
        "scheme: HTTPS",
        "secretName: palisade-webhook-tls",
    ] {
        assert!(deployment.contains(needle), "{needle}");
    }
    let webhooks = text("base/webhooks.yaml");
    assert_eq!(
        webhooks
            .matches("values: [kube-system, palisade-system]")
            .count(),
        2
    );
    assert_eq!(webhooks.matches("timeoutSeconds: 5").count(), 2);
    assert_eq!(webhooks.matches("failurePolicy: Fail").count(), 2);
    assert!(text("cert-manager/certificate.yaml").contains("secretName: palisade-webhook-tls"));
    assert!(text("self-signed/bootstrap.sh").contains("--self-signed --certs-only"));
}
