//! `SubscriberSMSInvocable` through the direct route `POST /actions/SubscriberSMSInvocable`:
//! every rule of the action, checked through its output and what it stored.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

mod acting_user;
mod bad_input;
mod effects;
mod numbers;
mod templates_and_records;

pub(super) const ACTION: &str = "/actions/SubscriberSMSInvocable";
pub(super) const EXCEPTION: &str = "FastCall.SubscriberAPI.APIException";
pub(super) const TO: &str = "+14155550123";
pub(super) const ADA_PHONE: &str = "+14155550100";
pub(super) const SUPPORT_PHONE: &str = "+14155550101";
pub(super) const MAIN_PHONE: &str = "+14155550102";
pub(super) const PNG: &str = "https://example.com/cat.png";

// A custom org (15-character Ids; the emulator answers their 18-character form).
pub(super) const UMA: &str = "005Dn0000010Uma";
pub(super) const NOBODY: &str = "005Dn0000011Nob";
pub(super) const UMA_NUMBER: &str = "a0PDn0000010Uma";
pub(super) const UNKNOWN_FIELDS_TEMPLATE: &str = "a0TDn0000010Unk";
pub(super) const BLANK_TEMPLATE: &str = "a0TDn0000011Blk";
pub(super) const ANY_CASE_TEMPLATE: &str = "a0TDn0000012Cas";
pub(super) const EMMA_CONTACT: &str = "003Dn0000010Emm";

pub(super) const CUSTOM_ORG_BODY: &str = r#"
users:
  - id: 005Dn0000010Uma
    name: Uma Tester
    email: uma@example.com
  - id: 005Dn0000011Nob
    name: Nobody Fits
phoneNumbers:
  - id: a0PDn0000010Uma
    number: "+14155550150"
    sms: true
    mms: true
    outboundSms: true
    assignment: user
    userIds: [005Dn0000010Uma]
  - id: a0PDn0000011Voi
    number: "+14155550151"
    voice: true
    callerId: true
    assignment: org
  - id: a0PDn0000012Nos
    number: "+14155550152"
    sms: true
    mms: true
    outboundSms: false
    assignment: org
smsTemplates:
  - id: a0TDn0000010Unk
    name: Unknown merge fields
    body: "Hi {!Contact.Nickname}{!Opportunity.Name}{!User.Title}{!NoDot}!"
  - id: a0TDn0000011Blk
    name: Renders blank
    body: "{!Contact.Nickname} {!User.Title}"
  - id: a0TDn0000012Cas
    name: Any case
    body: "{!contact.firstname} meets {!USER.FIRSTNAME} ({!User.email})"
records:
  - id: 003Dn0000010Emm
    fields:
      FirstName: Emma
      Phone: ""
      MobilePhone: null
      HomePhone: "not a number"
      OtherPhone: "+1 415 555 0123 ext. 12"
      AssistantPhone: "020 7946 0018"
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

/// A valid input (`toPhone` TO, `bodyText` "Hello") changed by `changes`: a null removes a key.
pub(super) fn input(changes: Value) -> Value {
    let mut input = json!({"toPhone": TO, "bodyText": "Hello"});
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

/// Sends `input` with `X-Fastcall-User-Id: user`.
pub(super) async fn send_sms_as(app: &TestApp, user: &str, input: &Value) -> (StatusCode, Value) {
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

/// Sends `input`, expects success, and answers the output and the stored message.
pub(super) async fn send_ok(app: &TestApp, input: &Value) -> (Value, Value) {
    let (status, output) = app.send_sms(input).await;
    assert_eq!(status, StatusCode::OK, "{input}: {output}");
    let stored = stored_message(app, output["id"].as_str().expect("an id")).await;
    (output, stored)
}

pub(super) async fn stored_message(app: &TestApp, id: &str) -> Value {
    let (status, message) = app.get(&format!("/_emulator/messages/{id}")).await;
    assert_eq!(status, StatusCode::OK, "message {id}: {message}");
    message
}

/// The items of an inspection list.
pub(super) async fn items(app: &TestApp, path: &str) -> Vec<Value> {
    let (status, body) = app.get(path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body["items"].as_array().expect("items").clone()
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
