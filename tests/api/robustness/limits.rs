//! Bounds on requests: body size (413 everywhere a body is taken), time (503
//! REQUEST_TIMEOUT, but not for long polls), concurrency (503 SERVER_BUSY at once, health
//! and watching still served) and bulk size.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpStream;

use super::*;
use crate::backend_tests;

const LIMIT: usize = 1000;

/// A string long enough to take any body over `LIMIT`.
fn padding() -> String {
    "x".repeat(2 * LIMIT)
}

/// `GET /_emulator/{list}?wait=SECS`: the list once it has a match or the wait is over.
async fn wait_for(app: &TestApp, list: &str, secs: f64) -> Vec<Value> {
    items(app, &format!("{list}?wait={secs}")).await
}

/// Waits until the server closes `stream`, writing one more header byte every 200 ms when
/// `trickle`; answers what the server sent before closing.
async fn until_closed(stream: &TcpStream, trickle: bool) -> Vec<u8> {
    let mut received = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    let mut buffer = [0u8; 1024];
    loop {
        tokio::select! {
            _ = tick.tick(), if trickle => {
                // Once the server closed, writing fails; the read below then ends.
                let _ = stream.try_write(b"a");
            }
            ready = stream.readable() => {
                ready.expect("the socket can be polled");
                match stream.try_read(&mut buffer) {
                    Ok(0) => return received,
                    Ok(n) => received.extend_from_slice(&buffer[..n]),
                    Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
                    // A reset closes it too.
                    Err(_) => return received,
                }
            }
        }
    }
}

/// Opens a raw connection to the app and sends `start` of a request.
async fn half_request(app: &TestApp, start: &[u8]) -> TcpStream {
    let addr = app.base_url.strip_prefix("http://").expect("an http URL");
    let stream = TcpStream::connect(addr).await.expect("the app accepts");
    let mut rest = start;
    while !rest.is_empty() {
        stream.writable().await.expect("the socket can be polled");
        match stream.try_write(rest) {
            Ok(n) => rest = &rest[n..],
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(error) => panic!("cannot write: {error}"),
        }
    }
    stream
}

