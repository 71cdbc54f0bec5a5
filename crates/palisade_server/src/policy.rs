//! The decisions: the scan engine's findings on the object under review, judged against the
//! threshold, the exceptions and the namespace's mode; and the fixes lowered to a JSON Patch.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use palisade_config::{Config, ExceptionFilter, Exceptions, Failure, Mode, ServeConfig};
use palisade_diagnostics::{Applicability, Finding, Severity};
use palisade_rules::{Engine, Selection, Settings, SourceFile};
use palisade_yaml::{parse_chunk, split_documents};
use serde_json::Value;

use crate::review::{Request, Response};

/// Kubernetes truncates each admission warning to this many characters.
pub const WARNING_CHARS: usize = 256;
/// Kubernetes keeps at most this many bytes of warnings per response.
pub const WARNINGS_BYTES: usize = 4096;
/// The denial message stops listing findings past this many bytes.
pub const MESSAGE_BYTES: usize = 3072;
/// Mutation re-checks the object after each round of fixes, at most this many times.
const MUTATE_ROUNDS: usize = 4;

/// Which webhook a request came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Validate,
    Mutate,
}

impl Endpoint {
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Validate => "validate",
            Endpoint::Mutate => "mutate",
        }
    }
}

/// What happened to a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Allowed: nothing reached the threshold (or the namespace only warns).
    Allowed,
    /// Denied: a finding reached the threshold in an enforced namespace.
    Denied,
    /// A dry-run namespace: it would have been denied; it was allowed.
    WouldDeny,
    /// Not reviewed: a DELETE, a status update, an object being deleted.
    Skipped,
    /// The request could not be reviewed; answered by the `failure` setting.
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
            Outcome::WouldDeny => "would-deny",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
        }
    }
}

/// A decision and what it was based on (for the log and the metrics).
#[derive(Debug)]
pub struct Decision {
    pub response: Response,
    pub outcome: Outcome,
    pub mode: Mode,
    /// The findings that count (not suppressed, at or above `min-severity`).
    pub findings: Vec<Finding>,
    /// How many of them reach the threshold.
    pub blocking: usize,
    /// Findings suppressed by annotations, comments or exceptions.
    pub suppressed: usize,
    /// Fixes applied by the mutating webhook, by rule code and title.
    pub fixes: Vec<(&'static str, String)>,
    /// Fixes not applied because they would change a field the request sets.
    pub kept: usize,
    /// Why the request was skipped or failed.
    pub note: Option<String>,
}

impl Decision {
    fn new(response: Response, outcome: Outcome, mode: Mode) -> Self {
        Self {
            response,
            outcome,
            mode,
            findings: Vec::new(),
            blocking: 0,
            suppressed: 0,
            fixes: Vec::new(),
            kept: 0,
            note: None,
        }
    }
}

/// The admission policy: the engine configured as `palisade scan` would be, plus the
/// `serve:` section.
pub struct Policy {
    engine: Engine,
    serve: ServeConfig,
    threshold: Severity,
    min_severity: Severity,
    severity: HashMap<&'static str, Severity>,
}

impl Policy {
    /// Builds the policy from a loaded config (or the defaults).
    pub fn new(config: Option<Config>) -> Result<Policy, String> {
        let Some(mut config) = config else {
            return Self::build(
                Selection::default(),
                Settings::default(),
                None,
                ServeConfig::default(),
                HashMap::new(),
                Severity::High,
                Severity::Info,
            );
        };
        let exceptions = (!config.exceptions.is_empty()).then(|| {
            let today = config.exceptions.today;
            Arc::new(std::mem::replace(
                &mut config.exceptions,
                Exceptions::new(Vec::new(), today),
            ))
        });
        let threshold = config
            .serve
            .threshold
            .or(config.fail_on)
            .unwrap_or(Severity::High);
        Self::build(
            config.selection,
            config.settings,
            exceptions,
            config.serve,
            config.severity.into_iter().collect(),
            threshold,
            config.min_severity.unwrap_or(Severity::Info),
        )
    }

