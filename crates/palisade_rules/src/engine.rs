use std::sync::Mutex;

use palisade_diagnostics::{Finding, LineIndex, TextRange};
use palisade_k8s::{Object, PodSpec, objects_in};
use palisade_yaml::{
    DocumentChunk, NodeId, ParsedChunk, is_helm_action, parse_chunk, split_documents,
    template_in_document, template_marks,
};
use rayon::prelude::*;
use serde::Serialize;

use crate::checker::{Checker, FileContext};
use crate::directives::{self, AnnotationDirective, CommentDirective};
use crate::estate::{Estate, Packed, Pool};
use crate::meta::Rule;
use crate::rules::misc::{
    ignore_without_reason::IgnoreWithoutReason, redundant_override::RedundantOverride,
    unused_suppression::UnusedSuppression,
};
use crate::settings::Settings;

/// A file (or stdin) to check.
#[derive(Clone, Copy, Debug)]
pub struct SourceFile<'a> {
    /// The path as it should be reported; `None` for text without a file.
    pub path: Option<&'a str>,
    pub text: &'a str,
}

/// What a file is to the tool that builds the manifests from it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FileRole {
    /// Complete objects, applied as they are (or rendered output).
    #[default]
    Complete,
    /// A kustomize patch (strategic merge or JSON 6902) or replacement file: its objects are
    /// fragments merged into a base's objects. Findings about fields they leave out are not
    /// reported, and they stay out of the estate inventory.
    Patch,
}

/// Input that could not be read as Kubernetes objects: it is reported, never dropped silently.
#[derive(Clone, Debug, Serialize)]
pub struct InputError {
    pub file: Option<String>,
    pub line: u32,
    pub column: u32,
    pub message: String,
    /// `syntax`, `template`, `encoding`, `io` or `kustomization`.
    pub kind: &'static str,
}

/// Counts for the summary.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct DocumentStats {
    pub files: usize,
    pub bytes: u64,
    pub documents: usize,
    pub objects: usize,
    /// Documents without `apiVersion` and `kind` (not Kubernetes objects).
    pub skipped_documents: usize,
    /// Un-rendered Helm templates, skipped whole.
    pub templates: usize,
    /// Objects of kustomize patch files, checked as fragments (also counted in `objects`).
    pub fragments: usize,
    /// Findings on fragments that only the merged object could support (about fields left to
    /// the base they patch, or the patched object's identity), not reported.
    pub fragment_findings: usize,
}

impl DocumentStats {
    pub fn add(&mut self, other: &DocumentStats) {
        self.files += other.files;
        self.bytes += other.bytes;
        self.documents += other.documents;
        self.objects += other.objects;
        self.skipped_documents += other.skipped_documents;
        self.templates += other.templates;
        self.fragments += other.fragments;
        self.fragment_findings += other.fragment_findings;
    }
}

/// Everything found in one file.
#[derive(Default)]
pub struct FileReport {
    pub path: Option<String>,
    /// Findings sorted by position.
    pub findings: Vec<Finding>,
    pub errors: Vec<InputError>,
    pub stats: DocumentStats,
    /// Facts and postponed decisions for [`Engine::finish`].
    pub estate: Estate,
    /// Offset of the first un-rendered template action, when the file is a Helm template.
    template_at: Option<usize>,
}

impl FileReport {
    /// An empty report for one file, for inputs that fail before parsing (I/O, encoding).
    pub fn for_file(path: Option<String>, bytes: u64) -> Self {
        let mut report = Self {
            path,
            ..Self::default()
        };
        report.stats.files = 1;
        report.stats.bytes = bytes;
        report
    }

    fn absorb(&mut self, other: FileReport) {
        self.findings.extend(other.findings);
        self.errors.extend(other.errors);
        self.stats.add(&other.stats);
        self.estate.merge(other.estate);
        self.template_at = self.template_at.or(other.template_at);
    }
}

/// Files with more documents than this, and larger than [`PARALLEL_BYTES`], have their
/// documents checked in parallel.
const PARALLEL_DOCUMENTS: usize = 16;
const PARALLEL_BYTES: usize = 256 * 1024;
/// Documents per part in [`Engine::check_file_in_parts`].
const PART_DOCUMENTS: usize = 512;

