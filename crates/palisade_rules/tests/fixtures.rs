//! Runs every rule fixture (`resources/test/fixtures/<section>/<CODE>[_variant].yaml`) through
//! the real engine with only that rule selected, and snapshots the rendered findings.
//!
//! A fixture's first line may set options: `# palisade-test: max_cpu=500m; allowed_capabilities=NET_ADMIN,SYS_TIME`.
//!
//! For a rule with fixes, the snapshot also holds the fixture fixed by `palisade fix
//! --unsafe-fixes` (as a diff) and each finding's JSON Patch; the harness asserts that the
//! fixed text parses, that fixing again changes nothing, and that no fixable finding of the
//! rule is left.

use std::fmt::Write as _;

use palisade_diagnostics::Finding;
use palisade_fix::{FixOptions, fix_text};
use palisade_k8s::Quantity;
use palisade_rules::{Engine, Selection, Settings, SourceFile, all_rules, parse_version};

fn settings_from_header(text: &str) -> Settings {
    let mut settings = Settings::default();
    let Some(header) = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# palisade-test:"))
    else {
        return settings;
    };
    for pair in header.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').expect("key=value");
        let list = || {
            value
                .split(',')
                .map(|s| s.trim().to_owned())
                .collect::<Vec<_>>()
        };
        match key.trim() {
            "allowed_capabilities" => settings.allowed_capabilities = list(),
            "required_image" => settings.required_image = Some(value.to_owned()),
            "max_cpu" => settings.max_cpu = Some(Quantity::parse(value).expect("quantity")),
            "max_memory" => settings.max_memory = Some(Quantity::parse(value).expect("quantity")),
            "sensitive_paths" => settings.sensitive_paths = list(),
            "target_version" => settings.target_version = parse_version(value).expect("M.m"),
            "current_version" => settings.current_version = parse_version(value),
            "run_as_user" => settings.fix_run_as_user = Some(value.parse().expect("uid")),
            "default_cpu_request" => {
                settings.default_resources.cpu_request = Some(value.to_owned());
            }
            "default_memory_request" => {
                settings.default_resources.memory_request = Some(value.to_owned());
            }
            "default_cpu_limit" => settings.default_resources.cpu_limit = Some(value.to_owned()),
            "default_memory_limit" => {
                settings.default_resources.memory_limit = Some(value.to_owned());
            }
            "metadata_cidrs" => settings.metadata_cidrs = list(),
            "internal_cidrs" => settings.internal_cidrs = list(),
            "allowed_registries" => settings.allowed_registries = list(),
            "approved_images" => settings.approved_images = list(),
            // `ns:pattern pattern, ns2:pattern`
            "approved_images_by_namespace" => {
                settings.approved_images_by_namespace = list()
                    .iter()
                    .map(|entry| {
                        let (ns, patterns) = entry.split_once(':').expect("ns:patterns");
                        (
                            ns.to_owned(),
                            patterns.split_whitespace().map(str::to_owned).collect(),
                        )
                    })
                    .collect();
            }
            "tenant_label" => settings.tenant_label = value.trim().to_owned(),
            other => panic!("unknown fixture option `{other}`"),
        }
    }
    settings
}

