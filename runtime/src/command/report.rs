//! What a checking command found: sections of one-line findings, each OK,
//! a warning or an error, with the data a machine reads beside the
//! sentence a person reads; written as text (a heading per section, a line
//! per finding, the counts last) or as one JSON document carrying the same
//! sentences.

use std::io::{self, Write};

use serde_json::{Map, Value, json};

/// How a finding reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Ok,
    Warning,
    Error,
}

impl Status {
    /// The word of the text output.
    fn word(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Warning => "WARNING",
            Status::Error => "ERROR",
        }
    }

    /// The value of the JSON output.
    fn key(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Error => "error",
        }
    }
}

/// One finding.
#[derive(Debug)]
pub(crate) struct Finding {
    status: Status,
    message: String,
    data: Map<String, Value>,
}

impl Finding {
    /// Adds a field for machines (`"key": "tracing.sample_rate"`).
    pub(crate) fn with(&mut self, name: &str, value: impl Into<Value>) -> &mut Self {
        self.data.insert(name.to_owned(), value.into());
        self
    }
}

/// Findings under one heading.
#[derive(Debug)]
pub(crate) struct Section {
    /// The JSON name, `snake_case`.
    name: &'static str,
    /// The text heading.
    title: String,
    findings: Vec<Finding>,
}

impl Section {
    pub(crate) fn new(name: &'static str, title: impl Into<String>) -> Section {
        Section {
            name,
            title: title.into(),
            findings: Vec::new(),
        }
    }

    /// Adds a finding. The message is one line: a line break in it (from
    /// an error's text) becomes a space.
    pub(crate) fn add(&mut self, status: Status, message: impl Into<String>) -> &mut Finding {
        let message: String = message.into();
        let message = if message.contains(['\n', '\r']) {
            message
                .split(['\n', '\r'])
                .filter(|part| !part.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            message
        };
        self.findings.push(Finding {
            status,
            message,
            data: Map::new(),
        });
        self.findings.last_mut().expect("just pushed")
    }

    /// Adds the findings of `other` after this section's.
    pub(crate) fn append(&mut self, other: Section) {
        self.findings.extend(other.findings);
    }

    pub(crate) fn ok(&mut self, message: impl Into<String>) -> &mut Finding {
        self.add(Status::Ok, message)
    }

    pub(crate) fn warning(&mut self, message: impl Into<String>) -> &mut Finding {
        self.add(Status::Warning, message)
    }

    pub(crate) fn error(&mut self, message: impl Into<String>) -> &mut Finding {
        self.add(Status::Error, message)
    }
}

/// Every section, and facts about the whole run for machines.
#[derive(Debug)]
pub(crate) struct Report {
    /// The first line of the text output.
    heading: String,
    sections: Vec<Section>,
    facts: Map<String, Value>,
}

/// How many findings of each status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Counts {
    pub(crate) ok: usize,
    pub(crate) warnings: usize,
    pub(crate) errors: usize,
}

impl Report {
    pub(crate) fn new(heading: impl Into<String>) -> Report {
        Report {
            heading: heading.into(),
            sections: Vec::new(),
            facts: Map::new(),
        }
    }

    pub(crate) fn push(&mut self, section: Section) {
        self.sections.push(section);
    }

    /// A top-level field of the JSON document (`"service": "checkout"`).
    pub(crate) fn fact(&mut self, name: &str, value: impl Into<Value>) {
        self.facts.insert(name.to_owned(), value.into());
    }

    pub(crate) fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for finding in self.sections.iter().flat_map(|s| &s.findings) {
            match finding.status {
                Status::Ok => counts.ok += 1,
                Status::Warning => counts.warnings += 1,
                Status::Error => counts.errors += 1,
            }
        }
        counts
    }

    /// The text output: the heading, each section's title and findings
    /// (`  OK       message`), and the counts.
    pub(crate) fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{}", self.heading)?;
        for section in &self.sections {
            writeln!(out, "\n{}", section.title)?;
            for finding in &section.findings {
                writeln!(out, "  {:<8} {}", finding.status.word(), finding.message)?;
            }
        }
        writeln!(out, "\n{}", self.counts().summary())
    }

    /// The JSON document: `schema_version`, the facts, `sections` (each
    /// `name`, `title`, `findings`: `status`, `message` and the data) and
    /// `summary` (`ok`, `warnings`, `errors`).
    pub(crate) fn to_json(&self, schema_version: u32) -> Value {
        let mut document = Map::new();
        document.insert("schema_version".to_owned(), schema_version.into());
        document.extend(self.facts.clone());
        let sections: Vec<Value> = self
            .sections
            .iter()
            .map(|section| {
                let findings: Vec<Value> = section
                    .findings
                    .iter()
                    .map(|finding| {
                        let mut object = Map::new();
                        object.insert("status".to_owned(), finding.status.key().into());
                        object.insert("message".to_owned(), finding.message.clone().into());
                        object.extend(finding.data.clone());
                        Value::Object(object)
                    })
                    .collect();
                json!({ "name": section.name, "title": section.title, "findings": findings })
            })
            .collect();
        document.insert("sections".to_owned(), sections.into());
        let counts = self.counts();
        document.insert(
            "summary".to_owned(),
            json!({ "ok": counts.ok, "warnings": counts.warnings, "errors": counts.errors }),
        );
        Value::Object(document)
    }
}

impl Counts {
    /// `12 OK, 1 warning, 0 errors`.
    pub(crate) fn summary(self) -> String {
        let plural = |n: usize, word: &str| {
            if n == 1 {
                format!("{n} {word}")
            } else {
                format!("{n} {word}s")
            }
        };
        format!(
            "{} OK, {}, {}",
            self.ok,
            plural(self.warnings, "warning"),
            plural(self.errors, "error")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        let mut report = Report::new("o11y check of `shop`");
        report.fact("service", "shop");
        let mut section = Section::new("otlp", "OTLP export");
        section.ok("reachable").with("endpoint", "http://c:4317");
        section.error("refused:\nconnection reset");
        report.push(section);
        report
    }

    #[test]
    fn text_has_a_line_per_finding_and_the_counts() {
        let mut out = Vec::new();
        sample().write_text(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "o11y check of `shop`\n\nOTLP export\n  OK       reachable\n  \
             ERROR    refused: connection reset\n\n1 OK, 0 warnings, 1 error\n"
        );
    }

    #[test]
    fn json_carries_the_same_sentences_and_the_data() {
        let document = sample().to_json(1);
        assert_eq!(
            document,
            json!({
                "schema_version": 1,
                "service": "shop",
                "sections": [{
                    "name": "otlp",
                    "title": "OTLP export",
                    "findings": [
                        { "status": "ok", "message": "reachable", "endpoint": "http://c:4317" },
                        { "status": "error", "message": "refused: connection reset" },
                    ],
                }],
                "summary": { "ok": 1, "warnings": 0, "errors": 1 },
            })
        );
    }
}