    fn build(
        selection: Selection,
        settings: Settings,
        exceptions: Option<Arc<Exceptions>>,
        serve: ServeConfig,
        severity: HashMap<&'static str, Severity>,
        threshold: Severity,
        min_severity: Severity,
    ) -> Result<Policy, String> {
        let rules = selection.resolve().map_err(|e| e.to_string())?;
        if rules.is_empty() {
            return Err("the selection leaves no rule to run".to_owned());
        }
        let mut engine = Engine::new(rules, settings);
        if let Some(ex) = exceptions {
            engine = engine.with_filter(Box::new(ExceptionFilter(ex)));
        }
        Ok(Policy {
            engine,
            serve,
            threshold,
            min_severity,
            severity,
        })
    }

    pub fn threshold(&self) -> Severity {
        self.threshold
    }

    pub fn rules(&self) -> usize {
        self.engine.rules().len()
    }

    pub fn serve(&self) -> &ServeConfig {
        &self.serve
    }

    /// The answer to a request that cannot be reviewed, by the `failure` setting.
    pub fn failure(&self, why: &str) -> Response {
        match self.serve.failure {
            Failure::Allow => {
                let mut r = Response::allow();
                r.warnings.push(clip(
                    &format!("palisade could not review this request ({why}); allowed by its failure setting"),
                    WARNING_CHARS,
                ));
                r
            }
            Failure::Deny => Response::deny(
                400,
                format!("palisade could not review this request: {why}"),
            ),
        }
    }

    /// Reviews one request.
    pub fn review(&self, endpoint: Endpoint, req: &Request) -> Decision {
        let mode = self.serve.mode_for(req.namespace.as_deref());
        if let Some(why) = skip_reason(endpoint, req) {
            let mut d = Decision::new(Response::allow(), Outcome::Skipped, mode);
            d.note = Some(why);
            return d;
        }
        let Some(object) = prepared(req) else {
            let mut d = Decision::new(Response::allow(), Outcome::Skipped, mode);
            d.note = Some("no object".to_owned());
            return d;
        };
        match endpoint {
            Endpoint::Validate => {
                let old = if req.operation == "UPDATE" {
                    prepared_old(req)
                } else {
                    None
                };
                self.validate(object, old, mode)
            }
            Endpoint::Mutate => self.mutate(object, mode),
        }
    }

    fn failed(&self, why: String, mode: Mode) -> Decision {
        let mut d = Decision::new(self.failure(&why), Outcome::Failed, mode);
        d.note = Some(why);
        d
    }

    /// Runs the rules on one object (as JSON text); the findings that are not suppressed.
    fn check(&self, text: &str) -> Result<(Vec<Finding>, usize), String> {
        let mut report = self.engine.check_file(SourceFile { path: None, text });
        if let Some(e) = report.errors.first() {
            return Err(format!(
                "the object does not parse ({}:{}: {})",
                e.line, e.column, e.message
            ));
        }
        if report.stats.objects == 0 {
            return Err("the object has no `apiVersion` and `kind`".to_owned());
        }
        // Decisions the engine postpones until the whole input is read (a namespace's
        // NetworkPolicies, its ServiceAccount `default`) are not made: the cluster's other
        // objects are not in the request, and guessing them would report what may be fine.
        let mut findings = std::mem::take(&mut report.findings);
        let mut suppressed = 0;
        findings.retain_mut(|f| {
            if let Some(&sev) = self.severity.get(f.code) {
                f.severity = sev;
            }
            if f.suppressed.is_some() {
                suppressed += 1;
                return false;
            }
            true
        });
        Ok((findings, suppressed))
    }

    /// The (rule, field path) pairs of the findings the object had before an update.
    fn existing(&self, old: Option<Value>) -> HashSet<(&'static str, String)> {
        let Some(old) = old else {
            return HashSet::new();
        };
        match self.check(&old.to_string()) {
            Ok((findings, _)) => findings.iter().map(|f| (f.code, field_path(f))).collect(),
            // An old object that cannot be read grants nothing.
            Err(_) => HashSet::new(),
        }
    }

