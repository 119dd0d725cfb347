//! Nothing reaches Twilio without a record: while PostgreSQL is cut, an SMS or a call is 503
//! and Twilio hears nothing; once it is back, the same request is stored and sent once.

use reqwest::StatusCode;
use serde_json::json;

use super::fake::FakeTwilio;
use super::*;
use crate::resilience::proxy::Proxy;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_the_database_is_cut_nothing_is_handed_off() {
    if !postgres_available("while_the_database_is_cut_nothing_is_handed_off") {
        return;
    }
    let db = TestDb::new(Backend::Postgres).await;
    let mut url = url::Url::parse(&db.url).unwrap();
    let upstream = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let proxy = Proxy::start(upstream).await;
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(proxy.addr.port())).unwrap();
    let fake = FakeTwilio::start().await;
    let app = TestApp::start(&db, |config| {
        twilio_config(config, &fake);
        config.database_url = url.to_string();
        config.db_acquire_timeout_ms = 1000;
    })
    .await;

    proxy.cut();
    let sms = json!({"toPhone": JANE_PHONE, "bodyText": "Are you there?"});
    let call = json!({"toPhone": JANE_PHONE, "ivrId": MENU_IVR, "fromPhone": VOICE_PHONE});
    let (status, body) = app.send_sms(&sms).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let (status, body) = app.post("/actions/SubscriberCallInvocable", &call).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let (status, body) = app
        .invoke("SubscriberSMSInvocable", json!([sms.clone(), sms.clone()]))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        fake.requests().is_empty(),
        "sent without a record: {:?}",
        fake.requests()
    );

    proxy.restore();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let output = loop {
        let (status, output) = app.send_sms(&sms).await;
        if status == StatusCode::OK {
            break output;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the service did not recover: {output}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(fake.requests().len(), 1, "{:?}", fake.requests());
    let messages = app.items("/_emulator/messages").await;
    assert_eq!(
        messages.len(),
        1,
        "only the message sent is stored: {messages:?}"
    );
    assert_eq!(messages[0]["smsId"], output["smsId"]);
}