/// The largest part [`Engine::finish_in_parts`] hands out.
pub const FINISH_PART: usize = 4096;

/// Applies suppressions that live outside the manifests (the config file's exceptions) to
/// the findings of one object, with the object at hand (for its labels).
pub trait FindingFilter: Send + Sync {
    fn apply(&self, object: &Object<'_>, findings: &mut [Finding]);
}

/// Runs the selected rules over files, one document at a time.
pub struct Engine {
    rules: Vec<&'static dyn Rule>,
    enabled: rustc_hash::FxHashSet<&'static str>,
    settings: Settings,
    filter: Option<Box<dyn FindingFilter>>,
    /// Shared text of the postponed findings, emptied by [`Engine::finish`].
    pool: Mutex<Pool>,
}

impl Engine {
    pub fn new(rules: Vec<&'static dyn Rule>, settings: Settings) -> Self {
        let enabled = rules.iter().map(|r| r.meta().code).collect();
        Self {
            rules,
            enabled,
            settings,
            filter: None,
            pool: Mutex::new(Pool::default()),
        }
    }

    /// Adds a filter run on each object's findings after the in-manifest suppressions.
    pub fn with_filter(mut self, filter: Box<dyn FindingFilter>) -> Self {
        self.filter = Some(filter);
        self
    }

