//! The Salesforce REST shape: invocable actions under `/services/data/vNN.N/actions/custom/apex`
//! (invoke, list, describe) and the sObjects the emulator serves.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

mod describe;
mod invoke;

pub(super) const SMS: &str = "SubscriberSMSInvocable";
pub(super) const NAMESPACED_SMS: &str = "FastCall__SubscriberSMSInvocable";
pub(super) const JANE_PHONE: &str = "+14155550123";
pub(super) const EXCEPTION_PREFIX: &str = "FastCall.SubscriberAPI.APIException: ";
pub(super) const OUTPUT_KEYS: [&str; 9] = [
    "createdDate",
    "direction",
    "id",
    "owner",
    "phoneNumberId",
    "relatedRecordId",
    "smsId",
    "status",
    "taskId",
];

pub(super) fn apex(version: &str, action: &str) -> String {
    format!("/services/data/{version}/actions/custom/apex/{action}")
}

pub(super) fn sobject(object: &str, id: &str) -> String {
    format!("/services/data/v60.0/sobjects/{object}/{id}")
}

pub(super) fn sms_input(to: &str, body: &str) -> Value {
    json!({ "toPhone": to, "bodyText": body })
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

/// Any method, any body, answered with JSON.
pub(super) async fn request(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let mut request = app.client.request(method, app.url(path));
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.expect("the request is answered");
    let status = response.status();
    let text = response.text().await.expect("a response body");
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("a JSON body, got {status}: {text:?}"));
    (status, json)
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
pub(super) fn assert_succeeded<'a>(result: &'a Value, action_name: &str) -> &'a Value {
    assert_eq!(
        keys(result),
        ["actionName", "errors", "isSuccess", "outputValues"],
        "{result}"
    );
    assert_eq!(result["actionName"], action_name, "{result}");
    assert_eq!(result["isSuccess"], true, "{result}");
    assert!(result["errors"].is_null(), "{result}");
    assert_eq!(keys(&result["outputValues"]), OUTPUT_KEYS, "{result}");
    &result["outputValues"]
}

/// Asserts one input's result failed with `code`; returns the message after its prefix.
#[track_caller]
pub(super) fn assert_failed(result: &Value, action_name: &str, code: u64) -> String {
    assert_eq!(
        keys(result),
        ["actionName", "errors", "isSuccess", "outputValues"],
        "{result}"
    );
    assert_eq!(result["actionName"], action_name, "{result}");
    assert_eq!(result["isSuccess"], false, "{result}");
    assert!(result["outputValues"].is_null(), "{result}");
    let errors = result["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("errors, got {result}"));
    assert_eq!(errors.len(), 1, "{result}");
    let error = &errors[0];
    assert_eq!(
        keys(error),
        ["errorCode", "fields", "message", "statusCode"],
        "{result}"
    );
    assert_eq!(error["statusCode"], "UNKNOWN_EXCEPTION", "{result}");
    assert_eq!(error["fields"], json!([]), "{result}");
    assert_eq!(error["errorCode"], code, "{result}");
    let message = error["message"].as_str().expect("a message");
    let prefix = format!("{EXCEPTION_PREFIX}[{code}] ");
    message
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("`{message}` starts with `{prefix}`"))
        .to_owned()
}

#[track_caller]
pub(super) fn results(
    response: &(StatusCode, Value),
    status: StatusCode,
    count: usize,
) -> Vec<Value> {
    let (got, body) = response;
    assert_eq!(*got, status, "{body}");
    let results = body
        .as_array()
        .unwrap_or_else(|| panic!("an array of results, got {body}"));
    assert_eq!(results.len(), count, "{body}");
    results.clone()
}

pub(super) async fn stored(app: &TestApp, list: &str) -> Vec<Value> {
    let (status, body) = app.get(&format!("/_emulator/{list}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"].as_array().expect("items").clone()
}

#[track_caller]
pub(super) fn assert_salesforce_datetime(value: &Value) {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("a datetime, got {value}"));
    assert!(
        chrono::DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.3f%z").is_ok(),
        "{text}"
    );
    assert!(text.len() == 28 && text.ends_with("+0000"), "{text}");
}

#[track_caller]
pub(super) fn assert_parameter(parameter: &Value, name: &str, kind: &str) {
    let expected_keys = [
        "byteLength",
        "description",
        "label",
        "maxOccurs",
        "name",
        "picklistValues",
        "required",
        "sobjectType",
        "type",
    ];
    assert_eq!(keys(parameter), expected_keys, "{parameter}");
    assert_eq!(parameter["name"], name, "{parameter}");
    assert_eq!(parameter["type"], kind, "{parameter}");
    assert!(parameter["byteLength"].is_u64(), "{parameter}");
    assert!(parameter["maxOccurs"].is_u64(), "{parameter}");
    assert!(parameter["required"].is_boolean(), "{parameter}");
    assert!(parameter["description"].is_string(), "{parameter}");
    assert!(
        parameter["label"].as_str().is_some_and(|l| !l.is_empty()),
        "{parameter}"
    );
    assert!(
        parameter["picklistValues"].is_null() || parameter["picklistValues"].is_array(),
        "{parameter}"
    );
    assert!(
        parameter["sobjectType"].is_null() || parameter["sobjectType"].is_string(),
        "{parameter}"
    );
}
