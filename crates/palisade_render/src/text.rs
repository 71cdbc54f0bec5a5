use std::io::Write;

use anstyle::{AnsiColor, Color, Style};
use palisade_diagnostics::{Finding, Severity};
use palisade_rules::InputError;

use crate::{Reporter, Summary};

/// Human-readable output in the style of rustc: `--> file:line:col`, the source line and a
/// caret under the offending value. Colour is decided by the writer (anstream strips it when
/// the output is not a terminal or `NO_COLOR` is set).
pub struct TextReporter<W: Write> {
    out: W,
    /// Print the source excerpt under each finding.
    pub show_source: bool,
}

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();
const BLUE: Style = Style::new()
    .fg_color(Some(Color::Ansi(AnsiColor::Blue)))
    .bold();
const CYAN: Style = Style::new().fg_color(Some(Color::Ansi(AnsiColor::Cyan)));

fn severity_style(s: Severity) -> Style {
    let color = match s {
        Severity::Critical => AnsiColor::Magenta,
        Severity::High => AnsiColor::Red,
        Severity::Medium => AnsiColor::Yellow,
        Severity::Low => AnsiColor::Cyan,
        Severity::Info => AnsiColor::White,
    };
    Style::new().fg_color(Some(Color::Ansi(color))).bold()
}

impl<W: Write> TextReporter<W> {
    pub fn new(out: W) -> Self {
        Self {
            out,
            show_source: true,
        }
    }

    fn finding(&mut self, f: &Finding) -> std::io::Result<()> {
        let sev = severity_style(f.severity);
        writeln!(
            self.out,
            "{sev}{}{sev:#}{BOLD}[{}]{BOLD:#} {BOLD}{}{BOLD:#}",
            f.severity, f.code, f.message
        )?;
        let line = f.line.unwrap_or(0);
        let width = line.to_string().len();
        let pad = " ".repeat(width);
        match (&f.file, f.line, f.column) {
            (Some(file), Some(l), Some(c)) => {
                writeln!(self.out, "{pad}{BLUE}-->{BLUE:#} {file}:{l}:{c}")?;
            }
            (None, Some(l), Some(c)) => {
                writeln!(self.out, "{pad}{BLUE}-->{BLUE:#} <stdin>:{l}:{c}")?
            }
            _ => {
                if let Some(cmd) = &f.kubectl {
                    writeln!(self.out, " {BLUE}-->{BLUE:#} live: {cmd}")?;
                }
            }
        }
        if let (true, Some(src), Some(col)) = (self.show_source, &f.source_line, f.column) {
            let src = src.replace('\t', " ");
            let len = if f.end_line == f.line {
                f.end_column.unwrap_or(col).saturating_sub(col).max(1) as usize
            } else {
                src.chars().count().saturating_sub(col as usize - 1).max(1)
            };
            writeln!(self.out, "{pad} {BLUE}|{BLUE:#}")?;
            writeln!(self.out, "{BLUE}{line}{BLUE:#} {BLUE}|{BLUE:#} {src}")?;
            let missing = f
                .missing
                .as_deref()
                .map(|m| format!(" missing `{m}`"))
                .unwrap_or_default();
            writeln!(
                self.out,
                "{pad} {BLUE}|{BLUE:#} {}{sev}{}{missing}{sev:#}",
                " ".repeat(col.saturating_sub(1) as usize),
                "^".repeat(len)
            )?;
        }
        let r = &f.resource;
        let mut object = format!("{} {}", r.api_version, r.kind);
        match (&r.namespace, &r.name) {
            (Some(ns), Some(n)) => object.push_str(&format!(" {ns}/{n}")),
            (None, Some(n)) => object.push_str(&format!(" {n}")),
            _ => {}
        }
        if let Some(c) = &f.container {
            object.push_str(&format!(", {} `{}`", c.kind.as_str(), c.name));
        }
        writeln!(
            self.out,
            "{pad} {BLUE}={BLUE:#} {DIM}object:{DIM:#} {object}"
        )?;
        if !f.path.is_empty() {
            let missing = f
                .missing
                .as_deref()
                .map(|m| format!(" (missing: {m})"))
                .unwrap_or_default();
            writeln!(
                self.out,
                "{pad} {BLUE}={BLUE:#} {DIM}field:{DIM:#} {}{missing}",
                f.path
            )?;
        }
        let mut refs = vec![format!("{} {}", f.code, f.name)];
        if let Some(p) = &f.pss {
            refs.push(format!("PSS {} \"{}\"", p.level.as_str(), p.control));
        }
        if let Some(k) = &f.kubeaudit_code {
            refs.push(format!("kubeaudit {k}"));
        }
        writeln!(
            self.out,
            "{pad} {BLUE}={BLUE:#} {DIM}rule:{DIM:#} {}",
            refs.join(" · ")
        )?;
        for rel in &f.related {
            let at = match (&rel.file, rel.line, rel.column) {
                (Some(file), Some(l), Some(c)) => format!(" at {file}:{l}:{c}"),
                _ => String::new(),
            };
            writeln!(
                self.out,
                "{pad} {BLUE}={BLUE:#} {DIM}related:{DIM:#} {}{at}",
                rel.message
            )?;
        }
        if let Some(s) = &f.suppressed {
            let reason = s
                .reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default();
            writeln!(
                self.out,
                "{pad} {BLUE}={BLUE:#} {DIM}suppressed by{DIM:#} {}{reason}",
                s.by
            )?;
        }
        writeln!(
            self.out,
            "{pad} {BLUE}={BLUE:#} {CYAN}help:{CYAN:#} {}",
            f.remediation
        )?;
        if let Some(fix) = &f.fix {
            let how = match fix.applicability {
                palisade_diagnostics::Applicability::Safe => "`palisade fix`",
                palisade_diagnostics::Applicability::Unsafe => "`palisade fix --unsafe-fixes`",
                palisade_diagnostics::Applicability::DisplayOnly => "by hand",
            };
            writeln!(
                self.out,
                "{pad} {BLUE}={BLUE:#} {CYAN}fix:{CYAN:#} {} ({}; {how})",
                fix.title,
                fix.applicability.as_str()
            )?;
        }
        writeln!(self.out)
    }
}

