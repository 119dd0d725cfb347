//! Access: with API keys in the org, no action or `/services` route answers without a
//! valid key; with an admin token, no `/_emulator` route answers without it — whatever is
//! presented instead, and wherever.

use std::time::{Duration, Instant};

use fastcall_emulator::config::Secret;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::*;
use crate::backend_tests;

const SESSION: &str = "INVALID_SESSION_ID";

type Route = (Method, String, Option<Value>);

/// `secret` with its character at `at` replaced: the right length, the wrong content.
fn altered(secret: &str, at: usize) -> String {
    let mut chars: Vec<char> = secret.chars().collect();
    chars[at] = if chars[at] == 'Z' { 'Y' } else { 'Z' };
    chars.into_iter().collect()
}

/// Ways of presenting something other than a valid `secret`, each with its name.
fn refused_credentials(secret: &str) -> Vec<(&'static str, Vec<(&'static str, String)>)> {
    let last = secret.len() - 1;
    vec![
        ("nothing", vec![]),
        (
            "a wrong secret",
            vec![("Authorization", "Bearer wrong".into())],
        ),
        (
            "the right length, last character wrong",
            vec![("Authorization", format!("Bearer {}", altered(secret, last)))],
        ),
        (
            "the right length, first character wrong",
            vec![("X-API-Key", altered(secret, 0))],
        ),
        (
            "the secret upper-cased",
            vec![("Authorization", format!("Bearer {}", secret.to_uppercase()))],
        ),
        (
            "a prefix of the secret",
            vec![("Authorization", format!("Bearer {}", &secret[..last]))],
        ),
        (
            "the secret with a suffix",
            vec![("Authorization", format!("Bearer {secret}0"))],
        ),
        (
            "the secret without a scheme",
            vec![("Authorization", secret.into())],
        ),
        (
            "the secret as Basic",
            vec![("Authorization", format!("Basic {secret}"))],
        ),
        (
            "the secret in X-Fastcall-User-Id",
            vec![("X-Fastcall-User-Id", secret.into())],
        ),
        (
            "the secret in another header",
            vec![("Api-Key", secret.into())],
        ),
    ]
}

fn pairs<'a>(headers: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    headers
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect()
}

/// Every route that needs an API key, given a message and a call to ask for.
fn keyed_routes(message: &Value, placed: &Value) -> Vec<Route> {
    let sobject = |object: &str, id: &Value| {
        let id = id.as_str().expect("an Id");
        (
            Method::GET,
            format!("/services/data/v60.0/sobjects/{object}/{id}"),
            None,
        )
    };
    let post = |path: &str, body: Value| (Method::POST, path.to_owned(), Some(body));
    vec![
        post(SMS, sms("x")),
        post(CALL, call()),
        post(STATUS, on_break(GRACE)),
        post(APEX_SMS, inputs(&[sms("x")])),
        post(
            &format!("{APEX}/FastCall__SubscriberSMSInvocable"),
            inputs(&[sms("x")]),
        ),
        post(APEX_CALL, inputs(&[call()])),
        post(APEX_STATUS, inputs(&[on_break(GRACE)])),
        (Method::GET, APEX.to_owned(), None),
        (Method::GET, APEX_SMS.to_owned(), None),
        (Method::GET, APEX_CALL.to_owned(), None),
        (Method::GET, APEX_STATUS.to_owned(), None),
        sobject("Contact", &json!(JANE_CONTACT)),
        sobject("Lead", &json!(BOB_LEAD)),
        sobject("Account", &json!(ACME_ACCOUNT)),
        sobject("FastCall__SMS_Message__c", &message["id"]),
        sobject("FastCall__Call__c", &placed["id"]),
        sobject("Task", &message["taskId"]),
    ]
}

