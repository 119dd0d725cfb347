//! What the emulator's answers must look like to a Salesforce client: Ids and datetimes,
//! the APIException of a direct call (one answer, or a table of refused requests), the
//! per-input results of a bulk call, and described actions.

use chrono::{DateTime, FixedOffset};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{TestApp, keys};

pub const EXCEPTION: &str = "FastCall.SubscriberAPI.APIException";

/// The 18-character form of a 15-character Id.
pub fn id18(id15: &str) -> String {
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

/// A valid 18-character Id with `prefix`: its checksum matches its first 15 characters.
#[track_caller]
pub fn assert_id(value: &Value, prefix: &str) {
    let id = value
        .as_str()
        .unwrap_or_else(|| panic!("an Id, got {value}"));
    assert_eq!(id.len(), 18, "{id}");
    assert!(id.starts_with(prefix), "{id} should start with {prefix}");
    assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()), "{id}");
    assert_eq!(id18(&id[..15]), id, "checksum of {id}");
}

/// A datetime exactly as Salesforce writes it: `2026-11-26T13:13:22.000+0000`.
#[track_caller]
pub fn parse_salesforce_datetime(value: &Value) -> DateTime<FixedOffset> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("a datetime, got {value}"));
    assert_eq!(text.len(), 28, "{text}");
    assert!(
        text.ends_with("+0000") && &text[10..11] == "T" && &text[19..20] == ".",
        "{text}"
    );
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.3f%z").expect("a Salesforce datetime")
}

/// A datetime as Salesforce writes it, close to now.
#[track_caller]
pub fn assert_salesforce_datetime_now(value: &Value) {
    let parsed = parse_salesforce_datetime(value);
    let age = chrono::Utc::now().signed_duration_since(parsed);
    assert!(age.num_seconds().abs() < 120, "{value} is not now");
}

/// Asserts a direct call failed with an APIException of `code`, and returns its message.
#[track_caller]
pub fn assert_exception(response: &(StatusCode, Value), status: StatusCode, code: u64) -> String {
    let (got_status, body) = response;
    assert_eq!(*got_status, status, "{body}");
    assert_eq!(body["exceptionType"], EXCEPTION, "{body}");
    assert_eq!(body["errorCode"], code, "{body}");
    body["message"].as_str().expect("a message").to_owned()
}

/// Asserts a direct call failed with exactly an APIException of `code` whose message holds
/// `fragment`; `case` names the request in a failure.
#[track_caller]
pub fn assert_error(
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

/// Posts each `(case, input, fragment)` to `path`: each must be refused with a 400
/// APIException `code` whose message holds its fragment and each of `named`.
pub async fn assert_each_refused(
    app: &TestApp,
    path: &str,
    code: u64,
    named: &[&str],
    cases: &[(&str, Value, &str)],
) {
    for (case, input, fragment) in cases {
        let response = app.post(path, input).await;
        assert_error(&response, StatusCode::BAD_REQUEST, code, fragment, case);
        for named in named {
            assert_error(&response, StatusCode::BAD_REQUEST, code, named, case);
        }
    }
}

/// Posts each `(case, body, fragment)` to `path` as raw JSON: each must be refused with a
/// 400 APIException 104 whose message holds its fragment.
pub async fn assert_bodies_refused<B: Into<reqwest::Body>>(
    app: &TestApp,
    path: &str,
    cases: Vec<(&str, B, &str)>,
) {
    for (case, body, fragment) in cases {
        let response = app.post_raw(path, body, Some("application/json")).await;
        assert_error(&response, StatusCode::BAD_REQUEST, 104, fragment, case);
    }
}

/// The per-input results of a bulk call, after checking the HTTP status and their number.
#[track_caller]
pub fn bulk_results(
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

const RESULT_KEYS: [&str; 4] = ["actionName", "errors", "isSuccess", "outputValues"];

/// Asserts one input's result succeeded with exactly `output_keys`; returns its output values.
#[track_caller]
pub fn assert_succeeded<'a>(
    result: &'a Value,
    action_name: &str,
    output_keys: &[&str],
) -> &'a Value {
    assert_eq!(keys(result), RESULT_KEYS, "{result}");
    assert_eq!(result["actionName"], action_name, "{result}");
    assert_eq!(result["isSuccess"], true, "{result}");
    assert!(result["errors"].is_null(), "{result}");
    assert_eq!(keys(&result["outputValues"]), output_keys, "{result}");
    &result["outputValues"]
}

