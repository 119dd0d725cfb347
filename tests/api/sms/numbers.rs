//! Destination numbers and caller-ID resolution.

use reqwest::StatusCode;
use serde_json::json;

use super::*;
use crate::backend_tests;

backend_tests! {
    async fn destinations_are_dialled_by_fastcalls_rule(backend) {
        let app = spawn_app(backend).await;
        // Formatting dropped; national numbers lose one trunk 0 and get the org's +1.
        for to in ["(415) 555-0123", "415.555.0123", "415-555-0123", "4155550123", "0415 555 0123", "+1 (415) 555-0123", " +14155550123 "] {
            let (_, stored) = send_ok(&app, &input(json!({"toPhone": to}))).await;
            assert_eq!(stored["toPhone"], "+14155550123", "{to}");
        }
        // A leading + is dialled as it is, whatever the org's country.
        let (_, stored) = send_ok(&app, &input(json!({"toPhone": "+44 20 7946 0958"}))).await;
        assert_eq!(stored["toPhone"], "+442079460958");
    }

    async fn destination_follows_the_orgs_default_country(backend) {
        let app = spawn_app_with_org(backend, &custom_org("{defaultCountry: GB, defaultUserId: 005Dn0000010Uma}")).await;
        let (_, stored) = send_ok(&app, &input(json!({"toPhone": "020 7946 0018"}))).await;
        assert_eq!(stored["toPhone"], "+442079460018");
        let (_, stored) = send_ok(&app, &input(json!({"toPhone": "+1 415 555 0123"}))).await;
        assert_eq!(stored["toPhone"], "+14155550123", "a leading + is international");
        let request = input(json!({"toPhone": null, "recordId": EMMA_CONTACT, "phoneNumberFieldName": "AssistantPhone"}));
        let (_, stored) = send_ok(&app, &request).await;
        assert_eq!(stored["toPhone"], "+442079460018");
    }

    async fn numbers_the_provider_cannot_deliver_to_are_its_refusal_100_kept_as_failed(backend) {
        let app = spawn_app(backend).await;
        // The action dials what it is given; the provider judges it (Twilio's 21211).
        let cases = [
            ("123", "+1123"),
            ("+15551234567", "+15551234567"),
            ("555-0123", "+15550123"),
            ("1 415 555 0123", "+114155550123"),
            ("+1 415 555 0123 ext 12", "+1415555012312"),
        ];
        for (to, dialled) in cases {
            let (status, refused) = app.send_sms(&input(json!({"toPhone": to}))).await;
            let message = assert_exception(&(status, refused), StatusCode::BAD_GATEWAY, 100);
            assert!(message.contains("21211"), "{to}: {message}");
            let failed = app.items(&format!("/_emulator/messages?to={}", dialled.replace('+', "%2B"))).await;
            assert_eq!(failed.len(), 1, "{to}: {failed:?}");
            assert_eq!((&failed[0]["status"], &failed[0]["errorCode"]), (&json!("Failed"), &json!(21211)), "{to}");
        }
        let errors = app.items("/_emulator/voip-errors").await;
        assert_eq!(errors.len(), cases.len());
        assert!(errors.iter().all(|e| e["errorCode"] == 21211), "{errors:?}");
    }

    async fn a_destination_without_digits_counts_as_missing_104(backend) {
        let app = spawn_app(backend).await;
        let cases = [("hello", "No destination"), ("+", "No destination"), ("(-.-)", "No destination")];
        assert_values_refused(&app, "toPhone", 104, &cases).await;
        // Missing, so the record's field stands in for it.
        let request = input(json!({"toPhone": "n/a", "recordId": JANE_CONTACT, "phoneNumberFieldName": "MobilePhone"}));
        let (_, stored) = send_ok(&app, &request).await;
        assert_eq!(stored["toPhone"], "+14155550124", "Jane's MobilePhone, (415) 555-0124");
        assert_eq!(app.items("/_emulator/messages").await.len(), 1);
    }

    async fn caller_id_resolves_direct_then_group_then_org(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            ("Ada's own number", json!({}), ADA_NUMBER, ADA, ADA_PHONE),
            ("Katherine through her group", json!({"userId": KATHERINE}), SUPPORT_NUMBER, SUPPORT_GROUP, SUPPORT_PHONE),
            ("Grace through the org", json!({"userId": GRACE}), MAIN_NUMBER, GRACE, MAIN_PHONE),
            ("Ada's MMS from her own number", json!({"mediaURL": PNG}), ADA_NUMBER, ADA, ADA_PHONE),
            ("Grace's MMS through the org", json!({"userId": GRACE, "mediaURL": PNG}), MAIN_NUMBER, GRACE, MAIN_PHONE),
        ];
        for (case, changes, number, owner, from) in cases {
            let (output, stored) = send_ok(&app, &input(changes)).await;
            assert_eq!(output["phoneNumberId"], number, "{case}");
            assert_eq!(output["owner"], owner, "{case}");
            assert_eq!(stored["fromPhone"], from, "{case}");
        }
    }

    async fn mms_from_a_group_member_falls_through_to_the_org_number(backend) {
        let app = spawn_app(backend).await;
        let (output, stored) = send_ok(&app, &input(json!({"userId": KATHERINE, "mediaURL": PNG}))).await;
        assert_eq!(output["phoneNumberId"], MAIN_NUMBER, "the support line has no MMS");
        assert_eq!(output["owner"], KATHERINE);
        assert_eq!(stored["fromPhone"], MAIN_PHONE);
        assert_eq!(stored["mediaURL"], PNG);
        assert_eq!(stored["userId"], KATHERINE);
    }

    async fn explicit_from_phone_in_national_notation_is_used(backend) {
        let app = spawn_app(backend).await;
        for from in ["(415) 555-0102", "415.555.0102", "+1 415 555 0102", "4155550102"] {
            let (output, stored) = send_ok(&app, &input(json!({"fromPhone": from}))).await;
            assert_eq!(output["phoneNumberId"], MAIN_NUMBER, "{from}");
            assert_eq!(output["owner"], ADA, "{from}");
            assert_eq!(stored["fromPhone"], MAIN_PHONE, "{from}");
        }
    }

    async fn explicit_from_phone_needs_no_assignment_and_names_the_group_it_came_through(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            ("Ada on her group's line", json!({"fromPhone": "415.555.0101"}), SUPPORT_NUMBER, SUPPORT_GROUP),
            ("Grace on a group line she is not in", json!({"userId": GRACE, "fromPhone": SUPPORT_PHONE}), SUPPORT_NUMBER, GRACE),
            ("Grace on Ada's direct line", json!({"userId": GRACE, "fromPhone": ADA_PHONE}), ADA_NUMBER, GRACE),
            ("Katherine's MMS on the main line", json!({"userId": KATHERINE, "fromPhone": MAIN_PHONE, "mediaURL": PNG}), MAIN_NUMBER, KATHERINE),
        ];
        for (case, changes, number, owner) in cases {
            let (output, _) = send_ok(&app, &input(changes)).await;
            assert_eq!(output["phoneNumberId"], number, "{case}");
            assert_eq!(output["owner"], owner, "{case}");
        }
    }

    async fn a_from_phone_without_digits_counts_as_missing(backend) {
        let app = spawn_app(backend).await;
        let (output, stored) = send_ok(&app, &input(json!({"fromPhone": "front desk"}))).await;
        assert_eq!(output["phoneNumberId"], ADA_NUMBER, "resolved as without fromPhone");
        assert_eq!(stored["fromPhone"], ADA_PHONE);
    }

    async fn unusable_from_phone_is_error_103(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            ("not the org's", input(json!({"fromPhone": "+14155550199"})), "is not one of the org's phone numbers"),
            ("voice only", input(json!({"fromPhone": "+14155550103"})), "is not SMS-capable"),
            ("voice only, national", input(json!({"fromPhone": "(415) 555-0103"})), "is not SMS-capable"),
            ("MMS from the SMS-only line", input(json!({"fromPhone": SUPPORT_PHONE, "mediaURL": PNG})), "is not MMS-capable"),
        ];
        assert_each_refused(&app, ACTION, 103, &["Caller ID not found"], &cases).await;
        assert!(app.items("/_emulator/messages").await.is_empty());
    }

    async fn user_without_a_fitting_number_is_error_103(backend) {
        let app = spawn_app_with_org(backend, &custom_org("{defaultUserId: 005Dn0000010Uma}")).await;
        let cases = [
            ("no SMS number", json!({"userId": NOBODY}), "SMS-capable"),
            ("no MMS number", json!({"userId": NOBODY, "mediaURL": PNG}), "MMS-capable"),
            ("outbound SMS off", json!({"fromPhone": "+14155550152"}), "is not enabled for outbound SMS"),
            ("voice-only line", json!({"fromPhone": "+14155550151"}), "is not SMS-capable"),
        ];
        for (case, changes, fragment) in cases {
            let response = app.send_sms(&input(changes)).await;
            let message = assert_exception(&response, StatusCode::BAD_REQUEST, 103);
            assert!(message.starts_with("Caller ID not found"), "{case}: {message}");
            assert!(message.contains(fragment), "{case}: {message}");
        }
        assert!(app.items("/_emulator/messages").await.is_empty());
        // Uma's own number serves her MMS.
        let (output, _) = send_ok(&app, &input(json!({"mediaURL": PNG}))).await;
        assert_eq!(output["phoneNumberId"], id18(UMA_NUMBER));
    }
}
