use std::io::Write;

use palisade_diagnostics::{Finding, ObjectRef, Op, RelatedLocation, Route};
use palisade_rules::InputError;

use crate::{Reporter, Summary};

/// The version of the JSON report's shape (`schemas/report.schema.json`).
pub const JSON_REPORT_VERSION: u32 = 1;

/// How much encoded JSON is gathered before it is written.
const WRITE_BYTES: usize = 128 * 1024;

/// One JSON document, streamed: `{"version":1,"tool":…,"findings":[…],"errors":[…],"summary":{…}}`.
pub struct JsonReporter<W: Write> {
    out: W,
    started: bool,
    first: bool,
    /// A batch of findings is encoded here, then written at once.
    buf: Vec<u8>,
    /// Scratch space for routes, which are formatted before they are escaped.
    scratch: String,
}

impl<W: Write> JsonReporter<W> {
    pub fn new(out: W) -> Self {
        Self {
            out,
            started: false,
            first: true,
            buf: Vec::new(),
            scratch: String::new(),
        }
    }

    fn start(&mut self) -> std::io::Result<()> {
        if !self.started {
            self.started = true;
            write!(
                self.out,
                "{{\"version\":{JSON_REPORT_VERSION},\"tool\":{{\"name\":\"palisade\",\"version\":\"{}\"}},\"findings\":[",
                env!("CARGO_PKG_VERSION")
            )?;
        }
        Ok(())
    }
}

impl<W: Write> Reporter for JsonReporter<W> {
    fn findings(&mut self, _file: Option<&str>, findings: &[&Finding]) -> std::io::Result<()> {
        self.start()?;
        self.buf.clear();
        for f in findings {
            if !self.first {
                self.buf.push(b',');
            }
            self.first = false;
            self.buf.push(b'\n');
            encode_finding(&mut self.buf, &mut self.scratch, f);
            // A large batch goes out in pieces, so the buffer stays small.
            if self.buf.len() >= WRITE_BYTES {
                self.out.write_all(&self.buf)?;
                self.buf.clear();
            }
        }
        self.out.write_all(&self.buf)
    }

    fn finish(&mut self, errors: &[InputError], summary: &Summary) -> std::io::Result<()> {
        self.start()?;
        self.out.write_all(b"\n],\"errors\":")?;
        serde_json::to_writer(&mut self.out, errors)?;
        self.out.write_all(b",\"summary\":")?;
        serde_json::to_writer(&mut self.out, summary)?;
        self.out.write_all(b"}\n")?;
        self.out.flush()
    }
}