    fn validate(&self, object: Value, old: Option<Value>, mode: Mode) -> Decision {
        let text = object.to_string();
        let (mut findings, suppressed) = match self.check(&text) {
            Ok(r) => r,
            Err(why) => return self.failed(why, mode),
        };
        findings.retain(|f| f.severity >= self.min_severity);
        // On an update, what the object already had does not block: only what the update
        // introduces does, so labelling, scaling or adopting an existing object (controllers
        // do it all the time) is not refused for findings it did not bring. Those findings
        // are returned as warnings.
        let existing = self.existing(old);
        let blocks = |f: &Finding| {
            f.severity >= self.threshold && !existing.contains(&(f.code, field_path(f)))
        };
        findings.sort_by(|a, b| {
            blocks(b)
                .cmp(&blocks(a))
                .then(b.severity.cmp(&a.severity))
                .then(a.code.cmp(b.code))
        });
        let blocking = findings.iter().filter(|f| blocks(f)).count();
        let resource = findings
            .first()
            .map(|f| f.resource.to_string())
            .unwrap_or_default();
        let (response, outcome) = match mode {
            Mode::Enforce if blocking > 0 => {
                let mut r = Response::deny(
                    403,
                    deny_message(&resource, self.threshold, &findings[..blocking]),
                );
                r.warnings = warnings(&findings[blocking..], &existing);
                (r, Outcome::Denied)
            }
            Mode::Enforce | Mode::Warn => {
                let mut r = Response::allow();
                r.warnings = warnings(&findings, &existing);
                (r, Outcome::Allowed)
            }
            Mode::DryRun => (
                Response::allow(),
                if blocking > 0 {
                    Outcome::WouldDeny
                } else {
                    Outcome::Allowed
                },
            ),
        };
        let mut d = Decision::new(response, outcome, mode);
        d.findings = findings;
        d.blocking = blocking;
        d.suppressed = suppressed;
        d
    }

    /// Whether the mutating webhook may apply a fix of this kind.
    fn allows(&self, applicability: Applicability) -> bool {
        match applicability {
            Applicability::Safe => true,
            Applicability::Unsafe => self.serve.unsafe_fixes,
            Applicability::DisplayOnly => false,
        }
    }

    fn mutate(&self, original: Value, mode: Mode) -> Decision {
        let mut working = original.clone();
        let mut fixes: Vec<(&'static str, String)> = Vec::new();
        let mut kept = 0;
        let mut first_suppressed = None;
        for round in 0..MUTATE_ROUNDS {
            let text = working.to_string();
            let (findings, suppressed) = match self.check(&text) {
                Ok(r) => r,
                Err(why) if round == 0 => return self.failed(why, mode),
                // A fix made the object unreadable: keep what the earlier rounds did.
                Err(_) => break,
            };
            first_suppressed.get_or_insert(suppressed);
            let chunks = split_documents(&text);
            let Some(&chunk) = chunks.first() else { break };
            let parsed = parse_chunk(&text, chunk, false);
            let Some(doc) = parsed.documents.first() else {
                break;
            };
            let before = working.clone();
            kept = 0;
            for f in &findings {
                let Some(fix) = &f.fix else { continue };
                if !self.allows(fix.applicability) {
                    continue;
                }
                let Ok(ops) = palisade_fix::json_patch(doc, fix) else {
                    continue;
                };
                if ops.is_empty() {
                    continue;
                }
                let mut overwrites = false;
                let mut forbidden = false;
                for op in &ops {
                    let path = op["path"].as_str().unwrap_or_default();
                    forbidden |= is_identity(path);
                    overwrites |= !additive(&original, op);
                }
                if forbidden {
                    continue;
                }
                if overwrites && !self.serve.overwrite {
                    kept += 1;
                    continue;
                }
                let mut next = working.clone();
                if ops.iter().all(|op| apply_op(&mut next, op)) {
                    working = next;
                    if !fixes.iter().any(|(c, t)| *c == f.code && *t == fix.title) {
                        fixes.push((f.code, fix.title.to_string()));
                    }
                }
            }
            if working == before {
                break;
            }
        }
        let patch = match json_patch::diff(&original, &working) {
            p if p.0.is_empty() => None,
            p => serde_json::to_value(&p).ok().and_then(|v| match v {
                Value::Array(ops) => Some(ops),
                _ => None,
            }),
        };
        let mut response = Response::allow();
        let outcome = Outcome::Allowed;
        if mode == Mode::DryRun {
            // Logged, not applied.
        } else if let Some(ops) = patch {
            response.patch = Some(ops);
            if !fixes.is_empty() {
                let titles: Vec<String> = fixes
                    .iter()
                    .map(|(code, title)| format!("{code} {title}"))
                    .collect();
                response.warnings = fit_warnings(
                    titles
                        .iter()
                        .map(|t| format!("palisade hardened the object: {t}")),
                );
            }
        }
        let mut d = Decision::new(response, outcome, mode);
        d.fixes = fixes;
        d.kept = kept;
        d.suppressed = first_suppressed.unwrap_or(0);
        d
    }
}

/// Why a request is let through without review, if it is.
fn skip_reason(endpoint: Endpoint, req: &Request) -> Option<String> {
    if !matches!(req.operation.as_str(), "CREATE" | "UPDATE") {
        return Some(format!("{} requests are not reviewed", req.operation));
    }
    if let Some(sub) = &req.sub_resource {
        // Ephemeral containers are added through their own subresource: they are reviewed
        // (but not mutated: that subresource only accepts changes to them).
        if sub != "ephemeralcontainers" || endpoint == Endpoint::Mutate {
            return Some(format!("the `{sub}` subresource is not reviewed"));
        }
    }
    if req.operation == "UPDATE"
        && req
            .object
            .as_ref()
            .and_then(|o| o.pointer("/metadata/deletionTimestamp"))
            .is_some_and(|t| !t.is_null())
    {
        return Some("the object is being deleted".to_owned());
    }
    None
}

/// The object as the rules should see it: with the request's namespace when the object
/// leaves it out (objects created with `kubectl create -n NS` usually do).
fn prepared(req: &Request) -> Option<Value> {
    with_namespace(req.object.clone()?, req)
}

/// The old object of an update, prepared the same way.
fn prepared_old(req: &Request) -> Option<Value> {
    with_namespace(req.old_object.clone()?, req)
}

fn with_namespace(mut object: Value, req: &Request) -> Option<Value> {
    if let (Some(ns), Some(map)) = (&req.namespace, object.as_object_mut()) {
        let meta = map
            .entry("metadata")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Some(meta) = meta.as_object_mut() {
            let missing = meta
                .get("namespace")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty);
            if missing {
                meta.insert("namespace".into(), Value::String(ns.clone()));
            }
        }
    }
    Some(object)
}

/// The full field path of a finding: its path, plus the missing part.
pub fn field_path(f: &Finding) -> String {
    match &f.missing {
        Some(m) if f.path.is_empty() => m.clone(),
        Some(m) => format!("{}.{m}", f.path),
        None => f.path.clone(),
    }
}

/// Cuts `s` to at most `max` characters, ending with `…` when cut.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn describe(f: &Finding) -> String {
    let path = field_path(f);
    let at = if path.is_empty() {
        String::new()
    } else {
        format!(" {path}")
    };
    format!("{} {}{at}: {}", f.code, f.severity, f.message)
}

