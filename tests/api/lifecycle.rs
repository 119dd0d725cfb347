//! Running the service (SPEC section 1): health, unknown routes and methods, restarts on
//! the same database, graceful stop, and the binary itself.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::*;

const JANE_PHONE: &str = "+14155550123";
const SMS_PATH: &str = "/actions/SubscriberSMSInvocable";
const BULK_SMS_PATH: &str = "/services/data/v60.0/actions/custom/apex/SubscriberSMSInvocable";

async fn request(
    app: &TestApp,
    method: Method,
    path: &str,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let response = app
        .client
        .request(method.clone(), app.url(path))
        .send()
        .await
        .expect("answered");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("a body");
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("{method} {path}: a JSON body, got {status}: {text:?}"));
    (status, headers, json)
}

async fn items(app: &TestApp, path: &str) -> Value {
    let (status, body) = app.get(path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body["items"].clone()
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
            (Method::GET, "/"),
            (Method::GET, "/nope"),
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
            (Method::POST, "/livez", "GET"),
            (Method::PUT, "/readyz", "GET"),
            (Method::DELETE, "/_emulator/org", "PUT"),
            (Method::POST, "/_emulator/messages", "GET"),
            (Method::GET, "/_emulator/reset", "POST"),
        ];
        for (method, path, allowed) in cases {
            let (status, headers, body) = request(&app, method.clone(), path).await;
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}: {body}");
            assert_eq!(body["errorCode"], "METHOD_NOT_ALLOWED", "{method} {path}: {body}");
            let allow = headers.get("allow").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
            assert!(allow.contains(allowed), "{method} {path}: Allow {allow:?} should list {allowed}");
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
            let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(60)).build().unwrap();
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
        let after = reqwest::Client::new().get(format!("{base_url}/livez")).send().await;
        assert!(after.is_err(), "the stopped server still answers: {after:?}");

        // Everything answered was stored.
        let app = TestApp::start(&db, |_| {}).await;
        let messages = items(&app, "/_emulator/messages?limit=1000").await;
        assert_eq!(messages.as_array().unwrap().len(), stored);
    }
}

/// The compiled binary, run as a user would: SQLite only, in a temporary directory.
mod binary {
    use std::process::Stdio;
    use std::time::Duration;

    use reqwest::StatusCode;
    use serde_json::{Value, json};

    use crate::process::{Emulator, command, free_port, wait_for_exit};

    async fn send_sms(base_url: &str, body: &Value) -> (StatusCode, Value) {
        let response = reqwest::Client::new()
            .post(format!("{base_url}/actions/SubscriberSMSInvocable"))
            .json(body)
            .send()
            .await
            .expect("answered");
        let status = response.status();
        (status, response.json().await.expect("a JSON body"))
    }

