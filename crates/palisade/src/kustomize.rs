//! Kustomize awareness: which files of the input are patches. A kustomization lists the files
//! it merges into its resources (`patchesStrategicMerge`, `patches[].path`,
//! `patchesJson6902[].path`, `replacements[].path`); the objects in those files are fragments,
//! not complete objects, and are checked as such (see [`palisade_rules::FileRole`]). Files
//! listed as `resources` are complete objects; a file listed both ways stays complete.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

use palisade_diagnostics::LineIndex;
use palisade_rules::{FileRole, InputError};
use palisade_yaml::{Document, NodeId, parse_chunk, split_documents};

use crate::input::display_path;

/// The names kustomize looks for in a folder, in its order.
pub const FILE_NAMES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Whether `path` names a kustomization file.
pub fn is_kustomization(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| FILE_NAMES.contains(&n))
}

/// The files the kustomizations of the input reference, by their normalised path.
#[derive(Debug, Default)]
pub struct Patches {
    patches: HashSet<PathBuf>,
    resources: HashSet<PathBuf>,
    /// Kustomization files read, by their normalised path.
    read: HashSet<PathBuf>,
}

impl Patches {
    /// How `file` is used by the kustomizations read.
    pub fn role(&self, file: &Path) -> FileRole {
        if self.patches.is_empty() {
            return FileRole::Complete;
        }
        let file = normalize(file);
        if self.patches.contains(&file) && !self.resources.contains(&file) {
            FileRole::Patch
        } else {
            FileRole::Complete
        }
    }

    /// Reads the kustomization files `found` while walking the input (and those of the
    /// components they use), recording what they reference. `scanned` says whether a file is
    /// also scanned as manifests, which then reports its syntax errors.
    pub fn read_all(
        &mut self,
        found: Vec<PathBuf>,
        scanned: &dyn Fn(&Path) -> bool,
        errors: &mut Vec<InputError>,
    ) {
        let mut queue = found;
        while let Some(path) = queue.pop() {
            if !self.read.insert(normalize(&path)) {
                continue;
            }
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) => {
                    errors.push(error(&path, 0, 0, format!("cannot read: {e}")));
                    continue;
                }
            };
            for dir in self.read_one(&path, &text, scanned(&path), errors) {
                if let Some(k) = FILE_NAMES.iter().map(|n| dir.join(n)).find(|k| k.is_file()) {
                    queue.push(k);
                }
            }
        }
    }

    /// Records what one kustomization references; returns the folders of the components it
    /// uses. Problems are input errors naming the file, line and column; what can still be
    /// read is recorded.
    pub fn read_one(
        &mut self,
        path: &Path,
        text: &str,
        scanned: bool,
        errors: &mut Vec<InputError>,
    ) -> Vec<PathBuf> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let lines = LineIndex::new(text);
        let dir = path.parent().unwrap_or(Path::new(""));
        let mut components = Vec::new();
        let Some(chunk) = split_documents(text).into_iter().next() else {
            return components;
        };
        let parsed = parse_chunk(text, chunk, false);
        if !scanned {
            for e in &parsed.errors {
                let at = lines.line_col(e.offset, text);
                errors.push(error(path, at.line, at.column, e.message.clone()));
            }
        }
        let Some(doc) = parsed.documents.first() else {
            return components;
        };
        let Some(root) = doc.root().filter(|&r| !doc.is_null(r)) else {
            return components;
        };
        let mut reader = Reader {
            path,
            dir,
            doc,
            text,
            lines: &lines,
            errors,
        };
        if !doc.is_mapping(root) {
            reader.error(root, "a kustomization must be a mapping".to_owned());
            return components;
        }
        // Another tool's object that happens to have the name (a Flux `Kustomization`).
        let api_version = doc.get(root, "apiVersion").and_then(|n| doc.str(n));
        if api_version.is_some_and(|v| !v.starts_with("kustomize.config.k8s.io/")) {
            return components;
        }
        let kind = doc.get(root, "kind").and_then(|n| doc.str(n));
        if kind.is_some_and(|k| k != "Kustomization" && k != "Component") {
            return components;
        }
        for item in reader.list(root, "patchesStrategicMerge") {
            match doc.str(item) {
                // An inline patch is YAML text, not a file.
                Some(s) if s.contains('\n') => {}
                Some(s) => {
                    if let Some(p) = reader.resolve(s) {
                        self.patches.insert(p);
                    }
                }
                None => reader.error(
                    item,
                    "each entry of `patchesStrategicMerge` must be a path or an inline patch"
                        .to_owned(),
                ),
            }
        }
        for key in ["patches", "patchesJson6902", "replacements"] {
            for item in reader.list(root, key) {
                if !doc.is_mapping(item) {
                    reader.error(
                        item,
                        format!("each entry of `{key}` must be a mapping (with `path`, or inline)"),
                    );
                    continue;
                }
                let Some(node) = doc.get(item, "path") else {
                    continue;
                };
                match doc.str(node) {
                    Some(s) => {
                        if let Some(p) = reader.resolve(s) {
                            self.patches.insert(p);
                        }
                    }
                    None => reader.error(node, format!("`{key}[].path` must be a path")),
                }
            }
        }
        for key in ["resources", "bases", "components"] {
            for item in reader.list(root, key) {
                match doc.str(item) {
                    Some(s) => {
                        if let Some(p) = reader.resolve(s) {
                            if key == "components" {
                                components.push(p);
                            } else {
                                self.resources.insert(p);
                            }
                        }
                    }
                    None => reader.error(item, format!("each entry of `{key}` must be a path")),
                }
            }
        }
        components
    }
}

