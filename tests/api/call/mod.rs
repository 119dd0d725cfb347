//! `SubscriberCallInvocable` through the direct route `POST /actions/SubscriberCallInvocable`
//! and the Salesforce REST shape: every rule of the action, checked through its output and
//! what it stored.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

mod bad_input;
mod effects;
mod errors;
mod inspection;
mod rest;
mod success;

pub(super) const ACTION: &str = "/actions/SubscriberCallInvocable";
pub(super) const CALL: &str = "SubscriberCallInvocable";
pub(super) const NAMESPACED_CALL: &str = "FastCall__SubscriberCallInvocable";
pub(super) const EXCEPTION: &str = "FastCall.SubscriberAPI.APIException";
pub(super) const TO: &str = "+14155550123";
pub(super) const ADA_PHONE: &str = "+14155550100";
pub(super) const SUPPORT_PHONE: &str = "+14155550101";
pub(super) const MAIN_PHONE: &str = "+14155550102";
pub(super) const VOICE_PHONE: &str = "+14155550103";

// The demo org's IVRs, one of each type.
pub(super) const MENU_IVR: &str = "a0IDn0000001MnuMAE";
pub(super) const TRANSFER_IVR: &str = "a0IDn0000002XfrMAE";
pub(super) const VOICEMAIL_IVR: &str = "a0IDn0000003VmlMAE";
pub(super) const ROUTING_IVR: &str = "a0IDn0000004TbrMAE";
pub(super) const DIRECTORY_IVR: &str = "a0IDn0000005DirMAE";
pub(super) const IVRS: [&str; 5] = [
    MENU_IVR,
    TRANSFER_IVR,
    VOICEMAIL_IVR,
    ROUTING_IVR,
    DIRECTORY_IVR,
];

/// The output map's keys, sorted.
pub(super) const OUTPUT_KEYS: [&str; 9] = [
    "callId",
    "direction",
    "id",
    "ivr",
    "owner",
    "relatedRecordId",
    "startTime",
    "status",
    "taskId",
];

/// An inspection item's keys, sorted: the output keys, who called whom, and the history.
pub(super) const ITEM_KEYS: [&str; 15] = [
    "callId",
    "direction",
    "errorCode",
    "errorMessage",
    "fromPhone",
    "id",
    "ivr",
    "owner",
    "relatedRecordId",
    "startTime",
    "status",
    "statusHistory",
    "taskId",
    "toPhone",
    "userId",
];

// A custom org (15-character Ids; the emulator answers their 18-character form).
pub(super) const UMA: &str = "005Dn0000010Uma";
pub(super) const NOBODY: &str = "005Dn0000011Nob";
pub(super) const UMA_SMS_NUMBER: &str = "a0PDn0000010Sms";
pub(super) const UMA_VOICE_NUMBER: &str = "a0PDn0000012Voi";
pub(super) const UMA_SMS_PHONE: &str = "+14155550150";
pub(super) const NO_CALLER_ID_PHONE: &str = "+14155550151";
pub(super) const UMA_VOICE_PHONE: &str = "+14155550152";
pub(super) const CUSTOM_IVR: &str = "a0IDn0000010Cus";
pub(super) const EMMA_CONTACT: &str = "003Dn0000010Emm";

pub(super) const CUSTOM_ORG_BODY: &str = r#"
users:
  - id: 005Dn0000010Uma
    name: Uma Tester
  - id: 005Dn0000011Nob
    name: Nobody Fits
phoneNumbers:
  - id: a0PDn0000010Sms
    number: "+14155550150"
    sms: true
    outboundSms: true
    voice: false
    callerId: false
    assignment: user
    userIds: [005Dn0000010Uma]
  - id: a0PDn0000011Nci
    number: "+14155550151"
    voice: true
    callerId: false
    assignment: org
  - id: a0PDn0000012Voi
    number: "+14155550152"
    voice: true
    callerId: true
    assignment: user
    userIds: [005Dn0000010Uma]
ivrs:
  - id: a0IDn0000010Cus
    name: Custom menu
    type: Menu
records:
  - id: 003Dn0000010Emm
    fields:
      FirstName: Emma
      Phone: ""
      HomePhone: "not a number"
      OtherPhone: "+1 415 555 0123 ext. 12"
"#;

/// The custom org with the given `settings` mapping.
pub(super) fn custom_org(settings: &str) -> String {
    format!("settings: {settings}\n{CUSTOM_ORG_BODY}")
}

/// The 18-character form of a 15-character Id.
pub(super) fn id18(id15: &str) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
    let suffix: String = id15
        .as_bytes()
        .chunks(5)
        .map(|chunk| {
            let bits = chunk
                .iter()
                .enumerate()
                .filter(|(_, b)| b.is_ascii_uppercase())
                .fold(0, |acc, (i, _)| acc | (1 << i));
            char::from(ALPHABET[bits])
        })
        .collect();
    format!("{id15}{suffix}")
}

/// A valid input (`toPhone` TO, `ivrId` the menu) changed by `changes`: a null removes a key.
pub(super) fn input(changes: Value) -> Value {
    let mut input = json!({"toPhone": TO, "ivrId": MENU_IVR});
    let fields = input.as_object_mut().unwrap();
    for (key, value) in changes.as_object().expect("changes are an object") {
        if value.is_null() {
            fields.remove(key);
        } else {
            fields.insert(key.clone(), value.clone());
        }
    }
    input
}

