//! The audited filesystem: `/` on a live node, or a folder holding `proc/` and `etc/` (a
//! mounted host, a disk image, a test fixture).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The metadata a permission check needs, read by number (never through user names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileInfo {
    /// The path as the node (or the process) names it.
    pub path: String,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub is_dir: bool,
}

impl FileInfo {
    pub fn describe(&self) -> String {
        format!(
            "{} mode {:o} owner {}:{}",
            self.path,
            self.mode & 0o7777,
            self.uid,
            self.gid
        )
    }
}

#[derive(Clone, Debug)]
pub struct Host {
    root: PathBuf,
}

impl Host {
    pub fn new(root: impl Into<PathBuf>) -> Host {
        Host { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A host path (`/etc/kubernetes/admin.conf`) under the audited root.
    pub fn path(&self, p: &str) -> PathBuf {
        self.root.join(p.trim_start_matches('/'))
    }

    /// A path as process `pid` sees it: through `/proc/<pid>/root` (its mount namespace; a
    /// static pod's container) for absolute paths and `/proc/<pid>/cwd` for relative ones.
    /// Falls back to the host path when the process's root is not readable (a copied node).
    pub fn proc_path(&self, pid: Option<u32>, p: &str) -> PathBuf {
        if let Some(pid) = pid {
            let base = self.path(&format!("proc/{pid}"));
            if p.starts_with('/') {
                let root = base.join("root");
                if root.is_dir() {
                    return root.join(p.trim_start_matches('/'));
                }
            } else {
                let cwd = base.join("cwd");
                if cwd.is_dir() {
                    return cwd.join(p);
                }
            }
        }
        self.path(p)
    }

    /// `stat` (following symlinks) of a path, reported under the name `shown`.
    pub fn stat(&self, path: &Path, shown: &str) -> std::io::Result<FileInfo> {
        let m = std::fs::metadata(path)?;
        Ok(FileInfo {
            path: shown.to_owned(),
            mode: m.mode(),
            uid: m.uid(),
            gid: m.gid(),
            is_dir: m.is_dir(),
        })
    }

    /// Every entry below `dir` (the directory itself first), depth first in name order.
    pub fn walk(&self, dir: &Path, shown: &str, out: &mut Vec<FileInfo>) -> std::io::Result<()> {
        let info = self.stat(dir, shown)?;
        let is_dir = info.is_dir;
        out.push(info);
        if !is_dir {
            return Ok(());
        }
        let mut entries: Vec<_> = std::fs::read_dir(dir)?.filter_map(Result::ok).collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().to_string_lossy().into_owned();
            let sub = format!("{}/{name}", shown.trim_end_matches('/'));
            self.walk(&e.path(), &sub, out)?;
        }
        Ok(())
    }

    /// Reads a small text file of the host (`/proc/sys/...`), trimmed.
    pub fn read_trimmed(&self, p: &str) -> Option<String> {
        std::fs::read_to_string(self.path(p))
            .ok()
            .map(|s| s.trim().to_owned())
    }

    /// The uid of a user name in the host's `/etc/passwd` (not the auditing container's).
    pub fn user_id(&self, name: &str) -> Option<u32> {
        id_in(&self.read_trimmed("/etc/passwd")?, name)
    }

    /// The gid of a group name in the host's `/etc/group`.
    pub fn group_id(&self, name: &str) -> Option<u32> {
        id_in(&self.read_trimmed("/etc/group")?, name)
    }
}

fn id_in(db: &str, name: &str) -> Option<u32> {
    db.lines().find_map(|l| {
        let mut f = l.split(':');
        (f.next()? == name).then_some(())?;
        f.nth(1)?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_the_database_text() {
        let db = "root:x:0:0:root:/root:/bin/sh\netcd:x:998:997::/var/lib/etcd:/sbin/nologin\n";
        assert_eq!(id_in(db, "etcd"), Some(998));
        assert_eq!(id_in(db, "root"), Some(0));
        assert_eq!(id_in(db, "nobody"), None);
    }
}
