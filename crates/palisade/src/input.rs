//! Finding the input: files and folders on disk, or a stream on stdin cut into segments at
//! document boundaries so that it is never held whole in memory.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use anyhow::{Context, Result};
use globset::{Glob, GlobSet, GlobSetBuilder};
use palisade_rules::InputError;

use crate::kustomize;
pub use crate::kustomize::Patches;

/// The extensions scanned when walking folders.
const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// A stdin segment is cut at the first document boundary after this many bytes.
const SEGMENT_BYTES: usize = 4 * 1024 * 1024;

pub fn exclude_set(globs: &[String]) -> Result<GlobSet> {
    let mut builder = GlobSetBuilder::new();
    for g in globs {
        builder.add(Glob::new(g).with_context(|| format!("invalid --exclude glob `{g}`"))?);
        // `dir` also excludes everything below it.
        if !g.ends_with("/**") {
            builder.add(Glob::new(&format!("{}/**", g.trim_end_matches('/')))?);
        }
    }
    Ok(builder.build()?)
}

fn excluded(path: &Path, excludes: &GlobSet) -> bool {
    let shown = display_path(path);
    excludes.is_match(&shown)
        || path.file_name().is_some_and(|n| excludes.is_match(n))
        || excludes.is_match(path)
}

/// The path as reports show it: as given, without a leading `./`.
pub fn display_path(path: &Path) -> String {
    let s = path.to_string_lossy();
    s.strip_prefix("./").unwrap_or(&s).to_owned()
}

/// The files to scan, and what the kustomizations among them say about them.
pub struct Input {
    /// Sorted, without duplicates.
    pub files: Vec<PathBuf>,
    pub patches: Patches,
}

/// Expands paths into a sorted list of files, and reads the kustomization files found on the
/// way (see [`crate::kustomize`]). Missing paths and malformed kustomizations become input
/// errors; the rest is still scanned.
pub fn collect_files(paths: &[PathBuf], excludes: &GlobSet, errors: &mut Vec<InputError>) -> Input {
    let mut files = Vec::new();
    let mut kustomizations = Vec::new();
    for root in paths {
        if root.is_file() {
            // A file named explicitly is scanned whatever its extension.
            if !excluded(root, excludes) {
                files.push(root.clone());
                // Its folder's kustomization says whether it is a patch.
                let dir = root.parent().filter(|d| !d.as_os_str().is_empty());
                let dir = dir.unwrap_or(Path::new("."));
                kustomizations.extend(
                    kustomize::FILE_NAMES
                        .iter()
                        .map(|n| dir.join(n))
                        .filter(|k| k.is_file()),
                );
            }
            continue;
        }
        if !root.exists() {
            errors.push(InputError {
                file: Some(display_path(root)),
                line: 0,
                column: 0,
                message: "no such file or folder".to_owned(),
                kind: "io",
            });
            continue;
        }
        walk_folder(root, excludes, &mut files, &mut kustomizations, errors);
    }
    files.sort();
    files.dedup();
    // Walking threads meet them in no particular order.
    kustomizations.sort();
    kustomizations.dedup();
    let mut patches = Patches::default();
    if !kustomizations.is_empty() {
        let scanned = |k: &Path| files.binary_search_by(|f| f.as_path().cmp(k)).is_ok();
        patches.read_all(kustomizations, &scanned, errors);
    }
    Input { files, patches }
}

/// Adds the files under `root` to `files`, and its kustomization files to `kustomizations`,
/// in no particular order. Folders are read on as many threads as the scan checks files
/// with: listing a large tree is mostly system calls, which overlap.
fn walk_folder(
    root: &Path,
    excludes: &GlobSet,
    files: &mut Vec<PathBuf>,
    kustomizations: &mut Vec<PathBuf>,
    errors: &mut Vec<InputError>,
) {
    #[derive(Default)]
    struct Found {
        files: Vec<PathBuf>,
        kustomizations: Vec<PathBuf>,
        errors: Vec<String>,
    }
    /// What one walking thread found, handed over once, when the thread ends.
    struct Collector<'a> {
        mine: Found,
        all: &'a Mutex<Found>,
    }
    impl Drop for Collector<'_> {
        fn drop(&mut self) {
            let mut all = self.all.lock().unwrap_or_else(PoisonError::into_inner);
            all.files.append(&mut self.mine.files);
            all.kustomizations.append(&mut self.mine.kustomizations);
            all.errors.append(&mut self.mine.errors);
        }
    }
    let found = Mutex::new(Found::default());
    // Hidden folders are scanned too (test fixtures often live in `.something-test/`);
    // only `.git` is skipped.
    ignore::WalkBuilder::new(root)
        .require_git(false)
        .hidden(false)
        .filter_entry(|e| e.file_name() != ".git")
        .threads(rayon::current_num_threads().max(1))
        .build_parallel()
        .run(|| {
            let mut collector = Collector {
                mine: Found::default(),
                all: &found,
            };
            Box::new(move |entry| {
                let m = &mut collector.mine;
                match entry {
                    Ok(entry) => {
                        let path = entry.path();
                        let is_file = entry.file_type().is_some_and(|t| t.is_file());
                        let wanted = is_file
                            && path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                                EXTENSIONS.contains(&e.to_ascii_lowercase().as_str())
                            });
                        if wanted && !excluded(path, excludes) {
                            m.files.push(path.to_owned());
                        }
                        if is_file && kustomize::is_kustomization(path) && !excluded(path, excludes)
                        {
                            m.kustomizations.push(path.to_owned());
                        }
                    }
                    Err(e) => m.errors.push(format!("cannot read: {e}")),
                }
                ignore::WalkState::Continue
            })
        });
    let found = found.into_inner().unwrap_or_else(PoisonError::into_inner);
    files.extend(found.files);
    kustomizations.extend(found.kustomizations);
    let mut messages = found.errors;
    // The threads meet errors in no particular order; reports list them sorted.
    messages.sort();
    errors.extend(messages.into_iter().map(|message| InputError {
        file: Some(display_path(root)),
        line: 0,
        column: 0,
        message,
        kind: "io",
    }));
}

