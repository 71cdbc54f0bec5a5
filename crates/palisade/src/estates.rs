//! Estate boundaries: which files of the input belong to which estate (cluster). Estate-wide
//! rules see the objects of one estate at a time, so unrelated projects scanned together
//! (a folder per cluster, a monorepo of several products) are never judged against each
//! other's NetworkPolicies, bindings or namespaces.
//!
//! Every folder matching an estate glob (relative to a scanned folder for `--estate`, to the
//! config's folder for the config's `estates:`) forms an estate with everything below it; when
//! nested folders match, the outermost wins. Files in no such folder, and stdin, form one
//! estate together, as every file does without estate globs.

use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// The estate globs, each set with the folder it is relative to.
pub struct EstateMap {
    sets: Vec<(PathBuf, GlobSet)>,
}

/// Absolute, without `.` and `..`, without following links (as reports show paths).
fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

fn glob_set(globs: &[String], what: &str) -> Result<GlobSet> {
    let mut builder = GlobSetBuilder::new();
    for g in globs {
        let g = g.trim().trim_end_matches('/');
        let glob = GlobBuilder::new(g)
            .literal_separator(true)
            .build()
            .with_context(|| format!("invalid {what} glob `{g}`"))?;
        builder.add(glob);
    }
    Ok(builder.build()?)
}

impl EstateMap {
    /// The estates of a scan: `--estate` globs relative to each scanned folder, else the
    /// config's `estates:` relative to the config's folder; `None` without either (one estate).
    pub fn new(
        cli: &[String],
        scanned: &[PathBuf],
        config: Option<(&Path, &[String])>,
    ) -> Result<Option<Self>> {
        let mut sets = Vec::new();
        if !cli.is_empty() {
            let set = glob_set(cli, "--estate")?;
            for p in scanned.iter().filter(|p| p.is_dir()) {
                sets.push((absolute(p), set.clone()));
            }
        } else if let Some((root, globs)) = config.filter(|(_, g)| !g.is_empty()) {
            sets.push((absolute(root), glob_set(globs, "estates")?));
        }
        Ok((!sets.is_empty()).then_some(Self { sets }))
    }

    /// The estate of a file as reports show it: the outermost folder above it that matches
    /// an estate glob, or `None` (the estate of everything else).
    pub fn estate_of(&self, file: &str) -> Option<PathBuf> {
        let abs = absolute(Path::new(file));
        let mut best: Option<PathBuf> = None;
        for (base, set) in &self.sets {
            let Ok(rel) = abs.strip_prefix(base) else {
                continue;
            };
            let Some(dir) = rel.parent() else {
                continue;
            };
            let mut folder = PathBuf::new();
            for c in dir.components() {
                folder.push(c);
                if set.is_match(&folder) {
                    let found = base.join(&folder);
                    // Of two scanned folders nested in one another, the outer estate wins too.
                    let depth = |p: &Path| p.components().count();
                    if best.as_ref().is_none_or(|b| depth(&found) < depth(b)) {
                        best = Some(found);
                    }
                    break;
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(globs: &[&str], root: &str) -> EstateMap {
        let globs: Vec<String> = globs.iter().map(|g| (*g).to_owned()).collect();
        EstateMap {
            sets: vec![(PathBuf::from(root), glob_set(&globs, "--estate").unwrap())],
        }
    }

    #[test]
    fn a_star_makes_each_top_folder_an_estate() {
        let m = map(&["*"], "/repo");
        assert_eq!(
            m.estate_of("/repo/shop/deploy/web.yaml"),
            Some(PathBuf::from("/repo/shop"))
        );
        assert_eq!(
            m.estate_of("/repo/bank/ns.yaml"),
            Some(PathBuf::from("/repo/bank"))
        );
        // A file at the top is in no estate folder.
        assert_eq!(m.estate_of("/repo/all.yaml"), None);
        assert_eq!(m.estate_of("/elsewhere/x/a.yaml"), None);
    }

    #[test]
    fn a_star_matches_one_folder_name_and_the_outermost_match_wins() {
        let m = map(&["clusters/*"], "/repo");
        assert_eq!(
            m.estate_of("/repo/clusters/prod/apps/web.yaml"),
            Some(PathBuf::from("/repo/clusters/prod"))
        );
        assert_eq!(m.estate_of("/repo/clusters/shared.yaml"), None);
        assert_eq!(m.estate_of("/repo/base/clusters/x.yaml"), None);
        let deep = map(&["**/env-*"], "/repo");
        assert_eq!(
            deep.estate_of("/repo/a/env-1/b/env-2/x.yaml"),
            Some(PathBuf::from("/repo/a/env-1"))
        );
    }

    #[test]
    fn relative_paths_are_resolved_against_the_working_folder() {
        let cwd = std::env::current_dir().unwrap();
        let m = EstateMap {
            sets: vec![(cwd.join("corpus"), glob_set(&["*".into()], "x").unwrap())],
        };
        assert_eq!(
            m.estate_of("corpus/./a/../b/c.yaml"),
            Some(cwd.join("corpus/b"))
        );
    }
}