    /// The URL and the JSON payload of the logged `curl ... -d '<json>'` line.
    fn curl_line(log: &str) -> (String, String) {
        let line = log
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("curl "))
            .unwrap_or_else(|| panic!("no curl line in the log: {log}"));
        assert!(
            !line.contains('\u{1b}'),
            "the curl line has terminal escapes: {line:?}"
        );
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .expect("a URL in the curl line");
        assert!(
            line.contains("-H 'Content-Type: application/json'"),
            "{line}"
        );
        let payload = line
            .split_once("-d '")
            .and_then(|(_, rest)| rest.strip_suffix('\''))
            .expect("a -d '...' payload");
        (url.to_owned(), payload.to_owned())
    }

    #[tokio::test]
    async fn binary_serves_logs_a_curl_line_and_exits_0_on_sigterm() {
        let dir = tempfile::tempdir().unwrap();
        let database = format!("sqlite:{}", dir.path().join("x.db").display());
        let emulator = Emulator::start_local(dir.path(), "run.log", &database, &[]).await;
        let (status, sent) = send_sms(
            &emulator.base_url,
            &json!({"toPhone": "+14155550123", "bodyText": "Hi"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{sent}");
        assert_eq!(sent["status"], "Queued");

        // The logged command works as pasted.
        let (url, payload) = curl_line(&emulator.stderr_as_written());
        assert_eq!(
            url,
            format!("{}/actions/SubscriberSMSInvocable", emulator.base_url)
        );
        let payload: Value = serde_json::from_str(&payload).expect("the curl payload is JSON");
        let response = reqwest::Client::new()
            .post(&url)
            .json(&payload)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);

        let (status, log) = emulator.terminate();
        assert_eq!(status.code(), Some(0), "{log}");
        assert!(
            !dir.path().join("fastcall-emulator.db").exists(),
            "--database-url was not used"
        );
    }

    #[tokio::test]
    async fn restarting_the_binary_on_the_same_sqlite_file_keeps_messages() {
        let dir = tempfile::tempdir().unwrap();
        let database = format!("sqlite:{}", dir.path().join("x.db").display());
        let emulator = Emulator::start_local(dir.path(), "first.log", &database, &[]).await;
        let (status, sent) = send_sms(
            &emulator.base_url,
            &json!({"toPhone": "+14155550123", "bodyText": "Keep"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{sent}");
        let path = format!("/_emulator/messages/{}", sent["id"].as_str().unwrap());
        let before: Value = reqwest::get(format!("{}{path}", emulator.base_url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let (status, log) = emulator.terminate();
        assert_eq!(status.code(), Some(0), "{log}");

        let emulator = Emulator::start_local(dir.path(), "second.log", &database, &[]).await;
        let response = reqwest::get(format!("{}{path}", emulator.base_url))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let after: Value = response.json().await.unwrap();
        // The binary runs the default timed progression: the message may have moved on
        // since, and its history goes on from where it was.
        for key in [
            "id",
            "smsId",
            "body",
            "createdDate",
            "toPhone",
            "fromPhone",
            "userId",
        ] {
            assert_eq!(after[key], before[key], "{key}: {after}");
        }
        assert_eq!(after["body"], "Keep");
        let (earlier, later) = (
            before["statusHistory"].as_array().unwrap(),
            after["statusHistory"].as_array().unwrap(),
        );
        assert_eq!(&later[..earlier.len()], &earlier[..], "{after}");
    }

    #[test]
    fn help_lists_every_flag_and_environment_variable() {
        let output = command().arg("--help").output().expect("the binary runs");
        assert!(output.status.success(), "{output:?}");
        let help = String::from_utf8(output.stdout).unwrap();
        let flags = [
            "--addr",
            "--database-url",
            "--org",
            "--admin-token",
            "--provider",
            "--max-body-bytes",
            "--max-bulk-inputs",
            "--db-max-connections",
            "--shutdown-grace-secs",
            "--log",
        ];
        let variables = [
            "FASTCALL_ADDR",
            "DATABASE_URL",
            "FASTCALL_ORG",
            "FASTCALL_ADMIN_TOKEN",
            "FASTCALL_PROVIDER",
            "FASTCALL_MAX_BODY_BYTES",
            "FASTCALL_MAX_BULK_INPUTS",
            "FASTCALL_DB_MAX_CONNECTIONS",
            "FASTCALL_SHUTDOWN_GRACE_SECS",
            "RUST_LOG",
        ];
        for expected in flags.iter().chain(&variables) {
            assert!(
                help.contains(expected),
                "--help does not mention {expected}:\n{help}"
            );
        }
    }

    #[test]
    fn invalid_org_file_makes_the_binary_exit_non_zero_naming_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let org = dir.path().join("org.yaml");
        std::fs::write(
            &org,
            "phoneNumbers:\n  - {id: a0PDn0000009Zed, number: '555', assignment: org}\n",
        )
        .unwrap();
        let mut child = command()
            .arg("--addr")
            .arg(format!("127.0.0.1:{}", free_port()))
            .arg("--database-url")
            .arg(format!("sqlite:{}", dir.path().join("x.db").display()))
            .arg("--org")
            .arg(&org)
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let status = wait_for_exit(&mut child, Duration::from_secs(30));
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert!(!status.success(), "{stderr}");
        assert!(stderr.contains("phoneNumbers[0].number"), "{stderr}");
        assert!(stderr.contains("org.yaml"), "{stderr}");
    }
}
