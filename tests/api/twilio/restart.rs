//! A hand-off the emulator never finished: the binary is killed while Twilio holds the
//! request. After a restart the record fails at its deadline, and nothing is sent again.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::fake::{FakeTwilio, HANGING_TO};
use super::*;
use crate::backend_tests;
use crate::process::Emulator;

/// The binary with the Twilio provider at `fake`, each request to Twilio bounded by two
/// seconds (so a hand-off's deadline is seven seconds after its record was stored).
async fn start(
    dir: &std::path::Path,
    database_url: &str,
    fake: &FakeTwilio,
    log: &str,
) -> Emulator {
    start_binary(
        dir,
        database_url,
        fake,
        log,
        &["--log", "warn", "--twilio-timeout-ms", "2000"],
    )
    .await
}

async fn get(base_url: &str, path: &str) -> Value {
    let client = crate::helpers::http()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let response = client
        .get(format!("{base_url}{path}"))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

backend_tests! {
    async fn a_record_whose_hand_off_never_finished_fails_after_a_restart_and_is_not_resent(backend) {
        let dir = tempfile::tempdir().unwrap();
        let db = TestDb::new(backend).await;
        let fake = FakeTwilio::start().await;
        let first = start(dir.path(), &db.url, &fake, "first.log").await;
        let client = crate::helpers::http().build().unwrap();
        let url = format!("{}/actions/SubscriberSMSInvocable", first.base_url);
        let sending = tokio::spawn(client.post(url).json(&json!({"toPhone": HANGING_TO, "bodyText": "Hello?"})).send());
        fake.wait_for(1).await;

        // Stored before Twilio heard of it: Queued, without Twilio's SID.
        let stored = get(&first.base_url, "/_emulator/messages").await;
        let message = &stored["items"][0];
        assert_eq!(message["status"], "Queued", "{stored}");
        assert!(message["smsId"].is_null(), "{stored}");
        let id = message["id"].as_str().unwrap().to_owned();

        first.kill();
        assert!(sending.await.unwrap().is_err(), "the killed process answered nothing");
        let second = start(dir.path(), &db.url, &fake, "second.log").await;
        let failed = get(&second.base_url, &format!("/_emulator/messages?id={id}&status=Failed&wait=30")).await;
        let message = &failed["items"][0];
        assert_eq!(message["status"], "Failed", "{failed}");
        assert_eq!(message["errorCode"], 20500, "{message}");
        assert!(message["errorMessage"].as_str().unwrap().contains("did not finish"), "{message}");
        let errors = get(&second.base_url, "/_emulator/voip-errors").await;
        assert_eq!(errors["items"].as_array().unwrap().len(), 1, "{errors}");
        assert_eq!(fake.requests().len(), 1, "sent once, never again");
    }
}
