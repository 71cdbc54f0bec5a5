use std::io::Write;

use palisade_diagnostics::Finding;
use palisade_rules::InputError;
use serde::Serialize;

use crate::{Reporter, Summary};

/// The version of the JSON report's shape (`schemas/report.schema.json`).
pub const JSON_REPORT_VERSION: u32 = 1;

/// One JSON document, streamed: `{"version":1,"tool":…,"findings":[…],"errors":[…],"summary":{…}}`.
pub struct JsonReporter<W: Write> {
    out: W,
    started: bool,
    first: bool,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    #[serde(flatten)]
    finding: &'a Finding,
    suppressed: bool,
}

impl<W: Write> JsonReporter<W> {
    pub fn new(out: W) -> Self {
        Self {
            out,
            started: false,
            first: true,
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
        for f in findings {
            if !self.first {
                self.out.write_all(b",")?;
            }
            self.first = false;
            self.out.write_all(b"\n")?;
            serde_json::to_writer(
                &mut self.out,
                &JsonFinding {
                    finding: f,
                    suppressed: f.suppressed.is_some(),
                },
            )?;
        }
        Ok(())
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
