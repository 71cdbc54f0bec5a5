//! One self-contained HTML page: no network fetches (inline CSS, inline SVG chart, inline
//! script), a summary by checklist section and by severity, findings grouped by namespace and
//! object, filters, source excerpts and the fix for each finding.
//!
//! Filters can also be set from the URL fragment (`report.html#severity=critical,high&section=
//! workloads&q=privileged`), so a filtered view can be shared as a link.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use palisade_diagnostics::{Finding, Section, Severity};
use palisade_rules::InputError;

use crate::{Reporter, Summary};

const SECTIONS: [Section; 5] = [
    Section::Images,
    Section::Components,
    Section::Network,
    Section::Workloads,
    Section::Misc,
];

/// Buffers findings (the page groups them) and writes the page at the end.
pub struct HtmlReporter<W: Write> {
    out: W,
    title: String,
    findings: Vec<Finding>,
}

impl<W: Write> HtmlReporter<W> {
    pub fn new(out: W) -> Self {
        Self {
            out,
            title: "Palisade report".to_owned(),
            findings: Vec::new(),
        }
    }

    /// The page title (default "Palisade report").
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Renders `text` with inline code spans (`like this`) as `<code>`.
fn rich(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{}</code>", escape(part));
        } else {
            out.push_str(&escape(part));
        }
    }
    out
}