/// Every `/_emulator` route, given records to ask for and move.
fn admin_routes(ids: &Value, org: &Value) -> Vec<Route> {
    let id = |name: &str| ids[name].as_str().expect("an Id").to_owned();
    let get = |path: String| (Method::GET, path, None);
    vec![
        get("/_emulator/org".into()),
        (Method::PUT, "/_emulator/org".into(), Some(org.clone())),
        (Method::POST, "/_emulator/reset".into(), None),
        (Method::POST, "/_emulator/reset?org=true".into(), None),
        get("/_emulator/messages".into()),
        get("/_emulator/messages?wait=5&to=%2B15005550123".into()),
        get(format!("/_emulator/messages/{}", id("message"))),
        (
            Method::POST,
            format!("/_emulator/messages/{}/status", id("message")),
            Some(json!({ "status": "Sent" })),
        ),
        get("/_emulator/calls".into()),
        get(format!("/_emulator/calls/{}", id("call"))),
        (
            Method::POST,
            format!("/_emulator/calls/{}/status", id("call")),
            Some(json!({ "status": "Ringing" })),
        ),
        get("/_emulator/tasks".into()),
        get(format!("/_emulator/tasks/{}", id("task"))),
        get("/_emulator/voip-errors".into()),
        get(format!("/_emulator/voip-errors/{}", id("voipError"))),
        get("/_emulator/status-log".into()),
        get(format!("/_emulator/status-log/{}", id("log"))),
        get(format!("/_emulator/users/{ADA}")),
        (
            Method::POST,
            "/_emulator/inbound".into(),
            Some(json!({ "from": JANE_PHONE, "to": "+14155550100", "body": "STOP" })),
        ),
        get("/_emulator/opt-outs".into()),
        get("/_emulator/events".into()),
        get("/_emulator/events?after=0&types=sms.created".into()),
    ]
}

