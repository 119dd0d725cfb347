//! The published contract against the server: `openapi.yaml` documents exactly the routes the
//! server answers, each documented route answers, undocumented methods do not, and the
//! served documents are the file and its actions-only cut.

use std::collections::BTreeSet;

use fastcall_emulator::http::{contract, endpoints};
use fastcall_emulator::org::Org;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::*;

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// Every (method, path) the document describes.
fn documented() -> BTreeSet<(String, String)> {
    let document: Value =
        serde_norway::from_str(contract::OPENAPI_YAML).expect("openapi.yaml parses");
    let paths = document["paths"]
        .as_object()
        .expect("openapi.yaml has paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            let methods = item.as_object().expect("a path item").keys();
            methods
                .filter(|m| METHODS.iter().any(|known| known.eq_ignore_ascii_case(m)))
                .map(move |m| (m.to_ascii_uppercase(), path.clone()))
        })
        .collect()
}

fn served() -> BTreeSet<(String, String)> {
    endpoints()
        .into_iter()
        .map(|e| (e.method.to_owned(), e.path))
        .collect()
}

#[test]
fn every_served_route_is_documented_and_every_documented_one_is_served() {
    let (served, documented) = (served(), documented());
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let missing: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served but not in openapi.yaml: {undocumented:?}"
    );
    assert!(
        missing.is_empty(),
        "in openapi.yaml but not served: {missing:?}"
    );
}

#[test]
fn every_operation_has_an_operation_id_fit_for_a_flow_action_name() {
    let document: Value = serde_norway::from_str(contract::OPENAPI_YAML).unwrap();
    let mut seen = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if !METHODS.iter().any(|m| m.eq_ignore_ascii_case(method)) {
                continue;
            }
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path}: no operationId"));
            assert!(
                id.chars().all(|c| c.is_ascii_alphanumeric()),
                "{method} {path}: `{id}`"
            );
            assert!(seen.insert(id.to_owned()), "{id} is used twice");
            assert!(
                method != "get" || operation.get("requestBody").is_none(),
                "{method} {path}: a GET with a body"
            );
        }
    }
}

/// A concrete URL for a documented path, with its parameters filled from what `ids` holds.
fn concrete(path: &str, ids: &Value) -> String {
    let mut url = path.replace("{version}", "v60.0");
    for (resource, key) in [
        ("messages", "message"),
        ("calls", "call"),
        ("tasks", "task"),
        ("voip-errors", "voipError"),
        ("status-log", "log"),
        ("users", "user"),
    ] {
        url = url.replace(
            &format!("/_emulator/{resource}/{{id}}"),
            &format!("/_emulator/{resource}/{}", ids[key].as_str().unwrap()),
        );
    }
    url.replace("{object}/{id}", &format!("Contact/{JANE_CONTACT}"))
}

/// A request body the route takes, where it takes one.
fn body(method: &str, path: &str) -> Option<Value> {
    let body = match (method, path) {
        ("POST", p) if p.ends_with("SubscriberSMSInvocable") && p.starts_with("/actions") => {
            json!({"toPhone": "+14155550123", "bodyText": "contract"})
        }
        ("POST", p) if p.ends_with("SubscriberCallInvocable") && p.starts_with("/actions") => {
            json!({"toPhone": "+14155550123", "ivrId": "a0IDn0000001MnuMAE"})
        }
        ("POST", p)
            if p.ends_with("SubscriberUserStatusInvocable") && p.starts_with("/actions") =>
        {
            json!({"userId": GRACE, "statusType": "Available"})
        }
        ("POST", p) if p.ends_with("SubscriberSMSInvocable") => {
            json!({"inputs": [{"toPhone": "+14155550123", "bodyText": "x"}]})
        }
        ("POST", p) if p.ends_with("SubscriberCallInvocable") => {
            json!({"inputs": [{"toPhone": "+14155550123", "ivrId": "a0IDn0000001MnuMAE"}]})
        }
        ("POST", p) if p.ends_with("SubscriberUserStatusInvocable") => {
            json!({"inputs": [{"userId": KATHERINE, "statusType": "Offline"}]})
        }
        ("POST", p) if p.ends_with("/status") => json!({"status": "Sent"}),
        ("PUT", "/_emulator/org") => serde_json::to_value(Org::demo().document()).unwrap(),
        _ => return None,
    };
    Some(body)
}

