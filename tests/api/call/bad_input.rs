//! Bodies that are not the call's inputs: 400 (or 413) with code 104, nothing stored.

use reqwest::StatusCode;
use serde_json::json;

use super::*;
use crate::backend_tests;

backend_tests! {
    async fn malformed_call_bodies_are_error_104_and_store_nothing(backend) {
        let app = spawn_app(backend).await;
        let cases: Vec<(&str, &str, &str)> = vec![
            ("empty body", "", "empty body"),
            ("whitespace only", "  \n ", "empty body"),
            ("truncated object", r#"{"toPhone": "+14155550123", "ivrId": "a0IDn0000001MnuMAE""#, "EOF"),
            ("trailing comma", r#"{"toPhone": "+14155550123", "ivrId": "a0IDn0000001MnuMAE",}"#, "trailing comma"),
            ("trailing garbage", r#"{"toPhone": "+14155550123", "ivrId": "a0IDn0000001MnuMAE"} x"#, "trailing characters"),
            ("two objects", r#"{"toPhone": "+14155550123"}{"ivrId": "a0IDn0000001MnuMAE"}"#, "trailing characters"),
            ("single quotes", r#"{'toPhone': '+14155550123'}"#, "key must be a string"),
            ("null", "null", "expected"),
            ("a string", r#""+14155550123""#, "expected"),
            ("a number", "4155550123", "expected"),
            ("a boolean", "true", "expected"),
            ("form encoding", "toPhone=%2B14155550123&ivrId=a0IDn0000001MnuMAE", "expected"),
        ];
        assert_bodies_refused(&app, ACTION, cases).await;
        assert_nothing_stored(&app, "malformed bodies").await;
    }

    async fn array_bodies_are_error_104_even_when_they_list_every_input(backend) {
        let app = spawn_app(backend).await;
        let cases = vec![
            ("empty array", "[]".to_owned(), "an array"),
            ("array of one valid input", json!([input(json!({}))]).to_string(), "an array"),
            // The six inputs in declaration order: an object is the only accepted shape.
            ("array of all six inputs", json!([null, MENU_IVR, null, null, TO, null]).to_string(), "an array"),
        ];
        assert_bodies_refused(&app, ACTION, cases).await;
        assert_nothing_stored(&app, "array bodies").await;
    }

    async fn wrong_types_and_unknown_fields_are_error_104_naming_the_field(backend) {
        let app = spawn_app(backend).await;
        let cases: Vec<(&str, String, &str)> = vec![
            ("number toPhone", json!({"toPhone": 4155550123_u64, "ivrId": MENU_IVR}).to_string(), "toPhone"),
            ("number ivrId", json!({"toPhone": TO, "ivrId": 5}).to_string(), "ivrId"),
            ("array ivrId", json!({"toPhone": TO, "ivrId": [MENU_IVR]}).to_string(), "ivrId"),
            ("boolean userId", json!({"toPhone": TO, "ivrId": MENU_IVR, "userId": true}).to_string(), "userId"),
            ("object recordId", json!({"toPhone": TO, "ivrId": MENU_IVR, "recordId": {"id": JANE_CONTACT}}).to_string(), "recordId"),
            ("array fromPhone", json!({"toPhone": TO, "ivrId": MENU_IVR, "fromPhone": [ADA_PHONE]}).to_string(), "fromPhone"),
            ("number phoneNumberFieldName", json!({"ivrId": MENU_IVR, "recordId": JANE_CONTACT, "phoneNumberFieldName": 1}).to_string(), "phoneNumberFieldName"),
            ("unknown field", json!({"toPhone": TO, "ivrId": MENU_IVR, "colour": "red"}).to_string(), "colour"),
            ("an SMS input", json!({"toPhone": TO, "ivrId": MENU_IVR, "bodyText": "hello"}).to_string(), "bodyText"),
            ("wrong case of ivrId", json!({"toPhone": TO, "ivrID": MENU_IVR}).to_string(), "ivrID"),
            ("snake case", json!({"to_phone": TO, "ivrId": MENU_IVR}).to_string(), "to_phone"),
            ("duplicate field", format!(r#"{{"toPhone": "{TO}", "ivrId": "{MENU_IVR}", "ivrId": "{MENU_IVR}"}}"#), "ivrId"),
            ("NUL in toPhone", r#"{"toPhone": "+1415555\u00000123", "ivrId": "a0IDn0000001MnuMAE"}"#.to_owned(), "toPhone"),
        ];
        assert_bodies_refused(&app, ACTION, cases).await;
        assert_nothing_stored(&app, "wrong types").await;
    }

    async fn call_body_over_the_configured_limit_is_413_with_code_104(backend) {
        let app = spawn_app_with(backend, |config| config.max_body_bytes = 256).await;
        let request = input(json!({"phoneNumberFieldName": "x".repeat(1000)}));
        let response = place(&app, &request).await;
        assert_error(&response, StatusCode::PAYLOAD_TOO_LARGE, 104, "limit", "1 kB body over a 256-byte limit");
        assert_nothing_stored(&app, "body too large").await;
        let (output, _) = place_ok(&app, &input(json!({}))).await;
        assert_eq!(output["status"], "Queued", "a body under the limit still goes through");
    }

    async fn call_json_is_accepted_whatever_the_content_type(backend) {
        let app = spawn_app(backend).await;
        let body = json!({"toPhone": TO, "ivrId": MENU_IVR}).to_string();
        let content_types = [None, Some("text/plain"), Some("application/x-www-form-urlencoded"), Some("application/json; charset=utf-8")];
        for content_type in content_types {
            let (status, output) = app.post_raw(ACTION, body.clone(), content_type).await;
            assert_eq!(status, StatusCode::OK, "{content_type:?}: {output}");
            assert_eq!(output["status"], "Queued");
        }
        assert_eq!(app.items("/_emulator/calls").await.len(), content_types.len());
    }

    async fn injection_strings_fail_with_their_own_error_code_and_store_nothing(backend) {
        let app = spawn_app(backend).await;
        let sql = "'; DROP TABLE calls; --";
        let cases = [
            // Without digits a number counts as missing; with some, it is dialled.
            ("toPhone", json!({"toPhone": sql}), 104),
            ("fromPhone", json!({"fromPhone": format!("{sql} 555")}), 103),
            ("userId", json!({"userId": sql}), 104),
            ("recordId", json!({"recordId": sql}), 104),
            ("ivrId", json!({"ivrId": sql}), 104),
            ("phoneNumberFieldName", json!({"toPhone": null, "recordId": JANE_CONTACT, "phoneNumberFieldName": sql}), 104),
        ];
        for (case, changes, code) in cases {
            let response = place(&app, &input(changes)).await;
            assert_error(&response, StatusCode::BAD_REQUEST, code, "", case);
        }
        assert_nothing_stored(&app, "injection strings").await;
        let (output, _) = place_ok(&app, &input(json!({"recordId": JANE_CONTACT}))).await;
        assert_eq!(output["status"], "Queued", "the store still works");
        assert_eq!(app.items("/_emulator/calls").await.len(), 1);
    }
}
