use palisade_diagnostics::{
    Finding, LineIndex, ObjectRef, PssLevel, PssRef, RelatedLocation, Severity, Suppression,
};
use palisade_k8s::{Container, Entry, FieldPath, Object, PodSpec};
use palisade_yaml::NodeId;

use crate::estate::Estate;
use crate::meta::RuleMeta;
use crate::settings::Settings;

/// Where a kubeaudit override label may be placed for one check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OverrideScope {
    /// Per-container labels (`container.kubeaudit.io/<container>.<id>`) and pod labels.
    Container(String),
    /// Pod (or resource) level labels only.
    Pod,
}

/// A kubeaudit override: the identifier (`allow-privileged`) and where it may be set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubeauditOverride {
    pub id: String,
    pub scope: OverrideScope,
}

impl KubeauditOverride {
    pub fn container(id: impl Into<String>, container: &Container<'_>) -> Self {
        Self {
            id: id.into(),
            scope: OverrideScope::Container(container.name.to_owned()),
        }
    }

    pub fn pod(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            scope: OverrideScope::Pod,
        }
    }

    /// The label keys that carry this override, in kubeaudit's order of precedence.
    pub fn label_keys(&self) -> Vec<String> {
        let mut keys = Vec::with_capacity(5);
        if let OverrideScope::Container(c) = &self.scope {
            keys.push(format!("container.audit.kubernetes.io/{c}.{}", self.id));
            keys.push(format!("container.kubeaudit.io/{c}.{}", self.id));
        }
        keys.push(format!("kubeaudit.io/{}", self.id));
        keys.push(format!("audit.kubernetes.io/pod.{}", self.id));
        keys.push(format!("audit.kubernetes.io/namespace.{}", self.id));
        keys
    }
}

/// The file-level context a checker reports into.
pub(crate) struct FileContext<'d> {
    pub path: Option<&'d str>,
    pub text: &'d str,
    pub lines: &'d LineIndex,
    /// The file is a kustomize patch: its objects are fragments (see [`crate::FileRole`]).
    pub fragment: bool,
    /// One shared copy of `path` for what outlives the file (the estate's subjects), made
    /// on first use.
    pub shared_path: std::sync::OnceLock<Option<std::sync::Arc<str>>>,
    /// Whether findings get their source line (see `Settings::source_lines`).
    pub source_lines: bool,
}

impl FileContext<'_> {
    pub(crate) fn shared_path(&self) -> Option<std::sync::Arc<str>> {
        self.shared_path
            .get_or_init(|| self.path.map(std::sync::Arc::from))
            .clone()
    }

    /// Line, column, end line, end column and the source line of a range.
    pub(crate) fn locate(&self, range: palisade_diagnostics::TextRange) -> Located {
        let start = self.lines.line_col(range.start as usize, self.text);
        let end = self.lines.line_col(range.end as usize, self.text);
        let line = self.lines.line_range(start.line as usize - 1, self.text);
        Located {
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
            source_line: self
                .source_lines
                .then(|| self.text.get(line.to_range()).map(str::to_owned))
                .flatten(),
        }
    }
}

pub(crate) struct Located {
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    pub source_line: Option<String>,
}

/// What one rule sees of one object, and where it reports.
pub struct Checker<'c, 'd> {
    pub object: &'c Object<'d>,
    /// The pod spec, when the object is a workload.
    pub pod: Option<&'c PodSpec<'d>>,
    pub settings: &'c Settings,
    pub(crate) file: &'c FileContext<'d>,
    pub(crate) rule: &'static RuleMeta,
    pub(crate) findings: Vec<Finding>,
    /// Facts and postponed decisions this object contributes to the estate.
    pub(crate) estate: Estate,
    /// The labels that look like kubeaudit overrides, read once per object: most objects
    /// have none, and the checks ask for them on every container.
    pub(crate) override_candidates: Vec<Entry<'d>>,
    /// The workload as postponed decisions see it, read once per object
    /// (see [`crate::inventory::subject`]).
    pub(crate) subject: Option<std::sync::Arc<crate::inventory::Subject>>,
    /// The object's identity, made once and shared by its findings.
    pub(crate) resource: std::cell::OnceCell<std::sync::Arc<ObjectRef>>,
}

/// The labels of an object that may carry kubeaudit overrides.
pub(crate) fn override_candidates<'d>(
    object: &Object<'d>,
    pod: Option<&PodSpec<'d>>,
) -> Vec<Entry<'d>> {
    let labels = match pod {
        Some(pod) => pod.pod_labels(),
        None => object.labels(),
    };
    labels
        .into_iter()
        .filter(|e| e.key.contains("audit"))
        .collect()
}

impl<'c, 'd> Checker<'c, 'd> {
    pub fn doc(&self) -> &'d palisade_yaml::Document<'d> {
        self.object.doc
    }

