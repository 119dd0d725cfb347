//! Logging: to stderr, as plain text or one JSON object per line, with terminal colours only
//! when stderr is a terminal (never into a file or a pipe).

use std::fmt;
use std::io::IsTerminal;
use std::time::{Duration, UNIX_EPOCH};

use clap::ValueEnum;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::field::{MakeVisitor, VisitFmt, VisitOutput};
use tracing_subscriber::fmt::format::{DefaultVisitor, Format, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

use crate::domain::time::{civil_from_days, digits};

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
            .event_format(PlainLine { timestamps: true })
            .try_init(),
        LogFormat::Json => builder.json().with_ansi(false).try_init(),
    };
}

/// A plain line as tracing-subscriber's default format (`Full`) writes it, but written
/// directly where that format goes through `core::fmt` for every part (the time, the level,
/// the spans, the target), and its calendar for the time: every action call writes a line
/// (SPEC 13). With colours (a terminal), it is that format's own line.
struct PlainLine {
    /// Whether a line begins with the time (tests leave it out, to compare lines).
    timestamps: bool,
}

impl<S, N> FormatEvent<S, N> for PlainLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        if writer.has_ansi_escapes() {
            let colored = Format::default();
            return if self.timestamps {
                colored.format_event(ctx, writer, event)
            } else {
                colored.without_time().format_event(ctx, writer, event)
            };
        }
        if self.timestamps {
            write_now(&mut writer)?;
            writer.write_char(' ')?;
        }
        let meta = event.metadata();
        writer.write_str(level(meta.level()))?;
        writer.write_char(' ')?;
        if let Some(scope) = ctx.event_scope() {
            let mut seen = false;
            for span in scope.from_root() {
                writer.write_str(span.metadata().name())?;
                seen = true;
                if let Some(fields) = span.extensions().get::<FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    writer.write_char('{')?;
                    writer.write_str(fields)?;
                    writer.write_char('}')?;
                }
                writer.write_char(':')?;
            }
            if seen {
                writer.write_char(' ')?;
            }
        }
        writer.write_str(meta.target())?;
        writer.write_str(": ")?;
        ctx.format_fields(writer.by_ref(), event)?;
        writer.write_char('\n')
    }
}

/// A level as the default format writes it without colours: five characters wide.
fn level(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "TRACE",
        Level::DEBUG => "DEBUG",
        Level::INFO => " INFO",
        Level::WARN => " WARN",
        Level::ERROR => "ERROR",
    }
}

/// The time now, as tracing-subscriber's `SystemTime` writes it:
/// `2026-12-05T17:04:05.123456Z`.
fn write_now(writer: &mut Writer<'_>) -> fmt::Result {
    match std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(log_time)
    {
        Some(text) => writer.write_str(std::str::from_utf8(&text).unwrap_or_default()),
        None => SystemTime.format_time(writer),
    }
}

