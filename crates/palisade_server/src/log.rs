//! Decision log: one JSON object per line for every reviewed request, written where
//! `--decision-log` says (stdout by default), ready to ship outside the cluster.

use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::policy::{Decision, Endpoint, field_path};
use crate::review::{Gvk, Request, UserInfo};

/// Where decision lines go.
pub struct DecisionLog {
    out: Option<Mutex<Box<dyn Write + Send>>>,
}

impl DecisionLog {
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        Self {
            out: Some(Mutex::new(out)),
        }
    }

    /// A log that writes nothing.
    pub fn off() -> Self {
        Self { out: None }
    }

    pub fn write(&self, line: &impl Serialize) {
        let Some(out) = &self.out else { return };
        let Ok(mut text) = serde_json::to_vec(line) else {
            return;
        };
        text.push(b'\n');
        if let Ok(mut w) = out.lock() {
            // A full disk or a closed pipe must not stop admission.
            let _ = w.write_all(&text).and_then(|()| w.flush());
        }
    }
}

#[derive(Serialize)]
struct FindingLine<'a> {
    code: &'static str,
    severity: &'static str,
    path: String,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    container: Option<&'a str>,
}

#[derive(Serialize)]
struct FixLine<'a> {
    code: &'static str,
    title: &'a str,
}

/// One decision, as logged.
#[derive(Serialize)]
pub struct DecisionLine<'a> {
    pub time: String,
    pub event: &'static str,
    pub endpoint: &'static str,
    pub uid: &'a str,
    pub operation: &'a str,
    pub kind: &'a Gvk,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    pub user: &'a UserInfo,
    pub dry_run: bool,
    pub mode: &'static str,
    pub decision: &'static str,
    pub allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'a str>,
    findings: Vec<FindingLine<'a>>,
    pub blocking: usize,
    pub suppressed: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fixes: Vec<FixLine<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch_operations: Option<usize>,
    #[serde(skip_serializing_if = "is_zero")]
    pub fixes_kept_for_user_fields: usize,
    pub duration_ms: f64,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl<'a> DecisionLine<'a> {
    pub fn new(
        endpoint: Endpoint,
        req: &'a Request,
        d: &'a Decision,
        elapsed: Duration,
    ) -> DecisionLine<'a> {
        let name = req.name.as_deref().or_else(|| {
            req.object
                .as_ref()
                .and_then(|o| {
                    o.pointer("/metadata/name")
                        .or(o.pointer("/metadata/generateName"))
                })
                .and_then(|v| v.as_str())
        });
        DecisionLine {
            time: rfc3339(SystemTime::now()),
            event: "admission",
            endpoint: endpoint.as_str(),
            uid: &req.uid,
            operation: &req.operation,
            kind: &req.kind,
            namespace: req.namespace.as_deref(),
            name,
            user: &req.user,
            dry_run: req.dry_run,
            mode: d.mode.as_str(),
            decision: d.outcome.as_str(),
            allowed: d.response.allowed,
            note: d.note.as_deref(),
            findings: d
                .findings
                .iter()
                .map(|f| FindingLine {
                    code: f.code,
                    severity: f.severity.as_str(),
                    path: field_path(f),
                    message: &f.message,
                    container: f.container.as_ref().map(|c| c.name.as_str()),
                })
                .collect(),
            blocking: d.blocking,
            suppressed: d.suppressed,
            fixes: d
                .fixes
                .iter()
                .map(|(code, title)| FixLine { code, title })
                .collect(),
            patch_operations: d.response.patch.as_ref().map(Vec::len),
            fixes_kept_for_user_fields: d.kept,
            duration_ms: elapsed.as_secs_f64() * 1000.0,
        }
    }
}

/// A server event (start, certificate reload, a request that could not be decoded).
#[derive(Serialize)]
pub struct EventLine<'a> {
    pub time: String,
    pub event: &'static str,
    pub message: &'a str,
}

impl<'a> EventLine<'a> {
    pub fn new(event: &'static str, message: &'a str) -> Self {
        Self {
            time: rfc3339(SystemTime::now()),
            event,
            message,
        }
    }
}

/// `2026-11-28T10:30:46.123Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_795_861_846_123);
        assert_eq!(rfc3339(t), "2026-11-28T10:30:46.123Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000Z");
    }
}