    /// Starts a finding for the current rule at `node`, whose field path is `path`.
    /// The object's identity, as findings carry it.
    pub fn resource(&self) -> &std::sync::Arc<ObjectRef> {
        self.resource
            .get_or_init(|| std::sync::Arc::new(self.object.object_ref()))
    }

    pub fn report(&mut self, node: NodeId, path: FieldPath) -> ReportBuilder<'_, 'c, 'd> {
        let range = self.doc().range(node);
        let at = self.file.locate(range);
        let finding = Finding {
            code: self.rule.code,
            name: self.rule.name,
            severity: self.rule.severity,
            section: self.rule.section,
            message: String::new(),
            remediation: std::borrow::Cow::Borrowed(""),
            resource: self.resource().clone(),
            container: None,
            file: self.file.shared_path(),
            line: Some(at.line),
            column: Some(at.column),
            end_line: Some(at.end_line),
            end_column: Some(at.end_column),
            range: Some(range),
            path: path.as_str().to_owned(),
            missing: None,
            kubeaudit_code: None,
            pss: None,
            suppressed: None,
            kubectl: None,
            related: Vec::new(),
            fix: None,
            source_line: at.source_line,
        };
        ReportBuilder {
            cx: self,
            finding: Some(finding),
            kubeaudit_override: None,
            record: true,
        }
    }

    /// Decides findings once every object of the input is known (a ServiceAccount in another
    /// file, the NetworkPolicies of a namespace). The candidates are built now, with
    /// [`ReportBuilder::build`], so they keep their locations; `decide` returns those that
    /// stand.
    pub fn defer(
        &mut self,
        candidates: Vec<Finding>,
        decide: impl FnOnce(&Estate, Vec<Finding>) -> Vec<Finding> + Send + Sync + 'static,
    ) {
        self.estate.pending.push(crate::estate::Pending {
            candidates,
            decide: Box::new(decide),
        });
    }

    /// A location in the current object, for findings about other objects to cite.
    pub fn locate(&self, node: NodeId, path: FieldPath) -> RelatedLocation {
        let at = self.file.locate(self.doc().range(node));
        RelatedLocation {
            message: String::new(),
            resource: self.object.object_ref(),
            path: path.as_str().to_owned(),
            file: self.file.path.map(str::to_owned),
            line: Some(at.line),
            column: Some(at.column),
        }
    }

    /// Whether the object is a fragment: it comes from a kustomize patch file, and is merged
    /// into a base's object before it is applied (see [`crate::FileRole`]).
    pub fn is_fragment(&self) -> bool {
        self.file.fragment
    }

    /// The facts this object contributes to the estate, for rules that judge across objects.
    pub fn estate_mut(&mut self) -> &mut Estate {
        &mut self.estate
    }

    /// The labels kubeaudit overrides are read from: the pod template's for workloads, the
    /// object's own otherwise.
    pub fn override_labels(&self) -> Vec<Entry<'d>> {
        match self.pod {
            Some(pod) => pod.pod_labels(),
            None => self.object.labels(),
        }
    }

    /// Finds the label carrying a kubeaudit override, in kubeaudit's order of precedence.
    pub fn find_override(&self, o: &KubeauditOverride) -> Option<Entry<'d>> {
        if self.override_candidates.is_empty() {
            return None;
        }
        let labels = &self.override_candidates;
        o.label_keys()
            .into_iter()
            .find_map(|key| labels.iter().rev().find(|e| e.key == key).copied())
    }

    /// Records that a check passed where an override could have applied: a label for it is
    /// then redundant and reported as such (kubeaudit's `RedundantAuditorOverride`).
    pub fn override_checked(&mut self, o: &KubeauditOverride) {
        if let Some(finding) = self.redundant_override(o) {
            self.findings.push(finding);
        }
    }

    /// The finding for an override label that overrides nothing, if the label is present.
    pub fn redundant_override(&mut self, o: &KubeauditOverride) -> Option<Finding> {
        let entry = self.find_override(o)?;
        let meta = &crate::rules::misc::redundant_override::RedundantOverride::META;
        let path = self.override_labels_path().key(entry.key);
        let rule = std::mem::replace(&mut self.rule, meta);
        let what = match &o.scope {
            OverrideScope::Container(c) => format!("`{}` for container `{c}`", o.id),
            OverrideScope::Pod => format!("`{}`", o.id),
        };
        let finding = self
            .report(entry.key_node, path)
            .message(format!(
                "override label `{}` allows {what}, but there is nothing to allow: the check \
                 passes without it",
                entry.key
            ))
            .remediation(format!("remove the label `{}`", entry.key))
            .kubeaudit("RedundantAuditorOverride")
            .build();
        self.rule = rule;
        Some(finding)
    }

    fn override_labels_path(&self) -> FieldPath {
        match self.pod {
            Some(pod) => pod.metadata_path.key("labels"),
            None => self.object.path(&["metadata", "labels"]),
        }
    }
}

