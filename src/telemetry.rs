//! Logging: to stderr, as plain text or one JSON object per line, with terminal colours only
//! when stderr is a terminal (never into a file or a pipe).

use std::io::IsTerminal;

use std::fmt;

use clap::ValueEnum;
use tracing::field::{Field, Visit};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::field::{MakeVisitor, VisitFmt, VisitOutput};
use tracing_subscriber::fmt::format::{DefaultVisitor, Writer};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// `2026-12-04T17:00:00Z  INFO target: message key=value ...`
    Plain,
    /// One JSON object per line: `timestamp`, `level`, `target`, `fields`.
    Json,
}

/// Directives added to every filter the user does not override: PostgreSQL's notices (at
/// start, "relation _sqlx_migrations already exists, skipping") are not news at info.
const QUIET: &str = "sqlx::postgres::notice=warn";

/// Logs to stderr, filtered by `filter` (EnvFilter syntax); a bad filter falls back to `info`.
pub fn init(filter: &str, format: LogFormat) {
    let directives = if filter.contains("sqlx") {
        filter.to_owned()
    } else {
        format!("{filter},{QUIET}")
    };
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|error| {
        eprintln!("invalid log filter `{filter}` ({error}); using `info`");
        EnvFilter::new(format!("info,{QUIET}"))
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Plain => builder
            .fmt_fields(PlainFields)
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder.json().with_ansi(false).try_init(),
    };
}

/// The fields of a plain line, written as tracing-subscriber's `DefaultFields` writes them,
/// but without `core::fmt` for the common values: every action call writes a line (SPEC 13),
/// and formatting its strings and numbers through `Debug` cost more than the rest of the
/// line. A value the fast path cannot write exactly alike (one to escape, a float, anything
/// `Debug`, or any field when the line has colours) goes to `DefaultVisitor` itself.
struct PlainFields;

impl<'a> MakeVisitor<Writer<'a>> for PlainFields {
    type Visitor = PlainVisitor<'a>;

    fn make_visitor(&self, writer: Writer<'a>) -> PlainVisitor<'a> {
        PlainVisitor {
            writer,
            is_empty: true,
            result: Ok(()),
        }
    }
}

struct PlainVisitor<'a> {
    writer: Writer<'a>,
    /// Whether nothing was written yet: the fields after the first are preceded by a space.
    is_empty: bool,
    result: fmt::Result,
}

impl PlainVisitor<'_> {
    /// Writes `name=` (or nothing, for the message) and then `value`, if the line has no
    /// colours; says whether it did.
    fn write(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'_>) -> fmt::Result) -> bool {
        if self.writer.has_ansi_escapes() || field.name().starts_with("r#") {
            return false;
        }
        if self.result.is_ok() {
            self.result = self.write_field(field.name(), value);
        }
        true
    }

    fn write_field(
        &mut self,
        name: &str,
        value: impl FnOnce(&mut Writer<'_>) -> fmt::Result,
    ) -> fmt::Result {
        if !std::mem::take(&mut self.is_empty) {
            self.writer.write_char(' ')?;
        }
        if name != "message" {
            self.writer.write_str(name)?;
            self.writer.write_char('=')?;
        }
        value(&mut self.writer)
    }

    /// Writes the field as `DefaultVisitor` does, by having it do so.
    fn delegate(&mut self, record: impl FnOnce(&mut DefaultVisitor<'_>)) {
        if self.result.is_err() {
            return;
        }
        let mut visitor =
            DefaultVisitor::new(self.writer.by_ref(), std::mem::take(&mut self.is_empty));
        record(&mut visitor);
        self.result = visitor.finish();
    }
}

/// Whether `Debug` writes `text` as it is, between quotes: printable ASCII but `"` and `\`.
fn plain_ascii(text: &str) -> bool {
    text.bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
}

impl Visit for PlainVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        // A message is written unquoted, with terminal escapes escaped: none in printable ASCII.
        let as_is = if field.name() == "message" {
            value.bytes().all(|b| (b' '..=b'~').contains(&b))
        } else {
            plain_ascii(value)
        };
        let quoted = field.name() != "message";
        if as_is
            && self.write(field, |w| {
                if quoted {
                    w.write_char('"')?;
                    w.write_str(value)?;
                    w.write_char('"')
                } else {
                    w.write_str(value)
                }
            })
        {
            return;
        }
        self.delegate(|v| v.record_str(field, value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if !self.write(field, |w| w.write_str(itoa::Buffer::new().format(value))) {
            self.delegate(|v| v.record_u64(field, value));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if !self.write(field, |w| w.write_str(itoa::Buffer::new().format(value))) {
            self.delegate(|v| v.record_i64(field, value));
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if !self.write(field, |w| w.write_str(if value { "true" } else { "false" })) {
            self.delegate(|v| v.record_bool(field, value));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.delegate(|v| v.record_error(field, value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.delegate(|v| v.record_debug(field, value));
    }
}

impl VisitOutput<fmt::Result> for PlainVisitor<'_> {
    fn finish(self) -> fmt::Result {
        self.result
    }
}

impl VisitFmt for PlainVisitor<'_> {
    fn writer(&mut self) -> &mut dyn fmt::Write {
        &mut self.writer
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;
    use tracing_subscriber::fmt::format::DefaultFields;

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Captured {
            self.clone()
        }
    }

    /// Lines of every kind of field, from values written as they are to values to escape.
    fn log_everything() {
        let error = std::io::Error::other("the disk is full");
        for text in [
            "req-1",
            "",
            "with \"quotes\"",
            "back\\slash",
            "tab\there",
            "é",
            "\u{1b}[31m",
        ] {
            tracing::info!(request_id = text, org = %text, count = 3u64, delta = -7i64, ok = true, ratio = 1.5, "action call");
            tracing::info!(r#type = text, "{text}");
            let span = tracing::info_span!("commit", writes = 2u64, who = text);
            let _entered = span.enter();
            tracing::warn!(%error, reason = ?text, "failed");
        }
        tracing::info!(message = "a message with \u{7} a bell");
    }

    fn lines(
        fields: impl for<'w> tracing_subscriber::fmt::FormatFields<'w> + Send + Sync + 'static,
        ansi: bool,
    ) -> String {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .fmt_fields(fields)
            .with_writer(captured.clone())
            .with_ansi(ansi)
            .without_time()
            .finish();
        tracing::subscriber::with_default(subscriber, log_everything);
        String::from_utf8(captured.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn plain_fields_are_written_as_tracing_writes_them() {
        for ansi in [false, true] {
            let expected = lines(DefaultFields::new(), ansi);
            assert!(
                ansi || expected.contains("request_id=\"req-1\" org=req-1 count=3"),
                "{expected}"
            );
            assert_eq!(lines(PlainFields, ansi), expected);
        }
    }
}