/// The denial message: which findings reach the threshold, with their field paths and
/// remediations, within [`MESSAGE_BYTES`].
fn deny_message(resource: &str, threshold: Severity, blocking: &[Finding]) -> String {
    let n = blocking.len();
    let mut out = format!(
        "palisade: {resource} has {n} finding{} at or above {threshold}:",
        if n == 1 { "" } else { "s" }
    );
    for (i, f) in blocking.iter().enumerate() {
        let line = format!("\n- {} (fix: {})", describe(f), f.remediation);
        if out.len() + line.len() > MESSAGE_BYTES {
            out.push_str(&format!(
                "\n- … and {} more (`palisade scan` lists them all)",
                n - i
            ));
            break;
        }
        out.push_str(&line);
    }
    out
}

/// Warnings for findings, each within [`WARNING_CHARS`], together within [`WARNINGS_BYTES`].
/// Findings the object had before an update say so.
fn warnings(findings: &[Finding], existing: &HashSet<(&'static str, String)>) -> Vec<String> {
    fit_warnings(findings.iter().map(|f| {
        if existing.contains(&(f.code, field_path(f))) {
            format!(
                "palisade (already there before this update) {}",
                describe(f)
            )
        } else {
            format!("palisade {}", describe(f))
        }
    }))
}

fn fit_warnings(items: impl ExactSizeIterator<Item = String>) -> Vec<String> {
    let total = items.len();
    let mut out: Vec<String> = Vec::new();
    let mut bytes = 0;
    for (i, w) in items.enumerate() {
        let w = clip(&w, WARNING_CHARS);
        // Room is kept for the closing "N more" line.
        if bytes + w.len() > WARNINGS_BYTES - 64 {
            out.push(format!(
                "palisade: {} more not shown (`palisade scan` lists them all)",
                total - i
            ));
            break;
        }
        bytes += w.len();
        out.push(w);
    }
    out
}

/// The parts of a JSON pointer, unescaped.
fn pointer_tokens(path: &str) -> Option<Vec<String>> {
    if path.is_empty() {
        return Some(Vec::new());
    }
    let rest = path.strip_prefix('/')?;
    Some(
        rest.split('/')
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect(),
    )
}

fn child<'v>(v: &'v Value, token: &str) -> Option<&'v Value> {
    match v {
        Value::Object(m) => m.get(token),
        Value::Array(a) => token.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    }
}