/// A finding under construction; it is recorded when dropped.
pub struct ReportBuilder<'r, 'c, 'd> {
    cx: &'r mut Checker<'c, 'd>,
    finding: Option<Finding>,
    kubeaudit_override: Option<KubeauditOverride>,
    record: bool,
}

impl ReportBuilder<'_, '_, '_> {
    fn f(&mut self) -> &mut Finding {
        self.finding
            .as_mut()
            .expect("finding is present until drop")
    }

    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.f().message = message.into();
        self
    }

    pub fn remediation(mut self, remediation: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        self.f().remediation = remediation.into();
        self
    }

    pub fn container(mut self, container: &Container<'_>) -> Self {
        self.f().container = Some(container.to_ref());
        self
    }

    /// The finding is about a field that does not exist; `missing` is its path below `path`.
    pub fn missing(mut self, missing: impl Into<String>) -> Self {
        let missing: String = missing.into();
        self.f().missing = (!missing.is_empty()).then_some(missing);
        self
    }

    /// The kubeaudit result code this finding corresponds to.
    pub fn kubeaudit(mut self, code: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        self.f().kubeaudit_code = Some(code.into());
        self
    }

    pub fn pss(mut self, level: PssLevel, control: &'static str) -> Self {
        self.f().pss = Some(PssRef { level, control });
        self
    }

    /// Reports below the rule's default severity (never above it).
    pub fn severity(mut self, severity: Severity) -> Self {
        let default = self.cx.rule.severity;
        self.f().severity = severity.min(default);
        self
    }

    /// The kubeaudit override label that may suppress this finding.
    pub fn kubeaudit_override(mut self, o: KubeauditOverride) -> Self {
        self.kubeaudit_override = Some(o);
        self
    }

    /// Masks the reported value in the source excerpt (for secrets: reports end up in CI logs).
    pub fn redact_source(mut self) -> Self {
        let f = self.f();
        if let (Some(line), Some(col), Some(end)) = (&f.source_line, f.column, f.end_column) {
            if f.end_line == f.line {
                let (start, end) = (col as usize - 1, end as usize - 1);
                let masked: String = line
                    .chars()
                    .enumerate()
                    .map(|(i, ch)| if i >= start && i < end { '*' } else { ch })
                    .collect();
                f.source_line = Some(masked);
            } else {
                f.source_line = None;
            }
        }
        self
    }

    /// Returns the finding instead of recording it, for [`Checker::defer`].
    pub fn build(mut self) -> Finding {
        self.record = false;
        let mut finding = self.finding.take().expect("finding is present until drop");
        self.apply_override(&mut finding);
        finding
    }

    fn apply_override(&mut self, finding: &mut Finding) {
        let Some(o) = self.kubeaudit_override.take() else {
            return;
        };
        let Some(entry) = self.cx.find_override(&o) else {
            return;
        };
        let reason = entry
            .value
            .filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("true"))
            .map(str::to_owned);
        finding.suppressed = Some(Suppression {
            by: entry.key.to_owned(),
            reason,
        });
        if let Some(code) = &mut finding.kubeaudit_code {
            code.to_mut().push_str("Allowed");
        }
    }

    /// How to fix the finding. Routes are from the document's root, as field paths are.
    pub fn fix(mut self, mut fix: palisade_diagnostics::Fix) -> Self {
        fix.base = palisade_diagnostics::Route::parse(self.cx.object.base.as_str())
            .expect("object bases are well-formed field paths");
        self.f().fix = Some(Box::new(fix));
        self
    }

    /// [`Self::fix`] when there is one.
    pub fn fix_opt(self, fix: Option<palisade_diagnostics::Fix>) -> Self {
        match fix {
            Some(fix) => self.fix(fix),
            None => self,
        }
    }

    pub fn related(mut self, message: impl Into<String>, node: NodeId, path: FieldPath) -> Self {
        let range = self.cx.doc().range(node);
        let at = self.cx.file.locate(range);
        let related = RelatedLocation {
            message: message.into(),
            resource: self.cx.object.object_ref(),
            path: path.as_str().to_owned(),
            file: self.cx.file.path.map(str::to_owned),
            line: Some(at.line),
            column: Some(at.column),
        };
        self.f().related.push(related);
        self
    }
}

impl Drop for ReportBuilder<'_, '_, '_> {
    fn drop(&mut self) {
        let Some(mut finding) = self.finding.take() else {
            return;
        };
        if self.record {
            self.apply_override(&mut finding);
            self.cx.findings.push(finding);
        }
    }
}
