//! The call action through the Salesforce REST shape: bulk invocation, describe and list.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::*;
use crate::backend_tests;

/// Asserts one input's result succeeded; returns its output values.
#[track_caller]
fn succeeded<'a>(result: &'a Value, action_name: &str) -> &'a Value {
    assert_succeeded(result, action_name, &output_keys())
}

/// Asserts one input's result failed with `code` and a message holding `fragment`.
#[track_caller]
fn failed(result: &Value, action_name: &str, code: u64, fragment: &str) {
    let message = assert_failed(result, action_name, code);
    assert!(message.contains(fragment), "`{message}` holds `{fragment}`");
}

backend_tests! {
    async fn bulk_of_valid_calls_is_200_with_outputs_in_input_order(backend) {
        let app = spawn_app(backend).await;
        let sent = [("+14155550131", MENU_IVR), ("+14155550132", &VOICEMAIL_IVR[..15]), ("+14155550133", DIRECTORY_IVR)];
        let inputs: Vec<Value> = sent.iter().map(|(to, ivr)| json!({"toPhone": to, "ivrId": ivr})).collect();
        for name in [CALL, NAMESPACED_CALL] {
            let response = app.invoke(name, json!(inputs)).await;
            let results = bulk_results(&response, StatusCode::OK, 3);
            for ((to, ivr), result) in sent.iter().zip(&results) {
                let output = succeeded(result, name);
                assert_eq!(output["ivr"], id18(&ivr[..15]), "{name} {to}");
                assert_eq!(output["status"], "Queued");
                assert_eq!(output["owner"], ADA);
                assert_call_id(&output["callId"]);
                let stored = stored_call(&app, output["id"].as_str().unwrap()).await;
                assert_item_matches_output(&stored, output);
                assert_eq!(stored["toPhone"], *to);
            }
        }
        assert_eq!(app.items("/_emulator/calls").await.len(), 6);
        assert_eq!(app.items("/_emulator/tasks").await.len(), 6);
    }

    async fn one_input_failing_a_check_fails_every_input_with_its_error_and_nothing_is_called(backend) {
        let app = spawn_app(backend).await;
        let valid = json!({"toPhone": "+14155550131", "ivrId": MENU_IVR});
        let cases = [
            (json!({"toPhone": "+14155550132"}), 104, "ivrId is required"),
            (json!({"toPhone": "+14155550134", "ivrId": MENU_IVR, "fromPhone": "+14155550199"}), 103, "Caller ID not found."),
            (json!({"toPhone": "+14155550136", "ivrId": MENU_IVR, "colour": "red"}), 104, "colour"),
            (json!("+14155550137"), 104, "invalid type"),
            (json!({"toPhone": "+14155550138", "ivrId": "a0IDn0000009Zzz"}), 104, "is not an IVR of the org"),
            (json!({"userId": LINUS, "toPhone": "+14155550139", "ivrId": MENU_IVR}), 104, "is not a Fastcall user"),
        ];
        for (bad, code, fragment) in cases {
            let response = app.invoke(NAMESPACED_CALL, json!([valid, bad, valid])).await;
            let results = bulk_results(&response, StatusCode::BAD_REQUEST, 3);
            let message = assert_all_failed(&results, NAMESPACED_CALL, code);
            assert!(message.contains(fragment), "`{message}` holds `{fragment}`");
        }
        for list in ["calls", "tasks", "voip-errors"] {
            assert!(app.items(&format!("/_emulator/{list}")).await.is_empty(), "{list}");
        }
    }

    async fn a_refused_call_fails_the_request_while_the_accepted_calls_and_their_tasks_stay(backend) {
        let app = spawn_app(backend).await;
        let inputs = json!([
            {"toPhone": "+14155550131", "ivrId": MENU_IVR},
            {"toPhone": "+15005550002", "ivrId": MENU_IVR},
            {"userId": KATHERINE, "recordId": JANE_CONTACT, "phoneNumberFieldName": "MobilePhone", "ivrId": ROUTING_IVR},
        ]);
        let response = app.invoke(NAMESPACED_CALL, inputs).await;
        let results = bulk_results(&response, StatusCode::BAD_REQUEST, 3);
        failed(&results[0], NAMESPACED_CALL, 100, "21214");
        assert_all_failed(&results, NAMESPACED_CALL, 100);

        // The two accepted calls and the refused one, stored in input order.
        let calls = app.items("/_emulator/calls").await;
        let to: Vec<&Value> = calls.iter().map(|c| &c["toPhone"]).collect();
        assert_eq!(to, [&json!("+14155550124"), &json!("+15005550002"), &json!("+14155550131")], "{calls:?}");
        assert_eq!((calls[0]["status"].as_str(), calls[2]["status"].as_str()), (Some("Queued"), Some("Queued")));
        assert_eq!(calls[0]["owner"], SUPPORT_GROUP);
        assert_eq!(calls[0]["relatedRecordId"], JANE_CONTACT);
        assert_eq!(calls[1]["status"], "Failed");
        assert_eq!(calls[1]["errorCode"], 21214);
        let tasks = app.items("/_emulator/tasks").await;
        assert_eq!(tasks.len(), 2, "{tasks:?}");
        assert_eq!(tasks[0]["ownerId"], KATHERINE);
        assert_eq!(tasks[0]["whoId"], JANE_CONTACT);
        let errors = app.items("/_emulator/voip-errors").await;
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0]["recordType"], "FastCall__Call__c");
        assert_eq!(errors[0]["recordId"], calls[1]["id"]);
    }

    async fn bulk_in_a_voice_disabled_org_fails_every_input_with_105(backend) {
        let app = spawn_app_with_org(backend, &custom_org(&format!("{{voiceEnabled: false, defaultUserId: {UMA}}}"))).await;
        let inputs = json!([{"toPhone": TO, "ivrId": CUSTOM_IVR}, {"toPhone": "hello"}]);
        let response = app.invoke(CALL, inputs).await;
        let results = bulk_results(&response, StatusCode::BAD_REQUEST, 2);
        for result in &results {
            failed(result, CALL, 105, "Voice calls are not enabled");
        }
        assert_nothing_stored(&app, "voice disabled, bulk").await;
    }

    async fn bulk_bodies_that_are_not_inputs_are_refused_and_store_nothing(backend) {
        let app = spawn_app(backend).await;
        let path = format!("/services/data/v60.0/actions/custom/apex/{CALL}");
        let cases: [(&str, &str, u16, &str); 4] = [
            ("malformed JSON", r#"{"inputs": [{"toPhone": "+14155550123""#, 400, "JSON_PARSER_ERROR"),
            ("inputs not an array", r#"{"inputs": {"toPhone": "+14155550123"}}"#, 400, "JSON_PARSER_ERROR"),
            ("a bare input", r#"{"toPhone": "+14155550123", "ivrId": "a0IDn0000001MnuMAE"}"#, 400, "JSON_PARSER_ERROR"),
            ("no inputs", r#"{"inputs": []}"#, 400, "INVALID_INPUT"),
        ];
        for (case, body, status, code) in cases {
            let (got, answer) = app.post_raw(&path, body, Some("application/json")).await;
            assert_eq!(got.as_u16(), status, "{case}: {answer}");
            assert_eq!(answer[0]["errorCode"], code, "{case}: {answer}");
            assert_eq!(answer.as_array().map(Vec::len), Some(1), "{case}: {answer}");
        }
        assert_nothing_stored(&app, "bad bulk bodies").await;
    }

    async fn describing_the_call_action_gives_the_seeds_strings_and_requires_to_phone(backend) {
        let app = spawn_app(backend).await;
        // All strings in the seed; only toPhone is marked required (ivrId is checked at run time).
        let inputs = [
            ("fromPhone", "STRING", false),
            ("ivrId", "STRING", false),
            ("phoneNumberFieldName", "STRING", false),
            ("recordId", "STRING", false),
            ("toPhone", "STRING", true),
            ("userId", "STRING", false),
        ];
        for name in [CALL, NAMESPACED_CALL] {
            let body = app.item(&format!("/services/data/v60.0/actions/custom/apex/{name}")).await;
            assert_described_action(&body, NAMESPACED_CALL, &inputs, &OUTPUTS);
        }
    }

    async fn the_action_list_names_all_three_actions(backend) {
        let app = spawn_app(backend).await;
        let body = app.item("/services/data/v60.0/actions/custom/apex").await;
        let actions = assert_action_list(&body);
        let mut names: Vec<&str> = actions.iter().map(|a| a["name"].as_str().unwrap_or_default()).collect();
        names.sort_unstable();
        assert_eq!(names, ["FastCall__SubscriberCallInvocable", "FastCall__SubscriberSMSInvocable", "FastCall__SubscriberUserStatusInvocable"]);
        let call = actions.iter().find(|a| a["name"] == NAMESPACED_CALL).unwrap();
        let (_, described) = app.get(&format!("/services/data/v60.0/actions/custom/apex/{CALL}")).await;
        assert_eq!(call["label"], described["label"], "the list and describe agree on the label");
    }
}