/// `since_epoch` as `2026-12-05T17:04:05.123456Z`, for years up to 9999.
fn log_time(since_epoch: Duration) -> Option<[u8; 27]> {
    let seconds = i64::try_from(since_epoch.as_secs()).ok()?;
    let (year, month, day) = civil_from_days(seconds / 86_400);
    let year = u32::try_from(year).ok().filter(|year| *year <= 9999)?;
    let of_day = (seconds % 86_400) as u32;
    let mut text = *b"0000-00-00T00:00:00.000000Z";
    digits(&mut text[0..4], year);
    digits(&mut text[5..7], month);
    digits(&mut text[8..10], day);
    digits(&mut text[11..13], of_day / 3600);
    digits(&mut text[14..16], of_day / 60 % 60);
    digits(&mut text[17..19], of_day % 60);
    digits(&mut text[20..26], since_epoch.subsec_micros());
    Some(text)
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

    fn record_f64(&mut self, field: &Field, value: f64) {
        let written = match thousandths(value) {
            Some(thousandths) => self.write(field, |w| write_thousandths(w, thousandths)),
            None => false,
        };
        if !written {
            self.delegate(|v| v.record_f64(field, value));
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

/// `value` in thousandths, when it is a whole number of them (a duration in milliseconds
/// counted in microseconds) below 10^12, so that `Debug` writes it as [`write_thousandths`]
/// does: a decimal of at most 15 digits is the shortest text that reads back as the nearest
/// `f64`, and no shorter one reads back as the same.
fn thousandths(value: f64) -> Option<u64> {
    // `Debug` writes -0.0 with its sign.
    if !(0.0..1e12).contains(&value) || value.is_sign_negative() {
        return None;
    }
    let thousandths = (value * 1000.0).round();
    // Exact: below 10^15, a whole f64 is a u64, and the division is rounded as parsing is.
    (thousandths / 1000.0 == value).then_some(thousandths as u64)
}

/// `thousandths` / 1000 as `Debug` writes an `f64`: no trailing zeros, but at least one
/// decimal (`1.0`, `1.5`, `0.001`).
fn write_thousandths(w: &mut Writer<'_>, thousandths: u64) -> fmt::Result {
    w.write_str(itoa::Buffer::new().format(thousandths / 1000))?;
    let mut decimals = [b'0'; 3];
    digits(&mut decimals, (thousandths % 1000) as u32);
    let kept = decimals
        .iter()
        .rposition(|&d| d != b'0')
        .map_or(1, |last| last + 1);
    w.write_char('.')?;
    w.write_str(std::str::from_utf8(&decimals[..kept]).unwrap_or("0"))
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
            for duration_ms in [
                0.0,
                -0.0,
                0.001,
                0.01,
                1.0,
                1.2,
                1.234,
                12.5,
                999.999,
                1_000.0,
                86_400_000.123,
                999_999_999_999.999,
                1e12,
                1.0005,
                0.1 + 0.2,
                -1.5,
                f64::NAN,
                f64::INFINITY,
                1e-7,
            ] {
                tracing::info!(duration_ms, "timed");
            }
            tracing::info!(r#type = text, "{text}");
            let span = tracing::info_span!("commit", writes = 2u64, who = text);
            let _entered = span.enter();
            tracing::warn!(%error, reason = ?text, "failed");
        }
        tracing::info!(message = "a message with \u{7} a bell");
        tracing::error!(code = 105u64, "an error");
        tracing::debug!(target: "fastcall_emulator::action", "a debug line");
        tracing::trace!(nothing = "much");
    }

    /// What `log_everything` logs, written with `fields` by `format`, without the time.
    fn lines<F, E>(fields: F, format: E, ansi: bool) -> String
    where
        F: for<'w> tracing_subscriber::fmt::FormatFields<'w> + Send + Sync + 'static,
        E: FormatEvent<tracing_subscriber::Registry, F> + Send + Sync + 'static,
    {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .fmt_fields(fields)
            .with_ansi(ansi)
            .event_format(format)
            .with_writer(captured.clone())
            .with_max_level(Level::TRACE)
            .finish();
        tracing::subscriber::with_default(subscriber, log_everything);
        String::from_utf8(captured.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn plain_lines_are_written_as_tracing_writes_them() {
        for ansi in [false, true] {
            let expected = lines(DefaultFields::new(), Format::default().without_time(), ansi);
            assert!(
                ansi || expected.contains(
                    " INFO fastcall_emulator::telemetry::tests: action call request_id=\"req-1\" \
                     org=req-1 count=3"
                ),
                "{expected}"
            );
            assert!(ansi || expected.contains("commit{writes=2 who=\"req-1\"}: "));
            assert_eq!(
                lines(PlainFields, PlainLine { timestamps: false }, ansi),
                expected
            );
        }
    }

    #[test]
    fn the_time_is_written_as_tracing_writes_it() {
        for (seconds, nanos) in [
            (0, 0),
            (951_782_400, 999_999_999),
            (1_764_943_445, 123_456_789),
            (1_767_225_599, 1_000),
            (253_402_300_799, 7_000),
        ] {
            let expected = chrono::DateTime::from_timestamp(seconds, nanos)
                .unwrap()
                .format("%Y-%m-%dT%H:%M:%S%.6fZ")
                .to_string();
            let since = Duration::new(u64::try_from(seconds).unwrap(), nanos);
            let text = log_time(since).expect("a year up to 9999");
            assert_eq!(std::str::from_utf8(&text).unwrap(), expected);
        }
        assert_eq!(log_time(Duration::from_secs(253_402_300_800)), None);
    }
}
