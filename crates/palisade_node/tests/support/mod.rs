//! Builds node filesystems (a folder holding proc/, etc/, var/, sys/) in a temporary folder,
//! with modes and owners set programmatically, for `palisade_node::audit`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use palisade_node::{CheckKind, NodeReport, Status, catalog};

pub struct Root {
    dir: tempfile::TempDir,
    next_pid: u32,
}

/// Whether ownership can be set (tests run as root on CI; elsewhere ownership is skipped).
pub fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

impl Root {
    pub fn new() -> Root {
        let r = Root {
            dir: tempfile::tempdir().unwrap(),
            next_pid: 100,
        };
        r.write("/etc/hostname", 0o644, 0, 0, "node-1\n");
        r.write(
            "/etc/passwd",
            0o644,
            0,
            0,
            "root:x:0:0:root:/root:/bin/sh\n",
        );
        r.write("/etc/group", 0o644, 0, 0, "root:x:0:\n");
        r.mkdir("/proc/sys/kernel", 0o755);
        r
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    fn host(&self, p: &str) -> PathBuf {
        self.dir.path().join(p.trim_start_matches('/'))
    }

    pub fn mkdir(&self, p: &str, mode: u32) {
        let path = self.host(p);
        std::fs::create_dir_all(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    /// Writes a file with a mode and an owner (parents are created 0755 root).
    pub fn write(&self, p: &str, mode: u32, uid: u32, gid: u32, text: &str) {
        let path = self.host(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        self.chown(p, uid, gid);
    }

    pub fn chown(&self, p: &str, uid: u32, gid: u32) {
        if is_root() {
            std::os::unix::fs::chown(self.host(p), Some(uid), Some(gid)).unwrap();
        }
    }

    /// A root-owned 0600 file.
    pub fn secret(&self, p: &str, text: &str) {
        self.write(p, 0o600, 0, 0, text);
    }

    pub fn sysctl(&self, p: &str, v: &str) {
        self.write(&format!("/proc/sys/{p}"), 0o644, 0, 0, &format!("{v}\n"));
    }

    /// A running process; its `/proc/<pid>/root` points at `fs_root` (a folder of this root,
    /// `/` for the host's own namespace).
    pub fn process_in(&mut self, fs_root: &str, argv: &[&str], uid: u32, env: &[&str]) -> u32 {
        let pid = self.next_pid;
        self.next_pid += 1;
        let base = format!("/proc/{pid}");
        self.mkdir(&base, 0o755);
        let mut cmdline = argv.join("\0");
        cmdline.push('\0');
        std::fs::write(self.host(&format!("{base}/cmdline")), cmdline).unwrap();
        std::fs::write(
            self.host(&format!("{base}/status")),
            format!(
                "Name:\t{}\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\nGid:\t{uid}\t{uid}\t{uid}\t{uid}\n",
                argv[0]
            ),
        )
        .unwrap();
        let mut environ = env.join("\0");
        environ.push('\0');
        std::fs::write(self.host(&format!("{base}/environ")), environ).unwrap();
        let target = format!("../..{}", fs_root.trim_end_matches('/'));
        std::os::unix::fs::symlink(target, self.host(&format!("{base}/root"))).unwrap();
        pid
    }

    pub fn process(&mut self, argv: &[&str]) -> u32 {
        self.process_in("/", argv, 0, &[])
    }

    /// An OS baseline: eBPF restricted, no swap, AppArmor on.
    pub fn hardened_os(&self) {
        self.sysctl("kernel/unprivileged_bpf_disabled", "2");
        self.write(
            "/proc/swaps",
            0o444,
            0,
            0,
            "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n",
        );
        self.write(
            "/sys/module/apparmor/parameters/enabled",
            0o444,
            0,
            0,
            "Y\n",
        );
    }

    pub fn containerd(&mut self, config: &str, socket_mode: u32) {
        self.write("/etc/containerd/config.toml", 0o644, 0, 0, config);
        self.write("/run/containerd/containerd.sock", socket_mode, 0, 0, "");
        self.process(&["/usr/bin/containerd"]);
    }
}

/// The ids of the controls that judge ownership (by uid/gid), snapshotted separately.
pub fn ownership_ids() -> Vec<&'static str> {
    let mut ids: Vec<&'static str> = catalog()
        .controls
        .iter()
        .filter(|c| c.checks.iter().any(|k| k.kind == CheckKind::FileOwner))
        .map(|c| c.id.as_str())
        .collect();
    ids.push("NOD601");
    ids
}

/// A compact, stable rendering of the results: one line per control, evidence indented.
pub fn render(report: &NodeReport, root: &Path, ownership: bool) -> String {
    let owners = ownership_ids();
    let mut out = format!(
        "distribution: {:?}\ncomponents: {}\n",
        report.distribution,
        report.components.join(", ")
    );
    for e in &report.discovery_errors {
        out.push_str(&format!("error: {e}\n"));
    }
    for r in &report.results {
        if owners.contains(&r.id.as_str()) != ownership {
            continue;
        }
        out.push_str(&format!("{:<5} {} {}\n", r.status.as_str(), r.id, r.code));
        {
            for e in &r.evidence {
                let at = match (&e.file, e.line) {
                    (Some(f), Some(l)) => format!(" @ {f}:{l}:{}", e.column.unwrap_or(0)),
                    (Some(f), None) => format!(" @ {f}"),
                    _ => String::new(),
                };
                out.push_str(&format!("      {}{at}\n", e.text));
            }
        }
    }
    out.replace(&root.display().to_string(), "<root>")
}

/// Counts of each status, for assertions.
pub fn count(report: &NodeReport, status: Status) -> usize {
    report.results.iter().filter(|r| r.status == status).count()
}

pub fn status(report: &NodeReport, id: &str) -> Status {
    report
        .results
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no result {id}"))
        .status
}