backend_tests! {
    async fn with_api_keys_every_action_route_refuses_a_missing_wrong_or_misplaced_key(backend) {
        let app = spawn_app_with_org(backend, &keyed_demo_org()).await;
        let ada = format!("Bearer {ADA_KEY}");
        let ada = [("Authorization", ada.as_str())];
        let input = json!({ "toPhone": JANE_PHONE, "bodyText": "x", "recordId": JANE_CONTACT });
        let message = send(&app, Method::POST, SMS, &ada, Some(&input)).await;
        assert_eq!(message.status, StatusCode::OK, "{}", message.text);
        let placed = send(&app, Method::POST, CALL, &ada, Some(&call())).await;
        assert_eq!(placed.status, StatusCode::OK, "{}", placed.text);
        let routes = keyed_routes(&message.body, &placed.body);
        // With Ada's key, each route answers.
        for (method, path, body) in &routes {
            let reply = send(&app, method.clone(), path, &ada, body.as_ref()).await;
            assert!(reply.status.is_success(), "{method} {path}: {}", reply.text);
        }
        let (status, log) = app.get("/_emulator/status-log").await;
        assert_eq!(status, StatusCode::OK, "{log}");
        let stored = (items(&app, "messages").await.len(), items(&app, "calls").await.len());

        for (case, headers) in refused_credentials(ADA_KEY) {
            for (method, path, body) in &routes {
                let reply = send(&app, method.clone(), path, &pairs(&headers), body.as_ref()).await;
                assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{case}: {method} {path}: {}", reply.text);
                if path.starts_with("/services") {
                    assert_salesforce_error(&reply, StatusCode::UNAUTHORIZED, SESSION);
                } else {
                    assert_platform_error(&reply, StatusCode::UNAUTHORIZED, SESSION);
                }
            }
        }
        assert_eq!((items(&app, "messages").await.len(), items(&app, "calls").await.len()), stored);
        assert_eq!(app.get("/_emulator/status-log").await.1, log, "no status changed");
    }

    async fn with_an_admin_token_every_emulator_route_refuses_a_missing_or_wrong_token(backend) {
        let app = spawn_app_with(backend, |config| config.admin_token = Some(Secret::new(ADMIN_TOKEN))).await;
        let admin = format!("Bearer {ADMIN_TOKEN}");
        let admin = [("Authorization", admin.as_str())];
        let input = json!({ "toPhone": JANE_PHONE, "bodyText": "x", "recordId": JANE_CONTACT });
        let (status, message) = app.send_sms(&input).await;
        assert_eq!(status, StatusCode::OK, "{message}");
        let (status, placed) = app.post(CALL, &call()).await;
        assert_eq!(status, StatusCode::OK, "{placed}");
        let refused = app.send_sms(&json!({ "toPhone": "+15005550001", "bodyText": "x" })).await;
        assert_exception(&refused, StatusCode::BAD_GATEWAY, 100);
        let (status, changed) = app.post(STATUS, &on_break(ADA)).await;
        assert_eq!(status, StatusCode::OK, "{changed}");
        let errors = send(&app, Method::GET, "/_emulator/voip-errors", &admin, None).await;
        let org = send(&app, Method::GET, "/_emulator/org", &admin, None).await;
        assert_eq!(org.status, StatusCode::OK, "{}", org.text);
        let mut disabled = org.body.clone();
        disabled["settings"]["smsEnabled"] = json!(false);
        let ids = json!({
            "message": message["id"], "call": placed["id"], "task": message["taskId"],
            "voipError": errors.body["items"][0]["id"], "log": changed["logId"],
        });
        let routes = admin_routes(&ids, &disabled);

        for (case, headers) in refused_credentials(ADMIN_TOKEN) {
            for (method, path, body) in &routes {
                let started = Instant::now();
                let reply = send(&app, method.clone(), path, &pairs(&headers), body.as_ref()).await;
                assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{case}: {method} {path}: {}", reply.text);
                assert_platform_error(&reply, StatusCode::UNAUTHORIZED, SESSION);
                assert!(started.elapsed() < Duration::from_secs(1), "{case}: {path} was held");
            }
        }
        // Nothing was moved, replaced or cleared.
        let record = send(&app, Method::GET, &format!("/_emulator/messages/{}", message["id"].as_str().unwrap()), &admin, None).await;
        assert_eq!(record.body["status"], "Queued", "{}", record.text);
        let record = send(&app, Method::GET, &format!("/_emulator/calls/{}", placed["id"].as_str().unwrap()), &admin, None).await;
        assert_eq!(record.body["status"], "Queued", "{}", record.text);
        assert_eq!(send(&app, Method::GET, "/_emulator/org", &admin, None).await.body, org.body);
        let messages = send(&app, Method::GET, "/_emulator/messages", &admin, None).await;
        assert_eq!(messages.body["items"].as_array().map(Vec::len), Some(2), "{}", messages.text);
    }

    async fn api_keys_and_the_admin_token_do_not_stand_in_for_each_other(backend) {
        let file = tempfile::Builder::new().suffix(".yaml").tempfile().expect("a temporary file");
        std::fs::write(file.path(), keyed_demo_org()).expect("the org file is written");
        let org = file.path().to_owned();
        let app = spawn_app_with(backend, |config| {
            config.org = Some(org);
            config.admin_token = Some(Secret::new(ADMIN_TOKEN));
        })
        .await;
        let with_token = format!("Bearer {ADMIN_TOKEN}");
        let with_key = format!("Bearer {ADA_KEY}");
        let reply = send(&app, Method::POST, SMS, &[("Authorization", &with_token)], Some(&sms("x"))).await;
        assert_platform_error(&reply, StatusCode::UNAUTHORIZED, SESSION);
        let reply = send(&app, Method::GET, APEX, &[("X-API-Key", ADMIN_TOKEN)], None).await;
        assert_salesforce_error(&reply, StatusCode::UNAUTHORIZED, SESSION);
        let reply = send(&app, Method::GET, "/_emulator/messages", &[("Authorization", &with_key)], None).await;
        assert_platform_error(&reply, StatusCode::UNAUTHORIZED, SESSION);

        let sent = send(&app, Method::POST, SMS, &[("Authorization", &with_key)], Some(&sms("x"))).await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
        let messages = send(&app, Method::GET, "/_emulator/messages", &[("Authorization", &with_token)], None).await;
        assert_eq!(messages.status, StatusCode::OK, "{}", messages.text);
        assert_eq!(messages.body["items"][0]["id"], sent.body["id"]);
    }
}