const STYLE: &str = r#"
:root{--crit:#8e1b74;--high:#c62828;--med:#b26a00;--low:#1565c0;--info:#546e7a;--bg:#f6f7f9;--fg:#1d232a;--muted:#5f6b76;--card:#fff;--line:#dde2e7}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
header{background:#17212b;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;color:#b8c4cf}
main{padding:20px 28px;max-width:1280px}h2{font-size:17px;margin:22px 0 10px}
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 16px;min-width:120px}
.card b{display:block;font-size:24px}.card span{color:var(--muted)}.card span.sev{color:#fff}
.summary{display:grid;grid-template-columns:minmax(280px,420px) 1fr;gap:20px;align-items:start}
table{border-collapse:collapse;background:var(--card);border:1px solid var(--line);width:100%}th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:right}th:first-child,td:first-child{text-align:left}
.sev{display:inline-block;border-radius:4px;padding:1px 7px;color:#fff;font-weight:600;font-size:12px;text-transform:uppercase}
.sev-critical{background:var(--crit)}.sev-high{background:var(--high)}.sev-medium{background:var(--med)}.sev-low{background:var(--low)}.sev-info{background:var(--info)}
#filters{position:sticky;top:0;background:var(--bg);padding:10px 0;border-bottom:1px solid var(--line);display:flex;gap:16px;flex-wrap:wrap;align-items:center;z-index:1}
#filters label{white-space:nowrap}#filters input[type=search]{padding:5px 8px;min-width:260px;border:1px solid var(--line);border-radius:6px}
.ns>h3{font-size:16px;margin:18px 0 8px;color:var(--muted)}
details.object{background:var(--card);border:1px solid var(--line);border-radius:8px;margin:8px 0}details.object>summary{cursor:pointer;padding:10px 14px;font-weight:600}
.count{color:var(--muted);font-weight:400}
.finding{border-top:1px solid var(--line);padding:10px 14px}.finding h4{margin:0 0 4px;font-size:14px}
.loc,.meta{color:var(--muted);font-size:12.5px}.fix{background:#eef7ee;border-left:3px solid #2e7d32;padding:6px 10px;margin-top:6px}
pre.src{background:#0f1720;color:#e6edf3;padding:8px 10px;border-radius:6px;overflow:auto;margin:6px 0;font-size:12.5px}
pre.src .ln{color:#7d8b99}pre.src .caret{color:#ff8a80}code{background:#eceff3;padding:0 3px;border-radius:3px}pre code{background:none;padding:0}
.suppressed{opacity:.65}.errors li{margin:4px 0}.empty{color:var(--muted);padding:20px 0}[hidden]{display:none!important}
"#;

/// Records script errors on `<body data-errors>` so a headless browser test can see them.
const ERROR_HOOK: &str = r#"window.onerror=function(m){var b=document.body;b.setAttribute("data-errors",(b.getAttribute("data-errors")||"")+m+"\n");};"#;

const SCRIPT: &str = r#"
(function(){
  "use strict";
  var findings = Array.prototype.slice.call(document.querySelectorAll(".finding"));
  var sevBoxes = Array.prototype.slice.call(document.querySelectorAll("input[name=severity]"));
  var section = document.getElementById("section-filter");
  var query = document.getElementById("query");
  var counter = document.getElementById("visible-count");
  function fromHash(){
    var params = new URLSearchParams(location.hash.replace(/^#/, ""));
    if (params.has("severity")) {
      var wanted = params.get("severity").split(",");
      sevBoxes.forEach(function(b){ b.checked = wanted.indexOf(b.value) >= 0; });
    }
    if (params.has("section")) { section.value = params.get("section"); }
    if (params.has("q")) { query.value = params.get("q"); }
  }
  function apply(){
    var sevs = sevBoxes.filter(function(b){ return b.checked; }).map(function(b){ return b.value; });
    var sec = section.value;
    var q = query.value.trim().toLowerCase();
    var shown = 0;
    findings.forEach(function(f){
      var ok = sevs.indexOf(f.dataset.severity) >= 0 &&
        (sec === "" || f.dataset.section === sec) &&
        (q === "" || f.textContent.toLowerCase().indexOf(q) >= 0);
      f.hidden = !ok;
      if (ok) { shown++; }
    });
    document.querySelectorAll("details.object").forEach(function(d){
      var n = d.querySelectorAll(".finding:not([hidden])").length;
      d.hidden = n === 0;
      d.querySelector(".visible").textContent = n;
    });
    document.querySelectorAll(".ns").forEach(function(s){
      s.hidden = s.querySelectorAll("details.object:not([hidden])").length === 0;
    });
    counter.textContent = shown;
  }
  sevBoxes.forEach(function(b){ b.addEventListener("change", apply); });
  section.addEventListener("change", apply);
  query.addEventListener("input", apply);
  window.addEventListener("hashchange", function(){ fromHash(); apply(); });
  fromHash();
  apply();
  document.body.setAttribute("data-ready", "true");
})();
"#;

fn sev_counts(findings: &[Finding]) -> BTreeMap<(Section, Severity), usize> {
    let mut m = BTreeMap::new();
    for f in findings {
        *m.entry((f.section, f.severity)).or_insert(0) += 1;
    }
    m
}

/// A horizontal bar chart of findings by severity, as inline SVG.
fn chart(summary: &Summary) -> String {
    let rows = [
        (Severity::Critical, summary.critical, "#8e1b74"),
        (Severity::High, summary.high, "#c62828"),
        (Severity::Medium, summary.medium, "#b26a00"),
        (Severity::Low, summary.low, "#1565c0"),
        (Severity::Info, summary.info, "#546e7a"),
    ];
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let mut s = String::from(
        r#"<svg id="severity-chart" role="img" aria-label="Findings by severity" viewBox="0 0 420 150" width="420" height="150" xmlns="http://www.w3.org/2000/svg">"#,
    );
    for (i, (sev, n, color)) in rows.iter().enumerate() {
        let y = 8 + i * 28;
        let w = (*n as f64 / max as f64 * 300.0).round() as usize;
        let _ = write!(
            s,
            r##"<text x="0" y="{ty}" font-size="12" fill="#1d232a">{sev}</text><rect x="70" y="{y}" width="{w}" height="20" rx="3" fill="{color}"><title>{n} {sev}</title></rect><text x="{tx}" y="{ty}" font-size="12" fill="#1d232a">{n}</text>"##,
            ty = y + 15,
            tx = 76 + w,
        );
    }
    s.push_str("</svg>");
    s
}

fn excerpt(f: &Finding) -> String {
    let (Some(src), Some(line), Some(col)) = (&f.source_line, f.line, f.column) else {
        return String::new();
    };
    let width = if f.end_line == f.line {
        f.end_column.unwrap_or(col).saturating_sub(col).max(1) as usize
    } else {
        src.chars().count().saturating_sub(col as usize - 1).max(1)
    };
    let num = line.to_string();
    let missing = f
        .missing
        .as_deref()
        .map(|m| format!(" missing `{m}`"))
        .unwrap_or_default();
    format!(
        "<pre class=\"src\"><code><span class=\"ln\">{num} | </span>{}\n<span class=\"ln\">{pad} | </span><span class=\"caret\">{}{}{}</span></code></pre>",
        escape(&src.replace('\t', " ")),
        " ".repeat(col.saturating_sub(1) as usize),
        "^".repeat(width),
        escape(&missing),
        pad = " ".repeat(num.len()),
    )
}

fn finding_html(out: &mut String, f: &Finding) {
    let sev = f.severity.as_str();
    let class = if f.suppressed.is_some() {
        "finding suppressed"
    } else {
        "finding"
    };
    let _ = write!(
        out,
        "<article class=\"{class}\" data-severity=\"{sev}\" data-section=\"{}\" data-code=\"{}\"><h4><span class=\"sev sev-{sev}\">{sev}</span> <code>{}</code> {}</h4>",
        f.section.as_str(),
        f.code,
        f.code,
        rich(&f.message)
    );
    let file = f.file.as_deref().unwrap_or(crate::LIVE);
    let at = match (f.line, f.column) {
        (Some(l), Some(c)) => format!("{file}:{l}:{c}"),
        _ => file.to_owned(),
    };
    let mut meta = format!("{} · rule <code>{}</code>", escape(&at), f.name);
    if let Some(c) = &f.container {
        let _ = write!(
            meta,
            " · {} <code>{}</code>",
            c.kind.as_str(),
            escape(&c.name)
        );
    }
    if !f.path.is_empty() {
        let _ = write!(meta, " · field <code>{}</code>", escape(&f.path));
        if let Some(m) = &f.missing {
            let _ = write!(meta, " (missing <code>{}</code>)", escape(m));
        }
    }
    if let Some(p) = &f.pss {
        let _ = write!(meta, " · PSS {} “{}”", p.level.as_str(), escape(p.control));
    }
    if let Some(k) = &f.kubeaudit_code {
        let _ = write!(meta, " · kubeaudit {}", escape(k));
    }
    let _ = write!(out, "<div class=\"loc\">{meta}</div>");
    out.push_str(&excerpt(f));
    for rel in &f.related {
        let at = match (&rel.file, rel.line, rel.column) {
            (Some(file), Some(l), Some(c)) => format!(" at {file}:{l}:{c}"),
            _ => String::new(),
        };
        let _ = write!(
            out,
            "<div class=\"meta\">related: {}{}</div>",
            rich(&rel.message),
            escape(&at)
        );
    }
    if let Some(s) = &f.suppressed {
        let reason = s
            .reason
            .as_deref()
            .map(|r| format!(": {}", escape(r)))
            .unwrap_or_default();
        let _ = write!(
            out,
            "<div class=\"meta\">suppressed by {}{reason}</div>",
            rich(&s.by)
        );
    }
    let _ = write!(
        out,
        "<div class=\"fix\"><b>Fix:</b> {}</div></article>",
        rich(&f.remediation)
    );
}

impl<W: Write> Reporter for HtmlReporter<W> {
    fn findings(&mut self, _file: Option<&str>, findings: &[&Finding]) -> std::io::Result<()> {
        self.findings.extend(findings.iter().map(|f| (*f).clone()));
        Ok(())
    }

    fn finish(&mut self, errors: &[InputError], s: &Summary) -> std::io::Result<()> {
        let mut h = String::with_capacity(64 * 1024 + self.findings.len() * 1024);
        let title = escape(&self.title);
        let st = &s.stats;
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\"><title>{title}</title><style>{STYLE}</style><script>{ERROR_HOOK}</script></head><body>\n<header><h1>{title}</h1><p>palisade {} · {} objects in {} files · {} rules · fails on <b>{}</b> and above: <b>{}</b></p></header>\n<main>",
            env!("CARGO_PKG_VERSION"),
            st.objects,
            st.files,
            s.rules,
            s.fail_on,
            if s.failed { "failed" } else { "passed" },
        );
        let _ = write!(
            h,
            "<div class=\"cards\"><div class=\"card\"><b id=\"total\">{}</b><span>findings</span></div>",
            s.findings
        );
        for (sev, n) in [
            (Severity::Critical, s.critical),
            (Severity::High, s.high),
            (Severity::Medium, s.medium),
            (Severity::Low, s.low),
            (Severity::Info, s.info),
        ] {
            let _ = write!(
                h,
                "<div class=\"card\"><b>{n}</b><span class=\"sev sev-{sev}\">{sev}</span></div>"
            );
        }
        let _ = write!(
            h,
            "<div class=\"card\"><b>{}</b><span>suppressed</span></div><div class=\"card\"><b>{}</b><span>input errors</span></div></div>",
            s.suppressed, s.errors
        );

        // Summary: chart by severity, table by section × severity.
        let counts = sev_counts(&self.findings);
        h.push_str("<h2>Summary</h2><div class=\"summary\"><div>");
        h.push_str(&chart(s));
        h.push_str("</div><table id=\"by-section\"><thead><tr><th>Checklist section</th>");
        for sev in Severity::ALL {
            let _ = write!(h, "<th><span class=\"sev sev-{sev}\">{sev}</span></th>");
        }
        h.push_str("<th>total</th></tr></thead><tbody>");
        for sec in SECTIONS {
            let _ = write!(h, "<tr><td>{sec}</td>");
            let mut total = 0;
            for sev in Severity::ALL {
                let n = counts.get(&(sec, sev)).copied().unwrap_or(0);
                total += n;
                let _ = write!(h, "<td>{n}</td>");
            }
            let _ = write!(h, "<td><b>{total}</b></td></tr>");
        }
        h.push_str("</tbody></table></div>");

        if !errors.is_empty() {
            h.push_str("<h2>Input errors</h2><ul class=\"errors\">");
            for e in errors {
                let _ = write!(
                    h,
                    "<li><code>{}:{}:{}</code> {}</li>",
                    escape(e.file.as_deref().unwrap_or(crate::LIVE)),
                    e.line,
                    e.column,
                    escape(&e.message)
                );
            }
            h.push_str("</ul>");
        }

        // Filters.
        h.push_str("<h2>Findings</h2><form id=\"filters\" onsubmit=\"return false\"><span>");
        for sev in Severity::ALL {
            let _ = write!(
                h,
                "<label><input type=\"checkbox\" name=\"severity\" value=\"{sev}\" checked> {sev}</label> "
            );
        }
        h.push_str(
            "</span><label>Section <select id=\"section-filter\"><option value=\"\">all</option>",
        );
        for sec in SECTIONS {
            let _ = write!(h, "<option value=\"{sec}\">{sec}</option>");
        }
        let _ = write!(
            h,
            "</select></label><input id=\"query\" type=\"search\" placeholder=\"Search messages, rules, names…\" aria-label=\"Search\"><span><b id=\"visible-count\">{}</b> shown</span></form>",
            self.findings.len()
        );

        // Findings by namespace, then object.
        let mut groups: BTreeMap<String, BTreeMap<String, Vec<&Finding>>> = BTreeMap::new();
        for f in &self.findings {
            let ns = f.resource.namespace.clone().unwrap_or_default();
            let mut object = format!(
                "{} {}",
                f.resource.kind,
                f.resource.name.as_deref().unwrap_or("(unnamed)")
            );
            if f.resource.kind.is_empty() {
                object = "Whole input".to_owned();
            }
            groups
                .entry(ns)
                .or_default()
                .entry(object)
                .or_default()
                .push(f);
        }
        if groups.is_empty() {
            h.push_str("<p class=\"empty\">No findings.</p>");
        }
        for (ns, objects) in &groups {
            let heading = if ns.is_empty() {
                "Cluster-scoped objects and objects without a namespace".to_owned()
            } else {
                format!("Namespace {}", escape(ns))
            };
            let _ = write!(
                h,
                "<section class=\"ns\" data-namespace=\"{}\"><h3>{heading}</h3>",
                escape(ns)
            );
            for (object, findings) in objects {
                let _ = write!(
                    h,
                    "<details class=\"object\" open><summary>{} <span class=\"count\">(<span class=\"visible\">{}</span> of {})</span></summary>",
                    escape(object),
                    findings.len(),
                    findings.len()
                );
                for f in findings {
                    finding_html(&mut h, f);
                }
                h.push_str("</details>");
            }
            h.push_str("</section>");
        }
        let _ = writeln!(h, "</main><script>{SCRIPT}</script></body></html>");
        self.out.write_all(h.as_bytes())?;
        self.out.flush()
    }
}