/// Records of every kind, so that every `{id}` route has something to show.
async fn seed(app: &TestApp) -> Value {
    let (_, sms) = app
        .send_sms(&json!({"toPhone": "+14155550123", "bodyText": "seed", "recordId": JANE_CONTACT}))
        .await;
    let (_, call) = app
        .post(
            "/actions/SubscriberCallInvocable",
            &json!({"toPhone": "+14155550125", "ivrId": "a0IDn0000001MnuMAE"}),
        )
        .await;
    app.send_sms(&json!({"toPhone": "+15005550001", "bodyText": "refused"}))
        .await;
    let (_, errors) = app.get("/_emulator/voip-errors").await;
    let (_, status) = app
        .post(
            "/actions/SubscriberUserStatusInvocable",
            &json!({"userId": ADA, "statusType": "Offline"}),
        )
        .await;
    json!({
        "message": sms["id"],
        "call": call["id"],
        "task": sms["taskId"],
        "voipError": errors["items"][0]["id"],
        "log": status["logId"],
        "user": ADA,
    })
}

/// Each of `paths` answers every method `documented` lists for it (neither 404 nor 405), and
/// 405 to the others.
async fn answer_documented_methods(
    app: &TestApp,
    paths: &[&String],
    documented: &BTreeSet<(String, String)>,
    ids: &Value,
) {
    for path in paths {
        let url = app.url(&concrete(path, ids));
        for method in METHODS {
            let mut request = app
                .client
                .request(Method::from_bytes(method.as_bytes()).unwrap(), &url);
            if let Some(body) = body(method, path) {
                request = request.json(&body);
            }
            if path.as_str() == "/_emulator/events" {
                // The stream never ends by itself: its headers are the answer.
                request = request.timeout(std::time::Duration::from_secs(5));
            }
            let status = request
                .send()
                .await
                .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
                .status();
            if documented.contains(&(method.to_owned(), (*path).clone())) {
                assert!(
                    status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is documented but answers {status}"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is not documented"
                );
            }
        }
    }
}

backend_tests! {
    async fn every_documented_route_answers_and_undocumented_methods_are_405(backend) {
        let app = spawn_app(backend).await;
        let ids = seed(&app).await;
        let documented = documented();
        let mut paths: Vec<&String> = documented.iter().map(|(_, path)| path).collect::<BTreeSet<_>>().into_iter().collect();
        // Twilio's routes are served with the Twilio provider only (404 otherwise).
        let (provider, mut paths): (Vec<&String>, Vec<&String>) = paths.drain(..).partition(|path| path.starts_with("/_provider/"));
        // The routes that wipe or replace what the others show go last.
        paths.sort_by_key(|path| ["/_emulator/reset", "/_emulator/org"].contains(&path.as_str()));
        answer_documented_methods(&app, &paths, &documented, &ids).await;
        let (twilio_app, _fake) = crate::twilio::spawn_with_twilio(backend).await;
        answer_documented_methods(&twilio_app, &provider, &documented, &ids).await;
    }

    async fn the_contract_is_served_whole_and_cut_to_the_actions(backend) {
        let app = spawn_app(backend).await;
        let response = app.client.get(app.url("/openapi.yaml")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers()["content-type"].to_str().unwrap().contains("yaml"));
        assert_eq!(response.text().await.unwrap(), contract::OPENAPI_YAML);
        let (status, full) = app.get("/openapi.json").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(full, serde_norway::from_str::<Value>(contract::OPENAPI_YAML).unwrap());

        let (status, actions) = app.get("/openapi/actions.json").await;
        assert_eq!(status, StatusCode::OK);
        let paths: Vec<&String> = actions["paths"].as_object().unwrap().keys().collect();
        assert_eq!(
            paths,
            ["/actions/SubscriberCallInvocable", "/actions/SubscriberSMSInvocable", "/actions/SubscriberUserStatusInvocable"]
        );
        assert_eq!(actions["openapi"], full["openapi"]);
        let yaml = app.client.get(app.url("/openapi/actions.yaml")).send().await.unwrap().text().await.unwrap();
        assert_eq!(serde_norway::from_str::<Value>(&yaml).unwrap(), actions);
    }
}