fn render(findings: &[Finding], file_name: &str) -> String {
    let mut s = String::new();
    for f in findings {
        let _ = writeln!(s, "{} [{}] {}: {}", f.code, f.severity, f.name, f.message);
        let line = f.line.unwrap_or(0);
        let col = f.column.unwrap_or(0);
        let _ = writeln!(s, "  --> {file_name}:{line}:{col}");
        if let Some(src) = &f.source_line {
            let width = line.to_string().len();
            let _ = writeln!(s, "{:width$} |", "");
            let _ = writeln!(s, "{line} | {src}");
            let len = if f.end_line == f.line {
                f.end_column.unwrap_or(col).saturating_sub(col).max(1)
            } else {
                src.chars().count().saturating_sub(col as usize - 1).max(1) as u32
            };
            let _ = writeln!(
                s,
                "{:width$} | {}{}",
                "",
                " ".repeat(col.saturating_sub(1) as usize),
                "^".repeat(len as usize)
            );
        }
        let _ = write!(s, "  = path: {}", f.path);
        if let Some(m) = &f.missing {
            let _ = write!(s, " (missing: {m})");
        }
        s.push('\n');
        let r = &f.resource;
        let _ = writeln!(
            s,
            "  = resource: {} {} {}/{}",
            r.api_version,
            r.kind,
            r.namespace.as_deref().unwrap_or("-"),
            r.name.as_deref().unwrap_or("-")
        );
        if let Some(c) = &f.container {
            let _ = writeln!(s, "  = container: {} ({})", c.name, c.kind.as_str());
        }
        if let Some(k) = &f.kubeaudit_code {
            let _ = writeln!(s, "  = kubeaudit: {k}");
        }
        if let Some(p) = &f.pss {
            let _ = writeln!(s, "  = pss: {} / {}", p.level.as_str(), p.control);
        }
        for rel in &f.related {
            let _ = writeln!(
                s,
                "  = related: {} ({} {} at {}:{})",
                rel.message,
                rel.resource.kind,
                rel.path,
                rel.line.unwrap_or(0),
                rel.column.unwrap_or(0)
            );
        }
        let _ = writeln!(s, "  = help: {}", f.remediation);
        if let Some(sup) = &f.suppressed {
            let _ = writeln!(
                s,
                "  = suppressed by {}{}",
                sup.by,
                sup.reason
                    .as_ref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            );
        }
        s.push('\n');
    }
    s
}

/// The fixture fixed with every fix of the rule (unsafe ones included), as a diff, and each
/// fix as a JSON Patch. Nothing is added for rules without fixes.
fn render_fixes(
    out: &mut String,
    engine: &Engine,
    file_name: &str,
    text: &str,
    findings: &[Finding],
    code: &str,
) {
    let fixable: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.code == code && f.fix.is_some() && f.suppressed.is_none())
        .collect();
    if fixable.is_empty() {
        return;
    }
    let options = FixOptions {
        unsafe_fixes: true,
        ..FixOptions::default()
    };
    let outcome = fix_text(engine, Some(file_name), text, options);
    assert!(
        outcome.error.is_none(),
        "{file_name}: fix failed: {:?}",
        outcome.error
    );
    // Converges: a second run changes nothing.
    let again = fix_text(engine, Some(file_name), &outcome.fixed, options);
    assert!(again.error.is_none(), "{file_name}: {:?}", again.error);
    assert_eq!(
        again.fixed, outcome.fixed,
        "{file_name}: fixing twice changes more"
    );
    assert!(
        again.applied.is_empty(),
        "{file_name}: fixes left after fixing"
    );
    // Parses, and the rule has no fixable finding left.
    let mut report = engine.check_file(SourceFile {
        path: Some(file_name),
        text: &outcome.fixed,
    });
    assert!(
        report.errors.is_empty(),
        "{file_name}: fixed text: {:?}",
        report.errors
    );
    let estate = std::mem::take(&mut report.estate);
    let mut after = report.findings;
    after.extend(engine.finish(estate));
    let failed: Vec<_> = outcome.left.iter().map(|l| (l.code, l.line)).collect();
    for f in after
        .iter()
        .filter(|f| f.code == code && f.suppressed.is_none())
    {
        assert!(
            f.fix.is_none() || !failed.is_empty(),
            "{file_name}: {code} still fixable after fixing: {}",
            f.message
        );
    }

    let _ = writeln!(out, "\n\n--- fixed (--unsafe-fixes) ---");
    for a in &outcome.applied {
        let _ = writeln!(
            out,
            "{}:{} {} [{}] {} ({})",
            file_name,
            a.line.unwrap_or(0),
            a.code,
            a.applicability.as_str(),
            a.title,
            a.resource
        );
    }
    for l in &outcome.left {
        let _ = writeln!(
            out,
            "{}:{} {} not fixed: {} ({}): {}",
            file_name,
            l.line.unwrap_or(0),
            l.code,
            l.title,
            l.resource,
            l.reason
        );
    }
    let diff = palisade_fix::unified_diff(file_name, text, &outcome.fixed);
    let _ = write!(out, "{diff}");

    let _ = writeln!(out, "\n--- JSON Patch per finding ---");
    let chunks = palisade_yaml::split_documents(text);
    let parsed: Vec<_> = chunks
        .into_iter()
        .map(|c| palisade_yaml::parse_chunk(text, c, false))
        .collect();
    for f in fixable {
        let fix = f.fix.as_ref().expect("fixable");
        let at = f.range.expect("range").start;
        let doc = parsed
            .iter()
            .flat_map(|p| p.documents.iter())
            .find(|d| d.range.start <= at && at <= d.range.end)
            .expect("the finding's document");
        let patch = match palisade_fix::json_patch(doc, fix) {
            Ok(p) => serde_json::to_string(&p).expect("json"),
            Err(e) => format!("(none: {e})"),
        };
        let _ = writeln!(
            out,
            "{}:{} {} {patch}",
            file_name,
            f.line.unwrap_or(0),
            f.code
        );
    }
}