    pub fn rules(&self) -> &[&'static dyn Rule] {
        &self.rules
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Checks every document of a file of complete objects.
    pub fn check_file(&self, source: SourceFile<'_>) -> FileReport {
        self.check_file_as(source, FileRole::Complete)
    }

    /// Checks every document of a file that plays `role` (see [`FileRole`]).
    pub fn check_file_as(&self, source: SourceFile<'_>, role: FileRole) -> FileReport {
        let text = source.text.strip_prefix('\u{feff}').unwrap_or(source.text);
        let lines = LineIndex::new(text);
        let file = FileContext {
            path: source.path,
            text,
            lines: &lines,
            fragment: role == FileRole::Patch,
            shared_path: std::sync::OnceLock::new(),
            source_lines: self.settings.source_lines,
        };
        let mut report = FileReport {
            path: source.path.map(str::to_owned),
            ..FileReport::default()
        };
        report.stats.files = 1;
        report.stats.bytes = source.text.len() as u64;
        let marks = template_marks(text);
        let chunks = split_documents(text);
        if chunks.len() > PARALLEL_DOCUMENTS && text.len() > PARALLEL_BYTES {
            let parts: Vec<FileReport> = chunks
                .par_iter()
                .map(|&chunk| self.check_chunk(&file, chunk, &marks))
                .collect();
            for part in parts {
                report.absorb(part);
            }
        } else {
            for chunk in chunks {
                let part = self.check_chunk(&file, chunk, &marks);
                report.absorb(part);
            }
        }
        if let Some(at) = report.template_at {
            // An un-rendered chart: what it says is not what will be applied, so report it
            // once and nothing else.
            let pos = lines.line_col(at, text);
            let mut template = FileReport {
                path: report.path.take(),
                ..FileReport::default()
            };
            template.stats.files = 1;
            template.stats.bytes = report.stats.bytes;
            template.stats.templates = 1;
            template.errors.push(InputError {
                file: template.path.clone(),
                line: pos.line,
                column: pos.column,
                message: "un-rendered Helm template: render it first \
                          (`helm template … | palisade scan -`)"
                    .to_owned(),
                kind: "template",
            });
            return template;
        }
        report
            .findings
            .sort_by(|a, b| (a.line, a.column, a.code).cmp(&(b.line, b.column, b.code)));
        report
    }

    /// [`Engine::check_file`], with the findings handed to `part` a few hundred documents at
    /// a time, in order: a file of hundreds of megabytes is never held as findings all at
    /// once. The first part carries the file's statistics. A file that may be an un-rendered
    /// Helm template (a `{{` opening a Helm action) is checked whole, as it is reported once,
    /// as a template, and nothing else.
    pub fn check_file_in_parts(
        &self,
        source: SourceFile<'_>,
        role: FileRole,
        mut part: impl FnMut(FileReport),
    ) {
        let text = source.text.strip_prefix('\u{feff}').unwrap_or(source.text);
        let marks = template_marks(text);
        let chunks = split_documents(text);
        // Patches are small; they are checked whole.
        if chunks.len() <= PART_DOCUMENTS || role == FileRole::Patch {
            part(self.check_file_as(source, role));
            return;
        }
        // Parts are reported as they are checked, so whether the file is a template must be
        // known first: only documents with a `{{` that opens a Helm action can make it one.
        let may_be_template = |chunk: &DocumentChunk| {
            marks_in(&marks, *chunk)
                .iter()
                .any(|&m| is_helm_action(text, m))
        };
        let template = chunks
            .par_iter()
            .filter(|chunk| may_be_template(chunk))
            .any(|&chunk| {
                let parsed = parse_chunk(text, chunk, false);
                template_in_chunk(text, &parsed, marks_in(&marks, chunk)).is_some()
            });
        if template {
            part(self.check_file_as(source, role));
            return;
        }
        let lines = LineIndex::new(text);
        let file = FileContext {
            path: source.path,
            text,
            lines: &lines,
            fragment: false,
            shared_path: std::sync::OnceLock::new(),
            source_lines: self.settings.source_lines,
        };
        for (n, group) in chunks.chunks(PART_DOCUMENTS).enumerate() {
            let mut report = FileReport {
                path: source.path.map(str::to_owned),
                ..FileReport::default()
            };
            if n == 0 {
                report.stats.files = 1;
                report.stats.bytes = source.text.len() as u64;
            }
            let checked: Vec<FileReport> = group
                .par_iter()
                .map(|&chunk| self.check_chunk(&file, chunk, &marks))
                .collect();
            for checked in checked {
                report.absorb(checked);
            }
            report
                .findings
                .sort_by(|a, b| (a.line, a.column, a.code).cmp(&(b.line, b.column, b.code)));
            part(report);
        }
    }

    fn check_chunk(
        &self,
        file: &FileContext<'_>,
        chunk: DocumentChunk,
        marks: &[usize],
    ) -> FileReport {
        let mut out = FileReport::default();
        let piece = &file.text[chunk.start..chunk.end];
        let wants_comments = memchr::memmem::find(piece.as_bytes(), b"palisade:").is_some();
        let parsed = parse_chunk(file.text, chunk, wants_comments);
        let chunk_marks = marks_in(marks, chunk);
        if !chunk_marks.is_empty() {
            out.template_at = template_in_chunk(file.text, &parsed, chunk_marks);
            if out.template_at.is_some() {
                return out;
            }
        }
        for error in parsed.errors {
            let pos = file.lines.line_col(error.offset, file.text);
            out.errors.push(InputError {
                file: file.path.map(str::to_owned),
                line: pos.line,
                column: pos.column,
                message: error.message,
                kind: "syntax",
            });
            out.stats.documents += 1;
        }
        for doc in &parsed.documents {
            out.stats.documents += 1;
            if doc.root().is_none_or(|r| doc.is_null(r)) {
                out.stats.documents -= 1;
                continue;
            }
            let objects = objects_in(doc);
            if objects.is_empty() {
                out.stats.skipped_documents += 1;
                continue;
            }
            let mut comments = if wants_comments {
                directives::comment_directives(doc, file.text, file.lines)
            } else {
                Vec::new()
            };
            for object in &objects {
                out.stats.objects += 1;
                out.stats.fragments += usize::from(file.fragment);
                self.check_object(object, file, &mut comments, &mut out);
            }
            if let Some(object) = objects.first() {
                for c in &comments {
                    self.report_comment(object, file, c, &mut out);
                }
            }
        }
        out
    }

    fn check_object(
        &self,
        object: &Object<'_>,
        file: &FileContext<'_>,
        comments: &mut [CommentDirective],
        out: &mut FileReport,
    ) {
        let pod = PodSpec::of(object);
        let override_candidates = crate::checker::override_candidates(object, pod.as_ref());
        let mut cx = Checker {
            override_candidates,
            object,
            pod: pod.as_ref(),
            settings: &self.settings,
            file,
            rule: &RedundantOverride::META,
            findings: Vec::new(),
            estate: Estate::default(),
            subject: None,
            resource: std::cell::OnceCell::new(),
        };
        for rule in &self.rules {
            cx.rule = rule.meta();
            rule.check(&mut cx);
        }

        // Palisade's own suppressions: annotations on the object and on its pod template.
        let mut annotations: Vec<AnnotationDirective<'_>> = Vec::new();
        annotations.extend(directives::annotation_directive(&object.annotations()));
        if let Some(pod) = &pod
            && pod.metadata != object.metadata()
        {
            annotations.extend(directives::annotation_directive(&pod.pod_annotations()));
        }
        let mut findings = std::mem::take(&mut cx.findings);
        for f in &mut findings {
            directives::apply(f, &mut annotations, comments);
        }
        for pending in &mut cx.estate.pending {
            for f in &mut pending.candidates {
                directives::apply(f, &mut annotations, comments);
            }
        }
        if file.fragment {
            // After the suppressions, so that one meant for a finding left out here is not
            // reported as unused.
            let scopes = Scopes::of(object);
            out.stats.fragment_findings += drop_fragment_artefacts(&mut findings, &scopes);
            for pending in &mut cx.estate.pending {
                out.stats.fragment_findings +=
                    drop_fragment_artefacts(&mut pending.candidates, &scopes);
            }
            cx.estate.pending.retain(|p| !p.candidates.is_empty());
        }
        cx.rule = &IgnoreWithoutReason::META;
        // A fragment's annotations are merged with its base's, which may give the reason or
        // hold the finding a suppression is for: neither can be judged on the fragment.
        for a in annotations.iter().filter(|_| !file.fragment) {
            if a.reason.is_none() {
                let path = annotation_path(object, pod.as_ref(), a);
                let f = cx
                    .report(a.entry.key_node, path)
                    .message(format!(
                        "`{}` has no `{}` annotation: the suppression is not applied",
                        directives::IGNORE_ANNOTATION,
                        directives::REASON_ANNOTATION
                    ))
                    .remediation(format!(
                        "add `{}: <why this is acceptable>` beside it",
                        directives::REASON_ANNOTATION
                    ))
                    .build();
                findings.push(f);
            }
        }
        cx.rule = &UnusedSuppression::META;
        for a in annotations.iter().filter(|_| !file.fragment) {
            for (code, used) in a.codes.iter().zip(&a.used) {
                if !used && a.reason.is_some() {
                    let path = annotation_path(object, pod.as_ref(), a);
                    let f = cx
                        .report(a.entry.value_node, path)
                        .message(format!(
                            "`{}` suppresses `{code}`, but no such finding is reported here",
                            directives::IGNORE_ANNOTATION
                        ))
                        .remediation(format!("remove `{code}` from the annotation"))
                        .build();
                    findings.push(f);
                }
            }
        }
        findings.retain(|f| self.enabled.contains(f.code));
        if let Some(filter) = &self.filter {
            filter.apply(object, &mut findings);
            for pending in &mut cx.estate.pending {
                filter.apply(object, &mut pending.candidates);
            }
        }
        out.findings.extend(findings);
        let mut estate = std::mem::take(&mut cx.estate);
        if file.fragment {
            // A fragment duplicates (part of) its base's object: as a fact it would count the
            // object twice, and what it leaves out would read as absent (a NetworkPolicy patch
            // without `podSelector` selects every pod).
            estate.inventory = crate::inventory::Inventory::default();
            estate.network_policies.clear();
            estate.namespaces.clear();
        }
        if !estate.pending.is_empty() {
            // A poisoned lock only means another thread panicked while packing: the pool is
            // still a valid cache.
            let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
            let pending = std::mem::take(&mut estate.pending);
            for p in pending {
                estate.deferred.push(p.pack(&mut pool));
            }
        }
        out.estate.merge(estate);
    }

    /// Reports a comment directive that has no reason, or that suppressed nothing.
    fn report_comment(
        &self,
        object: &Object<'_>,
        file: &FileContext<'_>,
        c: &CommentDirective,
        out: &mut FileReport,
    ) {
        let directive = format!("# palisade: ignore[{}]", c.codes.join(","));
        let (meta, message, remediation) = if c.reason.is_none() {
            (
                &IgnoreWithoutReason::META,
                format!("`{directive}` gives no reason: the suppression is not applied"),
                format!("write the reason after it: `{directive} <why this is acceptable>`"),
            )
        } else if !c.used {
            (
                &UnusedSuppression::META,
                format!("`{directive}` suppresses nothing on line {}", c.target_line),
                "remove the comment, or move it to the line of the finding".to_owned(),
            )
        } else {
            return;
        };
        if !self.enabled.contains(meta.code) {
            return;
        }
        let at = file.locate(c.range);
        out.findings.push(Finding {
            code: meta.code,
            name: meta.name,
            severity: meta.severity,
            section: meta.section,
            message,
            remediation: remediation.into(),
            resource: std::sync::Arc::new(object.object_ref()),
            container: None,
            file: file.shared_path(),
            line: Some(at.line),
            column: Some(at.column),
            end_line: Some(at.end_line),
            end_column: Some(at.end_column),
            range: Some(c.range),
            path: String::new(),
            missing: None,
            kubeaudit_code: None,
            pss: None,
            suppressed: None,
            kubectl: None,
            related: Vec::new(),
            fix: None,
            source_line: at.source_line,
        });
    }

    /// Runs what needs the whole estate: postponed decisions and estate-wide rules.
    pub fn finish(&self, estate: Estate) -> Vec<Finding> {
        self.finish_in_parts(estate).flatten().collect()
    }

    /// [`Engine::finish`], with the findings handed out in parts of at most
    /// [`FINISH_PART`], in the same order: the findings wait packed, so a large input
    /// never holds all of them in full at once.
    pub fn finish_in_parts(&self, mut estate: Estate) -> impl Iterator<Item = Vec<Finding>> {
        self.pool.lock().unwrap_or_else(|e| e.into_inner()).clear();
        let mut pool = Pool::default();
        // Room for every postponed candidate up front (estate-wide rules add a few more):
        // growing by doubling would copy the findings and leave room for as many again, at
        // the end of the input, when memory peaks (room never written to costs no memory).
        let mut packed: Vec<Option<Packed>> = Vec::with_capacity(estate.deferred.candidates());
        let mut keep = |f: Finding| {
            if self.enabled.contains(f.code) {
                packed.push(Some(Packed::new(f, &mut pool)));
            }
        };
        estate.resolve_each(&mut keep);
        for rule in &self.rules {
            let mut found = Vec::new();
            rule.check_estate(&estate, &mut found);
            found.into_iter().for_each(&mut keep);
        }
        drop(estate);
        drop(pool);
        // The positions are sorted, not the findings: a stable sort borrows room for half of
        // what it sorts. Stable, as the order of findings at one place is the order they were
        // found in.
        let mut order: Vec<usize> = (0..packed.len()).collect();
        let at = |i: usize| packed[i].as_ref().map(Packed::order);
        order.sort_by(|&a, &b| at(a).cmp(&at(b)));
        let mut order = order.into_iter();
        std::iter::from_fn(move || {
            let part: Vec<Finding> = order
                .by_ref()
                .take(FINISH_PART)
                .filter_map(|i| packed[i].take())
                .map(Packed::unpack)
                .collect();
            (!part.is_empty()).then_some(part)
        })
    }
}

/// The template marks inside `chunk` (`marks` is sorted).
fn marks_in(marks: &[usize], chunk: DocumentChunk) -> &[usize] {
    let from = marks.partition_point(|&m| m < chunk.start);
    let to = marks.partition_point(|&m| m < chunk.end);
    &marks[from..to]
}

/// Where a chunk with template marks is an un-rendered Helm template: one that does not even
/// parse, or whose actions became YAML structure.
fn template_in_chunk(text: &str, parsed: &ParsedChunk<'_>, chunk_marks: &[usize]) -> Option<usize> {
    let broken = !parsed.errors.is_empty() && chunk_marks.iter().any(|&m| is_helm_action(text, m));
    if broken {
        chunk_marks.first().copied()
    } else {
        parsed
            .documents
            .iter()
            .find_map(|d| template_in_document(d, chunk_marks))
    }
}

/// Removes the findings that only a complete object can support from a fragment's findings:
/// those about a missing field (the base the fragment is merged into may set it), and kubeaudit
/// override labels found redundant (the check they override may fail on the merged object).
/// A missing field stays reported inside a replaced scope (see [`Scopes`]); findings inside a
/// directive list item are all removed, and so are those on `metadata.name` or
/// `metadata.namespace`, which in a patch only name the object it patches (what is judged
/// there, such as a workload in `kube-system`, is judged on the base's object). Returns how
/// many were removed.
fn drop_fragment_artefacts(findings: &mut Vec<Finding>, scopes: &Scopes) -> usize {
    let within = |r: Option<TextRange>, list: &[TextRange]| {
        r.is_some_and(|r| list.iter().any(|s| s.start <= r.start && r.end <= s.end))
    };
    let before = findings.len();
    findings.retain(|f| {
        let artefact = (f.missing.is_some() && !within(f.range, &scopes.replaced))
            || within(f.range, &scopes.directives)
            || scopes.identity.contains(&f.path);
        !artefact && f.code != RedundantOverride::META.code
    });
    before - findings.len()
}

/// Where a strategic-merge fragment says more than "merge this".
#[derive(Default)]
struct Scopes {
    /// What replaces, rather than merges with, the base's content, key included: a mapping
    /// with `$patch: replace` or `$patch: delete` (the base's mapping is replaced, or
    /// removed), and a list with an item `{$patch: replace}`. What it leaves out is missing
    /// from the merged object too.
    replaced: Vec<TextRange>,
    /// List items with a `$patch` directive: `{$patch: replace}` is no item, and an item with
    /// `$patch: delete` is removed from the base's list; neither is in the merged object.
    directives: Vec<TextRange>,
    /// The paths of the object's `metadata.name` and `metadata.namespace`.
    identity: [String; 2],
}

impl Scopes {
    fn of(object: &Object<'_>) -> Self {
        let mut scopes = Scopes {
            identity: ["name", "namespace"]
                .map(|k| object.path(&["metadata", k]).as_str().to_owned()),
            ..Scopes::default()
        };
        scopes.walk(object.doc, object.node);
        scopes
    }