impl<W: Write> Reporter for TextReporter<W> {
    fn findings(&mut self, _file: Option<&str>, findings: &[&Finding]) -> std::io::Result<()> {
        for f in findings {
            self.finding(f)?;
        }
        Ok(())
    }

    fn finish(&mut self, errors: &[InputError], s: &Summary) -> std::io::Result<()> {
        let red = severity_style(Severity::High);
        for e in errors {
            let file = e.file.as_deref().unwrap_or(crate::LIVE);
            writeln!(self.out, "{red}error{red:#}{BOLD}: {}{BOLD:#}", e.message)?;
            writeln!(
                self.out,
                " {BLUE}-->{BLUE:#} {file}:{}:{}\n",
                e.line, e.column
            )?;
        }
        let counts: Vec<String> = [
            (Severity::Critical, s.critical),
            (Severity::High, s.high),
            (Severity::Medium, s.medium),
            (Severity::Low, s.low),
            (Severity::Info, s.info),
        ]
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(sev, n)| {
            let st = severity_style(*sev);
            format!("{st}{n} {sev}{st:#}")
        })
        .collect();
        let st = &s.stats;
        let findings = if s.findings == 0 {
            "no findings".to_owned()
        } else {
            format!(
                "{} finding{} ({})",
                s.findings,
                plural(s.findings),
                counts.join(", ")
            )
        };
        writeln!(self.out, "{BOLD}{findings}{BOLD:#}")?;
        let mut details = vec![
            format!("{} object{}", st.objects, plural(st.objects)),
            format!("{} document{}", st.documents, plural(st.documents)),
            format!("{} file{}", st.files, plural(st.files)),
            format!("{} rule{}", s.rules, plural(s.rules)),
        ];
        if s.suppressed > 0 {
            details.push(format!(
                "{} suppressed (--show-suppressed lists them)",
                s.suppressed
            ));
        }
        if s.baselined > 0 {
            details.push(format!("{} already in the baseline", s.baselined));
        }
        if s.below_min_severity > 0 {
            details.push(format!("{} below --min-severity", s.below_min_severity));
        }
        if st.skipped_documents > 0 {
            details.push(format!(
                "{} non-Kubernetes document{} skipped",
                st.skipped_documents,
                plural(st.skipped_documents)
            ));
        }
        if st.templates > 0 {
            details.push(format!(
                "{} un-rendered template{} skipped",
                st.templates,
                plural(st.templates)
            ));
        }
        if st.fragments > 0 {
            details.push(format!(
                "{} kustomize patch fragment{} ({} finding{} about fields left to the base not reported)",
                st.fragments,
                plural(st.fragments),
                st.fragment_findings,
                plural(st.fragment_findings)
            ));
        }
        if s.errors > 0 {
            details.push(format!(
                "{red}{} input error{}{red:#}",
                s.errors,
                plural(s.errors)
            ));
        }
        writeln!(self.out, "{DIM}checked{DIM:#} {}", details.join(", "))?;
        if s.failed {
            writeln!(
                self.out,
                "{red}failed{red:#}: findings at or above `{}` (--fail-on)",
                s.fail_on
            )?;
        }
        self.out.flush()
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
