//! Hostile inputs in every string input of every action, direct and bulk: injection and
//! template strings, format strings, 10 MB strings, bytes that are not UTF-8, deep nesting,
//! huge arrays and numbers. Each gets the field's 4xx (a body text is stored verbatim), never
//! a 5xx, and the database keeps working. Hostile query strings and paths: `hostile_urls`.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::*;
use crate::backend_tests;
use crate::helpers::*;

pub(super) const HOSTILE: [&str; 8] = [
    "'; DROP TABLE sms_messages; --",
    "\" OR 1=1 --",
    "$1",
    "?",
    "{!User.Email}{!Contact.Phone}",
    "{!",
    "}}}{{!",
    "%s%n{}",
];

/// What a hostile string in a field gets.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// An APIException with this code (400), and nothing stored.
    Code(u64),
    /// Sent, with the string stored verbatim as the body.
    Stored,
    /// Sent as if the field were absent (a phone number without digits counts as missing).
    Sent,
    /// Dialled (only its digits count) and refused by the provider as not a valid number:
    /// error 100, the record kept as Failed.
    Refused,
}

/// What a field's hostile string gets, by the string.
type ExpectOf = fn(&str) -> Expect;

/// A string input of an action, in an input that is valid without it.
struct Field {
    path: &'static str,
    name: &'static str,
    base: Value,
    hostile: ExpectOf,
}

fn has_digits(value: &str) -> bool {
    value.bytes().any(|b| b.is_ascii_digit())
}

impl Field {
    fn input(&self, value: Value) -> Value {
        let mut input = self.base.clone();
        input[self.name] = value;
        input
    }

    /// What a 10 MB string of `HOSTILE[0]` gets: too long for a body or a phone number
    /// (104), else what that string gets.
    fn long(&self) -> u64 {
        match (self.hostile)(HOSTILE[0]) {
            Expect::Code(code) => code,
            Expect::Stored | Expect::Sent | Expect::Refused => 104,
        }
    }
}

fn fields() -> Vec<Field> {
    let sms = json!({"toPhone": JANE_PHONE, "bodyText": "hostile"});
    let sms_by_field = json!({"recordId": JANE_CONTACT, "bodyText": "hostile"});
    let call = json!({"toPhone": JANE_PHONE, "ivrId": MENU_IVR});
    let call_by_field = json!({"recordId": JANE_CONTACT, "ivrId": MENU_IVR});
    let status = json!({"userId": KATHERINE, "statusType": "Offline"});
    let invalid = |_: &str| Expect::Code(104);
    // A caller ID with digits is dialled and is no number of the org; without, it is absent.
    let from_phone = |v: &str| {
        if has_digits(v) {
            Expect::Code(103)
        } else {
            Expect::Sent
        }
    };
    // A destination with digits is dialled and refused by the provider; without, it is absent.
    let to_phone = |v: &str| {
        if has_digits(v) {
            Expect::Refused
        } else {
            Expect::Code(104)
        }
    };
    let rows: [(_, _, _, ExpectOf); 17] = [
        (SMS_PATH, "bodyText", &sms, |_| Expect::Stored),
        (SMS_PATH, "fromPhone", &sms, from_phone),
        (SMS_PATH, "mediaURL", &sms, invalid),
        (SMS_PATH, "phoneNumberFieldName", &sms_by_field, invalid),
        (SMS_PATH, "recordId", &sms, invalid),
        (SMS_PATH, "templateId", &sms, invalid),
        (SMS_PATH, "toPhone", &sms, to_phone),
        (SMS_PATH, "userId", &sms, invalid),
        (CALL_PATH, "fromPhone", &call, from_phone),
        (CALL_PATH, "ivrId", &call, invalid),
        (CALL_PATH, "phoneNumberFieldName", &call_by_field, invalid),
        (CALL_PATH, "recordId", &call, invalid),
        (CALL_PATH, "toPhone", &call, to_phone),
        (CALL_PATH, "userId", &call, invalid),
        (STATUS_PATH, "userId", &status, invalid),
        (STATUS_PATH, "userStatusId", &status, invalid),
        (STATUS_PATH, "statusType", &status, invalid),
    ];
    rows.into_iter()
        .map(|(path, name, base, hostile)| Field {
            path,
            name,
            base: base.clone(),
            hostile,
        })
        .collect()
}

