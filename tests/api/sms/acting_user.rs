//! The acting user and the output map.

use reqwest::StatusCode;
use serde_json::json;

use super::*;
use crate::backend_tests;

backend_tests! {
    async fn sms_to_a_number_succeeds_with_the_nine_output_keys(backend) {
        let app = spawn_app(backend).await;
        let (status, body) = app.send_sms(&json!({"toPhone": TO, "bodyText": "Hello"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["createdDate", "direction", "id", "owner", "phoneNumberId", "relatedRecordId", "smsId", "status", "taskId"]);
        assert_salesforce_datetime_now(&body["createdDate"]);
        assert_eq!(body["direction"], "Outbound");
        assert_id(&body["id"], "a0S");
        assert_eq!(body["owner"], ADA);
        assert_eq!(body["phoneNumberId"], ADA_NUMBER);
        assert!(body["relatedRecordId"].is_null(), "{body}");
        let sms_id = body["smsId"].as_str().expect("an smsId");
        assert!(sms_id.len() == 34 && sms_id.starts_with("SM"), "{sms_id}");
        assert!(sms_id[2..].bytes().all(|b| b.is_ascii_hexdigit()), "{sms_id}");
        assert_eq!(body["status"], "Queued");
        assert!(body["taskId"].is_null(), "{body}");
    }

    async fn sent_message_is_stored_with_body_phones_and_user(backend) {
        let app = spawn_app(backend).await;
        let (output, stored) = send_ok(&app, &json!({"toPhone": TO, "bodyText": "See you at 10"})).await;
        assert_eq!(stored["id"], output["id"]);
        assert_eq!(stored["smsId"], output["smsId"]);
        assert_eq!(stored["createdDate"], output["createdDate"]);
        assert_eq!(stored["owner"], ADA);
        assert_eq!(stored["phoneNumberId"], ADA_NUMBER);
        assert_eq!(stored["body"], "See you at 10");
        assert_eq!(stored["fromPhone"], ADA_PHONE);
        assert_eq!(stored["toPhone"], TO);
        assert_eq!(stored["userId"], ADA);
        assert!(stored["mediaURL"].is_null() && stored["errorCode"].is_null() && stored["errorMessage"].is_null(), "{stored}");
        let by_sms_id = stored_message(&app, output["smsId"].as_str().unwrap()).await;
        assert_eq!(by_sms_id["id"], output["id"]);
        assert_eq!(app.items("/_emulator/messages").await.len(), 1);
    }

    async fn user_id_in_any_id_form_names_the_acting_user(backend) {
        let app = spawn_app(backend).await;
        for user_id in [GRACE, &GRACE[..15], "005DN0000002GRCIAE", "005dn0000002grciae", "005Dn0000002GrcIAE "] {
            let (output, stored) = send_ok(&app, &input(json!({"userId": user_id}))).await;
            assert_eq!(output["owner"], GRACE, "{user_id}");
            assert_eq!(output["phoneNumberId"], MAIN_NUMBER, "{user_id}");
            assert_eq!(stored["userId"], GRACE, "{user_id}");
        }
    }

    async fn user_header_names_the_acting_user_when_user_id_is_absent(backend) {
        let app = spawn_app(backend).await;
        let (status, output) = send_sms_as(&app, GRACE, &input(json!({}))).await;
        assert_eq!(status, StatusCode::OK, "{output}");
        assert_eq!(output["owner"], GRACE);
        assert_eq!(output["phoneNumberId"], MAIN_NUMBER);
        assert_eq!(stored_message(&app, output["id"].as_str().unwrap()).await["userId"], GRACE);
    }

    async fn user_id_wins_over_the_user_header(backend) {
        let app = spawn_app(backend).await;
        let (status, output) = send_sms_as(&app, GRACE, &input(json!({"userId": KATHERINE}))).await;
        assert_eq!(status, StatusCode::OK, "{output}");
        assert_eq!(output["owner"], SUPPORT_GROUP);
        assert_eq!(stored_message(&app, output["id"].as_str().unwrap()).await["userId"], KATHERINE);
    }

    async fn org_default_user_acts_when_nobody_is_named(backend) {
        let app = spawn_app_with_org(backend, &custom_org("{defaultUserId: 005Dn0000010Uma}")).await;
        let (output, stored) = send_ok(&app, &input(json!({}))).await;
        assert_eq!(output["owner"], id18(UMA));
        assert_eq!(output["phoneNumberId"], id18(UMA_NUMBER));
        assert_eq!(stored["userId"], id18(UMA));
        assert_eq!(stored["fromPhone"], "+14155550150");
    }

    async fn non_fastcall_user_is_error_104(backend) {
        let app = spawn_app(backend).await;
        let response = app.send_sms(&input(json!({"userId": LINUS}))).await;
        assert_error(&response, StatusCode::BAD_REQUEST, 104, "is not a Fastcall user", "userId LINUS");
        let response = send_sms_as(&app, LINUS, &input(json!({}))).await;
        assert_error(&response, StatusCode::BAD_REQUEST, 104, "is not a Fastcall user", "header LINUS");
        assert!(app.items("/_emulator/messages").await.is_empty());
    }

    async fn unknown_user_is_error_104(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            ("userId of nobody", input(json!({"userId": "005Dn0000009Zzz"}))),
            ("userId of a Contact", input(json!({"userId": JANE_CONTACT}))),
            ("userId of a group", input(json!({"userId": SUPPORT_GROUP}))),
        ];
        for (case, request) in cases {
            let response = app.send_sms(&request).await;
            assert_error(&response, StatusCode::BAD_REQUEST, 104, "is not a user of the org", case);
        }
        let response = send_sms_as(&app, "005Dn0000009Zzz", &input(json!({}))).await;
        assert_error(&response, StatusCode::BAD_REQUEST, 104, "is not a user of the org", "header of nobody");
        assert!(app.items("/_emulator/messages").await.is_empty());
    }

    async fn malformed_user_id_is_error_104(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            ("005Dn0000002GrcAAA", "checksum"),
            ("005dn0000002grcbaa", "checksum"),
            ("005Dn0000002Gr", "15 or 18 characters"),
            ("005Dn0000002GrcIAEX", "15 or 18 characters"),
            ("005Dn0000002Gr-", "letters and digits"),
            ("Grace Hopper", "not a valid Salesforce Id"),
        ];
        assert_values_refused(&app, "userId", 104, &cases).await;
    }

    async fn sms_without_any_acting_user_is_error_104(backend) {
        let app = spawn_app_with_org(backend, &custom_org("{}")).await;
        let response = app.send_sms(&input(json!({}))).await;
        assert_error(&response, StatusCode::BAD_REQUEST, 104, "No acting user", "no user at all");
        assert!(app.items("/_emulator/messages").await.is_empty());
        // The same request names its user and goes through.
        let (output, _) = send_ok(&app, &input(json!({"userId": UMA}))).await;
        assert_eq!(output["owner"], id18(UMA));
    }

    async fn blank_inputs_count_as_absent(backend) {
        let app = spawn_app(backend).await;
        let request = json!({
            "toPhone": TO, "bodyText": "Hello", "userId": "  ", "fromPhone": "", "mediaURL": " ",
            "templateId": "", "recordId": "\t", "phoneNumberFieldName": "",
        });
        let (output, stored) = send_ok(&app, &request).await;
        assert_eq!(output["owner"], ADA);
        assert_eq!(output["phoneNumberId"], ADA_NUMBER);
        assert!(output["relatedRecordId"].is_null() && output["taskId"].is_null(), "{output}");
        assert!(stored["mediaURL"].is_null(), "{stored}");
        assert_eq!(stored["body"], "Hello");
        // A blank mediaURL does not make Katherine's message an MMS.
        let (output, _) = send_ok(&app, &input(json!({"userId": KATHERINE, "mediaURL": ""}))).await;
        assert_eq!(output["phoneNumberId"], SUPPORT_NUMBER);
        // A blank toPhone leaves the record's field as the destination.
        let request = input(json!({"toPhone": " ", "recordId": JANE_CONTACT, "phoneNumberFieldName": "Phone"}));
        let (_, stored) = send_ok(&app, &request).await;
        assert_eq!(stored["toPhone"], "+14155550123");
    }
}
