//! The manual move routes themselves: what they accept, how they name a record, the errors
//! a move stores and logs, and the requests they refuse.

use fastcall_emulator::lifecycle::Progression;
use reqwest::StatusCode;
use serde_json::json;

use super::*;
use crate::backend_tests;

/// A Queued record of each kind; their Ids.
async fn one_of_each(app: &TestApp) -> [(Kind, String); 2] {
    [
        (Kind::Message, id_of(&send_sms_to(app, JANE_PHONE).await)),
        (Kind::Call, id_of(&place_call_to(app, JANE_PHONE).await)),
    ]
}

backend_tests! {
    async fn bad_move_requests_are_400_and_change_nothing(backend) {
        let app = spawn_progressing(backend, Progression::Manual).await;
        let cases: [(&str, &str, &str); 7] = [
            (r#"{"status": "Bogus"}"#, "INVALID_FIELD", "Bogus"),
            (r#"{"status": ""}"#, "INVALID_FIELD", "status"),
            (r#"{"status": "Failed", "errorMessage": "no code"}"#, "INVALID_FIELD", "errorCode"),
            (r#"{"status": "#, "JSON_PARSER_ERROR", ""),
            ("", "JSON_PARSER_ERROR", ""),
            (r#"{"status": 3}"#, "JSON_PARSER_ERROR", "status"),
            (r#"{"errorCode": 30003}"#, "JSON_PARSER_ERROR", "status"),
        ];
        for (kind, id) in one_of_each(&app).await {
            let before = record(&app, kind, &id).await;
            for (body, code, fragment) in cases {
                let path = format!("{}/{id}/status", kind.list());
                let (status, answer) = app.post_raw(&path, body, Some("application/json")).await;
                assert_eq!(status, StatusCode::BAD_REQUEST, "{kind:?} {body}: {answer}");
                assert_eq!(answer["errorCode"], code, "{kind:?} {body}: {answer}");
                let message = answer["message"].as_str().expect("a message");
                assert!(message.contains(fragment), "{kind:?} {body}: {message}");
            }
            assert_eq!(record(&app, kind, &id).await, before, "{kind:?}");
        }
    }

    async fn a_move_request_over_the_body_limit_is_413_request_too_large_and_changes_nothing(backend) {
        let app = spawn_app_with(backend, |config| {
            config.progression = Progression::Manual;
            config.max_body_bytes = 256;
        })
        .await;
        let body = json!({"status": "Undelivered", "errorCode": 30005, "errorMessage": "x".repeat(512)});
        for (kind, id) in one_of_each(&app).await {
            let before = record(&app, kind, &id).await;
            let (status, answer) = move_record(&app, kind, &id, &body).await;
            assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{kind:?}: {answer}");
            assert_eq!(answer["errorCode"], "REQUEST_TOO_LARGE", "{kind:?}: {answer}");
            assert!(answer["message"].as_str().unwrap().contains("--max-body-bytes"), "{kind:?}: {answer}");
            assert_eq!(record(&app, kind, &id).await, before, "{kind:?}");
        }
    }

    async fn a_status_unknown_to_the_kind_is_400(backend) {
        let app = spawn_progressing(backend, Progression::Manual).await;
        let [(_, sms), (_, call)] = one_of_each(&app).await;
        let cases = [
            (Kind::Message, &sms, "Ringing"),
            (Kind::Message, &sms, "Completed"),
            (Kind::Call, &call, "Delivered"),
            (Kind::Call, &call, "Sent"),
        ];
        for (kind, id, to) in cases {
            let (status, body) = move_record(&app, kind, id, &json!({"status": to})).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{kind:?} -> {to}: {body}");
            assert_eq!(body["errorCode"], "INVALID_FIELD", "{kind:?} -> {to}: {body}");
            assert!(body["message"].as_str().unwrap().contains(to), "{body}");
        }
    }

    async fn moves_of_records_that_do_not_exist_are_404(backend) {
        let app = spawn_progressing(backend, Progression::Manual).await;
        let [(_, sms), (_, call)] = one_of_each(&app).await;
        let cases = [
            (Kind::Message, "a0SDn0000009ZzzMAE", "Sent"),
            (Kind::Message, "SM00000000000000000000000000000000", "Sent"),
            (Kind::Message, "not-an-id", "Sent"),
            // A call's Id is no message's, and the other way round.
            (Kind::Message, call.as_str(), "Sent"),
            (Kind::Call, "a0CDn0000009ZzzMAE", "Ringing"),
            (Kind::Call, "CA00000000000000000000000000000000", "Ringing"),
            (Kind::Call, "not-an-id", "Ringing"),
            (Kind::Call, sms.as_str(), "Ringing"),
        ];
        for (kind, id, to) in cases {
            let (status, body) = move_record(&app, kind, id, &json!({"status": to})).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{kind:?} {id}: {body}");
            assert_eq!(body["errorCode"], "NOT_FOUND", "{kind:?} {id}: {body}");
        }
    }

    async fn moves_name_a_record_by_provider_id_or_15_character_id(backend) {
        let app = spawn_progressing(backend, Progression::Manual).await;
        let sms = send_sms_to(&app, JANE_PHONE).await;
        let call = place_call_to(&app, JANE_PHONE).await;
        let cases = [
            (Kind::Message, &sms, "Sent", "Delivered"),
            (Kind::Call, &call, "Ringing", "In Progress"),
        ];
        for (kind, output, first, second) in cases {
            let provider_id = output[kind.provider_key()].as_str().expect("a provider id");
            let moved = move_ok(&app, kind, provider_id, first).await;
            assert_eq!(moved["id"], output["id"], "{moved}");
            let short = &output["id"].as_str().unwrap()[..15];
            let moved = move_ok(&app, kind, short, second).await;
            assert_eq!(moved["id"], output["id"], "{moved}");
            assert_eq!(history_statuses(&moved), ["Queued", first, second], "{moved}");
        }
    }

    async fn status_names_are_matched_in_any_case(backend) {
        let app = spawn_progressing(backend, Progression::Manual).await;
        let [(_, sms), (_, call)] = one_of_each(&app).await;
        let cases = [
            (Kind::Message, &sms, "sent", "Sent"),
            (Kind::Message, &sms, "DELIVERED", "Delivered"),
            (Kind::Call, &call, "ringing", "Ringing"),
            (Kind::Call, &call, "in progress", "In Progress"),
            (Kind::Call, &call, "COMPLETED", "Completed"),
        ];
        for (kind, id, given, stored) in cases {
            let (status, moved) = move_record(&app, kind, id, &json!({"status": given})).await;
            assert_eq!(status, StatusCode::OK, "{given}: {moved}");
            assert_eq!(moved["status"], stored, "{given}: {moved}");
            assert_eq!(moved["statusHistory"].as_array().unwrap().last().unwrap()["status"], stored);
        }
        let no_answer = id_of(&place_call_to(&app, JANE_PHONE).await);
        let (status, moved) = move_record(&app, Kind::Call, &no_answer, &json!({"status": "no ANSWER"})).await;
        assert_eq!(status, StatusCode::OK, "{moved}");
        assert_eq!(moved["status"], "No Answer", "{moved}");
    }

    async fn an_explicit_error_is_stored_on_the_record_and_logged(backend) {
        let app = spawn_progressing(backend, Progression::Manual).await;
        let cases = [
            (Kind::Message, "Undelivered", 30005, "Unknown destination handset"),
            (Kind::Message, "Failed", 30007, "Message filtered"),
            (Kind::Call, "Failed", 13227, "Geo permission"),
            // Any status with an explicit code logs it, also one with no default error.
            (Kind::Call, "Busy", 31486, "Busy here"),
        ];
        for (kind, to, code, message) in cases {
            let case = format!("{kind:?} -> {to}");
            let id = match kind {
                Kind::Message => id_of(&send_sms_to(&app, JANE_PHONE).await),
                Kind::Call => id_of(&place_call_to(&app, JANE_PHONE).await),
            };
            let body = json!({"status": to, "errorCode": code, "errorMessage": message});
            let (status, moved) = move_record(&app, kind, &id, &body).await;
            assert_eq!(status, StatusCode::OK, "{case}: {moved}");
            assert_eq!(moved["status"], to, "{case}: {moved}");
            assert_eq!(moved["errorCode"], code, "{case}: {moved}");
            assert_eq!(moved["errorMessage"], message, "{case}: {moved}");
            assert_eq!(moved["statusHistory"][1]["errorCode"], code, "{case}: {moved}");
            assert_eq!(record(&app, kind, &id).await, moved, "{case}");
            assert_voip_error(&voip_errors_of(&app, &id).await, kind, &moved, code, message);
        }
    }

    async fn an_error_code_without_a_message_is_stored_and_logged(backend) {
        let app = spawn_progressing(backend, Progression::Manual).await;
        let id = id_of(&send_sms_to(&app, JANE_PHONE).await);
        let body = json!({"status": "Undelivered", "errorCode": 30006});
        let (status, moved) = move_record(&app, Kind::Message, &id, &body).await;
        assert_eq!(status, StatusCode::OK, "{moved}");
        assert_eq!(moved["errorCode"], 30006, "{moved}");
        let message = moved["errorMessage"].as_str().expect("a message for the code");
        assert!(!message.trim().is_empty(), "{moved}");
        assert_voip_error(&voip_errors_of(&app, &id).await, Kind::Message, &moved, 30006, message);
    }

    async fn failure_moves_without_an_error_code_get_the_usual_one(backend) {
        let app = spawn_progressing(backend, Progression::Manual).await;
        let cases = [
            (Kind::Message, "Undelivered", Some((30003, "Unreachable destination handset"))),
            (Kind::Message, "Failed", Some((30008, "Unknown error"))),
            (Kind::Call, "Failed", CALL_PATHS[3].error),
            (Kind::Call, "Busy", None),
            (Kind::Call, "No Answer", None),
            (Kind::Call, "Canceled", None),
            (Kind::Message, "Delivered", None),
            (Kind::Call, "Completed", None),
        ];
        for (kind, to, error) in cases {
            let case = format!("{kind:?} -> {to}");
            let id = match kind {
                Kind::Message => id_of(&send_sms_to(&app, JANE_PHONE).await),
                Kind::Call => id_of(&place_call_to(&app, JANE_PHONE).await),
            };
            let moved = move_ok(&app, kind, &id, to).await;
            let entries = voip_errors_of(&app, &id).await;
            match error {
                Some((code, message)) => {
                    assert_eq!(moved["errorCode"], code, "{case}: {moved}");
                    assert_eq!(moved["errorMessage"], message, "{case}: {moved}");
                    assert_eq!(moved["statusHistory"][1]["errorCode"], code, "{case}: {moved}");
                    assert_voip_error(&entries, kind, &moved, code, message);
                }
                None => {
                    assert!(moved["errorCode"].is_null() && moved["errorMessage"].is_null(), "{case}: {moved}");
                    assert!(moved["statusHistory"][1]["errorCode"].is_null(), "{case}: {moved}");
                    assert!(entries.is_empty(), "{case}: {entries:?}");
                }
            }
        }
    }
}