/// A valid input of the action at `path`, sent beside a hostile one in bulk calls.
fn companion(path: &str) -> Value {
    match path {
        SMS_PATH => json!({"toPhone": JANE_PHONE, "bodyText": "companion"}),
        CALL_PATH => json!({"toPhone": JANE_PHONE, "ivrId": MENU_IVR}),
        _ => json!({"userId": GRACE, "statusType": "Available"}),
    }
}

/// What answers said was stored, and what was stored that no answer names.
#[derive(Default)]
pub(super) struct Ledger {
    messages: Vec<String>,
    calls: Vec<String>,
    log: Vec<String>,
    /// Messages and calls stored that no answer names: refused ones, kept as Failed, and the
    /// accepted inputs of a bulk call that a refusal failed.
    unnamed_messages: usize,
    unnamed_calls: usize,
    /// Of the unnamed calls, those accepted, each with its Task.
    unnamed_accepted_calls: usize,
    /// Provider refusals, each with its VoIP error log entry.
    refusals: usize,
}

impl Ledger {
    pub fn record(&mut self, path: &str, output: &Value) {
        let id = |key: &str| output[key].as_str().map(str::to_owned);
        match path {
            SMS_PATH => self.messages.extend(id("id")),
            CALL_PATH => self.calls.extend(id("id")),
            _ => self.log.extend(id("logId")),
        }
    }

    /// A message or call stored that no answer names: refused by the provider, or accepted.
    fn unnamed(&mut self, path: &str, refused: bool) {
        match path {
            SMS_PATH => self.unnamed_messages += 1,
            _ => {
                self.unnamed_calls += 1;
                self.unnamed_accepted_calls += usize::from(!refused);
            }
        }
        self.refusals += usize::from(refused);
    }

