//! A JSON writer for the views made on every request: the actions' output maps and the
//! event payloads of messages, calls and status changes.
//!
//! serde_json escapes every key and every string a byte at a time, and goes through its map
//! machinery for a `#[serde(flatten)]` view: together about 15,000 instructions per SMS.
//! Here a key is one literal copy, and the values that hold nothing to escape by
//! construction (Ids, dialled numbers, instants, picklist names, numbers) are copied as they
//! are; only free text is scanned, eight bytes at a time. What is written is what
//! serde_json writes for the same view, byte for byte (the tests compare the two), so the
//! views keep their `Serialize` derives for every other use.

use crate::domain::objects::{Direction, StatusType};
use crate::domain::{CallStatus, DialledNumber, Encoding, SalesforceId, SmsStatus, Timestamp};
use crate::records::{StatusHistory, StatusStep};

/// A view the writer writes: the fields of its JSON object, in the order its `Serialize`
/// derive writes them.
pub trait WriteJson {
    fn write_fields(&self, object: &mut Object<'_>);
}

/// `view` as JSON text, in room for a message's payload from the start (as
/// [`super::to_json`]).
pub fn to_string(view: &impl WriteJson) -> String {
    let mut out = String::with_capacity(1024);
    write_object(&mut out, view);
    out
}

/// `"name":`, a key as [`Object::field`] takes it. A literal, checked when it is compiled to
/// hold nothing to escape, so it is written as it is.
macro_rules! key {
    ($name:literal) => {
        const {
            assert!(
                $crate::views::json::is_plain($name),
                "a key must hold nothing to escape"
            );
            concat!("\"", $name, "\":")
        }
    };
}
pub(crate) use key;

/// An object being written: its fields go in through [`Object::field`].
pub struct Object<'a> {
    out: &'a mut String,
    /// Whether no field was written yet: the fields after the first are preceded by a comma.
    is_empty: bool,
}

impl Object<'_> {
    /// Writes `key` (made by [`key!`]: `"name":`), then `value`.
    pub fn field(&mut self, key: &'static str, value: &(impl JsonValue + ?Sized)) {
        if !std::mem::take(&mut self.is_empty) {
            self.out.push(',');
        }
        self.out.push_str(key);
        value.write_json(self.out);
    }
}

fn write_object(out: &mut String, view: &(impl WriteJson + ?Sized)) {
    out.push('{');
    view.write_fields(&mut Object {
        out,
        is_empty: true,
    });
    out.push('}');
}

/// A value, written as serde_json writes it.
pub trait JsonValue {
    fn write_json(&self, out: &mut String);
}

impl<T: JsonValue + ?Sized> JsonValue for &T {
    fn write_json(&self, out: &mut String) {
        (**self).write_json(out);
    }
}

impl<T: JsonValue> JsonValue for Option<T> {
    fn write_json(&self, out: &mut String) {
        match self {
            Some(value) => value.write_json(out),
            None => out.push_str("null"),
        }
    }
}

/// Free text: a message's body, a media URL, an error message, a provider's id.
impl JsonValue for str {
    fn write_json(&self, out: &mut String) {
        write_escaped(out, self);
    }
}

impl JsonValue for String {
    fn write_json(&self, out: &mut String) {
        write_escaped(out, self);
    }
}

impl JsonValue for bool {
    fn write_json(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" });
    }
}

/// Integers, written by itoa as serde_json writes them.
macro_rules! integers {
    ($($integer:ty),+) => {$(
        impl JsonValue for $integer {
            fn write_json(&self, out: &mut String) {
                out.push_str(itoa::Buffer::new().format(*self));
            }
        }
    )+};
}

integers!(i32, u32);

/// Ids are ASCII letters and digits, whether parsed or generated.
impl JsonValue for SalesforceId {
    fn write_json(&self, out: &mut String) {
        write_plain(out, self.as_str());
    }
}

/// Dialled numbers are `+` and ASCII digits.
impl JsonValue for DialledNumber {
    fn write_json(&self, out: &mut String) {
        write_plain(out, self.as_str());
    }
}

/// Instants are ASCII digits, signs and separators.
impl JsonValue for Timestamp {
    fn write_json(&self, out: &mut String) {
        out.push('"');
        let start = out.len();
        self.push_to(out);
        debug_assert!(
            is_plain(&out[start..]),
            "{:?} needs escaping",
            &out[start..]
        );
        out.push('"');
    }
}

/// Picklists: their names are literals with nothing to escape.
macro_rules! names {
    ($($picklist:ty),+) => {$(
        impl JsonValue for $picklist {
            fn write_json(&self, out: &mut String) {
                write_plain(out, self.as_str());
            }
        }
    )+};
}

