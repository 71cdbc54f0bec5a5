//! `palisade cluster`: audits a live cluster through the Kubernetes API.
//!
//! [`inventory::collect`] lists what the rules need (paginated, with bounded concurrency);
//! each live object goes through the same [`Engine`] as `palisade scan` ([`check_live`]), and
//! the estate-wide rules run at the end as for files. The cluster-only rules (versions, API
//! server flags, enforcement probes) come from [`checks`] and [`probes`]. Nothing is written:
//! the only requests besides reads are server-side dry runs and access reviews.

pub mod api;
pub mod checks;
pub mod inventory;
pub mod probes;
pub mod releases;

use std::time::Instant;

use palisade_config::Date;
use palisade_diagnostics::{Finding, ObjectRef, Severity};
use palisade_rules::{Engine, FileReport, RuleMeta, SourceFile};

pub use api::{Api, ApiError, Connect};
pub use inventory::{Inventory, LiveObject, Scope};

/// Something that kept part of the cluster from being audited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `permission` (the credentials lack a right; the message names it) or `api`.
    pub kind: &'static str,
    pub message: String,
}

/// A finding about a live object: no file, no line; the `kubectl` command that shows it.
pub fn live_finding(
    meta: &'static RuleMeta,
    severity: Severity,
    resource: ObjectRef,
    path: &str,
    message: String,
    remediation: String,
    kubectl: String,
) -> Finding {
    Finding {
        code: meta.code,
        name: meta.name,
        severity,
        section: meta.section,
        message,
        remediation: remediation.into(),
        resource: std::sync::Arc::new(resource),
        container: None,
        file: None,
        line: None,
        column: None,
        end_line: None,
        end_column: None,
        range: None,
        path: path.to_owned(),
        missing: None,
        kubeaudit_code: None,
        pss: None,
        suppressed: None,
        kubectl: Some(kubectl),
        related: Vec::new(),
        fix: None,
        source_line: None,
    }
}

/// Runs the engine's rules on one live object (Kubernetes' default RBAC objects only feed the
/// estate-wide rules: their own findings are dropped). Positions in the JSON palisade made are
/// meaningless to the user, so they are dropped; the finding names the object and the kubectl
/// command that shows it instead.
pub fn check_live(engine: &Engine, object: &LiveObject) -> FileReport {
    let mut report = engine.check_file(SourceFile {
        path: None,
        text: &object.text,
    });
    if object.bootstrap {
        report.findings.clear();
        // Their postponed findings too: decided at the end, they would escape the line above.
        report.estate.drop_postponed();
    }
    let kubectl = object.kubectl();
    for f in &mut report.findings {
        relocate(f, kubectl.clone());
    }
    report.stats.files = 0;
    report
}

/// Turns a finding the engine made from palisade's JSON of a live object into one about the
/// live object: no position, no fix; the kubectl command instead.
fn relocate(f: &mut Finding, kubectl: String) {
    f.file = None;
    f.line = None;
    f.column = None;
    f.end_line = None;
    f.end_column = None;
    f.range = None;
    f.source_line = None;
    // Fixes are edits of a manifest; `palisade fix` works on the manifests in git.
    f.fix = None;
    f.kubectl = Some(kubectl);
    for r in &mut f.related {
        r.file = None;
        r.line = None;
        r.column = None;
    }
}

/// The same for the estate-wide rules' findings (made at the end, from all live objects).
pub fn relocate_estate_finding(f: &mut Finding) {
    let r = &f.resource;
    let kind = inventory::KINDS
        .iter()
        .find(|k| k.kind == r.kind && k.api_version() == r.api_version);
    let name = r.name.as_deref().unwrap_or("");
    let kubectl = match kind {
        Some(k) => k.kubectl(r.namespace.as_deref(), name),
        None => match &r.namespace {
            Some(ns) => format!(
                "kubectl get -n {ns} {} {name} -o yaml",
                r.kind.to_ascii_lowercase()
            ),
            None => format!("kubectl get {} {name} -o yaml", r.kind.to_ascii_lowercase()),
        },
    };
    relocate(f, kubectl);
}

/// How to audit.
#[derive(Debug, Clone)]
pub struct Options {
    pub connect: Connect,
    pub scope: Scope,
    pub probes: bool,
    /// The day versions are judged on.
    pub today: Date,
}

