//! Accepted calls: the output map, the caller ID, the destination and the IVR.

use reqwest::StatusCode;
use serde_json::json;

use super::*;
use crate::backend_tests;

backend_tests! {
    async fn call_answers_exactly_the_nine_output_keys_with_their_values(backend) {
        let app = spawn_app(backend).await;
        let (output, stored) = place_ok(&app, &input(json!({"recordId": JANE_CONTACT}))).await;
        assert_eq!(keys(&output), output_keys(), "{output}");
        assert_call_id(&output["callId"]);
        assert_eq!(output["direction"], "Outbound");
        assert_id(&output["id"], "a0C");
        assert_eq!(output["ivr"], MENU_IVR);
        assert_eq!(output["owner"], ADA);
        assert_eq!(output["relatedRecordId"], JANE_CONTACT);
        assert_salesforce_datetime_now(&output["startTime"]);
        assert_eq!(output["status"], "Queued");
        assert_id(&output["taskId"], "00T");

        assert_item_matches_output(&stored, &output);
        assert_eq!(stored["fromPhone"], ADA_PHONE);
        assert_eq!(stored["toPhone"], TO);
        assert_eq!(stored["userId"], ADA);
        assert!(stored["errorCode"].is_null() && stored["errorMessage"].is_null(), "{stored}");
    }

    async fn call_without_record_id_has_a_null_related_record_and_still_a_task(backend) {
        let app = spawn_app(backend).await;
        let (output, stored) = place_ok(&app, &input(json!({}))).await;
        assert_eq!(keys(&output), output_keys(), "{output}");
        assert!(output["relatedRecordId"].is_null(), "{output}");
        assert_id(&output["taskId"], "00T");
        assert_call_id(&output["callId"]);
        assert_eq!(output["status"], "Queued");
        assert_item_matches_output(&stored, &output);
    }

    async fn two_calls_get_distinct_ids_call_ids_and_tasks(backend) {
        let app = spawn_app(backend).await;
        let (first, _) = place_ok(&app, &input(json!({}))).await;
        let (second, _) = place_ok(&app, &input(json!({}))).await;
        for key in ["id", "callId", "taskId"] {
            assert_ne!(first[key], second[key], "{key}");
        }
    }

    async fn caller_id_resolves_direct_then_group_then_org(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            ("Ada's own number", json!({}), ADA_NUMBER, ADA, ADA_PHONE, ADA),
            ("Katherine through her group", json!({"userId": KATHERINE}), SUPPORT_NUMBER, SUPPORT_GROUP, SUPPORT_PHONE, KATHERINE),
            ("Grace through the org, first fitting number", json!({"userId": GRACE}), MAIN_NUMBER, GRACE, MAIN_PHONE, GRACE),
            ("Katherine by 15-character userId", json!({"userId": &KATHERINE[..15]}), SUPPORT_NUMBER, SUPPORT_GROUP, SUPPORT_PHONE, KATHERINE),
        ];
        for (case, changes, number, owner, from, user) in cases {
            let (output, stored) = place_ok(&app, &input(changes)).await;
            assert_eq!(output["owner"], owner, "{case}");
            assert_eq!(stored["fromPhone"], from, "{case}");
            assert_eq!(stored["userId"], user, "{case}");
            let call = sobject(&app, "FastCall__Call__c", output["id"].as_str().unwrap()).await;
            assert_eq!(call["FastCall__Phone_Number__c"], number, "{case}");
            assert_eq!(call["FastCall__From_Phone__c"], from, "{case}");
        }
    }

    async fn the_invoking_user_is_the_acting_user_without_user_id(backend) {
        let app = spawn_app(backend).await;
        let cases = [(KATHERINE, SUPPORT_GROUP, SUPPORT_PHONE), (GRACE, GRACE, MAIN_PHONE), (ADA, ADA, ADA_PHONE)];
        for (invoker, owner, from) in cases {
            let (status, output) = place_as(&app, invoker, &input(json!({}))).await;
            assert_eq!(status, StatusCode::OK, "{invoker}: {output}");
            assert_eq!(output["owner"], owner, "{invoker}");
            let stored = stored_call(&app, output["id"].as_str().unwrap()).await;
            assert_eq!(stored["userId"], invoker);
            assert_eq!(stored["fromPhone"], from);
        }
        // userId wins over the invoking user.
        let (status, output) = place_as(&app, GRACE, &input(json!({"userId": ADA}))).await;
        assert_eq!(status, StatusCode::OK, "{output}");
        assert_eq!(output["owner"], ADA);
    }

    async fn explicit_from_phone_in_national_notation_is_used_including_the_voice_only_number(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            ("main line, parentheses", json!({"fromPhone": "(415) 555-0102"}), MAIN_NUMBER, MAIN_PHONE, ADA),
            ("main line, digits", json!({"fromPhone": "4155550102"}), MAIN_NUMBER, MAIN_PHONE, ADA),
            ("voice-only line, dots", json!({"fromPhone": "415.555.0103"}), VOICE_NUMBER, VOICE_PHONE, ADA),
            ("voice-only line, parentheses", json!({"fromPhone": "(415) 555-0103"}), VOICE_NUMBER, VOICE_PHONE, ADA),
            ("voice-only line, spaced E.164", json!({"fromPhone": "+1 415 555 0103"}), VOICE_NUMBER, VOICE_PHONE, ADA),
            ("voice-only line for Grace, trunk 0", json!({"userId": GRACE, "fromPhone": "0415 555 0103"}), VOICE_NUMBER, VOICE_PHONE, GRACE),
            ("Ada on her group's line names the group", json!({"fromPhone": "415-555-0101"}), SUPPORT_NUMBER, SUPPORT_PHONE, SUPPORT_GROUP),
            ("Grace on a group line she is not in", json!({"userId": GRACE, "fromPhone": SUPPORT_PHONE}), SUPPORT_NUMBER, SUPPORT_PHONE, GRACE),
            ("Katherine on Ada's direct line", json!({"userId": KATHERINE, "fromPhone": ADA_PHONE}), ADA_NUMBER, ADA_PHONE, KATHERINE),
        ];
        for (case, changes, number, from, owner) in cases {
            let (output, stored) = place_ok(&app, &input(changes)).await;
            assert_eq!(output["owner"], owner, "{case}");
            assert_eq!(stored["fromPhone"], from, "{case}");
            let call = sobject(&app, "FastCall__Call__c", output["id"].as_str().unwrap()).await;
            assert_eq!(call["FastCall__Phone_Number__c"], number, "{case}");
        }
    }

    async fn destination_comes_from_to_phone_or_the_records_phone_field(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            ("toPhone in national notation", json!({"toPhone": "(415) 555-0199"}), "+14155550199", None),
            ("toPhone with spaces", json!({"toPhone": " +1 415 555 0199 "}), "+14155550199", None),
            ("toPhone with a trunk 0", json!({"toPhone": "0415 555 0199"}), "+14155550199", None),
            ("an international toPhone", json!({"toPhone": "+44 20 7946 0958"}), "+442079460958", None),
            ("a toPhone without digits falls back to the field", json!({"toPhone": "n/a", "recordId": JANE_CONTACT, "phoneNumberFieldName": "MobilePhone"}), "+14155550124", Some(JANE_CONTACT)),
            ("Contact's MobilePhone", json!({"toPhone": null, "recordId": JANE_CONTACT, "phoneNumberFieldName": "MobilePhone"}), "+14155550124", Some(JANE_CONTACT)),
            ("field name in any case", json!({"toPhone": null, "recordId": JANE_CONTACT, "phoneNumberFieldName": "mobilephone"}), "+14155550124", Some(JANE_CONTACT)),
            ("blank toPhone falls back to the field", json!({"toPhone": "", "recordId": BOB_LEAD, "phoneNumberFieldName": "MobilePhone"}), "+14155550126", Some(BOB_LEAD)),
            ("Account's Phone by 15-character recordId", json!({"toPhone": " ", "recordId": &ACME_ACCOUNT[..15], "phoneNumberFieldName": "Phone"}), "+14155550127", Some(ACME_ACCOUNT)),
            ("toPhone wins over the field", json!({"toPhone": "4155550199", "recordId": JANE_CONTACT, "phoneNumberFieldName": "MobilePhone"}), "+14155550199", Some(JANE_CONTACT)),
        ];
        for (case, changes, to, related) in cases {
            let (output, stored) = place_ok(&app, &input(changes)).await;
            assert_eq!(stored["toPhone"], to, "{case}");
            assert_eq!(output["relatedRecordId"], json!(related), "{case}");
            let (status, task) = app.get(&format!("/_emulator/tasks/{}", output["taskId"].as_str().unwrap())).await;
            assert_eq!(status, StatusCode::OK, "{case}: {task}");
            assert_eq!(task["subject"], format!("Call to {to}"), "{case}");
        }
    }

    async fn each_demo_ivr_is_accepted_and_echoed_in_18_characters(backend) {
        let app = spawn_app(backend).await;
        for ivr in IVRS {
            let forms = [ivr.to_owned(), ivr[..15].to_owned(), ivr.to_lowercase(), ivr.to_uppercase()];
            for form in forms {
                let (output, stored) = place_ok(&app, &input(json!({"ivrId": form}))).await;
                assert_eq!(output["ivr"], ivr, "{form}");
                assert_eq!(stored["ivr"], ivr, "{form}");
                assert_eq!(output["status"], "Queued", "{form}");
            }
            let calls = app.items("/_emulator/calls?limit=1").await;
            let call = sobject(&app, "FastCall__Call__c", calls[0]["id"].as_str().unwrap()).await;
            assert_eq!(call["FastCall__IVR__c"], ivr);
        }
        assert_eq!(app.items("/_emulator/calls").await.len(), 4 * IVRS.len());
    }

    async fn blank_optional_inputs_are_taken_as_absent(backend) {
        let app = spawn_app(backend).await;
        let request = input(json!({"fromPhone": "", "userId": "  ", "recordId": "", "phoneNumberFieldName": " \t"}));
        let (output, stored) = place_ok(&app, &request).await;
        assert_eq!(output["owner"], ADA);
        assert!(output["relatedRecordId"].is_null(), "{output}");
        assert_eq!(stored["fromPhone"], ADA_PHONE);
        assert_eq!(stored["toPhone"], TO);
        assert_eq!(stored["userId"], ADA);
    }

    async fn a_custom_org_calls_from_its_own_voice_line(backend) {
        let app = spawn_app_with_org(backend, &custom_org(&format!("{{defaultUserId: {UMA}}}"))).await;
        let (output, stored) = place_ok(&app, &input(json!({"ivrId": CUSTOM_IVR}))).await;
        assert_eq!(output["owner"], id18(UMA));
        assert_eq!(output["ivr"], id18(CUSTOM_IVR));
        assert_eq!(stored["fromPhone"], UMA_VOICE_PHONE, "the SMS-only line comes first in file order but cannot call");
        let call = sobject(&app, "FastCall__Call__c", output["id"].as_str().unwrap()).await;
        assert_eq!(call["FastCall__Phone_Number__c"], id18(UMA_VOICE_NUMBER));
        // The demo org's IVRs are not this org's.
        let response = place(&app, &input(json!({}))).await;
        assert_error(&response, StatusCode::BAD_REQUEST, 104, "is not an IVR of the org", "demo IVR in a custom org");
    }
}