/// `POST /actions/SubscriberCallInvocable`.
pub(super) async fn place(app: &TestApp, input: &Value) -> (StatusCode, Value) {
    app.post(ACTION, input).await
}

/// Places `input` with `X-Fastcall-User-Id: user`.
pub(super) async fn place_as(app: &TestApp, user: &str, input: &Value) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.url(ACTION))
        .header("X-Fastcall-User-Id", user)
        .json(input)
        .send()
        .await
        .expect("POST answered");
    let status = response.status();
    (status, response.json().await.expect("a JSON body"))
}

/// Places `input`, expects success, and answers the output and the stored call.
pub(super) async fn place_ok(app: &TestApp, input: &Value) -> (Value, Value) {
    let (status, output) = place(app, input).await;
    assert_eq!(status, StatusCode::OK, "{input}: {output}");
    let stored = stored_call(app, output["id"].as_str().expect("an id")).await;
    (output, stored)
}

pub(super) async fn stored_call(app: &TestApp, id: &str) -> Value {
    let (status, call) = app.get(&format!("/_emulator/calls/{id}")).await;
    assert_eq!(status, StatusCode::OK, "call {id}: {call}");
    call
}

/// `GET /services/data/v60.0/sobjects/{object}/{id}`, expected to exist.
pub(super) async fn sobject(app: &TestApp, object: &str, id: &str) -> Value {
    let (status, body) = app
        .get(&format!("/services/data/v60.0/sobjects/{object}/{id}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{object} {id}: {body}");
    body
}

/// The items of an inspection list.
pub(super) async fn items(app: &TestApp, path: &str) -> Vec<Value> {
    let (status, body) = app.get(path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body["items"].as_array().expect("items").clone()
}

/// Asserts nothing at all was stored: no call, no Task, no VoIP error.
pub(super) async fn assert_nothing_stored(app: &TestApp, case: &str) {
    for list in ["calls", "tasks", "voip-errors"] {
        let stored = items(app, &format!("/_emulator/{list}")).await;
        assert!(stored.is_empty(), "{case}: {list} {stored:?}");
    }
}

/// The `+` of an E.164 number, escaped for a query string.
pub(super) fn query_phone(phone: &str) -> String {
    phone.replace('+', "%2B")
}

pub(super) fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .unwrap_or_else(|| panic!("an object, got {value}"))
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

/// Asserts a direct call failed with APIException `code` whose message holds `fragment`.
#[track_caller]
pub(super) fn assert_error(
    response: &(StatusCode, Value),
    status: StatusCode,
    code: u64,
    fragment: &str,
    case: &str,
) {
    let (got, body) = response;
    assert_eq!(*got, status, "{case}: {body}");
    assert_eq!(
        keys(body),
        ["errorCode", "exceptionType", "message"],
        "{case}: {body}"
    );
    assert_eq!(body["exceptionType"], EXCEPTION, "{case}: {body}");
    assert_eq!(body["errorCode"], code, "{case}: {body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(fragment),
        "{case}: expected {fragment:?} in {message:?}"
    );
}

/// A valid 18-character Id with `prefix`: its checksum matches its first 15 characters.
#[track_caller]
pub(super) fn assert_id(value: &Value, prefix: &str) {
    let id = value
        .as_str()
        .unwrap_or_else(|| panic!("an Id, got {value}"));
    assert_eq!(id.len(), 18, "{id}");
    assert!(id.starts_with(prefix), "{id} should start with {prefix}");
    assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()), "{id}");
    assert_eq!(id18(&id[..15]), id, "checksum of {id}");
}

/// A Twilio-like call id: `CA` and 32 hex digits.
#[track_caller]
pub(super) fn assert_call_id(value: &Value) {
    let id = value
        .as_str()
        .unwrap_or_else(|| panic!("a callId, got {value}"));
    assert_eq!(id.len(), 34, "{id}");
    assert!(id.starts_with("CA"), "{id}");
    assert!(id[2..].bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
}

/// A datetime as Salesforce writes it (`2026-11-26T13:13:22.000+0000`), close to now.
#[track_caller]
pub(super) fn assert_salesforce_datetime_now(value: &Value) {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("a datetime, got {value}"));
    assert_eq!(text.len(), 28, "{text}");
    assert!(
        text.ends_with("+0000") && &text[10..11] == "T" && &text[19..20] == ".",
        "{text}"
    );
    let parsed = chrono::DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.3f%z")
        .expect("a Salesforce datetime");
    let age = chrono::Utc::now().signed_duration_since(parsed);
    assert!(age.num_seconds().abs() < 120, "{text} is not now");
}

/// Asserts a stored call item holds exactly the output's nine values, plus its own keys.
#[track_caller]
pub(super) fn assert_item_matches_output(item: &Value, output: &Value) {
    assert_eq!(keys(item), ITEM_KEYS, "{item}");
    for key in OUTPUT_KEYS {
        assert_eq!(item[key], output[key], "{key}: {item} vs {output}");
    }
}