#[test]
fn rule_fixtures() {
    insta::glob!(
        "../resources/test/fixtures",
        "*/*.yaml",
        |path: &std::path::Path| {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let code = stem.split('_').next().unwrap().to_owned();
            let rule = all_rules()
                .iter()
                .find(|r| r.meta().code == code)
                .unwrap_or_else(|| panic!("{}: no rule with code {code}", path.display()));
            let text = std::fs::read_to_string(path).unwrap();
            let settings = settings_from_header(&text);
            // The rule under test, plus the rules about overrides and suppressions so that
            // those show up.
            let mut select = vec![code.clone()];
            select.extend(["MSC001", "MSC002", "MSC003"].map(str::to_owned));
            let selection = Selection {
                select,
                ..Selection::default()
            };
            let engine = Engine::new(selection.resolve().unwrap(), settings);
            let file_name = path.file_name().unwrap().to_string_lossy().into_owned();
            let mut report = engine.check_file(SourceFile {
                path: Some(&file_name),
                text: &text,
            });
            let estate = std::mem::take(&mut report.estate);
            let mut findings = report.findings;
            findings.extend(engine.finish(estate));
            findings.sort_by_key(|f| (f.line, f.column, f.code));
            assert!(
                report.errors.is_empty(),
                "{file_name}: input errors {:?}",
                report.errors
            );

            let own: Vec<&Finding> = findings.iter().filter(|f| f.code == code).collect();
            assert!(
                !own.is_empty(),
                "{file_name}: the fixture must make {code} fire"
            );
            let objects_with_findings: std::collections::HashSet<_> = own
                .iter()
                .map(|f| (f.resource.kind.clone(), f.resource.name.clone()))
                .collect();
            assert!(
                objects_with_findings.len() < report.stats.objects,
                "{file_name}: the fixture needs at least one document that passes {code}"
            );
            for f in &own {
                assert!(
                    !f.message.is_empty() && !f.remediation.is_empty(),
                    "{file_name}: {f:?}"
                );
                assert!(
                    f.severity <= rule.meta().severity,
                    "{file_name}: severity above default"
                );
                assert!(f.line.is_some() && f.column.is_some() && f.range.is_some());
            }

            let mut out = render(&findings, &file_name);
            let _ = write!(
                out,
                "{} finding(s), {} object(s) checked",
                findings.len(),
                report.stats.objects
            );
            render_fixes(&mut out, &engine, &file_name, &text, &findings, &code);
            // One snapshot per fixture, `fixtures__<stem>.snap`, whatever other fixtures exist:
            // `glob!` would otherwise add a suffix that depends on their common folder.
            let mut settings = insta::Settings::clone_current();
            settings.remove_snapshot_suffix();
            settings.bind(|| insta::assert_snapshot!(stem.as_str(), out));
        }
    );
}