    fn walk(&mut self, doc: &palisade_yaml::Document<'_>, node: NodeId) {
        let directive = |n: NodeId| {
            doc.is_mapping(n)
                .then(|| doc.get(n, "$patch").and_then(|v| doc.str(v)))
                .flatten()
        };
        for &(key, value) in doc.entries(node) {
            let items = doc.items(value);
            if matches!(directive(value), Some("replace" | "delete"))
                || items.iter().any(|&i| directive(i) == Some("replace"))
            {
                self.replaced.push(TextRange::new(
                    doc.range(key).start as usize,
                    doc.range(value).end as usize,
                ));
            }
            for &item in items {
                if directive(item).is_some() {
                    self.directives.push(doc.range(item));
                }
            }
            self.walk(doc, value);
        }
        for &item in doc.items(node) {
            self.walk(doc, item);
        }
    }
}

fn annotation_path(
    object: &Object<'_>,
    pod: Option<&PodSpec<'_>>,
    a: &AnnotationDirective<'_>,
) -> palisade_k8s::FieldPath {
    let on_pod = pod.is_some_and(|p| {
        p.pod_annotations()
            .iter()
            .any(|e| e.key_node == a.entry.key_node)
            && p.metadata != object.metadata()
    });
    let base = if on_pod {
        pod.map(|p| p.metadata_path.clone()).unwrap_or_default()
    } else {
        object.path(&["metadata"])
    };
    base.keys(&["annotations", directives::IGNORE_ANNOTATION])
}
