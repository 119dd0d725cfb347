//! The auth token is a secret: it goes to Twilio as Basic auth and nowhere else, not into the
//! log (at its most verbose), an answer, an error or the org export.

use reqwest::StatusCode;
use serde_json::json;

use super::fake::{FakeTwilio, INVALID_TO, SERVER_ERROR_TO};
use super::*;
use crate::backend_tests;

backend_tests! {
    async fn the_auth_token_shows_nowhere(backend) {
        let dir = tempfile::tempdir().unwrap();
        let db = TestDb::new(backend).await;
        let fake = FakeTwilio::start().await;
        let emulator = start_binary(dir.path(), &db.url, &fake, "emulator.log", &["--log", "trace"]).await;
        let client = crate::helpers::http().build().unwrap();
        let url = |path: &str| format!("{}{path}", emulator.base_url);
        let mut answers = Vec::new();
        for to in [JANE_PHONE, INVALID_TO, SERVER_ERROR_TO] {
            let response = client.post(url("/actions/SubscriberSMSInvocable")).json(&json!({"toPhone": to, "bodyText": "Hi"})).send().await.unwrap();
            answers.push(response.text().await.unwrap());
        }
        let refused = client.post(url("/_provider/twilio/status")).form(&[("MessageSid", "SM1"), ("MessageStatus", "sent")]).header("X-Twilio-Signature", "forged").send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        answers.push(refused.text().await.unwrap());
        for path in ["/_emulator/org", "/_emulator/messages", "/_emulator/voip-errors", "/openapi.yaml"] {
            answers.push(client.get(url(path)).send().await.unwrap().text().await.unwrap());
        }
        let (_, log) = emulator.terminate();
        assert!(log.contains("TRACE") || log.contains("DEBUG"), "the log is verbose: {log}");
        for (what, text) in answers.iter().map(|a| ("an answer", a.as_str())).chain([("the log", log.as_str())]) {
            assert!(!text.contains(AUTH_TOKEN), "{what} shows the auth token: {text}");
        }
        assert_eq!(fake.requests().len(), 3, "each message reached Twilio");
    }
}