fn lookup<'v>(root: &'v Value, tokens: &[String]) -> Option<&'v Value> {
    tokens.iter().try_fold(root, |v, t| child(v, t))
}

/// Patches never touch what identifies the object.
fn is_identity(path: &str) -> bool {
    matches!(
        path,
        "" | "/apiVersion" | "/kind" | "/metadata" | "/metadata/name" | "/metadata/namespace"
    )
}

/// Whether a patch operation only fills in what the request leaves out (a missing or null
/// field, or an item appended to a list the request does not have).
fn additive(original: &Value, op: &Value) -> bool {
    let Some(tokens) = op["path"].as_str().and_then(pointer_tokens) else {
        return false;
    };
    match op["op"].as_str() {
        Some("add") | Some("replace") => {
            if tokens.last().is_some_and(|t| t == "-") {
                lookup(original, &tokens[..tokens.len() - 1]).is_none_or(Value::is_null)
            } else {
                lookup(original, &tokens).is_none_or(Value::is_null)
            }
        }
        _ => false,
    }
}

/// Fills in `value` at `slot`: a missing or null slot takes it; mappings are merged key by
/// key; anything already there stays.
fn merge_in(slot: &mut Value, value: &Value) {
    match (slot, value) {
        (s @ Value::Null, v) => *s = v.clone(),
        (Value::Object(have), Value::Object(add)) => {
            for (k, v) in add {
                merge_in(have.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        _ => {}
    }
}

/// Applies one JSON Patch operation to the working object. Additions merge into what the
/// earlier fixes of the same round created. Returns false when the path does not exist.
fn apply_op(root: &mut Value, op: &Value) -> bool {
    let Some(tokens) = op["path"].as_str().and_then(pointer_tokens) else {
        return false;
    };
    let Some((last, parents)) = tokens.split_last() else {
        return false;
    };
    let mut parent = &mut *root;
    for t in parents {
        parent = match parent {
            Value::Object(m) => match m.get_mut(t.as_str()) {
                Some(v) => v,
                None => return false,
            },
            Value::Array(a) => match t.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
    }
    let value = &op["value"];
    match (op["op"].as_str(), parent) {
        (Some("add" | "replace"), Value::Object(m)) => {
            let slot = m.entry(last.clone()).or_insert(Value::Null);
            if op["op"] == "replace" && !slot.is_null() {
                *slot = value.clone();
            } else {
                merge_in(slot, value);
            }
            true
        }
        (Some("add"), Value::Array(a)) if last == "-" => {
            if !a.contains(value) {
                a.push(value.clone());
            }
            true
        }
        (Some("add"), Value::Array(a)) => match last.parse::<usize>() {
            Ok(i) if i <= a.len() => {
                a.insert(i, value.clone());
                true
            }
            _ => false,
        },
        (Some("replace"), Value::Array(a)) => {
            match last.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                Some(slot) => {
                    *slot = value.clone();
                    true
                }
                None => false,
            }
        }
        (Some("remove"), Value::Object(m)) => {
            m.remove(last.as_str());
            true
        }
        (Some("remove"), Value::Array(a)) => match last.parse::<usize>() {
            Ok(i) if i < a.len() => {
                a.remove(i);
                true
            }
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::{Gvk, UserInfo};
    use serde_json::json;

    fn request(namespace: &str, operation: &str, object: Value) -> Request {
        Request {
            api_version: crate::review::VERSIONS[0],
            uid: "u".into(),
            kind: Gvk {
                group: "apps".into(),
                version: "v1".into(),
                kind: "Deployment".into(),
            },
            resource: Some("deployments".into()),
            sub_resource: None,
            name: Some("web".into()),
            namespace: Some(namespace.into()),
            operation: operation.into(),
            user: UserInfo::default(),
            object: Some(object),
            old_object: None,
            dry_run: false,
        }
    }

    fn deployment(security_context: Value) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{
                    "name": "web", "image": "nginx:1.27",
                    "securityContext": security_context,
                }]}
            }}
        })
    }

    fn privileged() -> Value {
        deployment(json!({"privileged": true}))
    }

    fn policy(config: &str) -> Policy {
        let c = palisade_config::parse(config, "c.yaml", std::path::Path::new("/")).unwrap();
        Policy::new(Some(c)).unwrap()
    }

    #[test]
    fn enforce_denies_with_code_path_and_remediation() {
        let p = Policy::new(None).unwrap();
        let d = p.review(Endpoint::Validate, &request("shop", "CREATE", privileged()));
        assert_eq!(d.outcome, Outcome::Denied);
        assert!(!d.response.allowed);
        let (code, message) = d.response.status.clone().unwrap();
        assert_eq!(code, 403);
        assert!(
            message.starts_with("palisade: Deployment shop/web has "),
            "{message}"
        );
        assert!(
            message.contains(
                "- WKL001 critical spec.template.spec.containers[0].securityContext.privileged: "
            ),
            "{message}"
        );
        assert!(
            message.contains("(fix: set `securityContext.privileged: false`"),
            "{message}"
        );
        assert!(message.len() <= MESSAGE_BYTES + 100);
        // Findings below the threshold are warnings.
        assert!(d.blocking > 0 && d.findings.len() > d.blocking);
        assert_eq!(d.response.warnings.len(), d.findings.len() - d.blocking);
        assert!(
            d.response
                .warnings
                .iter()
                .all(|w| w.starts_with("palisade "))
        );
        assert!(
            d.response
                .warnings
                .iter()
                .all(|w| w.chars().count() <= WARNING_CHARS)
        );
    }

    #[test]
    fn warn_and_dry_run_namespaces_never_deny() {
        let p = policy("serve:\n  namespaces:\n    legacy: warn\n    lab-*: dry-run\n");
        let d = p.review(
            Endpoint::Validate,
            &request("legacy", "CREATE", privileged()),
        );
        assert_eq!(d.outcome, Outcome::Allowed);
        assert!(d.response.allowed);
        assert!(
            d.response
                .warnings
                .iter()
                .any(|w| w.starts_with("palisade WKL001 critical spec.template")),
            "{:?}",
            d.response.warnings
        );
        let d = p.review(
            Endpoint::Validate,
            &request("lab-1", "CREATE", privileged()),
        );
        assert_eq!(d.outcome, Outcome::WouldDeny);
        assert!(d.response.allowed && d.response.warnings.is_empty());
        assert!(d.blocking > 0);
    }

    #[test]
    fn threshold_and_exceptions_come_from_the_config() {
        let hardened = deployment(json!({
            "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
            "runAsNonRoot": true, "runAsUser": 10001,
            "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}
        }));
        let p = Policy::new(None).unwrap();
        let d = p.review(
            Endpoint::Validate,
            &request("shop", "CREATE", hardened.clone()),
        );
        assert_eq!(d.outcome, Outcome::Allowed, "{:?}", d.findings);
        assert_eq!(d.blocking, 0);
        // fail-on is the fallback threshold; serve.threshold wins over it.
        let p = policy("fail-on: info\n");
        assert_eq!(p.threshold(), Severity::Info);
        let p = policy("fail-on: info\nserve:\n  threshold: critical\n");
        assert_eq!(p.threshold(), Severity::Critical);
        let p = policy(
            "exceptions:\n  - rule: WKL001\n    namespace: shop\n    reason: test\nserve:\n  threshold: critical\n",
        );
        let d = p.review(Endpoint::Validate, &request("shop", "CREATE", privileged()));
        assert!(d.suppressed >= 1);
        assert!(d.findings.iter().all(|f| f.code != "WKL001"));
        assert_eq!(d.outcome, Outcome::Allowed, "{:?}", d.response.status);
        let d = p.review(
            Endpoint::Validate,
            &request("other", "CREATE", privileged()),
        );
        assert_eq!(d.outcome, Outcome::Denied);
    }

    #[test]
    fn updates_are_denied_only_for_what_they_introduce() {
        let p = Policy::new(None).unwrap();
        // Labelling an object that was already privileged: allowed, with the finding as a
        // warning that says it was there before.
        let mut labelled = privileged();
        labelled["metadata"]["labels"] = json!({"team": "a"});
        let mut r = request("shop", "UPDATE", labelled);
        r.old_object = Some(privileged());
        let d = p.review(Endpoint::Validate, &r);
        assert_eq!(d.outcome, Outcome::Allowed, "{:?}", d.response.status);
        assert_eq!(d.blocking, 0);
        assert!(
            d.response
                .warnings
                .iter()
                .any(|w| w
                    .starts_with("palisade (already there before this update) WKL001 critical")),
            "{:?}",
            d.response.warnings
        );
        // An update that makes it privileged: denied.
        let mut r = request("shop", "UPDATE", privileged());
        r.old_object = Some(deployment(json!({})));
        let d = p.review(Endpoint::Validate, &r);
        assert_eq!(d.outcome, Outcome::Denied);
        assert!(d.findings[..d.blocking].iter().any(|f| f.code == "WKL001"));
        // A second privileged container is a new finding (another path): denied.
        let mut two = privileged();
        two["spec"]["template"]["spec"]["containers"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "b", "image": "nginx:1.27", "securityContext": {"privileged": true}}));
        let mut r = request("shop", "UPDATE", two);
        r.old_object = Some(privileged());
        let d = p.review(Endpoint::Validate, &r);
        assert_eq!(d.outcome, Outcome::Denied);
        let (_, message) = d.response.status.unwrap();
        assert!(
            message.contains("containers[1].securityContext.privileged"),
            "{message}"
        );
        assert!(
            !message.contains("containers[0].securityContext.privileged"),
            "{message}"
        );
    }

    #[test]
    fn deletes_status_updates_and_terminating_objects_are_not_reviewed() {
        let p = Policy::new(None).unwrap();
        let mut r = request("shop", "DELETE", privileged());
        r.object = None;
        assert_eq!(p.review(Endpoint::Validate, &r).outcome, Outcome::Skipped);
        let mut r = request("shop", "UPDATE", privileged());
        r.sub_resource = Some("status".into());
        assert_eq!(p.review(Endpoint::Validate, &r).outcome, Outcome::Skipped);
        r.sub_resource = Some("ephemeralcontainers".into());
        assert_eq!(p.review(Endpoint::Validate, &r).outcome, Outcome::Denied);
        let mut o = privileged();
        o["metadata"]["deletionTimestamp"] = json!("2026-11-28T10:00:00Z");
        let r = request("shop", "UPDATE", o);
        assert_eq!(p.review(Endpoint::Validate, &r).outcome, Outcome::Skipped);
    }

    #[test]
    fn objects_that_cannot_be_reviewed_follow_the_failure_setting() {
        let object = json!({"metadata": {"name": "x"}});
        let p = Policy::new(None).unwrap();
        let d = p.review(
            Endpoint::Validate,
            &request("shop", "CREATE", object.clone()),
        );
        assert_eq!(d.outcome, Outcome::Failed);
        assert!(!d.response.allowed);
        assert!(d.response.status.unwrap().1.contains("no `apiVersion`"));
        let p = policy("serve:\n  failure: allow\n");
        let d = p.review(Endpoint::Validate, &request("shop", "CREATE", object));
        assert_eq!(d.outcome, Outcome::Failed);
        assert!(d.response.allowed);
        assert!(d.response.warnings[0].contains("failure setting"));
    }

    fn patched(p: &Policy, object: Value) -> (Value, Decision) {
        let d = p.review(Endpoint::Mutate, &request("shop", "CREATE", object.clone()));
        let mut out = prepared(&request("shop", "CREATE", object)).unwrap();
        if let Some(ops) = &d.response.patch {
            let patch: json_patch::Patch =
                serde_json::from_value(Value::Array(ops.clone())).unwrap();
            json_patch::patch(&mut out, &patch).unwrap();
        }
        (out, d)
    }

    #[test]
    fn mutate_fills_in_hardening_and_keeps_what_the_user_set() {
        let p = policy("serve:\n  unsafe-fixes: true\n");
        let (out, d) = patched(&p, deployment(json!({"runAsNonRoot": false})));
        assert!(d.response.allowed && d.response.patch.is_some(), "{d:?}");
        let sc = &out["spec"]["template"]["spec"]["containers"][0]["securityContext"];
        assert_eq!(sc["allowPrivilegeEscalation"], json!(false), "{sc}");
        assert_eq!(sc["readOnlyRootFilesystem"], json!(true), "{sc}");
        assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]), "{sc}");
        // Set by the user: kept.
        assert_eq!(sc["runAsNonRoot"], json!(false));
        assert!(d.kept >= 1, "{d:?}");
        let (out, d) = patched(&p, deployment(json!({"privileged": true})));
        let sc = &out["spec"]["template"]["spec"]["containers"][0]["securityContext"];
        assert_eq!(sc["privileged"], json!(true), "{sc}");
        assert!(d.kept >= 1, "{d:?}");
        assert_eq!(out["metadata"]["name"], "web");
        assert!(
            d.fixes
                .iter()
                .any(|(c, _)| *c == "WKL002" || *c == "WKL005"),
            "{:?}",
            d.fixes
        );

        // With overwrite, user-set fields change too.
        let p = policy("serve:\n  unsafe-fixes: true\n  overwrite: true\n");
        let (out, _) = patched(&p, deployment(json!({"privileged": true})));
        let sc = &out["spec"]["template"]["spec"]["containers"][0]["securityContext"];
        assert_eq!(sc["privileged"], json!(false), "{sc}");

        // Without unsafe fixes, nothing that may change how it runs is added.
        let p = Policy::new(None).unwrap();
        let (out, _) = patched(&p, deployment(json!({})));
        let sc = &out["spec"]["template"]["spec"]["containers"][0]["securityContext"];
        assert!(sc.get("runAsNonRoot").is_none(), "{sc}");
        assert!(sc.get("readOnlyRootFilesystem").is_none(), "{sc}");
    }

    #[test]
    fn mutate_in_dry_run_namespaces_only_logs() {
        let p = policy("serve:\n  unsafe-fixes: true\n  default-mode: dry-run\n");
        let d = p.review(
            Endpoint::Mutate,
            &request("shop", "CREATE", deployment(json!({}))),
        );
        assert!(d.response.patch.is_none());
        assert!(!d.fixes.is_empty());
    }

    #[test]
    fn additive_means_absent_or_null() {
        let original = json!({"a": {"b": 1, "n": null, "l": [1]}});
        let add = |path: &str| json!({"op": "add", "path": path, "value": 1});
        assert!(additive(&original, &add("/a/c")));
        assert!(additive(&original, &add("/a/n")));
        assert!(!additive(&original, &add("/a/b")));
        assert!(!additive(&original, &add("/a/l/-")));
        assert!(additive(&original, &add("/a/m/-")));
        assert!(!additive(
            &original,
            &json!({"op": "remove", "path": "/a/b"})
        ));
        let mut w = json!({"s": {}});
        assert!(apply_op(
            &mut w,
            &json!({"op": "add", "path": "/s/c", "value": {"x": 1}})
        ));
        assert!(apply_op(
            &mut w,
            &json!({"op": "add", "path": "/s/c", "value": {"y": 2}})
        ));
        assert_eq!(w, json!({"s": {"c": {"x": 1, "y": 2}}}));
        assert!(!apply_op(
            &mut w,
            &json!({"op": "add", "path": "/nope/c", "value": 1})
        ));
    }

    #[test]
    fn messages_stay_within_what_kubernetes_shows() {
        let p = Policy::new(None).unwrap();
        let mut containers = Vec::new();
        for i in 0..40 {
            containers.push(json!({"name": format!("c{i}"), "image": "nginx", "securityContext": {"privileged": true}}));
        }
        let mut o = deployment(json!({}));
        o["spec"]["template"]["spec"]["containers"] = Value::Array(containers);
        let d = p.review(Endpoint::Validate, &request("shop", "CREATE", o));
        let message = d.response.status.unwrap().1;
        assert!(message.len() <= MESSAGE_BYTES + 80, "{}", message.len());
        assert!(message.contains("more (`palisade scan` lists them all)"));
        let bytes: usize = d.response.warnings.iter().map(String::len).sum();
        assert!(bytes <= WARNINGS_BYTES, "{bytes}");
        assert!(
            d.response
                .warnings
                .last()
                .unwrap()
                .contains("more not shown")
        );
    }
}