names!(CallStatus, Direction, Encoding, SmsStatus, StatusType);

impl<S: JsonValue> JsonValue for StatusHistory<S> {
    fn write_json(&self, out: &mut String) {
        out.push('[');
        for (i, step) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_object(out, step);
        }
        out.push(']');
    }
}

impl<S: JsonValue> WriteJson for StatusStep<S> {
    fn write_fields(&self, object: &mut Object<'_>) {
        let Self {
            status,
            date,
            error_code,
        } = self;
        object.field(key!("status"), status);
        object.field(key!("date"), date);
        object.field(key!("errorCode"), error_code);
    }
}

/// Whether `byte` is escaped in a JSON string: `"`, `\` and the control characters.
const fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// Whether `text` holds nothing to escape, so it is written between quotes as it is.
pub const fn is_plain(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if needs_escape(bytes[i]) {
            return false;
        }
        i += 1;
    }
    true
}

/// `text`, which holds nothing to escape by construction, between quotes as it is.
fn write_plain(out: &mut String, text: &str) {
    debug_assert!(is_plain(text), "{text:?} needs escaping");
    out.push('"');
    out.push_str(text);
    out.push('"');
}

/// `text` as a JSON string, escaped as serde_json escapes it: `"`, `\` and the control
/// characters below U+0020, the common ones by letter (`\n`) and the others as `\u00XX`;
/// nothing else (not `/`, not what is not ASCII). The runs between escapes are copied whole.
fn write_escaped(out: &mut String, text: &str) {
    out.push('"');
    let mut rest = text;
    loop {
        let clean = clean_len(rest.as_bytes());
        // Up to an ASCII byte, or the end: a character boundary either way.
        let (run, escaped) = rest.split_at(clean);
        out.push_str(run);
        let Some(&byte) = escaped.as_bytes().first() else {
            break;
        };
        write_escape(out, byte);
        rest = &escaped[1..];
    }
    out.push('"');
}

fn write_escape(out: &mut String, byte: u8) {
    let escape = match byte {
        b'"' => "\\\"",
        b'\\' => "\\\\",
        b'\n' => "\\n",
        b'\r' => "\\r",
        b'\t' => "\\t",
        0x08 => "\\b",
        0x0c => "\\f",
        _ => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
            return;
        }
    };
    out.push_str(escape);
}

