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
pub(super) const TO: &str = JANE_PHONE;

// The demo org's IVRs, one of each type.
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

/// The output map as describe lists it, (name, type), sorted by name.
pub(super) const OUTPUTS: [(&str, &str); 9] = [
    ("callId", "STRING"),
    ("direction", "STRING"),
    ("id", "STRING"),
    ("ivr", "STRING"),
    ("owner", "STRING"),
    ("relatedRecordId", "STRING"),
    ("startTime", "STRING"),
    ("status", "STRING"),
    ("taskId", "STRING"),
];

/// The output map's keys, sorted.
pub(super) fn output_keys() -> Vec<&'static str> {
    OUTPUTS.iter().map(|(name, _)| *name).collect()
}

/// An inspection item's keys, sorted: the output keys, who called whom, and the history.
pub(super) fn item_keys() -> Vec<&'static str> {
    let mut keys = output_keys();
    keys.extend(["errorCode", "errorMessage", "fromPhone", "statusHistory"]);
    keys.extend(["toPhone", "userId"]);
    keys.sort_unstable();
    keys
}

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

/// A valid input (`toPhone` TO, `ivrId` the menu) changed by `changes`: a null removes a key.
pub(super) fn input(changes: Value) -> Value {
    with_changes(json!({"toPhone": TO, "ivrId": MENU_IVR}), changes)
}

/// `POST /actions/SubscriberCallInvocable`.
pub(super) async fn place(app: &TestApp, input: &Value) -> (StatusCode, Value) {
    app.post(ACTION, input).await
}

/// Places `input` with `X-Fastcall-User-Id: user`.
pub(super) async fn place_as(app: &TestApp, user: &str, input: &Value) -> (StatusCode, Value) {
    app.post_as(ACTION, user, input).await
}

/// Places `input`, expects success, and answers the output and the stored call.
pub(super) async fn place_ok(app: &TestApp, input: &Value) -> (Value, Value) {
    let (status, output) = place(app, input).await;
    assert_eq!(status, StatusCode::OK, "{input}: {output}");
    let stored = stored_call(app, output["id"].as_str().expect("an id")).await;
    (output, stored)
}

pub(super) async fn stored_call(app: &TestApp, id: &str) -> Value {
    app.item(&format!("/_emulator/calls/{id}")).await
}

/// `GET /services/data/v60.0/sobjects/{object}/{id}`, expected to exist.
pub(super) async fn sobject(app: &TestApp, object: &str, id: &str) -> Value {
    app.item(&format!("/services/data/v60.0/sobjects/{object}/{id}"))
        .await
}

/// Asserts nothing at all was stored: no call, no Task, no VoIP error.
pub(super) async fn assert_nothing_stored(app: &TestApp, case: &str) {
    for list in ["calls", "tasks", "voip-errors"] {
        let stored = app.items(&format!("/_emulator/{list}")).await;
        assert!(stored.is_empty(), "{case}: {list} {stored:?}");
    }
}

/// The `+` of an E.164 number, escaped for a query string.
pub(super) fn query_phone(phone: &str) -> String {
    phone.replace('+', "%2B")
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

/// Asserts a stored call item holds exactly the output's nine values, plus its own keys.
#[track_caller]
pub(super) fn assert_item_matches_output(item: &Value, output: &Value) {
    assert_eq!(keys(item), item_keys(), "{item}");
    for key in output_keys() {
        assert_eq!(item[key], output[key], "{key}: {item} vs {output}");
    }
}
