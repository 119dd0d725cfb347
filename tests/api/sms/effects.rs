//! Media, body, the org setting, Tasks, the provider, and the order of checks.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::*;
use crate::backend_tests;

backend_tests! {
    async fn image_media_urls_are_accepted_and_stored(backend) {
        let app = spawn_app(backend).await;
        for url in [
            PNG,
            "http://example.com/a/photo.jpg",
            "https://example.com/a/photo.JPEG?size=large",
            "https://example.com/anim.gif",
            "https://cdn.example.com/media/12345",
        ] {
            let (output, stored) = send_ok(&app, &input(json!({"mediaURL": url}))).await;
            assert_eq!(stored["mediaURL"], url);
            assert_eq!(output["phoneNumberId"], ADA_NUMBER, "{url}");
        }
    }

    async fn bad_media_urls_are_error_104(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            ("ftp://example.com/cat.png", "must use http or https"),
            ("file:///etc/passwd", "must use http or https"),
            ("/images/cat.png", "is not an absolute URL"),
            ("cat.png", "is not an absolute URL"),
            ("https://example.com/movie.mp4", ".mp4"),
            ("https://example.com/doc.pdf", ".pdf"),
        ];
        assert_values_refused(&app, "mediaURL", 104, &cases).await;
        assert!(app.items("/_emulator/messages").await.is_empty());
    }

    async fn body_of_1600_characters_is_accepted(backend) {
        let app = spawn_app(backend).await;
        // Characters, not bytes: 1600 two-byte characters fit.
        let body = "é".repeat(1600);
        let (_, stored) = send_ok(&app, &input(json!({"bodyText": body}))).await;
        assert_eq!(stored["body"], body);
    }

    async fn body_of_1601_characters_is_error_104(backend) {
        let app = spawn_app(backend).await;
        let response = app.send_sms(&input(json!({"bodyText": "x".repeat(1601)}))).await;
        assert_error(&response, StatusCode::BAD_REQUEST, 104, "1601 characters", "1601 characters");
        assert!(app.items("/_emulator/messages").await.is_empty());
    }

    async fn sms_without_body_is_error_101(backend) {
        let app = spawn_app(backend).await;
        for (case, body_text) in [("missing", Value::Null), ("empty", json!("")), ("whitespace", json!(" \n\t "))] {
            let response = app.send_sms(&input(json!({"bodyText": body_text}))).await;
            assert_error(&response, StatusCode::BAD_REQUEST, 101, "Body text not provided", case);
        }
        assert!(app.items("/_emulator/messages").await.is_empty());
    }

    async fn sms_disabled_org_is_error_105_before_anything_else(backend) {
        let app = spawn_app_with_org(backend, &custom_org("{smsEnabled: false, defaultUserId: 005Dn0000010Uma}")).await;
        let cases = [
            ("valid request", input(json!({}))),
            ("every other problem", json!({"userId": "not-an-id", "recordId": "x", "templateId": "y", "mediaURL": "ftp://z", "fromPhone": "nope"})),
            ("unknown user", input(json!({"userId": "005Dn0000009Zzz"}))),
        ];
        for (case, request) in cases {
            let response = app.send_sms(&request).await;
            assert_error(&response, StatusCode::BAD_REQUEST, 105, "SMS is not enabled", case);
        }
        assert!(app.items("/_emulator/messages").await.is_empty());
    }

    async fn record_id_creates_a_task_related_by_who_or_what(backend) {
        let app = spawn_app(backend).await;
        let cases = [(JANE_CONTACT, "whoId", "whatId"), (BOB_LEAD, "whoId", "whatId"), (ACME_ACCOUNT, "whatId", "whoId")];
        for (record_id, related, unrelated) in cases {
            let (output, stored) = send_ok(&app, &input(json!({"recordId": record_id, "bodyText": "Call me back"}))).await;
            assert_eq!(output["relatedRecordId"], record_id);
            assert_id(&output["taskId"], "00T");
            assert_eq!(stored["taskId"], output["taskId"]);
            let (status, task) = app.get(&format!("/_emulator/tasks/{}", output["taskId"].as_str().unwrap())).await;
            assert_eq!(status, StatusCode::OK, "{task}");
            assert_eq!(task["id"], output["taskId"]);
            assert_eq!(task[related], record_id, "{task}");
            assert!(task[unrelated].is_null(), "{task}");
            assert_eq!(task["ownerId"], ADA);
            assert_eq!(task["status"], "Completed");
            assert_eq!(task["subject"], format!("SMS to {TO}"));
            assert_eq!(task["description"], "Call me back");
            assert_eq!(task["smsMessageId"], output["id"]);
        }
        assert_eq!(app.items("/_emulator/tasks").await.len(), 3);
    }

    async fn task_is_owned_by_the_acting_user_not_the_group(backend) {
        let app = spawn_app(backend).await;
        let (output, _) = send_ok(&app, &input(json!({"userId": KATHERINE, "recordId": &JANE_CONTACT[..15]}))).await;
        assert_eq!(output["owner"], SUPPORT_GROUP);
        assert_eq!(output["relatedRecordId"], JANE_CONTACT, "a 15-character recordId is answered in 18");
        let (status, task) = app.get(&format!("/_emulator/tasks/{}", output["taskId"].as_str().unwrap())).await;
        assert_eq!(status, StatusCode::OK, "{task}");
        assert_eq!(task["ownerId"], KATHERINE);
        assert_eq!(task["whoId"], JANE_CONTACT);
    }

    async fn sms_without_record_id_creates_no_task(backend) {
        let app = spawn_app(backend).await;
        let (output, stored) = send_ok(&app, &input(json!({}))).await;
        assert!(output["taskId"].is_null() && stored["taskId"].is_null(), "{stored}");
        assert!(app.items("/_emulator/tasks").await.is_empty());
    }

    async fn provider_refusals_are_error_100_and_keep_a_failed_message(backend) {
        let app = spawn_app(backend).await;
        let cases = [("+15005550001", 21211), ("+15005550002", 21612), ("+15005550003", 21408), ("+15005550004", 21610), ("+15005550009", 21614)];
        for (to, code) in cases {
            let request = input(json!({"toPhone": to, "recordId": JANE_CONTACT, "bodyText": "Are you there?"}));
            let response = app.send_sms(&request).await;
            assert_error(&response, StatusCode::BAD_GATEWAY, 100, &code.to_string(), to);
            assert_error(&response, StatusCode::BAD_GATEWAY, 100, "Check the VoIP error logs", to);

            let encoded = to.replace('+', "%2B");
            let messages = app.items(&format!("/_emulator/messages?to={encoded}")).await;
            assert_eq!(messages.len(), 1, "{to}: {messages:?}");
            let message = &messages[0];
            assert_id(&message["id"], "a0S");
            assert_eq!(message["status"], "Failed", "{message}");
            assert_eq!(message["errorCode"], code, "{message}");
            assert!(message["errorMessage"].as_str().is_some_and(|m| !m.is_empty()), "{message}");
            assert!(message["smsId"].is_null(), "{message}");
            assert!(message["taskId"].is_null(), "{message}");
            assert_eq!(message["body"], "Are you there?");
            assert_eq!(message["toPhone"], to);

            let errors = app.items(&format!("/_emulator/voip-errors?to={encoded}")).await;
            assert_eq!(errors.len(), 1, "{to}: {errors:?}");
            assert_eq!(errors[0]["recordId"], message["id"], "{to}");
            assert_eq!(errors[0]["errorCode"], code, "{to}");
        }
        assert!(app.items("/_emulator/tasks").await.is_empty(), "no Task for a refused message");
        assert_eq!(app.items("/_emulator/voip-errors").await.len(), cases.len());
    }

    async fn accepted_test_number_is_queued(backend) {
        let app = spawn_app(backend).await;
        let (output, stored) = send_ok(&app, &input(json!({"toPhone": "+15005550010"}))).await;
        assert_eq!(output["status"], "Queued");
        assert!(output["smsId"].as_str().is_some_and(|id| id.starts_with("SM")), "{output}");
        assert!(stored["errorCode"].is_null(), "{stored}");
        assert!(app.items("/_emulator/voip-errors").await.is_empty());
    }

    async fn an_mms_gets_twilio_s_mm_id_and_is_found_by_it(backend) {
        let app = spawn_app(backend).await;
        // From the demo org's MMS-capable main line.
        let mms = input(json!({"mediaURL": "https://example.com/receipt.png", "fromPhone": "+14155550102"}));
        let (output, stored) = send_ok(&app, &mms).await;
        let mms_id = output["smsId"].as_str().unwrap_or_default();
        assert!(mms_id.len() == 34 && mms_id.starts_with("MM"), "{output}");
        let found = app.item(&format!("/_emulator/messages/{mms_id}")).await;
        assert_eq!(found, stored);
        let (plain, _) = send_ok(&app, &input(json!({}))).await;
        assert!(plain["smsId"].as_str().is_some_and(|id| id.starts_with("SM")), "{plain}");
    }

    async fn first_failing_check_in_the_documented_order_is_reported(backend) {
        let app = spawn_app(backend).await;
        let too_long = "x".repeat(1601);
        let cases = [
            (
                "user before record, template, media, body, destination, caller ID",
                json!({"userId": LINUS, "recordId": "bad", "templateId": "bad", "mediaURL": "ftp://x", "fromPhone": "+14155550199"}),
                400, 104, "is not a Fastcall user",
            ),
            ("record before template", json!({"recordId": "003Dn0000009Zzz", "templateId": "bad", "mediaURL": "ftp://x"}), 400, 104, "recordId"),
            ("template before media", json!({"templateId": "a0TDn0000009Zzz", "mediaURL": "ftp://x.png"}), 400, 104, "templateId"),
            ("media before body", json!({"mediaURL": "ftp://x.png"}), 400, 104, "mediaURL"),
            ("body before destination", json!({"bodyText": " ", "fromPhone": "+14155550199"}), 400, 101, "Body text not provided"),
            ("length before destination", json!({"bodyText": too_long, "fromPhone": "+14155550199"}), 400, 104, "1601 characters"),
            ("destination before caller ID", json!({"bodyText": "hi", "toPhone": "hello", "fromPhone": "+14155550199"}), 400, 104, "No destination"),
            ("caller ID before provider", json!({"bodyText": "hi", "toPhone": "+15005550001", "fromPhone": "+14155550103"}), 400, 103, "Caller ID not found"),
            ("provider last", json!({"bodyText": "hi", "toPhone": "+15005550001"}), 502, 100, "21211"),
        ];
        for (case, request, status, code, fragment) in cases {
            let response = app.send_sms(&request).await;
            assert_error(&response, StatusCode::from_u16(status).unwrap(), code, fragment, case);
        }
        let messages = app.items("/_emulator/messages").await;
        assert_eq!(messages.len(), 1, "only the provider's refusal is stored: {messages:?}");
        assert_eq!(messages[0]["status"], "Failed");
    }
}
