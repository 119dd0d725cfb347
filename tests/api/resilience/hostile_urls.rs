//! Hostile query strings on the lists (400 INVALID_FILTER) and hostile path segments
//! (404), on both backends: nothing matches, nothing is changed, the database keeps working.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::hostile::{HOSTILE, Ledger, short};
use super::*;
use crate::backend_tests;
use crate::helpers::*;

backend_tests! {
    async fn hostile_query_strings_on_lists_are_400_invalid_filter(backend) {
        let app = spawn_app(backend).await;
        let (status, sent) = app.send_sms(&json!({"toPhone": JANE_PHONE, "bodyText": "kept"})).await;
        assert_eq!(status, StatusCode::OK, "{sent}");
        let long_values = ["1".repeat(10 * 1024), "x' OR '1'='1".repeat(900)];
        let values: Vec<&str> = HOSTILE.iter().copied().chain(long_values.iter().map(String::as_str)).collect();
        let lists = ["/_emulator/messages", "/_emulator/calls", "/_emulator/tasks", "/_emulator/voip-errors", "/_emulator/status-log"];
        let filters = ["to", "from", "userId", "relatedRecordId", "status", "since", "limit", "wait"];
        // (method, path and query, whether it is a number filter that dials the value)
        let mut requests: Vec<(Method, String, bool)> = Vec::new();
        for list in lists {
            for filter in filters {
                for value in &values {
                    // A number is dialled as the actions dial theirs: only its digits count.
                    let numbers = matches!(list, "/_emulator/messages" | "/_emulator/calls" | "/_emulator/voip-errors");
                    let dialled = numbers
                        && matches!(filter, "to" | "from")
                        && value.len() <= 100
                        && value.bytes().any(|b| b.is_ascii_digit());
                    requests.push((Method::GET, with_query(list, filter, value), dialled));
                }
            }
            for name in &values {
                requests.push((Method::GET, with_query(list, name, "1"), false));
            }
        }
        for value in &values {
            for name in ["types", "after", *value] {
                requests.push((Method::GET, with_query("/_emulator/events", name, value), false));
            }
            requests.push((Method::POST, with_query("/_emulator/reset", "org", value), false));
        }
        for (method, path, dialled) in requests {
            let case = format!("{method} {}", short(&path));
            let request = app.client.request(method, app.url(&path));
            let (status, body) = json_answer(request.send().await.expect("answered")).await;
            if dialled {
                assert_eq!((status, &body), (StatusCode::OK, &json!({"items": []})), "{case}");
                continue;
            }
            assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {body}");
            assert_eq!(body["errorCode"], "INVALID_FILTER", "{case}: {body}");
        }
        // Bytes that are not UTF-8, percent-encoded.
        for list in lists {
            let (status, body) = app.get(&format!("{list}?userId=%FF%FE")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{list}: {body}");
            assert_eq!(body["errorCode"], "INVALID_FILTER", "{list}: {body}");
        }
        let mut ledger = Ledger::default();
        ledger.record(SMS_PATH, &sent);
        ledger.assert_stored_and_working(&app).await;
    }

    async fn hostile_path_segments_are_404(backend) {
        let app = spawn_app(backend).await;
        let (status, sent) = app.send_sms(&json!({"toPhone": JANE_PHONE, "bodyText": "kept"})).await;
        assert_eq!(status, StatusCode::OK, "{sent}");
        let long = "' OR '1'='1".repeat(1000);
        let segments: Vec<&str> = HOSTILE.iter().copied().chain([long.as_str()]).collect();
        let sms = json!({"toPhone": JANE_PHONE, "bodyText": "x"});
        let (moving, ringing) = (json!({"status": "Sent"}), json!({"status": "Ringing"}));
        let bulk = json!({"inputs": [sms]});
        // (route, body to POST, whether errors come in the array envelope)
        let routes: [(&str, Option<&Value>, bool); 17] = [
            ("/_emulator/messages/{s}", None, false),
            ("/_emulator/messages/SM{s}", None, false),
            ("/_emulator/calls/{s}", None, false),
            ("/_emulator/calls/CA{s}", None, false),
            ("/_emulator/tasks/{s}", None, false),
            ("/_emulator/voip-errors/{s}", None, false),
            ("/_emulator/status-log/{s}", None, false),
            ("/_emulator/users/{s}", None, false),
            ("/_emulator/messages/{s}/status", Some(&moving), false),
            ("/_emulator/calls/{s}/status", Some(&ringing), false),
            ("/actions/{s}", Some(&sms), false),
            ("/services/data/v60.0/sobjects/{s}/003Dn0000001JanIAE", None, true),
            ("/services/data/v60.0/sobjects/Contact/{s}", None, true),
            ("/services/data/v60.0/sobjects/FastCall__SMS_Message__c/{s}", None, true),
            ("/services/data/v60.0/actions/custom/apex/{s}", None, true),
            ("/services/data/v60.0/actions/custom/apex/{s}", Some(&bulk), true),
            ("/services/data/{s}/actions/custom/apex/SubscriberSMSInvocable", Some(&bulk), true),
        ];
        for (template, body, in_array) in routes {
            let encoded = segments.iter().map(|s| encode_in(&app, template, s));
            let not_utf8 = app.url(&template.replace("{s}", "%FF%FE"));
            for url in encoded.chain([not_utf8]) {
                let request = match body {
                    Some(body) => app.client.post(&url).json(body),
                    None => app.client.get(&url),
                };
                let case = format!("{} {url:.120}", if body.is_some() { "POST" } else { "GET" });
                let (status, answer) = json_answer(request.send().await.expect("answered")).await;
                assert_eq!(status, StatusCode::NOT_FOUND, "{case}: {answer}");
                let error = if in_array { &answer[0] } else { &answer };
                assert_eq!(error["errorCode"], "NOT_FOUND", "{case}: {answer}");
            }
        }
        let mut ledger = Ledger::default();
        ledger.record(SMS_PATH, &sent);
        ledger.assert_stored_and_working(&app).await;
    }
}

/// The URL of `template` with `{s}` replaced by `segment`, percent-encoded as one segment.
fn encode_in(app: &TestApp, template: &str, segment: &str) -> String {
    let mut url = url::Url::parse(&app.base_url).expect("a URL");
    let parts = template.trim_start_matches('/').split('/');
    url.path_segments_mut()
        .expect("a base URL")
        .clear()
        .extend(parts.map(|part| part.replace("{s}", segment)));
    url.to_string()
}

/// `path?name=value`, form-encoded.
fn with_query(path: &str, name: &str, value: &str) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    format!("{path}?{}", query.append_pair(name, value).finish())
}