/// Asserts one input's result failed with APIException `code`, in Salesforce's error element
/// (exactly `statusCode`, `message`, `fields`); returns the message after its prefix
/// `An Apex error occurred: FastCall.SubscriberAPI.APIException: [code] `.
#[track_caller]
pub fn assert_failed(result: &Value, action_name: &str, code: u64) -> String {
    assert_eq!(keys(result), RESULT_KEYS, "{result}");
    assert_eq!(result["actionName"], action_name, "{result}");
    assert_eq!(result["isSuccess"], false, "{result}");
    assert!(result["outputValues"].is_null(), "{result}");
    let errors = result["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("errors, got {result}"));
    assert_eq!(errors.len(), 1, "{result}");
    let error = &errors[0];
    assert_eq!(keys(error), ["fields", "message", "statusCode"], "{result}");
    assert_eq!(error["statusCode"], "UNKNOWN_EXCEPTION", "{result}");
    assert_eq!(error["fields"], json!([]), "{result}");
    let message = error["message"].as_str().expect("a message");
    let prefix = format!("An Apex error occurred: {EXCEPTION}: [{code}] ");
    message
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("`{message}` starts with `{prefix}`"))
        .to_owned()
}

/// The APIException code an input's result failed with, as its message tells it
/// (`An Apex error occurred: FastCall.SubscriberAPI.APIException: [104] ...`).
pub fn failed_code(result: &Value) -> Option<u64> {
    let message = result["errors"][0]["message"].as_str()?;
    let (_, rest) = message.split_once("APIException: [")?;
    rest.split_once(']')?.0.parse().ok()
}

/// Asserts that every input's result failed with the one APIException `code` that failed the
/// invocation (SPEC 2.2); returns its message, as [`assert_failed`] does.
#[track_caller]
pub fn assert_all_failed(results: &[Value], action_name: &str, code: u64) -> String {
    let message = assert_failed(&results[0], action_name, code);
    for result in results {
        assert_eq!(result, &results[0], "every input fails with the same error");
    }
    message
}

/// Asserts a described input or output parameter: `name` of `kind`, with every key of
/// Salesforce's shape.
#[track_caller]
pub fn assert_parameter(parameter: &Value, name: &str, kind: &str) {
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

/// Asserts the list of actions in Salesforce's shape; returns the actions.
#[track_caller]
pub fn assert_action_list(body: &Value) -> &Vec<Value> {
    assert_eq!(keys(body), ["actions"], "{body}");
    let actions = body["actions"].as_array().expect("an array of actions");
    for action in actions {
        assert_eq!(keys(action), ["label", "name", "type", "url"], "{action}");
        assert_eq!(action["type"], "APEX", "{action}");
        let describe = format!(
            "/actions/custom/apex/{}",
            action["name"].as_str().unwrap_or("?")
        );
        let url = action["url"].as_str().unwrap_or_default();
        assert!(
            url.starts_with("/services/data/v") && url.ends_with(&describe),
            "the describe URL: {action}"
        );
        assert!(
            action["label"].as_str().is_some_and(|l| !l.is_empty()),
            "{action}"
        );
        assert!(
            action["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("FastCall__")),
            "{action}"
        );
    }
    actions
}

/// Asserts an action described in Salesforce's shape: `name`, and exactly the `inputs`
/// (name, type, required) and `outputs` (name, type), in order.
#[track_caller]
pub fn assert_described_action(
    body: &Value,
    name: &str,
    inputs: &[(&str, &str, bool)],
    outputs: &[(&str, &str)],
) {
    let expected_keys = [
        "description",
        "inputs",
        "label",
        "name",
        "outputs",
        "standard",
        "targetEntityName",
        "type",
    ];
    assert_eq!(keys(body), expected_keys, "{body}");
    assert_eq!(body["name"], name, "{body}");
    assert_eq!(body["type"], "APEX", "{body}");
    assert_eq!(body["standard"], false, "{body}");
    assert!(body["targetEntityName"].is_null(), "{body}");
    for text in ["label", "description"] {
        assert!(body[text].as_str().is_some_and(|t| !t.is_empty()), "{body}");
    }
    let described = body["inputs"].as_array().expect("inputs");
    assert_eq!(described.len(), inputs.len(), "{body}");
    for (parameter, (name, kind, required)) in described.iter().zip(inputs) {
        assert_parameter(parameter, name, kind);
        assert_eq!(parameter["required"], *required, "{parameter}");
    }
    let described = body["outputs"].as_array().expect("outputs");
    assert_eq!(described.len(), outputs.len(), "{body}");
    for (parameter, (name, kind)) in described.iter().zip(outputs) {
        assert_parameter(parameter, name, kind);
    }
}