/// Encodes one finding as the report's JSON object: the fields of [`Finding`]'s `Serialize`
/// in the same order, plus `suppressed`. Written by hand because the report of a large
/// estate is mostly this, and serde's flattening and byte-wise escaping made it the slowest
/// part of a scan; `encodes_like_serde` keeps the two identical.
pub fn encode_finding(out: &mut Vec<u8>, scratch: &mut String, f: &Finding) {
    out.extend_from_slice(b"{\"code\":");
    string(out, f.code);
    out.extend_from_slice(b",\"name\":");
    string(out, f.name);
    out.extend_from_slice(b",\"severity\":");
    string(out, f.severity.as_str());
    out.extend_from_slice(b",\"section\":");
    string(out, f.section.as_str());
    out.extend_from_slice(b",\"message\":");
    string(out, &f.message);
    out.extend_from_slice(b",\"remediation\":");
    string(out, &f.remediation);
    out.extend_from_slice(b",\"resource\":");
    object_ref(out, &f.resource);
    out.extend_from_slice(b",\"container\":");
    match &f.container {
        Some(c) => {
            out.extend_from_slice(b"{\"name\":");
            string(out, &c.name);
            out.extend_from_slice(b",\"kind\":");
            string(out, c.kind.as_str());
            out.push(b'}');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"file\":");
    opt_string(out, f.file.as_deref());
    out.extend_from_slice(b",\"line\":");
    opt_number(out, f.line);
    out.extend_from_slice(b",\"column\":");
    opt_number(out, f.column);
    out.extend_from_slice(b",\"endLine\":");
    opt_number(out, f.end_line);
    out.extend_from_slice(b",\"endColumn\":");
    opt_number(out, f.end_column);
    out.extend_from_slice(b",\"byteRange\":");
    match f.range {
        Some(r) => {
            out.push(b'[');
            number(out, r.start);
            out.push(b',');
            number(out, r.end);
            out.push(b']');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"path\":");
    string(out, &f.path);
    out.extend_from_slice(b",\"missing\":");
    opt_string(out, f.missing.as_deref());
    out.extend_from_slice(b",\"kubeaudit_code\":");
    opt_string(out, f.kubeaudit_code.as_deref());
    out.extend_from_slice(b",\"pss\":");
    match &f.pss {
        Some(p) => {
            out.extend_from_slice(b"{\"level\":");
            string(out, p.level.as_str());
            out.extend_from_slice(b",\"control\":");
            string(out, p.control);
            out.push(b'}');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"suppression\":");
    match &f.suppressed {
        Some(s) => {
            out.extend_from_slice(b"{\"by\":");
            string(out, &s.by);
            out.extend_from_slice(b",\"reason\":");
            opt_string(out, s.reason.as_deref());
            out.push(b'}');
        }
        None => out.extend_from_slice(b"null"),
    }
    if let Some(kubectl) = &f.kubectl {
        out.extend_from_slice(b",\"kubectl\":");
        string(out, kubectl);
    }
    out.extend_from_slice(b",\"related\":[");
    for (i, r) in f.related.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        related(out, r);
    }
    out.push(b']');
    if let Some(fix) = &f.fix {
        out.extend_from_slice(b",\"fix\":{\"title\":");
        string(out, &fix.title);
        out.extend_from_slice(b",\"applicability\":");
        string(out, fix.applicability.as_str());
        if let Some(caveat) = &fix.caveat {
            out.extend_from_slice(b",\"caveat\":");
            string(out, caveat);
        }
        out.extend_from_slice(b",\"ops\":[");
        for (i, op) in fix.ops.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let (name, route, value) = match op {
                Op::Set { route, value } => ("set", route, Some(value)),
                Op::Append { route, value } => ("append", route, Some(value)),
                Op::Remove { route } => ("remove", route, None),
            };
            out.extend_from_slice(b"{\"op\":");
            string(out, name);
            out.extend_from_slice(b",\"route\":");
            route_string(out, scratch, route);
            if let Some(value) = value {
                out.extend_from_slice(b",\"value\":");
                // Writing into a Vec cannot fail, and a JSON value always serializes.
                let _ = serde_json::to_writer(&mut *out, value);
            }
            out.push(b'}');
        }
        out.extend_from_slice(b"]}");
    }
    out.extend_from_slice(b",\"suppressed\":");
    out.extend_from_slice(if f.suppressed.is_some() {
        b"true}"
    } else {
        b"false}"
    });
}

fn object_ref(out: &mut Vec<u8>, r: &ObjectRef) {
    out.extend_from_slice(b"{\"apiVersion\":");
    string(out, &r.api_version);
    out.extend_from_slice(b",\"kind\":");
    string(out, &r.kind);
    out.extend_from_slice(b",\"namespace\":");
    opt_string(out, r.namespace.as_deref());
    out.extend_from_slice(b",\"name\":");
    opt_string(out, r.name.as_deref());
    out.push(b'}');
}

fn related(out: &mut Vec<u8>, r: &RelatedLocation) {
    out.extend_from_slice(b"{\"message\":");
    string(out, &r.message);
    out.extend_from_slice(b",\"resource\":");
    object_ref(out, &r.resource);
    out.extend_from_slice(b",\"path\":");
    string(out, &r.path);
    out.extend_from_slice(b",\"file\":");
    opt_string(out, r.file.as_deref());
    out.extend_from_slice(b",\"line\":");
    opt_number(out, r.line);
    out.extend_from_slice(b",\"column\":");
    opt_number(out, r.column);
    out.push(b'}');
}

fn route_string(out: &mut Vec<u8>, scratch: &mut String, route: &Route) {
    use std::fmt::Write as _;
    scratch.clear();
    // Formatting into a String cannot fail.
    let _ = write!(scratch, "{route}");
    string(out, scratch);
}

fn opt_string(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => string(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

fn opt_number(out: &mut Vec<u8>, n: Option<u32>) {
    match n {
        Some(n) => number(out, n),
        None => out.extend_from_slice(b"null"),
    }
}

fn number(out: &mut Vec<u8>, n: u32) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// A JSON string, escaped exactly as serde_json escapes it: `"` and `\`, and control
/// characters as `\n`-style escapes or `\u00XX`; everything else, non-ASCII included, as is.
fn string(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // Most strings need no escape at all: one check over the whole string (a fold without
    // early exit, which the compiler vectorises), one copy.
    if !bytes.iter().fold(false, |any, &b| any | needs_escape(b)) {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !needs_escape(b) {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        start = i + 1;
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[inline(always)]
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_like_serde() {
        let samples = [
            "",
            "plain",
            "quote \" and backslash \\",
            "line\nbreak\r\ttab",
            "\u{0}\u{1}\u{8}\u{b}\u{c}\u{1f}\u{7f}",
            "non-ASCII: é ü 漢字 \u{2028} \u{2029} 🙂",
            "\\\"\\\"",
            "ends with \\",
        ];
        for s in samples {
            let mut out = Vec::new();
            string(&mut out, s);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(s).unwrap(),
                "{s:?}"
            );
        }
        for b in 0u8..=0x7f {
            let s = char::from(b).to_string();
            let mut out = Vec::new();
            string(&mut out, &s);
            assert_eq!(out, serde_json::to_vec(&s).unwrap(), "byte {b:#x}");
        }
    }
}
