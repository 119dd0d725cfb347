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
pub(super) const TO: &str = JANE_PHONE;
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

/// A valid input (`toPhone` TO, `bodyText` "Hello") changed by `changes`: a null removes a key.
pub(super) fn input(changes: Value) -> Value {
    with_changes(json!({"toPhone": TO, "bodyText": "Hello"}), changes)
}

/// Sends `input` with `X-Fastcall-User-Id: user`.
pub(super) async fn send_sms_as(app: &TestApp, user: &str, input: &Value) -> (StatusCode, Value) {
    app.post_as(ACTION, user, input).await
}

/// Sends `input`, expects success, and answers the output and the stored message.
pub(super) async fn send_ok(app: &TestApp, input: &Value) -> (Value, Value) {
    let (status, output) = app.send_sms(input).await;
    assert_eq!(status, StatusCode::OK, "{input}: {output}");
    let stored = stored_message(app, output["id"].as_str().expect("an id")).await;
    (output, stored)
}

pub(super) async fn stored_message(app: &TestApp, id: &str) -> Value {
    app.item(&format!("/_emulator/messages/{id}")).await
}

/// Sends `input` with each `(value, fragment)` as its `field`: each must be refused with a
/// 400 APIException `code` whose message names the field and holds the fragment.
pub(super) async fn assert_values_refused(
    app: &TestApp,
    field: &str,
    code: u64,
    cases: &[(&str, &str)],
) {
    let cases: Vec<(&str, Value, &str)> = cases
        .iter()
        .map(|&(value, fragment)| (value, input(json!({ field: value })), fragment))
        .collect();
    assert_each_refused(app, ACTION, code, &[field], &cases).await;
}
