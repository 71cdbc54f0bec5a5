//! The HTML report in a real headless browser (Debian's `chromium`, installed by `.ci/run`):
//! it loads with no script errors and no blocked fetches, the filters work (set through the
//! URL fragment, which runs the same code as the form controls), and a screenshot is written to
//! `$CARGO_TARGET_TMPDIR/html-report.png`.
//!
//! Chromium is driven through its command line only (`--dump-dom`, `--screenshot`): no
//! WebDriver or DevTools client is needed, so nothing beyond the Debian package is installed.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PALISADE_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

struct Browser {
    exe: PathBuf,
    profile: tempfile::TempDir,
}

impl Browser {
    fn run(&self, args: &[&str]) -> (String, String) {
        let out = Command::new("timeout")
            .arg("120")
            .arg(&self.exe)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--enable-logging=stderr",
                "--v=0",
                "--window-size=1280,1600",
            ])
            .arg(format!("--user-data-dir={}", self.profile.path().display()))
            .args(args)
            .output()
            .expect("chromium runs");
        assert!(out.status.success(), "chromium failed: {:?}", out);
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// The DOM after the page's script ran, and the console lines chromium logged.
    fn dom(&self, url: &str) -> (String, Vec<String>) {
        let (dom, log) = self.run(&["--dump-dom", url]);
        let console = log
            .lines()
            .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught") || l.contains("Refused"))
            .map(str::to_owned)
            .collect();
        (dom, console)
    }
}

/// The opening tags of the finding articles: (severity, section, hidden).
fn articles(dom: &str) -> Vec<(String, String, bool)> {
    let attr = |tag: &str, name: &str| -> String {
        let key = format!("{name}=\"");
        tag.find(&key)
            .map(|i| {
                let rest = &tag[i + key.len()..];
                rest[..rest.find('"').unwrap()].to_owned()
            })
            .unwrap_or_default()
    };
    dom.match_indices("<article ")
        .map(|(i, _)| {
            let tag = &dom[i..i + dom[i..].find('>').unwrap()];
            (
                attr(tag, "data-severity"),
                attr(tag, "data-section"),
                tag.contains(" hidden"),
            )
        })
        .collect()
}

fn visible_count(dom: &str) -> usize {
    let i = dom.find("id=\"visible-count\">").unwrap() + "id=\"visible-count\">".len();
    dom[i..i + dom[i..].find('<').unwrap()].parse().unwrap()
}

#[test]
fn html_report_in_headless_chromium() {
    let Some(exe) = chromium() else {
        if std::env::var_os("PALISADE_SKIP_BROWSER").is_some() {
            eprintln!("PALISADE_SKIP_BROWSER is set and no chromium was found: skipped");
            return;
        }
        panic!(
            "no chromium on PATH: `apt-get install chromium` (as .ci/run does), set PALISADE_CHROMIUM, or PALISADE_SKIP_BROWSER=1 to skip this test"
        );
    };
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.html");
    let out = Command::new(assert_cmd::cargo::cargo_bin("palisade"))
        .current_dir(workspace())
        .args(["scan", "examples", "--no-config", "--show-suppressed", "-f"])
        .arg(format!("html={}", report.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let html = std::fs::read_to_string(&report).unwrap();
    // Self-contained: nothing to fetch.
    for needle in ["<link", " src=", "url(", "@import", "href=\"http"] {
        assert!(
            !html.contains(needle),
            "the page refers to something outside: {needle}"
        );
    }

    let browser = Browser {
        exe,
        profile: tempfile::tempdir().unwrap(),
    };
    let url = format!("file://{}", report.display());

    // Loads, runs its script without errors, shows everything.
    let (dom, console) = browser.dom(&url);
    let body = &dom[dom.find("<body").unwrap()..];
    let body = &body[..body.find('>').unwrap()];
    assert!(
        body.contains("data-ready=\"true\""),
        "the script did not finish: {body}"
    );
    assert!(!body.contains("data-errors"), "script errors: {body}");
    assert!(console.is_empty(), "console messages: {console:#?}");
    let all = articles(&dom);
    assert!(all.len() > 20);
    assert!(all.iter().all(|a| !a.2));
    assert_eq!(visible_count(&dom), all.len());
    assert!(dom.contains("<svg id=\"severity-chart\""));

    // Severity filter.
    let (dom, console) = browser.dom(&format!("{url}#severity=critical,high"));
    assert!(console.is_empty(), "{console:#?}");
    let shown: Vec<_> = articles(&dom).into_iter().filter(|a| !a.2).collect();
    let expected = all
        .iter()
        .filter(|a| a.0 == "critical" || a.0 == "high")
        .count();
    assert!(expected > 0 && expected < all.len());
    assert_eq!(shown.len(), expected);
    assert!(shown.iter().all(|a| a.0 == "critical" || a.0 == "high"));
    assert_eq!(visible_count(&dom), expected);

    // Section filter.
    let (dom, _) = browser.dom(&format!("{url}#section=images"));
    let shown: Vec<_> = articles(&dom).into_iter().filter(|a| !a.2).collect();
    let expected = all.iter().filter(|a| a.1 == "images").count();
    assert!(expected > 0);
    assert_eq!(shown.len(), expected);
    assert!(shown.iter().all(|a| a.1 == "images"));

    // Text search, which also hides object groups left empty.
    let (dom, _) = browser.dom(&format!("{url}#q=seccomp"));
    let shown = articles(&dom).into_iter().filter(|a| !a.2).count();
    assert!(shown > 0 && shown < all.len());
    let (dom, _) = browser.dom(&format!("{url}#q=no-such-text-anywhere"));
    assert_eq!(visible_count(&dom), 0);
    assert!(!dom.contains("<details class=\"object\" open=\"\">"));

    // A screenshot, kept with the test output.
    let png = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("html-report.png");
    let _ = std::fs::remove_file(&png);
    browser.run(&[&format!("--screenshot={}", png.display()), &url]);
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert!(bytes.len() > 20_000, "a blank page? {} bytes", bytes.len());
    eprintln!("screenshot: {}", png.display());
}
