//! Bodies that are not the inputs, and hostile strings: the right 4xx, nothing stored.

use reqwest::StatusCode;
use serde_json::json;

use super::*;
use crate::backend_tests;

backend_tests! {
    async fn malformed_bodies_are_error_104_and_store_nothing(backend) {
        let app = spawn_app(backend).await;
        let deep_array = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("empty body", b"".to_vec(), "empty body"),
            ("truncated object", br#"{"toPhone": "+14155550123""#.to_vec(), "EOF"),
            ("trailing comma", br#"{"toPhone": "+14155550123",}"#.to_vec(), "trailing comma"),
            ("trailing garbage", br#"{"toPhone": "+14155550123", "bodyText": "hi"} x"#.to_vec(), "trailing characters"),
            ("null", b"null".to_vec(), "expected"),
            ("a string", br#""hi""#.to_vec(), "expected"),
            ("empty array", b"[]".to_vec(), "expected"),
            ("deeply nested array", deep_array.into_bytes(), "expected"),
            ("form encoding", b"toPhone=%2B14155550123&bodyText=hi".to_vec(), "expected"),
        ];
        assert_bodies_refused(&app, ACTION, cases).await;
        assert!(app.items("/_emulator/messages").await.is_empty());
    }

    async fn array_body_is_error_104_even_when_it_lists_every_input(backend) {
        let app = spawn_app(backend).await;
        // The eight inputs in declaration order: an object is the only accepted shape.
        let body = r#"["Hello", null, null, null, null, null, "+14155550123", null]"#;
        let response = app.post_raw(ACTION, body, Some("application/json")).await;
        assert_error(&response, StatusCode::BAD_REQUEST, 104, "", "array of all eight inputs");
        assert!(app.items("/_emulator/messages").await.is_empty());
    }

    async fn wrong_types_and_unknown_fields_are_error_104_naming_the_field(backend) {
        let app = spawn_app(backend).await;
        let deep = format!(r#"{{"bodyText": "hi", "toPhone": {}{}}}"#, "[".repeat(10_000), "]".repeat(10_000));
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("number toPhone", br#"{"toPhone": 5, "bodyText": "hi"}"#.to_vec(), "toPhone"),
            ("boolean userId", br#"{"toPhone": "+14155550123", "bodyText": "hi", "userId": true}"#.to_vec(), "userId"),
            ("object bodyText", br#"{"toPhone": "+14155550123", "bodyText": {"text": "hi"}}"#.to_vec(), "bodyText"),
            ("array mediaURL", br#"{"toPhone": "+14155550123", "bodyText": "hi", "mediaURL": ["a"]}"#.to_vec(), "mediaURL"),
            ("unknown field", br#"{"toPhone": "+14155550123", "bodyText": "hi", "colour": "red"}"#.to_vec(), "colour"),
            ("misspelt field", br#"{"toPhone": "+14155550123", "bodytext": "hi"}"#.to_vec(), "bodytext"),
            ("wrong case of mediaURL", br#"{"toPhone": "+14155550123", "bodyText": "hi", "mediaUrl": "https://e.com/a.png"}"#.to_vec(), "mediaUrl"),
            ("duplicate field", br#"{"toPhone": "+14155550123", "toPhone": "+14155550124", "bodyText": "hi"}"#.to_vec(), "toPhone"),
            ("deeply nested toPhone", deep.into_bytes(), "toPhone"),
            ("non-UTF-8 bodyText", b"{\"toPhone\": \"+14155550123\", \"bodyText\": \"caf\xe9\"}".to_vec(), "bodyText"),
        ];
        assert_bodies_refused(&app, ACTION, cases).await;
        assert!(app.items("/_emulator/messages").await.is_empty());
    }

    async fn non_utf8_bytes_outside_strings_are_error_104(backend) {
        let app = spawn_app(backend).await;
        let response = app.post_raw(ACTION, b"{\xff\xfe}".to_vec(), Some("application/json")).await;
        let message = assert_exception(&response, StatusCode::BAD_REQUEST, 104);
        assert!(!message.is_empty());
        assert!(app.items("/_emulator/messages").await.is_empty());
    }

    async fn body_over_the_configured_limit_is_413_with_code_104(backend) {
        let app = spawn_app_with(backend, |config| config.max_body_bytes = 256).await;
        let request = input(json!({"bodyText": "x".repeat(1000)}));
        let response = app.send_sms(&request).await;
        assert_error(&response, StatusCode::PAYLOAD_TOO_LARGE, 104, "limit", "1 kB body over a 256-byte limit");
        assert!(app.items("/_emulator/messages").await.is_empty());
        // A body under the limit still goes through.
        let (output, _) = send_ok(&app, &input(json!({}))).await;
        assert_eq!(output["status"], "Queued");
    }

    async fn json_is_accepted_whatever_the_content_type(backend) {
        let app = spawn_app(backend).await;
        let body = r#"{"toPhone": "+14155550123", "bodyText": "Hello"}"#;
        for content_type in [None, Some("text/plain"), Some("application/x-www-form-urlencoded"), Some("application/json; charset=utf-8")] {
            let (status, output) = app.post_raw(ACTION, body, content_type).await;
            assert_eq!(status, StatusCode::OK, "{content_type:?}: {output}");
            assert_eq!(output["status"], "Queued");
        }
        assert_eq!(app.items("/_emulator/messages").await.len(), 4);
    }

    async fn injection_strings_in_body_text_are_stored_verbatim(backend) {
        let app = spawn_app(backend).await;
        for body in [
            "'; DROP TABLE sms_messages; --",
            "{!User.Email}{!System.x}",
            "Robert'); DELETE FROM tasks WHERE ('1'='1",
            "$1 $2 ? :name \\x00 %s %n",
            "<script>alert(\"x\")</script> ✓ 😀 \u{202e}",
        ] {
            let (_, stored) = send_ok(&app, &input(json!({"bodyText": body}))).await;
            assert_eq!(stored["body"], body);
        }
        assert_eq!(app.items("/_emulator/messages").await.len(), 5);
    }

    async fn nul_character_in_body_text_is_refused_as_104_naming_the_field(backend) {
        let app = spawn_app(backend).await;
        // PostgreSQL cannot store NUL in text, so every backend refuses it the same way.
        let (status, output) = app.send_sms(&input(json!({"bodyText": "before\u{0}after"}))).await;
        assert_eq!(
            (status, output),
            (
                StatusCode::BAD_REQUEST,
                json!({
                    "exceptionType": EXCEPTION,
                    "errorCode": 104,
                    "message": "The request body is not valid JSON for this call: \
                                bodyText: text may not hold the NUL character (\\u0000)",
                })
            )
        );
        assert!(app.items("/_emulator/messages").await.is_empty());
        let (output, _) = send_ok(&app, &input(json!({}))).await;
        assert_eq!(output["status"], "Queued", "the store still works");
    }

    async fn injection_strings_in_other_fields_fail_with_their_error_code(backend) {
        let app = spawn_app(backend).await;
        let sql = "'; DROP TABLE sms_messages; --";
        let merge = "{!User.Email}{!System.x}";
        let cases = [
            // Without digits, a number counts as missing; with some, it is dialled.
            ("toPhone", json!({"toPhone": sql}), 104),
            ("toPhone merge", json!({"toPhone": merge}), 104),
            ("fromPhone", json!({"fromPhone": format!("{sql} 555")}), 103),
            ("fromPhone merge", json!({"fromPhone": format!("{merge} 555")}), 103),
            ("userId", json!({"userId": sql}), 104),
            ("recordId", json!({"recordId": sql}), 104),
            ("templateId", json!({"templateId": sql}), 104),
            ("templateId merge", json!({"templateId": merge}), 104),
            ("mediaURL", json!({"mediaURL": sql}), 104),
            ("mediaURL merge", json!({"mediaURL": merge}), 104),
            ("phoneNumberFieldName", json!({"toPhone": null, "recordId": JANE_CONTACT, "phoneNumberFieldName": sql}), 104),
            ("phoneNumberFieldName merge", json!({"toPhone": null, "recordId": JANE_CONTACT, "phoneNumberFieldName": merge}), 104),
        ];
        for (case, changes, code) in cases {
            let response = app.send_sms(&input(changes)).await;
            assert_error(&response, StatusCode::BAD_REQUEST, code, "", case);
        }
        assert!(app.items("/_emulator/messages").await.is_empty());
        // The store still works, and the tables are all there.
        let (output, stored) = send_ok(&app, &input(json!({"recordId": JANE_CONTACT}))).await;
        assert_eq!(stored["body"], "Hello");
        assert_eq!(app.items("/_emulator/messages").await.len(), 1);
        assert_eq!(app.items("/_emulator/tasks").await.len(), 1);
        assert!(output["taskId"].is_string(), "{output}");
    }
}