struct Reader<'a, 'd> {
    path: &'a Path,
    dir: &'a Path,
    doc: &'a Document<'d>,
    text: &'a str,
    lines: &'a LineIndex,
    errors: &'a mut Vec<InputError>,
}

impl Reader<'_, '_> {
    fn error(&mut self, node: NodeId, message: String) {
        let at = self
            .lines
            .line_col(self.doc.range(node).start as usize, self.text);
        self.errors
            .push(error(self.path, at.line, at.column, message));
    }

    /// The items of the list under `key`; an error when it is not a list.
    fn list(&mut self, root: NodeId, key: &str) -> Vec<NodeId> {
        match self.doc.get(root, key) {
            None => Vec::new(),
            Some(n) if self.doc.is_null(n) => Vec::new(),
            Some(n) if self.doc.is_sequence(n) => self.doc.items(n).to_vec(),
            Some(n) => {
                self.error(n, format!("`{key}` must be a list"));
                Vec::new()
            }
        }
    }

    /// A reference as a normalised path; `None` for remote ones (URLs, `github.com/…`).
    fn resolve(&self, reference: &str) -> Option<PathBuf> {
        let reference = reference.trim();
        if reference.is_empty()
            || reference.contains("://")
            || reference.starts_with("github.com/")
            || reference.starts_with("git@")
        {
            return None;
        }
        Some(normalize(&self.dir.join(reference)))
    }
}

fn error(path: &Path, line: u32, column: u32, message: String) -> InputError {
    InputError {
        file: Some(display_path(path)),
        line,
        column,
        message: format!("kustomization: {message}"),
        kind: "kustomization",
    }
}

