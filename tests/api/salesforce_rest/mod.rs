//! The Salesforce REST shape: invocable actions under `/services/data/vNN.N/actions/custom/apex`
//! (invoke, list, describe) and the sObjects the emulator serves.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

mod describe;
mod invoke;

pub(super) const SMS: &str = "SubscriberSMSInvocable";
pub(super) const NAMESPACED_SMS: &str = "FastCall__SubscriberSMSInvocable";
/// The SMS action's output map as describe lists it, (name, type), sorted by name: the
/// seed's types, `ID` only where it says Id.
pub(super) const OUTPUTS: [(&str, &str); 9] = [
    ("createdDate", "STRING"),
    ("direction", "STRING"),
    ("id", "ID"),
    ("owner", "STRING"),
    ("phoneNumberId", "STRING"),
    ("relatedRecordId", "STRING"),
    ("smsId", "ID"),
    ("status", "STRING"),
    ("taskId", "ID"),
];

pub(super) fn apex(version: &str, action: &str) -> String {
    format!("/services/data/{version}/actions/custom/apex/{action}")
}

pub(super) fn sobject(object: &str, id: &str) -> String {
    format!("/services/data/v60.0/sobjects/{object}/{id}")
}

/// Asserts `body` is the sObject `id` of type `object`: its attributes (type and URL) and Id.
#[track_caller]
pub(super) fn assert_sobject_is(body: &Value, object: &str, id: &str) {
    let url = sobject(object, id);
    assert_eq!(
        body["attributes"],
        json!({ "type": object, "url": url }),
        "{body}"
    );
    assert_eq!(body["Id"], id, "{body}");
}

pub(super) fn sms_input(to: &str, body: &str) -> Value {
    json!({ "toPhone": to, "bodyText": body })
}

/// Asserts the one-element array envelope of Salesforce's REST errors; returns the message.
#[track_caller]
pub(super) fn assert_salesforce_error(
    response: &(StatusCode, Value),
    status: StatusCode,
    code: &str,
) -> String {
    let (got, body) = response;
    assert_eq!(*got, status, "{body}");
    let errors = body
        .as_array()
        .unwrap_or_else(|| panic!("an array envelope, got {body}"));
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(keys(&errors[0]), ["errorCode", "message"], "{body}");
    assert_eq!(errors[0]["errorCode"], code, "{body}");
    let message = errors[0]["message"].as_str().expect("a message").to_owned();
    assert!(!message.is_empty(), "{body}");
    message
}

/// Asserts one input's result succeeded; returns its output values.
#[track_caller]
pub(super) fn succeeded<'a>(result: &'a Value, action_name: &str) -> &'a Value {
    let output_keys: Vec<&str> = OUTPUTS.iter().map(|(name, _)| *name).collect();
    assert_succeeded(result, action_name, &output_keys)
}

/// The items of an `/_emulator` list, e.g. `messages`.
pub(super) async fn stored(app: &TestApp, list: &str) -> Vec<Value> {
    app.items(&format!("/_emulator/{list}")).await
}