/// A piece of the stdin stream made of whole documents.
pub struct Segment {
    pub text: String,
    /// 1-based line of the stream where the segment starts.
    pub first_line: u32,
    /// Byte offset of the segment in the stream.
    pub offset: usize,
    pub encoding_errors: Vec<u32>,
}

/// Cuts a stream into segments at column-0 `---` lines.
pub struct Segments<R> {
    reader: R,
    line: u32,
    offset: usize,
    pending: Option<Vec<u8>>,
    done: bool,
}

impl<R: BufRead> Segments<R> {
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            line: 1,
            offset: 0,
            pending: None,
            done: false,
        }
    }
}

fn is_document_start(line: &[u8]) -> bool {
    line.starts_with(b"---") && line.get(3).is_none_or(|b| b.is_ascii_whitespace())
}

impl<R: BufRead> Segments<R> {
    fn consume(&mut self, segment: &mut Segment, bytes: Vec<u8>) {
        match String::from_utf8(bytes) {
            Ok(s) => {
                self.offset += s.len();
                segment.text.push_str(&s);
            }
            Err(e) => {
                segment.encoding_errors.push(self.line);
                self.offset += e.as_bytes().len();
                segment
                    .text
                    .push_str(&String::from_utf8_lossy(e.as_bytes()));
            }
        }
        self.line += 1;
    }
}

impl<R: BufRead> Iterator for Segments<R> {
    type Item = std::io::Result<Segment>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done && self.pending.is_none() {
            return None;
        }
        let mut segment = Segment {
            text: String::new(),
            first_line: self.line,
            offset: self.offset,
            encoding_errors: Vec::new(),
        };
        if let Some(bytes) = self.pending.take() {
            self.consume(&mut segment, bytes);
        }
        while !self.done {
            let mut bytes = Vec::new();
            match self.reader.read_until(b'\n', &mut bytes) {
                Ok(0) => self.done = true,
                Ok(_) if segment.text.len() >= SEGMENT_BYTES && is_document_start(&bytes) => {
                    self.pending = Some(bytes);
                    break;
                }
                Ok(_) => self.consume(&mut segment, bytes),
                Err(e) => return Some(Err(e)),
            }
        }
        if segment.text.is_empty() {
            return None;
        }
        Some(Ok(segment))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_streams_are_cut_at_document_starts() {
        let doc = format!("k: {}\n", "x".repeat(1024));
        let mut text = String::new();
        while text.len() < SEGMENT_BYTES + 10_000 {
            text.push_str("---\n");
            text.push_str(&doc);
        }
        let segments: Vec<Segment> = Segments::new(text.as_bytes())
            .collect::<std::io::Result<_>>()
            .unwrap();
        assert_eq!(segments.len(), 2);
        assert!(segments[1].text.starts_with("---\n"));
        let joined: String = segments.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(joined, text);
        let lines_before = text[..segments[1].offset].matches('\n').count() as u32;
        assert_eq!(segments[1].first_line, lines_before + 1);
    }

    #[test]
    fn small_streams_are_one_segment() {
        let text = "a: 1\n---\nb: 2\n";
        let segments: Vec<Segment> = Segments::new(text.as_bytes())
            .collect::<std::io::Result<_>>()
            .unwrap();
        assert_eq!(segments.len(), 1);
        assert_eq!(segments[0].text, text);
        assert_eq!(segments[0].first_line, 1);
    }
}