/// `path` without `.` components and with `dir/..` pairs folded, as written (symbolic links
/// are not followed): the walker's paths and the kustomizations' references compare equal.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(c),
            },
            c => out.push(c),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(path: &str, text: &str) -> (Patches, Vec<InputError>, Vec<PathBuf>) {
        let mut patches = Patches::default();
        let mut errors = Vec::new();
        let components = patches.read_one(Path::new(path), text, false, &mut errors);
        (patches, errors, components)
    }

    fn role(p: &Patches, file: &str) -> FileRole {
        p.role(Path::new(file))
    }

    #[test]
    fn every_kind_of_patch_reference_is_a_patch() {
        let (p, errors, components) = read(
            "repo/overlays/prod/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1beta1\n\
             kind: Kustomization\n\
             resources:\n\
             - ../../base\n\
             - extra.yaml\n\
             patchesStrategicMerge:\n\
             - sm.yaml\n\
             - |-\n  apiVersion: apps/v1\n  kind: Deployment\n\
             patches:\n\
             - path: ./p/replicas.yaml\n\
             - patch: |-\n    - op: add\n  target: {kind: Deployment}\n\
             patchesJson6902:\n\
             - target: {kind: Deployment, name: web}\n  path: ../shared/ops.yaml\n\
             replacements:\n\
             - path: repl.yaml\n\
             components:\n\
             - ../../components/tls\n",
        );
        assert!(errors.is_empty(), "{errors:?}");
        for f in [
            "repo/overlays/prod/sm.yaml",
            "./repo/overlays/prod/p/replicas.yaml",
            "repo/overlays/shared/ops.yaml",
            "repo/overlays/prod/repl.yaml",
        ] {
            assert_eq!(role(&p, f), FileRole::Patch, "{f}");
        }
        for f in [
            "repo/overlays/prod/extra.yaml",
            "repo/overlays/prod/kustomization.yaml",
            "repo/base/deployment.yaml",
        ] {
            assert_eq!(role(&p, f), FileRole::Complete, "{f}");
        }
        assert_eq!(components, vec![PathBuf::from("repo/components/tls")]);
    }

    #[test]
    fn kustomization_without_api_version_and_components_are_read() {
        let (p, errors, _) = read("c/kustomization.yml", "patches:\n- path: a.yaml\n");
        assert!(errors.is_empty());
        assert_eq!(role(&p, "c/a.yaml"), FileRole::Patch);
        let (p, _, _) = read(
            "c/Kustomization",
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n\
             patches:\n- path: b.yaml\n",
        );
        assert_eq!(role(&p, "c/b.yaml"), FileRole::Patch);
    }

    #[test]
    fn a_file_also_listed_as_a_resource_stays_complete() {
        let (p, _, _) = read(
            "k/kustomization.yaml",
            "resources: [both.yaml]\npatchesStrategicMerge: [both.yaml]\n",
        );
        assert_eq!(role(&p, "k/both.yaml"), FileRole::Complete);
    }

    #[test]
    fn other_tools_kustomizations_are_ignored() {
        let (p, errors, _) = read(
            "f/kustomization.yaml",
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n\
             spec:\n  patches:\n  - patch: x\n",
        );
        assert!(errors.is_empty());
        assert!(p.patches.is_empty());
        let (p, errors, _) = read(
            "f/kustomization.yaml",
            "apiVersion: v1\nkind: ConfigMap\npatches: [{path: x.yaml}]\n",
        );
        assert!(errors.is_empty());
        assert!(p.patches.is_empty());
    }

    #[test]
    fn remote_references_are_not_files() {
        let (p, errors, _) = read(
            "r/kustomization.yaml",
            "patches:\n- path: https://example.com/p.yaml\n",
        );
        assert!(errors.is_empty());
        assert!(p.patches.is_empty());
    }

    #[test]
    fn malformed_kustomizations_are_errors_with_file_line_and_column() {
        let (p, errors, _) = read(
            "m/kustomization.yaml",
            "patchesStrategicMerge: sm.yaml\n\
             patches:\n\
             - just-a-string.yaml\n\
             - path: [a, b]\n\
             - path: good.yaml\n\
             resources:\n\
             - {a: 1}\n",
        );
        let shown: Vec<(u32, u32, &str)> = errors
            .iter()
            .map(|e| (e.line, e.column, e.message.as_str()))
            .collect();
        assert_eq!(
            shown,
            vec![
                (
                    1,
                    24,
                    "kustomization: `patchesStrategicMerge` must be a list"
                ),
                (
                    3,
                    3,
                    "kustomization: each entry of `patches` must be a mapping (with `path`, or inline)"
                ),
                (4, 9, "kustomization: `patches[].path` must be a path"),
                (
                    7,
                    3,
                    "kustomization: each entry of `resources` must be a path"
                ),
            ]
        );
        assert!(errors.iter().all(
            |e| e.file.as_deref() == Some("m/kustomization.yaml") && e.kind == "kustomization"
        ));
        // What could be read is still used.
        assert_eq!(role(&p, "m/good.yaml"), FileRole::Patch);
    }

    #[test]
    fn syntax_errors_are_reported_unless_the_file_is_scanned_anyway() {
        let text = "patches:\n- path: a.yaml\n  oops: [\n";
        let (_, errors, _) = read("s/Kustomization", text);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].file.as_deref(), Some("s/Kustomization"));
        assert!(errors[0].line >= 3, "{errors:?}");
        let mut patches = Patches::default();
        let mut errors = Vec::new();
        patches.read_one(Path::new("s/kustomization.yaml"), text, true, &mut errors);
        assert!(errors.is_empty());
        let (_, errors, _) = read("s/kustomization.yaml", "- a\n- b\n");
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].line, errors[0].column), (1, 1));
    }

    #[test]
    fn normalize_folds_dots() {
        assert_eq!(
            normalize(Path::new("./a/b/../c/./d")),
            PathBuf::from("a/c/d")
        );
        assert_eq!(normalize(Path::new("../x/../y")), PathBuf::from("../y"));
        assert_eq!(normalize(Path::new("/a/../../b")), PathBuf::from("/b"));
        assert_eq!(normalize(Path::new("a/..")), PathBuf::from("."));
    }
}