/// Everything `palisade cluster` learnt, before the engine runs on the objects.
#[derive(Debug, Default)]
pub struct Audit {
    pub server: String,
    pub server_version: Option<String>,
    pub inventory: Inventory,
    /// Cluster-only findings (versions, flags, probes).
    pub findings: Vec<Finding>,
    pub problems: Vec<Problem>,
    /// API requests made (and openssl handshakes).
    pub requests: usize,
}

/// Connects, lists, checks versions and flags, and runs the probes. `progress` receives one
/// line per step (for stderr), `true` for details (one per list and per probe); `Err` when
/// there is no cluster to talk to at all.
pub async fn audit(
    options: &Options,
    progress: &(dyn Fn(bool, String) + Sync),
) -> Result<Audit, String> {
    let config = api::load_config(&options.connect).await?;
    let api = Api::new(config)?;
    let mut audit = Audit {
        server: api
            .config
            .cluster_url
            .to_string()
            .trim_end_matches('/')
            .to_owned(),
        ..Audit::default()
    };
    progress(false, format!("connecting to {}", audit.server));
    match api.get("/version").await {
        Ok(v) => audit.server_version = v["gitVersion"].as_str().map(str::to_owned),
        Err(ApiError::Transport(e)) => {
            return Err(format!(
                "cannot reach the API server at {}: {e}",
                audit.server
            ));
        }
        Err(e) => audit.problems.push(Problem {
            kind: if matches!(e.code(), Some(401 | 403)) {
                "permission"
            } else {
                "api"
            },
            message: format!("cannot read the server version (GET /version): {e}"),
        }),
    }
    let started = Instant::now();
    let inventory = inventory::collect(&api, &options.scope, progress).await;
    progress(
        false,
        format!(
            "listed {} objects ({} of them reported on their controllers) in {} requests, {} ms",
            inventory.objects.len() + inventory.owned,
            inventory.owned,
            api.requests(),
            started.elapsed().as_millis()
        ),
    );
    audit
        .problems
        .extend(inventory.failures.iter().map(|f| Problem {
            kind: f.kind,
            message: f.message.clone(),
        }));
    let table = releases::releases();
    audit.findings.extend(checks::version_findings(
        &audit.server,
        audit.server_version.as_deref(),
        &inventory.facts.kubelets,
        &table,
        options.today,
    ));
    // kube-apiserver static pods: read on purpose, whatever `-n` says.
    let wanted = options.scope.namespaces.is_empty()
        || options.scope.namespaces.iter().any(|n| n == "kube-system");
    if wanted && !options.scope.exclude.iter().any(|n| n == "kube-system") {
        match api
            .get("/api/v1/namespaces/kube-system/pods?labelSelector=component%3Dkube-apiserver")
            .await
        {
            Ok(list) => {
                for pod in list["items"].as_array().into_iter().flatten() {
                    if let Some(p) = checks::ApiserverPod::from_pod(pod) {
                        progress(true, format!("read the flags of kube-apiserver pod {}", p.name));
                        audit.findings.extend(checks::apiserver_findings(&p));
                    }
                }
            }
            Err(e) => audit.problems.push(if matches!(e.code(), Some(401 | 403)) {
                Problem {
                    kind: "permission",
                    message: format!(
                        "missing permission: verb `list` on resource `pods` in API group \"\" (core) in namespace `kube-system`; the kube-apiserver flags were not checked (the API server said: {})",
                        e.message()
                    ),
                }
            } else {
                Problem {
                    kind: "api",
                    message: format!("cannot list the kube-apiserver pods: {e}"),
                }
            }),
        }
    }
    if options.probes {
        let started = Instant::now();
        let before = api.requests();
        let results =
            probes::run(&api, &inventory.facts.namespaces, options.scope.concurrency).await;
        for line in &results.log {
            progress(true, line.clone());
        }
        progress(
            false,
            format!(
                "probed {} namespaces in {} requests, {} ms",
                inventory.facts.namespaces.len(),
                api.requests() - before,
                started.elapsed().as_millis()
            ),
        );
        audit.findings.extend(results.findings);
        audit.problems.extend(results.problems);
    }
    audit.requests = api.requests();
    audit.inventory = inventory;
    Ok(audit)
}
