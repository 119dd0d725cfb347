//! Templates, and destinations read from a record.

use reqwest::StatusCode;
use serde_json::json;

use super::*;
use crate::backend_tests;

backend_tests! {
    async fn templates_render_merge_fields_from_the_record_and_the_user(backend) {
        let app = spawn_app(backend).await;
        let reminder = "this is Ada from Acme. Your appointment is confirmed for tomorrow at 10:30. Reply STOP to opt out.";
        let cases = [
            ("contact and user", json!({"templateId": APPOINTMENT_TEMPLATE, "recordId": JANE_CONTACT}), format!("Hi Jane, {reminder}")),
            (
                "lead and another user",
                json!({"templateId": LEAD_TEMPLATE, "recordId": BOB_LEAD, "userId": GRACE}),
                "Hello Bob, thanks for your interest in Globex! Grace Hopper will call you soon.".to_owned(),
            ),
            ("Contact fields of a Lead render empty", json!({"templateId": APPOINTMENT_TEMPLATE, "recordId": BOB_LEAD}), format!("Hi , {reminder}")),
            ("no record", json!({"templateId": APPOINTMENT_TEMPLATE}), format!("Hi , {reminder}")),
            ("15-character template Id", json!({"templateId": &APPOINTMENT_TEMPLATE[..15], "recordId": JANE_CONTACT}), format!("Hi Jane, {reminder}")),
        ];
        for (case, changes, body) in cases {
            let (_, stored) = send_ok(&app, &input(changes)).await;
            assert_eq!(stored["body"], body, "{case}");
        }
    }

    async fn template_wins_over_body_text(backend) {
        let app = spawn_app(backend).await;
        let request = json!({"toPhone": TO, "bodyText": "Ignore me", "templateId": LEAD_TEMPLATE, "recordId": BOB_LEAD});
        let (_, stored) = send_ok(&app, &request).await;
        assert_eq!(stored["body"], "Hello Bob, thanks for your interest in Globex! Ada Lovelace will call you soon.");
    }

    async fn unknown_merge_fields_render_empty(backend) {
        let app = spawn_app_with_org(backend, &custom_org("{defaultUserId: 005Dn0000010Uma}")).await;
        let (_, stored) = send_ok(&app, &input(json!({"templateId": UNKNOWN_FIELDS_TEMPLATE, "recordId": EMMA_CONTACT}))).await;
        assert_eq!(stored["body"], "Hi !");
    }

    async fn merge_field_names_are_case_insensitive(backend) {
        let app = spawn_app_with_org(backend, &custom_org("{defaultUserId: 005Dn0000010Uma}")).await;
        let (_, stored) = send_ok(&app, &input(json!({"templateId": ANY_CASE_TEMPLATE, "recordId": EMMA_CONTACT}))).await;
        assert_eq!(stored["body"], "Emma meets Uma (uma@example.com)");
    }

    async fn template_that_renders_blank_is_error_101(backend) {
        let app = spawn_app_with_org(backend, &custom_org("{defaultUserId: 005Dn0000010Uma}")).await;
        for (case, changes) in [
            ("template alone", json!({"templateId": BLANK_TEMPLATE, "bodyText": null})),
            ("bodyText does not rescue it", json!({"templateId": BLANK_TEMPLATE, "bodyText": "fallback"})),
            ("with a record", json!({"templateId": BLANK_TEMPLATE, "recordId": EMMA_CONTACT})),
        ] {
            let response = app.send_sms(&input(changes)).await;
            assert_error(&response, StatusCode::BAD_REQUEST, 101, "Body text not provided", case);
        }
        assert!(app.items("/_emulator/messages").await.is_empty());
    }

    async fn unknown_or_malformed_template_id_is_error_104(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            ("a0TDn0000009Zzz", "is not an SMS template of the org"),
            (JANE_CONTACT, "is not an SMS template of the org"),
            ("a0TDn0000001Apt!", "is not a valid Salesforce Id"),
            ("a0TDn0000001AptAAA", "checksum"),
            ("Appointment reminder", "is not a valid Salesforce Id"),
        ];
        assert_values_refused(&app, "templateId", 104, &cases).await;
        assert!(app.items("/_emulator/messages").await.is_empty());
    }

    async fn destination_comes_from_the_record_field_named(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            (JANE_CONTACT, "MobilePhone", "+14155550124"),
            (JANE_CONTACT, "mobilephone", "+14155550124"),
            (JANE_CONTACT, "PHONE", "+14155550123"),
            (BOB_LEAD, "MobilePhone", "+14155550126"),
            (ACME_ACCOUNT, "phone", "+14155550127"),
            ("003DN0000001JANIAE", "MobilePhone", "+14155550124"),
        ];
        for (record_id, field, to) in cases {
            let request = input(json!({"toPhone": null, "recordId": record_id, "phoneNumberFieldName": field}));
            let (output, stored) = send_ok(&app, &request).await;
            assert_eq!(stored["toPhone"], to, "{record_id}.{field}");
            assert_id(&output["relatedRecordId"], &record_id[..3]);
            assert!(output["relatedRecordId"].as_str().unwrap().eq_ignore_ascii_case(record_id), "{output}");
        }
    }

    async fn to_phone_wins_over_the_record_field(backend) {
        let app = spawn_app(backend).await;
        let request = input(json!({"toPhone": "+14155550199", "recordId": JANE_CONTACT, "phoneNumberFieldName": "MobilePhone"}));
        let (output, stored) = send_ok(&app, &request).await;
        assert_eq!(stored["toPhone"], "+14155550199");
        assert_eq!(output["relatedRecordId"], JANE_CONTACT);
    }

    async fn record_fields_without_a_number_are_no_destination_104(backend) {
        let app = spawn_app_with_org(backend, &custom_org("{defaultUserId: 005Dn0000010Uma}")).await;
        let cases = [
            ("Fax", "has no field Fax"),
            ("Phone", "has no number"),
            ("MobilePhone", "has no number"),
            ("HomePhone", "has no number"),
        ];
        for (field, fragment) in cases {
            let request = input(json!({"toPhone": null, "recordId": EMMA_CONTACT, "phoneNumberFieldName": field}));
            let response = app.send_sms(&request).await;
            assert_error(&response, StatusCode::BAD_REQUEST, 104, fragment, field);
            assert!(response.1["message"].as_str().unwrap().starts_with("No destination"), "{field}: {}", response.1);
        }
        assert!(app.items("/_emulator/messages").await.is_empty());
        assert!(app.items("/_emulator/tasks").await.is_empty());
    }

    async fn a_record_field_is_dialled_by_the_rule_and_the_provider_judges_it(backend) {
        let app = spawn_app_with_org(backend, &custom_org("{defaultUserId: 005Dn0000010Uma}")).await;
        // OtherPhone holds a number with an extension: dialled, then refused as invalid.
        let request = input(json!({"toPhone": null, "recordId": EMMA_CONTACT, "phoneNumberFieldName": "OtherPhone"}));
        let response = app.send_sms(&request).await;
        assert_error(&response, StatusCode::BAD_GATEWAY, 100, "21211", "OtherPhone");
        let failed = app.items("/_emulator/messages").await;
        assert_eq!((failed.len(), &failed[0]["status"]), (1, &json!("Failed")), "{failed:?}");
    }

    async fn missing_field_on_a_demo_record_is_error_104(backend) {
        let app = spawn_app(backend).await;
        let request = input(json!({"toPhone": null, "recordId": JANE_CONTACT, "phoneNumberFieldName": "Fax"}));
        let response = app.send_sms(&request).await;
        assert_error(&response, StatusCode::BAD_REQUEST, 104, "has no field Fax", "Jane's Fax");
    }

    async fn phone_number_field_name_without_record_id_is_error_104(backend) {
        let app = spawn_app(backend).await;
        let response = app.send_sms(&input(json!({"toPhone": null, "phoneNumberFieldName": "MobilePhone"}))).await;
        assert_error(&response, StatusCode::BAD_REQUEST, 104, "needs a recordId", "field without record");
    }

    async fn sms_without_any_destination_is_error_104(backend) {
        let app = spawn_app(backend).await;
        for (case, changes) in [
            ("nothing", json!({"toPhone": null})),
            ("blank toPhone", json!({"toPhone": "  "})),
            ("record without field name", json!({"toPhone": null, "recordId": JANE_CONTACT})),
        ] {
            let response = app.send_sms(&input(changes)).await;
            assert_error(&response, StatusCode::BAD_REQUEST, 104, "No destination", case);
        }
        assert!(app.items("/_emulator/messages").await.is_empty());
    }

    async fn unknown_or_malformed_record_id_is_error_104(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            ("003Dn0000009Zzz", "is not a record of the org"),
            (ADA, "is not a record of the org"),
            ("003Dn0000001JanAAA", "checksum"),
            ("003-Jane", "is not a valid Salesforce Id"),
        ];
        assert_values_refused(&app, "recordId", 104, &cases).await;
        assert!(app.items("/_emulator/messages").await.is_empty());
    }
}
