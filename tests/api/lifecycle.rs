//! Running the service (README, Running): health, unknown routes and methods, restarts on
//! the same database, graceful stop, and the binary itself.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::*;

const SMS_PATH: &str = "/actions/SubscriberSMSInvocable";
const BULK_SMS_PATH: &str = "/services/data/v60.0/actions/custom/apex/SubscriberSMSInvocable";

/// Any method, no body; the answer's status, headers and JSON body.
async fn request(
    app: &TestApp,
    method: Method,
    path: &str,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let response = app.client.request(method, app.url(path)).send().await;
    let response = response.expect("answered");
    let headers = response.headers().clone();
    let (status, json) = json_answer(response).await;
    (status, headers, json)
}

async fn items(app: &TestApp, path: &str) -> Value {
    app.item(path).await["items"].clone()
}

backend_tests! {
    async fn livez_and_readyz_answer_ok(backend) {
        let app = spawn_app(backend).await;
        assert_eq!(app.get("/livez").await, (StatusCode::OK, json!({"status": "ok"})));
        assert_eq!(app.get("/readyz").await, (StatusCode::OK, json!({"status": "ready"})));
    }

    async fn unknown_routes_are_404_with_the_platform_error(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            (Method::GET, "/nope"),
            (Method::GET, "/ui/nope.js"),
            (Method::POST, "/actions"),
            (Method::POST, "/actions/NoSuchInvocable"),
            (Method::POST, "/actions/SubscriberSMSInvocable/extra"),
            (Method::GET, "/livez/extra"),
            (Method::GET, "/_emulator/nope"),
            (Method::GET, "/_emulator/messages/a0SDn0000009ZzzMAE/extra"),
        ];
        for (method, path) in cases {
            let (status, _, body) = request(&app, method.clone(), path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {body}");
            assert_eq!(body["errorCode"], "NOT_FOUND", "{method} {path}: {body}");
            assert_eq!(body["message"], "The requested resource does not exist", "{method} {path}: {body}");
        }
        // Salesforce's own routes answer errors in an array.
        let (status, _, body) = request(&app, Method::GET, "/services/nope").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(body[0]["errorCode"], "NOT_FOUND", "{body}");
    }

    async fn wrong_method_on_a_known_route_is_405(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            (Method::GET, SMS_PATH, "POST"),
            (Method::POST, "/livez", "GET,HEAD"),
            (Method::PUT, "/readyz", "GET,HEAD"),
            (Method::DELETE, "/_emulator/org", "GET,HEAD,PUT"),
            (Method::POST, "/_emulator/messages", "GET,HEAD"),
            (Method::GET, "/_emulator/reset", "POST"),
        ];
        for (method, path, allowed) in cases {
            let (status, headers, body) = request(&app, method.clone(), path).await;
            let message = format!("HTTP Method '{method}' not allowed. Allowed are {allowed}");
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}: {body}");
            assert_eq!(body, json!({ "errorCode": "METHOD_NOT_ALLOWED", "message": message }), "{method} {path}");
            let allow = headers.get("allow").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
            for method in allowed.split(',') {
                assert!(allow.contains(method), "{path}: Allow {allow:?} should list {method}");
            }
        }
        let (status, _, body) = request(&app, Method::DELETE, BULK_SMS_PATH).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
        assert_eq!(body[0]["errorCode"], "METHOD_NOT_ALLOWED", "{body}");
    }

    async fn a_restart_on_the_same_database_keeps_messages_tasks_and_voip_errors(backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::start(&db, |_| {}).await;
        let input = json!({"toPhone": JANE_PHONE, "bodyText": "kept", "recordId": JANE_CONTACT});
        let (status, sent) = app.send_sms(&input).await;
        assert_eq!(status, StatusCode::OK, "{sent}");
        let refused = app.send_sms(&json!({"toPhone": "+15005550001", "bodyText": "refused"})).await;
        assert_exception(&refused, StatusCode::BAD_GATEWAY, 100);
        let lists = ["/_emulator/messages", "/_emulator/tasks", "/_emulator/voip-errors"];
        let mut before = Vec::new();
        for path in lists {
            before.push(items(&app, path).await);
        }
        assert_eq!(before.iter().map(|l| l.as_array().unwrap().len()).collect::<Vec<_>>(), [2, 1, 1]);
        app.stop().await;

        let app = TestApp::start(&db, |_| {}).await;
        for (path, expected) in lists.into_iter().zip(&before) {
            assert_eq!(&items(&app, path).await, expected, "{path}");
        }
        let id = sent["id"].as_str().unwrap();
        let (status, message) = app.get(&format!("/_emulator/messages/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{message}");
        assert_eq!(message, before[0][1]);
        let (status, task) = app.get(&format!("/_emulator/tasks/{}", sent["taskId"].as_str().unwrap())).await;
        assert_eq!(status, StatusCode::OK, "{task}");
    }

    async fn stopping_lets_requests_in_flight_finish(backend) {
        const REQUESTS: usize = 16;
        const INPUTS: usize = 5;
        let db = TestDb::new(backend).await;
        // Each input holds its request in the handler for 200 ms: a request is in flight for a
        // second, long after all of them were sent.
        let app = TestApp::start(&db, |config| config.provider_latency_ms = 200).await;
        let mut burst = Vec::new();
        for r in 0..REQUESTS {
            // A client per request: a connection of its own, not a pooled idle one.
            let client = crate::helpers::http().timeout(std::time::Duration::from_secs(60)).build().unwrap();
            let url = app.url(BULK_SMS_PATH);
            let inputs: Vec<Value> =
                (0..INPUTS).map(|i| json!({"toPhone": JANE_PHONE, "bodyText": format!("burst {r}/{i}")})).collect();
            burst.push(tokio::spawn(async move {
                let response = client.post(url).json(&json!({"inputs": inputs})).send().await?;
                let status = response.status();
                response.text().await.map(|text| (status, text))
            }));
        }
        // Long enough to send 16 requests on a loaded machine, well inside their second.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let base_url = app.base_url.clone();
        app.stop().await;

        let mut stored = 0;
        for (r, request) in burst.into_iter().enumerate() {
            let (status, text) = request.await.unwrap().unwrap_or_else(|e| panic!("request {r} lost its answer: {e}"));
            assert_eq!(status, StatusCode::OK, "request {r}: {text}");
            let results: Value =
                serde_json::from_str(&text).unwrap_or_else(|_| panic!("request {r}: incomplete JSON {text:?}"));
            let results = results.as_array().expect("an array");
            assert_eq!(results.len(), INPUTS, "request {r}");
            assert!(results.iter().all(|result| result["isSuccess"] == true), "request {r}: {text}");
            stored += results.len();
        }

        // Stopped means stopped: no one answers any more.
        let after = crate::helpers::http().build().unwrap().get(format!("{base_url}/livez")).send().await;
        assert!(after.is_err(), "the stopped server still answers: {after:?}");

        // Everything answered was stored.
        let app = TestApp::start(&db, |_| {}).await;
        let messages = items(&app, "/_emulator/messages?limit=1000").await;
        assert_eq!(messages.as_array().unwrap().len(), stored);
    }
}

/// One process per SQLite file: a second server on the file is refused while the first
/// lives, and the file is free again once the first has stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_file_serves_one_server_at_a_time() {
    let db = TestDb::new(Backend::Sqlite).await;
    let first = TestApp::start(&db, |_| {}).await;
    let config = fastcall_emulator::config::Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        database_url: db.url.clone(),
        ..Default::default()
    };
    let Err(error) = fastcall_emulator::startup::Application::build(&config).await else {
        panic!("a second server started on {}", db.url);
    };
    let file = db.url.trim_start_matches("sqlite:");
    let message = error.to_string();
    assert!(message.contains(file), "{message}");
    assert!(
        message.contains("in use by another fastcall-emulator process"),
        "{message}"
    );
    let (status, sent) = first
        .send_sms(&json!({"toPhone": JANE_PHONE, "bodyText": "still mine"}))
        .await;
    assert_eq!(status, StatusCode::OK, "the first server goes on: {sent}");
    first.stop().await;

    let second = TestApp::start(&db, |_| {}).await;
    assert_eq!(
        items(&second, "/_emulator/messages").await[0]["body"],
        "still mine"
    );
    second.stop().await;
}

/// The compiled binary, run as a user would, in a temporary directory, on both backends.
mod binary;
