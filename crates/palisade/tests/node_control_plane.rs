//! `palisade node` on this machine, against a real kube-apiserver and etcd started for the test
//! (scripts/control-plane): it must find the processes and judge the flags they really run with.

use assert_cmd::Command;
use palisade_testkit::ControlPlane;
use serde_json::Value;

fn result<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["node"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no result for {id}"))
}

#[test]
fn finds_the_running_api_server_and_etcd_and_judges_their_real_flags() {
    // A deliberately weak setting: profiling left on (CIS 1.2.15).
    let cp = ControlPlane::start_with(&["--profiling=true"]).expect("the control plane starts");
    let api = cp.env("APISERVER_PID").expect("APISERVER_PID");
    let etcd = cp.env("ETCD_PID").expect("ETCD_PID");
    let out = Command::cargo_bin("palisade")
        .unwrap()
        .args(["node", "--format", "json", "--pid", api, "--pid", etcd])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    let components: Vec<&str> = report["node"]["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(
        components
            .iter()
            .any(|c| c.starts_with(&format!("kube-apiserver (pid {api},"))),
        "{components:?}"
    );
    assert!(
        components
            .iter()
            .any(|c| c.starts_with(&format!("etcd (pid {etcd},"))),
        "{components:?}"
    );

    let profiling = result(&report, "1.2.15");
    assert_eq!(profiling["status"], "fail", "{profiling}");
    assert!(
        profiling.to_string().contains("true"),
        "evidence names the value: {profiling}"
    );
    // What the script really sets passes: Node,RBAC, an audit log, client certificates.
    for id in ["1.2.6", "1.2.7", "1.2.8", "1.2.16", "1.2.25"] {
        assert_eq!(
            result(&report, id)["status"],
            "pass",
            "{}",
            result(&report, id)
        );
    }
    // And what it leaves out does not pass: etcd serves plain HTTP (an automated control:
    // fail), and there is no encryption at rest (a manual control in the benchmark: warn).
    assert_eq!(
        result(&report, "2.1")["status"],
        "fail",
        "{}",
        result(&report, "2.1")
    );
    let encryption = result(&report, "1.2.27");
    assert_eq!(encryption["status"], "warn", "{encryption}");
    assert!(
        encryption.to_string().contains(&format!(
            "--encryption-provider-config is not set (kube-apiserver pid {api})"
        )),
        "{encryption}"
    );
    assert_eq!(out.status.code(), Some(1), "findings at or above high");
}
