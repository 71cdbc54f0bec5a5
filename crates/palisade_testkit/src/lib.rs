//! A real Kubernetes control plane for integration tests.
//!
//! [`control_plane`] starts etcd, kube-apiserver and kube-controller-manager on loopback through
//! `scripts/control-plane` the first time a test asks for it, and shares it with every test of the
//! same test binary. The control plane stops by itself when the test process exits (the script
//! watches our process id), so no test has to tear it down.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A running control plane.
#[derive(Debug)]
pub struct ControlPlane {
    /// The folder holding its state, certificates and logs.
    pub dir: PathBuf,
    /// A cluster-admin kubeconfig.
    pub kubeconfig: PathBuf,
    /// kubectl of the same Kubernetes release.
    pub kubectl: PathBuf,
    /// `https://127.0.0.1:PORT`.
    pub url: String,
    /// The API server's audit log.
    pub audit_log: PathBuf,
    env: HashMap<String, String>,
}

/// A child process killed (by its id) and reaped when the guard is dropped, whatever the test
/// does in between.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A TCP port free on 127.0.0.1 at the time of the call.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("the kernel hands out a free loopback port")
}

/// The workspace root: two folders above this crate.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/palisade_testkit sits two folders below the workspace root")
        .to_path_buf()
}

/// The control plane shared by this test binary, started on first use.
///
/// Panics with the script's output when it cannot start: a test that needs a real API server
/// must fail, not skip, when there is none.
pub fn control_plane() -> &'static ControlPlane {
    static SHARED: OnceLock<ControlPlane> = OnceLock::new();
    SHARED.get_or_init(|| ControlPlane::start().unwrap_or_else(|e| panic!("{e}")))
}

impl ControlPlane {
    /// Starts a new control plane owned by this process. Most tests want [`control_plane`].
    pub fn start() -> Result<ControlPlane, String> {
        Self::start_with(&[])
    }

    /// Starts a new control plane whose kube-apiserver gets `apiserver_args` on top of the
    /// script's flags (the last of a flag wins), e.g. a deliberately weak setting.
    pub fn start_with(apiserver_args: &[&str]) -> Result<ControlPlane, String> {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("palisade-control-plane-{}-{n}", std::process::id()));
        let script = workspace_root().join("scripts/control-plane");
        let output = Command::new(&script)
            .arg("start")
            .arg(&dir)
            .arg("--owner-pid")
            .arg(std::process::id().to_string())
            .args(
                apiserver_args
                    .iter()
                    .map(|a| format!("--apiserver-arg={a}")),
            )
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        if !output.status.success() {
            return Err(format!(
                "{} start {} failed ({}):\n{}{}",
                script.display(),
                dir.display(),
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let text = std::fs::read_to_string(dir.join("env"))
            .map_err(|e| format!("cannot read {}/env: {e}", dir.display()))?;
        let env: HashMap<String, String> = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let get = |k: &str| {
            env.get(k)
                .cloned()
                .ok_or_else(|| format!("{}/env has no {k}", dir.display()))
        };
        Ok(ControlPlane {
            kubeconfig: get("KUBECONFIG")?.into(),
            kubectl: get("KUBECTL")?.into(),
            url: get("APISERVER_URL")?,
            audit_log: get("AUDIT_LOG")?.into(),
            dir,
            env,
        })
    }

    /// A value from the control plane's `env` file (`APISERVER_PID`, `K8S_VERSION`, ...).
    pub fn env(&self, key: &str) -> Option<&str> {
        self.env.get(key).map(String::as_str)
    }

    /// Runs kubectl as cluster-admin.
    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_as(&self.kubeconfig, args, None)
    }

    /// Runs kubectl with another kubeconfig, feeding `stdin` when given.
    pub fn kubectl_as(&self, kubeconfig: &Path, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(&self.kubectl);
        cmd.arg("--kubeconfig").arg(kubeconfig).args(args);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = cmd.spawn().expect("kubectl runs");
        if let Some(text) = stdin {
            let mut pipe = child.stdin.take().expect("piped stdin");
            pipe.write_all(text.as_bytes())
                .expect("kubectl reads stdin");
        }
        child.wait_with_output().expect("kubectl finishes")
    }

    /// `kubectl apply -f -` as cluster-admin; panics with kubectl's message on failure.
    pub fn apply(&self, manifests: &str) {
        let out = self.kubectl_as(
            &self.kubeconfig,
            &["apply", "--server-side", "--force-conflicts", "-f", "-"],
            Some(manifests),
        );
        assert!(
            out.status.success(),
            "kubectl apply failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A kubeconfig for the user `name` in `groups`, with a client certificate signed by the
    /// cluster CA: the API server authenticates it, and RBAC decides what it may do.
    pub fn user_kubeconfig(&self, name: &str, groups: &[&str]) -> PathBuf {
        let safe: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let key = self.dir.join(format!("user-{safe}.key"));
        let csr = self.dir.join(format!("user-{safe}.csr"));
        let crt = self.dir.join(format!("user-{safe}.crt"));
        let mut subject = String::new();
        for g in groups {
            subject.push_str(&format!("/O={g}"));
        }
        subject.push_str(&format!("/CN={name}"));
        let run = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .output()
                .expect("openssl runs");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let p = |p: &Path| p.to_str().expect("UTF-8 temp path").to_owned();
        run(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            &subject,
            "-keyout",
            &p(&key),
            "-out",
            &p(&csr),
        ]);
        run(&[
            "x509",
            "-req",
            "-in",
            &p(&csr),
            "-CA",
            &p(&self.dir.join("ca.crt")),
            "-CAkey",
            &p(&self.dir.join("ca.key")),
            "-CAcreateserial",
            "-days",
            "30",
            "-out",
            &p(&crt),
        ]);
        let kubeconfig = self.dir.join(format!("user-{safe}.kubeconfig"));
        let set = |args: &[&str]| {
            let out = self.kubectl_as(&kubeconfig, args, None);
            assert!(
                out.status.success(),
                "kubectl config {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        set(&[
            "config",
            "set-cluster",
            "palisade-test",
            "--server",
            &self.url,
            "--certificate-authority",
            &p(&self.dir.join("ca.crt")),
            "--embed-certs",
        ]);
        set(&[
            "config",
            "set-credentials",
            &safe,
            "--client-certificate",
            &p(&crt),
            "--client-key",
            &p(&key),
            "--embed-certs",
        ]);
        set(&[
            "config",
            "set-context",
            "palisade-test",
            "--cluster",
            "palisade-test",
            "--user",
            &safe,
        ]);
        set(&["config", "use-context", "palisade-test"]);
        kubeconfig
    }
}