    /// Exactly what was answered as stored is stored, and a normal SMS still goes through.
    pub async fn assert_stored_and_working(self, app: &TestApp) {
        let api = Api::of(app);
        let sorted = |mut ids: Vec<String>| {
            ids.sort();
            ids
        };
        let lists = [
            ("/_emulator/messages", &self.messages, self.unnamed_messages),
            ("/_emulator/calls", &self.calls, self.unnamed_calls),
            ("/_emulator/status-log", &self.log, 0),
        ];
        for (list, expected, unnamed) in lists {
            let stored = ids(&api.items(&format!("{list}?limit=1000")).await, "id");
            let named: Vec<String> = stored
                .iter()
                .filter(|id| expected.contains(id))
                .cloned()
                .collect();
            assert_eq!(sorted(named), sorted(expected.clone()), "{list}");
            assert_eq!(stored.len(), expected.len() + unnamed, "{list}");
        }
        // Only accepted calls have Tasks (no stored message had a recordId).
        let tasks = api.items("/_emulator/tasks?limit=1000").await.len();
        assert_eq!(tasks, self.calls.len() + self.unnamed_accepted_calls);
        let refusals = api.items("/_emulator/voip-errors?limit=1000").await;
        assert_eq!(refusals.len(), self.refusals, "{refusals:?}");
        let (status, sent) = app
            .send_sms(&json!({"toPhone": JANE_PHONE, "bodyText": "still works"}))
            .await;
        assert_eq!(status, StatusCode::OK, "{sent}");
        let message = api
            .item(&format!(
                "/_emulator/messages/{}",
                sent["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(message["body"], "still works");
        assert_eq!(
            api.items("/_emulator/messages?limit=1000").await.len(),
            self.messages.len() + self.unnamed_messages + 1
        );
    }
}

/// A direct call with `value` in `field`: the field's code, or stored verbatim.
async fn direct(app: &TestApp, ledger: &mut Ledger, field: &Field, value: &str, expect: Expect) {
    let case = format!("{} {}={:?}", field.path, field.name, short(value));
    let response = app.post(field.path, &field.input(json!(value))).await;
    match expect {
        Expect::Code(code) => {
            let _ = assert_exception(&response, StatusCode::BAD_REQUEST, code);
        }
        Expect::Stored => {
            assert_eq!(response.0, StatusCode::OK, "{case}: {}", response.1);
            let id = response.1["id"].as_str().expect("an id");
            let message = Api::of(app)
                .item(&format!("/_emulator/messages/{id}"))
                .await;
            assert_eq!(message["body"], value, "{case}");
            ledger.record(field.path, &response.1);
        }
        Expect::Sent => {
            assert_eq!(response.0, StatusCode::OK, "{case}: {}", response.1);
            ledger.record(field.path, &response.1);
        }
        Expect::Refused => {
            let message = assert_exception(&response, StatusCode::BAD_GATEWAY, 100);
            assert!(
                message.contains("not a valid phone number")
                    || message.contains("does not appear to be valid"),
                "{case}: {message}"
            );
            ledger.unnamed(field.path, true);
        }
    }
}

/// A bulk call of the hostile input and a valid one: the hostile one fails them both, or both
/// are stored.
async fn bulk(app: &TestApp, ledger: &mut Ledger, field: &Field, value: &str, expect: Expect) {
    let case = format!("bulk {} {}={:?}", field.path, field.name, short(value));
    let inputs = json!([field.input(json!(value)), companion(field.path)]);
    let (status, results) = app
        .post(&bulk_path(field.path), &json!({ "inputs": inputs }))
        .await;
    let results = results
        .as_array()
        .unwrap_or_else(|| panic!("{case}: {results}"));
    assert_eq!(results.len(), 2, "{case}");
    match expect {
        Expect::Code(code) => {
            assert_eq!(status, StatusCode::BAD_REQUEST, "{case}");
            for result in results {
                assert_eq!(result["isSuccess"], false, "{case}: {results:?}");
                assert_eq!(failed_code(result), Some(code), "{case}: {results:?}");
            }
        }
        Expect::Stored => {
            assert_eq!(status, StatusCode::OK, "{case}: {results:?}");
            assert_eq!(results[1]["isSuccess"], true, "{case}: {results:?}");
            ledger.record(field.path, &results[1]["outputValues"]);
            let output = &results[0]["outputValues"];
            let id = output["id"].as_str().expect("an id");
            let message = Api::of(app)
                .item(&format!("/_emulator/messages/{id}"))
                .await;
            assert_eq!(message["body"], value, "{case}");
            ledger.record(field.path, output);
        }
        Expect::Sent => {
            assert_eq!(status, StatusCode::OK, "{case}: {results:?}");
            for result in results {
                ledger.record(field.path, &result["outputValues"]);
            }
        }
        // The provider took the companion, which stays; the whole request fails.
        Expect::Refused => {
            assert_eq!(status, StatusCode::BAD_REQUEST, "{case}");
            for result in results {
                assert_eq!(failed_code(result), Some(100), "{case}: {results:?}");
            }
            ledger.unnamed(field.path, true);
            ledger.unnamed(field.path, false);
        }
    }
}

/// Raw JSON for an input with `value` (raw bytes) in `field`.
fn raw_input(field: &Field, value: &[u8]) -> Vec<u8> {
    let mut base = field.base.clone();
    base.as_object_mut().unwrap().remove(field.name);
    let rest = base.to_string();
    let mut raw = format!("{{\"{}\": ", field.name).into_bytes();
    raw.extend_from_slice(value);
    if rest != "{}" {
        raw.extend_from_slice(b", ");
        raw.extend_from_slice(&rest.as_bytes()[1..]);
    } else {
        raw.push(b'}');
    }
    raw
}

backend_tests! {
    async fn hostile_strings_in_every_direct_input_get_the_fields_code_or_are_stored_verbatim(backend) {
        let app = spawn_app(backend).await;
        let mut ledger = Ledger::default();
        for field in fields() {
            for value in HOSTILE {
                direct(&app, &mut ledger, &field, value, (field.hostile)(value)).await;
            }
        }
        // The bodies, and the SMS whose caller ID had no digits.
        let no_digits = HOSTILE.iter().filter(|v| !has_digits(v)).count();
        assert_eq!(ledger.messages.len(), HOSTILE.len() + no_digits);
        ledger.assert_stored_and_working(&app).await;
    }

    async fn hostile_strings_in_every_bulk_input_fail_the_request_or_are_stored_verbatim(backend) {
        let app = spawn_app(backend).await;
        let mut ledger = Ledger::default();
        for field in fields() {
            for value in HOSTILE {
                bulk(&app, &mut ledger, &field, value, (field.hostile)(value)).await;
            }
        }
        ledger.assert_stored_and_working(&app).await;
    }

    async fn ten_megabyte_strings_in_every_field_are_4xx_and_store_nothing(backend) {
        const TEN_MB: usize = 10 * 1024 * 1024;
        let app = spawn_app_with(backend, |config| config.max_body_bytes = 16 * 1024 * 1024).await;
        // Built as bytes: serialising 10 MB through serde_json::Value is slow in a debug build.
        let injection = format!("\"{}\"", HOSTILE[0].repeat(TEN_MB / HOSTILE[0].len()));
        // (case, path, body, whether in the array envelope, the code expected)
        let mut cases = Vec::new();
        for field in fields() {
            let input = raw_input(&field, injection.as_bytes());
            let case = format!("{} {}", field.path, field.name);
            let bulk = [b"{\"inputs\": [".as_slice(), &input, b"]}"].concat();
            cases.push((format!("bulk {case}"), bulk_path(field.path), bulk, true, field.long()));
            cases.push((case, field.path.to_owned(), input, false, field.long()));
        }
        // Two at a time, each 10 MB each way (the error messages quote the value): slow in a
        // debug build, so with more time than the harness's client gives.
        let client = crate::helpers::http().timeout(Duration::from_secs(300)).build().unwrap();
        let answers = futures_util::stream::iter(cases)
            .map(|(case, path, body, in_array, code)| {
                let request = client.post(app.url(&path)).body(body);
                async move { (case, in_array, code, json_answer(request.send().await.expect("answered")).await) }
            })
            .buffer_unordered(2)
            .collect::<Vec<_>>()
            .await;
        for (case, in_array, code, (status, answer)) in answers {
            assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {}", short(&answer.to_string()));
            let got = if in_array { failed_code(&answer[0]) } else { answer["errorCode"].as_u64() };
            assert_eq!(got, Some(code), "{case}: {}", short(&answer.to_string()));
        }
        Ledger::default().assert_stored_and_working(&app).await;
    }

    async fn ill_typed_values_in_every_field_are_error_104_naming_the_field(backend) {
        let app = spawn_app(backend).await;
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let huge_array = format!("[{}0]", "0,".repeat(100_000));
        // (case, raw JSON value, whether a bulk call may refuse the whole body as not JSON)
        let cases: [(&str, &[u8], bool); 5] = [
            ("non-UTF-8 bytes", b"\"caf\xff\xfe\"", true),
            ("10 000 levels of nesting", deep.as_bytes(), true),
            ("a huge array", huge_array.as_bytes(), false),
            ("a number", b"14155550123", false),
            ("an object", b"{\"value\": \"x\"}", false),
        ];
        let ledger = Ledger::default();
        for field in fields() {
            for (case, value, whole) in cases {
                let case = format!("{} {} as {case}", field.path, field.name);
                let raw = raw_input(&field, value);
                let response = app.post_raw(field.path, raw.clone(), Some("application/json")).await;
                let message = assert_exception(&response, StatusCode::BAD_REQUEST, 104);
                assert!(message.contains(field.name), "{case}: {message}");

                let mut body = b"{\"inputs\": [".to_vec();
                body.extend_from_slice(&raw);
                body.extend_from_slice(format!(", {}]}}", companion(field.path)).as_bytes());
                let (status, results) = app.post_raw(&bulk_path(field.path), body, None).await;
                assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {results}");
                if whole && results[0]["errorCode"] == "JSON_PARSER_ERROR" {
                    continue;
                }
                // The ill-typed input fails its valid companion too.
                assert_eq!(results[0], results[1], "{case}");
                assert_eq!(failed_code(&results[0]), Some(104), "{case}: {results}");
                let message = results[0]["errors"][0]["message"].as_str().unwrap_or_default();
                assert!(message.contains(field.name), "{case}: {message}");
            }
        }
        // More inputs than allowed, however they look, is the request's error.
        let inputs = format!("{{\"inputs\": [{}0]}}", "0,".repeat(100_000));
        let (status, body) = app.post_raw(&bulk_path(SMS_PATH), inputs, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body[0]["errorCode"], "INVALID_INPUT", "{body}");
        ledger.assert_stored_and_working(&app).await;
    }
}

/// The start of a value, for case names.
pub(super) fn short(value: &str) -> String {
    value.chars().take(80).collect()
}