/// How many bytes `bytes` starts with that need no escape: the index of the first that does,
/// or the length.
///
/// Eight bytes at a time, as one word: a byte's high bit is set in `flags` when it is below
/// 0x20, or is `"` or `\` (zero once xored with that character). The subtractions borrow
/// only upwards, from a flagged byte into the ones above it, so the lowest flag (the first
/// byte, as the word is read little-endian) is always a byte that needs escaping.
fn clean_len(bytes: &[u8]) -> usize {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = ONES * 0x80;
    let below = |word: u64, limit: u8| word.wrapping_sub(ONES * u64::from(limit)) & !word;
    let mut words = bytes.chunks_exact(8);
    let mut len = 0;
    for word in &mut words {
        let word = u64::from_le_bytes(word.try_into().expect("chunks of eight bytes"));
        let quote = word ^ (ONES * u64::from(b'"'));
        let backslash = word ^ (ONES * u64::from(b'\\'));
        let flags = (below(word, 0x20) | below(quote, 1) | below(backslash, 1)) & HIGH;
        if flags != 0 {
            return len + (flags.trailing_zeros() / 8) as usize;
        }
        len += 8;
    }
    let tail = words.remainder();
    len + tail
        .iter()
        .position(|&byte| needs_escape(byte))
        .unwrap_or(tail.len())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde::Serialize;

    use super::*;
    use crate::domain::ProviderError;
    use crate::records::{Call, SmsMessage, StatusLogEntry};
    use crate::views::{
        CallItem, CallOutput, MessageItem, SmsOutput, StatusLogItem, UserStatusOutput,
    };

    /// The writer's text for `view`, checked to be serde_json's.
    #[track_caller]
    fn same(view: &(impl WriteJson + Serialize)) -> String {
        let written = to_string(view);
        assert_eq!(written, serde_json::to_string(view).unwrap());
        written
    }

    fn string(text: &str) -> String {
        let mut out = String::new();
        text.write_json(&mut out);
        out
    }

    fn id(text: &str) -> SalesforceId {
        SalesforceId::parse(text).unwrap()
    }

    fn number(text: &str) -> DialledNumber {
        DialledNumber::from_canonical(text).unwrap()
    }

    fn at(millis: i64) -> Timestamp {
        Timestamp::from_millis(millis)
    }

    /// Bodies, URLs and messages with something to escape, or nothing, or much.
    const TEXTS: &[&str] = &[
        "",
        "Hello",
        "Your code is 123456",
        "say \"hi\"",
        "C:\\path\\to",
        "line one\nline two\r\n\ttabbed",
        "\u{1}\u{8}\u{b}\u{c}\u{e}\u{1f}\u{7f}",
        "\0",
        "café, naïve, 日本語, 👋🏽",
        "https://example.com/a/b.png?x=1&y=</script>",
        "'single' <angle> & ampersand / slash",
        "\"",
        "\\",
        "ends with a newline\n",
        "\u{1f}starts with a control",
        "exactly8",
        "exactly8\"",
        "seventeen chars!\u{2}",
    ];

    fn message(body: &str, error: Option<ProviderError>, steps: usize) -> SmsMessage {
        let mut status_history = StatusHistory::starting(SmsStatus::Queued, at(0), None);
        for (i, status) in SmsStatus::ALL.iter().cycle().take(steps).enumerate() {
            let failed = (*status == SmsStatus::Failed)
                .then_some(error.as_ref())
                .flatten();
            status_history.push(*status, at(i as i64 * 1_001), failed);
        }
        SmsMessage {
            id: id("a0SDn000000Abc1"),
            provider_id: Some("SM0123456789abcdef0123456789abcdef".to_owned()),
            created_at: at(1_795_000_000_123),
            updated_at: at(1_795_000_001_000),
            direction: Direction::Outbound,
            owner_id: id("005Dn0000001Ada"),
            user_id: Some(id("005Dn0000001Ada")),
            phone_number_id: id("a0PDn0000001xyz"),
            from_phone: number("+14155550100"),
            to_phone: number("+447700900123"),
            body: body.to_owned(),
            media_url: Some("https://example.com/cat.jpg".to_owned()),
            related_record_id: Some(id("003Dn0000001Jan")),
            task_id: Some(id("00TDn0000001Tsk")),
            status: SmsStatus::Queued,
            status_history,
            error,
        }
    }

    fn bare_message(body: &str) -> SmsMessage {
        SmsMessage {
            provider_id: None,
            user_id: None,
            media_url: None,
            related_record_id: None,
            task_id: None,
            direction: Direction::Inbound,
            status: SmsStatus::Received,
            status_history: StatusHistory::default(),
            error: None,
            ..message(body, None, 0)
        }
    }

    fn call(error: Option<ProviderError>, steps: usize) -> Call {
        let mut status_history = StatusHistory::starting(CallStatus::Queued, at(0), None);
        for (i, status) in CallStatus::ALL.iter().cycle().take(steps).enumerate() {
            status_history.push(*status, at(-86_400_000 * i as i64), error.as_ref());
        }
        Call {
            id: id("a0CDn000000Cal1"),
            provider_id: Some("CA0123456789abcdef0123456789abcdef".to_owned()),
            created_at: at(1_795_000_000_000),
            updated_at: at(1_795_000_000_500),
            owner_id: id("00GDn0000001Grp"),
            user_id: id("005Dn0000001Ada"),
            phone_number_id: id("a0PDn0000001xyz"),
            from_phone: number("+14155550100"),
            to_phone: number("+61491570006"),
            ivr_id: id("a0IDn0000001Mnu"),
            related_record_id: Some(id("00QDn0000001Led")),
            task_id: Some(id("00TDn0000001Tsk")),
            status: CallStatus::Queued,
            status_history,
            error,
        }
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        for text in TEXTS {
            assert_eq!(
                string(text),
                serde_json::to_string(text).unwrap(),
                "{text:?}"
            );
        }
        for byte in 0..=0x7f_u8 {
            let text = char::from(byte).to_string();
            assert_eq!(
                string(&text),
                serde_json::to_string(&text).unwrap(),
                "{byte:#x}"
            );
        }
    }

    #[test]
    fn the_first_byte_to_escape_is_found_wherever_it_is() {
        for escape in [0_u8, 0x1f, b'"', b'\\'] {
            for other in [b'a', b' ', b'!', b'#', b'[', b']', 0x7f, 0x80, 0xff] {
                for len in 0..20 {
                    for first in 0..=len {
                        let mut bytes = vec![other; len];
                        for byte in bytes.iter_mut().skip(first).step_by(3) {
                            *byte = escape;
                        }
                        let expected = bytes.iter().position(|&b| needs_escape(b));
                        assert_eq!(clean_len(&bytes), expected.unwrap_or(len), "{bytes:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn keys_and_plain_text_need_no_escape() {
        assert_eq!(key!("mediaURL"), "\"mediaURL\":");
        assert!(is_plain(
            "GSM-7 In Progress +14155550100 2026-11-26T13:13:22.000+0000"
        ));
        assert!(!is_plain("a\"b"));
        assert!(!is_plain("a\\b"));
        assert!(!is_plain("a\nb"));
    }

    #[test]
    fn sms_outputs_and_messages_are_written_as_serde_json_writes_them() {
        let error = ProviderError {
            code: 30_008,
            message: "Unknown \"error\"\n\\ é".to_owned(),
        };
        for body in TEXTS {
            for message in [
                message(body, None, 1),
                message(body, Some(error.clone()), 20),
                bare_message(body),
            ] {
                same(&SmsOutput::from(&message));
                same(&MessageItem::from(&message));
            }
        }
        for status in SmsStatus::ALL {
            let message = SmsMessage {
                status: *status,
                ..message("Hi", None, 0)
            };
            same(&SmsOutput::from(&message));
            same(&MessageItem::from(&message));
        }
    }

    #[test]
    fn a_written_message_has_every_key_in_its_place() {
        let written = same(&MessageItem::from(&bare_message("Hi \"you\"")));
        assert_eq!(
            written,
            concat!(
                r#"{"createdDate":"2026-11-18T11:06:40.123+0000","direction":"Inbound","#,
                r#""id":"a0SDn000000Abc1MAC","owner":"005Dn0000001AdaIAE","#,
                r#""phoneNumberId":"a0PDn0000001xyzMAA","relatedRecordId":null,"smsId":null,"#,
                r#""status":"Received","taskId":null,"body":"Hi \"you\"","encoding":"GSM-7","#,
                r#""numSegments":1,"fromPhone":"+14155550100","toPhone":"+447700900123","#,
                r#""mediaURL":null,"userId":null,"errorCode":null,"errorMessage":null,"#,
                r#""statusHistory":[]}"#,
            )
        );
    }

    #[test]
    fn call_outputs_and_calls_are_written_as_serde_json_writes_them() {
        let error = ProviderError {
            code: -1,
            message: String::new(),
        };
        for call in [call(None, 0), call(None, 3), call(Some(error), 40)] {
            same(&CallOutput::from(&call));
            same(&CallItem::from(&call));
        }
        for status in CallStatus::ALL {
            let call = Call {
                status: *status,
                provider_id: None,
                related_record_id: None,
                task_id: None,
                ..call(None, 1)
            };
            same(&CallOutput::from(&call));
            same(&CallItem::from(&call));
        }
    }

    #[test]
    fn user_statuses_and_their_log_are_written_as_serde_json_writes_them() {
        for (from, to) in [
            (StatusType::Available, StatusType::Offline),
            (StatusType::Offline, StatusType::Available),
        ] {
            for some in [false, true] {
                let maybe = |text: &str| some.then(|| id(text));
                same(&UserStatusOutput {
                    user_id: id("005Dn0000001Ada"),
                    user_status_id: maybe("a0UDn0000001Sta"),
                    status_type: to,
                    previous_user_status_id: maybe("a0UDn0000001Stb"),
                    previous_status_type: from,
                    changed: some,
                    changed_date: some.then(|| at(1_795_000_000_000)),
                    log_id: maybe("a0LDn0000001Log"),
                });
                same(&StatusLogItem::from(&StatusLogEntry {
                    id: id("a0LDn0000001Log"),
                    user_id: id("005Dn0000001Ada"),
                    from_user_status_id: maybe("a0UDn0000001Stb"),
                    from_status_type: from,
                    to_user_status_id: maybe("a0UDn0000001Sta"),
                    to_status_type: to,
                    changed_at: at(-1),
                    changed_by: maybe("005Dn0000001Bob"),
                }));
            }
        }
    }

    #[test]
    fn instants_past_year_9999_are_written_as_serde_json_writes_them() {
        for millis in [253_402_300_800_000, -62_167_219_200_001, i64::MIN, i64::MAX] {
            let message = SmsMessage {
                created_at: at(millis),
                ..message("Hi", None, 2)
            };
            same(&MessageItem::from(&message));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn any_string_is_escaped_as_serde_json_escapes_it(text in any::<String>()) {
            prop_assert_eq!(string(&text), serde_json::to_string(&text).unwrap());
        }

        #[test]
        fn control_heavy_strings_are_escaped_as_serde_json_escapes_them(text in "[\\x00-\\x7f\"\\\\é👋]{0,40}") {
            prop_assert_eq!(string(&text), serde_json::to_string(&text).unwrap());
        }
    }
}