backend_tests! {
    async fn oversized_bodies_are_413_on_every_route_and_store_nothing(backend) {
        let app = spawn_app_with(backend, |config| config.max_body_bytes = LIMIT).await;
        let sent = app.send_sms(&sms("small")).await;
        assert_eq!(sent.0, StatusCode::OK, "{}", sent.1);
        let placed = app.post(CALL, &call()).await;
        assert_eq!(placed.0, StatusCode::OK, "{}", placed.1);
        let (_, org_before) = app.get("/_emulator/org").await;

        let big_sms = json!({ "toPhone": JANE_PHONE, "bodyText": padding() });
        let big_call = json!({ "toPhone": JANE_PHONE, "ivrId": MENU_IVR, "fromPhone": padding() });
        let big_status = json!({ "userId": ADA, "statusType": padding() });
        for (path, body) in [(SMS, &big_sms), (CALL, &big_call), (STATUS, &big_status)] {
            let reply = send(&app, Method::POST, path, &[], Some(body)).await;
            assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{path}: {}", reply.text);
            assert_api_exception(&reply, StatusCode::PAYLOAD_TOO_LARGE, 104);
        }
        for (path, body) in [(APEX_SMS, &big_sms), (APEX_CALL, &big_call), (APEX_STATUS, &big_status)] {
            let reply = send(&app, Method::POST, path, &[], Some(&inputs(std::slice::from_ref(body)))).await;
            assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{path}: {}", reply.text);
            let errors = reply.body.as_array().unwrap_or_else(|| panic!("{path}: an array: {}", reply.text));
            assert_eq!(errors.len(), 1, "{path}: {}", reply.text);
            assert!(errors[0]["errorCode"].as_str().is_some_and(|c| !c.is_empty()), "{path}: {}", reply.text);
        }
        let mut big_org = org_before.clone();
        big_org["settings"]["smsEnabled"] = json!(false);
        big_org["users"][0]["name"] = json!(padding());
        let moves = [
            (Method::PUT, "/_emulator/org".to_owned(), big_org),
            (Method::POST, format!("/_emulator/messages/{}/status", sent.1["id"].as_str().unwrap()),
             json!({ "status": "Undelivered", "errorCode": 30005, "errorMessage": padding() })),
            (Method::POST, format!("/_emulator/calls/{}/status", placed.1["id"].as_str().unwrap()),
             json!({ "status": "Failed", "errorCode": 13224, "errorMessage": padding() })),
            (Method::POST, "/_emulator/inbound".to_owned(),
             json!({ "from": "+14155550123", "to": "+14155550100", "body": padding() })),
        ];
        for (method, path, body) in &moves {
            let reply = send(&app, method.clone(), path, &[], Some(body)).await;
            assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{method} {path}: {}", reply.text);
            assert!(reply.body["errorCode"].as_str().is_some_and(|c| !c.is_empty()), "{path}: {}", reply.text);
        }

        assert_eq!(app.get("/_emulator/org").await.1, org_before, "the org stays");
        let messages = items(&app, "messages").await;
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert_eq!(messages[0]["status"], "Queued");
        let calls = items(&app, "calls").await;
        assert_eq!(calls.len(), 1, "{calls:?}");
        assert_eq!(calls[0]["status"], "Queued");
        assert!(items(&app, "status-log").await.is_empty());
        assert!(items(&app, "voip-errors").await.is_empty());
    }

    async fn an_action_slower_than_the_request_timeout_is_503_and_stores_nothing(backend) {
        let app = spawn_app_with(backend, |config| {
            config.request_timeout_secs = 1;
            config.provider_latency_ms = 2000;
        })
        .await;
        let direct = [(SMS, sms("slow")), (CALL, call())];
        for (path, body) in &direct {
            let started = Instant::now();
            let reply = send(&app, Method::POST, path, &[], Some(body)).await;
            let elapsed = started.elapsed();
            assert_platform_error(&reply, StatusCode::SERVICE_UNAVAILABLE, "REQUEST_TIMEOUT");
            assert!(elapsed >= Duration::from_millis(900) && elapsed < Duration::from_millis(1900), "{path}: {elapsed:?}");
        }
        let started = Instant::now();
        let bulk = send(&app, Method::POST, APEX_SMS, &[], Some(&inputs(&[sms("slow")]))).await;
        assert_salesforce_error(&bulk, StatusCode::SERVICE_UNAVAILABLE, "REQUEST_TIMEOUT");
        assert!(started.elapsed() < Duration::from_millis(1900), "{:?}", started.elapsed());
        // A fast action is not affected.
        let status = send(&app, Method::POST, STATUS, &[], Some(&on_break(ADA))).await;
        assert_eq!(status.status, StatusCode::OK, "{}", status.text);

        // Well after the provider would have answered, nothing was stored.
        assert!(wait_for(&app, "messages", 2.5).await.is_empty());
        assert!(items(&app, "calls").await.is_empty());
        assert!(items(&app, "tasks").await.is_empty());
    }

    async fn a_timed_out_keyed_call_frees_its_key(backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::start(&db, |config| {
            config.request_timeout_secs = 1;
            config.provider_latency_ms = 2000;
        })
        .await;
        let timed_out = post_keyed(&app, SMS, "k-timeout", &[], &sms("x")).await;
        assert_platform_error(&timed_out, StatusCode::SERVICE_UNAVAILABLE, "REQUEST_TIMEOUT");
        app.stop().await;

        // A 503 is not an answer to keep: the retry runs, at once.
        let app = TestApp::start(&db, |_| {}).await;
        let started = Instant::now();
        let retry = post_keyed(&app, SMS, "k-timeout", &[], &sms("x")).await;
        retry.assert_ran(StatusCode::OK);
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
        assert_eq!(items(&app, "messages").await.len(), 1);
        app.stop().await;
    }

    async fn the_request_timeout_does_not_cut_a_long_poll(backend) {
        let app = Arc::new(spawn_app_with(backend, |config| config.request_timeout_secs = 1).await);
        let started = Instant::now();
        let page = send(&app, Method::GET, "/_emulator/messages?wait=3", &[], None).await;
        assert_eq!((page.status, &page.body), (StatusCode::OK, &json!({ "items": [] })), "{}", page.text);
        assert!(started.elapsed() >= Duration::from_millis(2900), "{:?}", started.elapsed());

        // Held past the timeout, a long poll still answers with what arrived.
        let poller = app.clone();
        let poll = tokio::spawn(async move {
            let started = Instant::now();
            (send(&poller, Method::GET, "/_emulator/calls?wait=5", &[], None).await, started.elapsed())
        });
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let placed = app.post(CALL, &call()).await;
        assert_eq!(placed.0, StatusCode::OK, "{}", placed.1);
        let (page, elapsed) = poll.await.expect("the long poll");
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert_eq!(page.body["items"][0]["id"], placed.1["id"], "{}", page.text);
        assert!(elapsed >= Duration::from_millis(1400) && elapsed < Duration::from_secs(4), "{elapsed:?}");
    }

    async fn beyond_max_concurrent_requests_actions_are_refused_at_once(backend) {
        let app = Arc::new(spawn_app_with(backend, |config| {
            config.max_concurrent_requests = 2;
            config.provider_latency_ms = 1000;
        })
        .await);
        let slow: Vec<_> = (0..2)
            .map(|i| {
                let app = app.clone();
                tokio::spawn(async move { app.send_sms(&sms(&format!("slow {i}"))).await })
            })
            .collect();
        // Both reach the server and hold their permits for a second.
        tokio::time::sleep(Duration::from_millis(300)).await;

        let started = Instant::now();
        let busy = send(&app, Method::POST, SMS, &[], Some(&sms("third"))).await;
        assert_platform_error(&busy, StatusCode::SERVICE_UNAVAILABLE, "SERVER_BUSY");
        let busy = send(&app, Method::POST, STATUS, &[], Some(&on_break(ADA))).await;
        assert_platform_error(&busy, StatusCode::SERVICE_UNAVAILABLE, "SERVER_BUSY");
        let busy = send(&app, Method::POST, APEX_CALL, &[], Some(&inputs(&[call()]))).await;
        assert_salesforce_error(&busy, StatusCode::SERVICE_UNAVAILABLE, "SERVER_BUSY");
        let busy = send(&app, Method::GET, "/_emulator/org", &[], None).await;
        assert_platform_error(&busy, StatusCode::SERVICE_UNAVAILABLE, "SERVER_BUSY");
        assert!(started.elapsed() < Duration::from_millis(400), "refused at once: {:?}", started.elapsed());

        // Health, the contract and watching are not counted.
        assert_eq!(app.get("/livez").await, (StatusCode::OK, json!({ "status": "ok" })));
        assert_eq!(app.get("/readyz").await, (StatusCode::OK, json!({ "status": "ready" })));
        let contract = send(&app, Method::GET, "/openapi.json", &[], None).await;
        assert_eq!(contract.status, StatusCode::OK);
        assert_eq!(items(&app, "messages").await, Vec::<Value>::new());
        assert_eq!(wait_for(&app, "calls", 0.1).await, Vec::<Value>::new());
        assert!(started.elapsed() < Duration::from_millis(650), "served meanwhile: {:?}", started.elapsed());

        for task in slow {
            let (status, output) = task.await.expect("a slow SMS");
            assert_eq!(status, StatusCode::OK, "{output}");
        }
        let (status, output) = app.send_sms(&sms("after")).await;
        assert_eq!(status, StatusCode::OK, "{output}");
        assert_eq!(items(&app, "messages").await.len(), 3);
        assert!(items(&app, "calls").await.is_empty());
        assert!(items(&app, "status-log").await.is_empty());
    }

    async fn bulk_calls_are_bounded_by_max_bulk_inputs(backend) {
        let app = spawn_app_with(backend, |config| config.max_bulk_inputs = 3).await;
        let three = inputs(&[sms("1"), sms("2"), sms("3")]);
        let reply = send(&app, Method::POST, APEX_SMS, &[], Some(&three)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(reply.body.as_array().map(Vec::len), Some(3));
        let cases = [
            (APEX_SMS, inputs(&[sms("1"), sms("2"), sms("3"), sms("4")])),
            (APEX_CALL, inputs(&[call(), call(), call(), call()])),
            (APEX_STATUS, inputs(&[on_break(ADA), on_break(GRACE), on_break(KATHERINE), on_break(ADA)])),
        ];
        for (path, body) in &cases {
            let reply = send(&app, Method::POST, path, &[], Some(body)).await;
            assert_salesforce_error(&reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
            let message = reply.body[0]["message"].as_str().unwrap();
            assert!(message.contains("between 1 and 3"), "{path}: {message}");
        }
        assert_eq!(items(&app, "messages").await.len(), 3);
        assert!(items(&app, "calls").await.is_empty());
        assert!(items(&app, "status-log").await.is_empty());
    }

    async fn bulk_calls_beyond_those_dispatched_at_once_wait_their_turn(backend) {
        // Eight full bulk calls are dispatched at once; the rest wait, and none is refused.
        let app = Arc::new(spawn_app_with(backend, |config| config.max_bulk_inputs = 3).await);
        let calls = (0..24).map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                let body = inputs(&[sms(&format!("{i}a")), sms(&format!("{i}b")), sms(&format!("{i}c"))]);
                send(&app, Method::POST, APEX_SMS, &[], Some(&body)).await
            })
        });
        for reply in futures_util::future::join_all(calls).await {
            let reply = reply.expect("the call ran");
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
            assert!(reply.body.as_array().unwrap().iter().all(|r| r["isSuccess"] == true), "{}", reply.text);
        }
        assert_eq!(items(&app, "messages?limit=1000").await.len(), 72);
    }

    async fn a_client_that_stops_sending_headers_is_cut_off(backend) {
        let app = spawn_app_with(backend, |config| config.header_read_timeout_secs = 1).await;
        let starts: [(&str, &[u8], bool); 2] = [
            ("headers stop", b"POST /actions/SubscriberSMSInvocable HTTP/1.1\r\nHost: x\r\n", false),
            ("headers trickle", b"POST /actions/SubscriberSMSInvocable HTTP/1.1\r\nHost: x\r\nX-Slow: ", true),
        ];
        for (case, start, trickle) in starts {
            let started = Instant::now();
            let stream = half_request(&app, start).await;
            // Another client, on a connection of its own, is served meanwhile.
            let other = crate::helpers::http().pool_max_idle_per_host(0).build().unwrap();
            let response = other.post(app.url(SMS)).json(&sms(case)).send().await;
            let reply = Reply::from(response.expect("the other client is answered")).await;
            assert_eq!(reply.status, StatusCode::OK, "{case}: {}", reply.text);
            let received = tokio::time::timeout(Duration::from_secs(5), until_closed(&stream, trickle))
                .await
                .unwrap_or_else(|_| panic!("{case}: the connection is still open after 5 s"));
            let elapsed = started.elapsed();
            assert!(elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(3), "{case}: {elapsed:?}");
            let received = String::from_utf8_lossy(&received);
            assert!(!received.starts_with("HTTP/1.1 2"), "{case}: {received}");
        }
        let messages = items(&app, "messages").await;
        assert_eq!(messages.len(), 2, "only the other client's: {messages:?}");
    }
}
