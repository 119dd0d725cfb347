//! Slow and hostile clients: hundreds of connections that send headers and then trickle (or
//! never send) their body hold no request slot, and a client with a key is served meanwhile.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::backend_tests;
use crate::helpers::*;

const KEYED_ORG: &str = r#"
users: [{id: 005Dn0000001AdaIAE, name: Ada Lovelace}]
phoneNumbers:
  - {id: a0PDn0000001AdaMAE, number: "+14155550100", sms: true, outboundSms: true, assignment: user, userIds: [005Dn0000001AdaIAE]}
apiKeys: [{key: k-ada, userId: 005Dn0000001AdaIAE}]
"#;

/// Connections that announce a 100 kB SMS body and send a few bytes of it, `with` these
/// extra headers.
async fn stall(app: &TestApp, connections: usize, with: &str) -> Vec<TcpStream> {
    let addr = app.base_url.trim_start_matches("http://").to_owned();
    let mut stalled = Vec::with_capacity(connections);
    for _ in 0..connections {
        let mut stream = TcpStream::connect(&addr).await.expect("a connection");
        let head = format!(
            "POST /actions/SubscriberSMSInvocable HTTP/1.1\r\nHost: {addr}\r\n{with}\
             Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{\"toPh"
        );
        stream.write_all(head.as_bytes()).await.expect("sent");
        stalled.push(stream);
    }
    stalled
}

async fn keyed_sms(app: &TestApp) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.url("/actions/SubscriberSMSInvocable"))
        .bearer_auth("k-ada")
        .json(&json!({"toPhone": "+14155550123", "bodyText": "still served"}))
        .send()
        .await
        .expect("answered");
    let status = response.status();
    (status, response.json().await.expect("JSON"))
}

backend_tests! {
    async fn strangers_stalling_their_bodies_take_no_slot_from_a_keyed_caller(backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::start(&db, |config| {
            config.max_concurrent_requests = 8;
            config.body_read_timeout_secs = 30;
        })
        .await;
        let put = app
            .client
            .put(app.url("/_emulator/org"))
            .header("Content-Type", "application/yaml")
            .body(KEYED_ORG)
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), StatusCode::OK);

        let mut strangers = stall(&app, 300, "").await;
        // Each stranger is refused from its headers alone, without its body being awaited.
        let mut answer = [0u8; 12];
        strangers[0].read_exact(&mut answer).await.expect("an answer");
        assert_eq!(&answer, b"HTTP/1.1 401");

        let (status, body) = keyed_sms(&app).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    async fn a_body_that_does_not_arrive_in_time_is_408_and_holds_no_slot(backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::start(&db, |config| {
            config.max_concurrent_requests = 4;
            config.body_read_timeout_secs = 1;
        })
        .await;
        // The demo org has no keys: anyone may call, so bodies are awaited, briefly.
        let mut slow = stall(&app, 64, "").await;
        let (status, body) = app.send_sms(&json!({"toPhone": "+14155550123", "bodyText": "hi"})).await;
        assert_eq!(status, StatusCode::OK, "while 64 bodies trickle in: {body}");

        let mut answer = String::new();
        slow[0].read_to_string(&mut answer).await.expect("an answer, then the connection closed");
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("--body-read-timeout-secs"), "{answer}");
    }
}
