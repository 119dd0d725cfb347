//! Refused inputs, in the documented order: 105, then the acting user, the record and the
//! IVR (104), the destination (104), the caller ID (103).

use reqwest::StatusCode;
use serde_json::json;

use super::*;
use crate::backend_tests;

backend_tests! {
    async fn voice_disabled_org_is_error_105_before_anything_else(backend) {
        let app = spawn_app_with_org(backend, &custom_org(&format!("{{voiceEnabled: false, defaultUserId: {UMA}}}"))).await;
        let cases = [
            ("valid request", input(json!({"ivrId": CUSTOM_IVR}))),
            ("every other problem", json!({"userId": "not-an-id", "recordId": "x", "ivrId": "y", "toPhone": "hello", "fromPhone": "nope"})),
            ("no inputs at all", json!({})),
            ("unknown user", input(json!({"userId": "005Dn0000009Zzz", "ivrId": CUSTOM_IVR}))),
            ("no caller ID for the user", input(json!({"userId": NOBODY, "ivrId": CUSTOM_IVR}))),
            ("provider refusal", input(json!({"toPhone": "+15005550001", "ivrId": CUSTOM_IVR}))),
        ];
        for (case, request) in cases {
            let response = place(&app, &request).await;
            assert_error(&response, StatusCode::BAD_REQUEST, 105, "Voice calls are not enabled", case);
        }
        assert_nothing_stored(&app, "voice disabled").await;
        // Only voice is off: the same org still sends SMS.
        let (status, sent) = app.send_sms(&json!({"toPhone": TO, "bodyText": "hi"})).await;
        assert_eq!(status, StatusCode::OK, "{sent}");
        assert_eq!(sent["phoneNumberId"], id18(UMA_SMS_NUMBER));
    }

    async fn acting_user_problems_are_error_104(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            ("malformed userId", input(json!({"userId": "not-an-id"})), "userId `not-an-id` is not a valid Salesforce Id"),
            ("userId of 14 characters", input(json!({"userId": &ADA[..14]})), "must be 15 or 18 characters long"),
            ("userId with a bad checksum", input(json!({"userId": "005Dn0000001AdaAAA"})), "checksum"),
            ("unknown userId", input(json!({"userId": "005Dn0000009Zzz"})), "is not a user of the org"),
            ("a group's Id as userId", input(json!({"userId": SUPPORT_GROUP})), "is not a user of the org"),
            ("not a Fastcall user", input(json!({"userId": LINUS})), "is not a Fastcall user"),
        ];
        assert_each_refused(&app, ACTION, 104, &[], &cases).await;
        let response = place_as(&app, LINUS, &input(json!({}))).await;
        assert_error(&response, StatusCode::BAD_REQUEST, 104, "is not a Fastcall user", "invoking user not a Fastcall user");
        let response = place_as(&app, "005Dn0000009Zzz", &input(json!({}))).await;
        assert_error(&response, StatusCode::BAD_REQUEST, 104, "The running user", "unknown invoking user");
        assert_nothing_stored(&app, "user problems").await;
    }

    async fn no_acting_user_at_all_is_error_104(backend) {
        let app = spawn_app_with_org(backend, &custom_org("{}")).await;
        let response = place(&app, &input(json!({"ivrId": CUSTOM_IVR}))).await;
        assert_error(&response, StatusCode::BAD_REQUEST, 104, "No acting user", "no userId, header or default");
        assert_nothing_stored(&app, "no acting user").await;
        let (output, _) = place_ok(&app, &input(json!({"ivrId": CUSTOM_IVR, "userId": UMA}))).await;
        assert_eq!(output["owner"], id18(UMA));
    }

    async fn record_id_problems_are_error_104(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            ("malformed", input(json!({"recordId": "not-an-id"})), "recordId `not-an-id` is not a valid Salesforce Id"),
            ("bad checksum", input(json!({"recordId": "003Dn0000001JanAAA"})), "checksum"),
            ("too long", input(json!({"recordId": format!("{JANE_CONTACT}X")})), "must be 15 or 18 characters long"),
            ("unknown", input(json!({"recordId": "003Dn0000009Zzz"})), "is not a record of the org"),
            ("a user's Id", input(json!({"recordId": ADA})), "is not a record of the org"),
            ("an IVR's Id", input(json!({"recordId": MENU_IVR})), "is not a record of the org"),
        ];
        assert_each_refused(&app, ACTION, 104, &["recordId"], &cases).await;
        assert_nothing_stored(&app, "record problems").await;
    }

    async fn ivr_id_problems_are_error_104(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            ("missing", input(json!({"ivrId": null})), "ivrId is required"),
            ("empty", input(json!({"ivrId": ""})), "ivrId is required"),
            ("blank", input(json!({"ivrId": " \t\n"})), "ivrId is required"),
            ("malformed", input(json!({"ivrId": "main menu"})), "ivrId `main menu` is not a valid Salesforce Id"),
            ("wrong length", input(json!({"ivrId": &MENU_IVR[..14]})), "must be 15 or 18 characters long"),
            ("bad checksum", input(json!({"ivrId": "a0IDn0000001MnuAAA"})), "checksum"),
            ("unknown", input(json!({"ivrId": "a0IDn0000009Zzz"})), "is not an IVR of the org"),
            ("an SMS template's Id", input(json!({"ivrId": APPOINTMENT_TEMPLATE})), "is not an IVR of the org"),
            ("a phone number's Id", input(json!({"ivrId": ADA_NUMBER})), "is not an IVR of the org"),
        ];
        assert_each_refused(&app, ACTION, 104, &["ivrId"], &cases).await;
        assert_nothing_stored(&app, "IVR problems").await;
    }

    async fn no_destination_is_error_104(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            ("no digits", input(json!({"toPhone": "hello"})), "toPhone `hello` has no digits"),
            ("nothing at all", input(json!({"toPhone": null})), "No destination"),
            ("blank toPhone, no record", input(json!({"toPhone": "  "})), "No destination"),
            ("field name without recordId", input(json!({"toPhone": null, "phoneNumberFieldName": "Phone"})), "needs a recordId"),
            ("recordId without field name", input(json!({"toPhone": null, "recordId": JANE_CONTACT})), "No destination"),
            ("field the record lacks", input(json!({"toPhone": null, "recordId": JANE_CONTACT, "phoneNumberFieldName": "Fax"})), "has no field Fax"),
        ];
        assert_each_refused(&app, ACTION, 104, &["No destination"], &cases).await;
        assert_nothing_stored(&app, "destination problems").await;
    }

    async fn numbers_that_are_not_valid_are_the_providers_refusal_21217(backend) {
        let app = spawn_app(backend).await;
        let cases = [("123", "+1123"), ("+15551234567", "+15551234567"), ("(415) 555-0123 x12", "+1415555012312")];
        for (to, dialled) in cases {
            let response = place(&app, &input(json!({"toPhone": to}))).await;
            assert_error(&response, StatusCode::BAD_GATEWAY, 100, "21217", to);
            let calls = app.items(&format!("/_emulator/calls?to={}", dialled.replace('+', "%2B"))).await;
            assert_eq!(calls.len(), 1, "{to}: {calls:?}");
            assert_eq!((&calls[0]["status"], &calls[0]["errorCode"]), (&json!("Failed"), &json!(21217)), "{to}");
        }
        assert_eq!(app.items("/_emulator/voip-errors").await.len(), cases.len());
        assert!(app.items("/_emulator/tasks").await.is_empty(), "a refused call has no Task");
    }

    async fn record_fields_without_a_number_are_error_104(backend) {
        let app = spawn_app_with_org(backend, &custom_org(&format!("{{defaultUserId: {UMA}}}"))).await;
        let cases = [
            ("empty field", "Phone", "has no number"),
            ("field that is not a number", "HomePhone", "has no number"),
            ("missing field", "MobilePhone", "has no field MobilePhone"),
        ];
        for (case, field, fragment) in cases {
            let request = input(json!({"toPhone": null, "ivrId": CUSTOM_IVR, "recordId": EMMA_CONTACT, "phoneNumberFieldName": field}));
            let response = place(&app, &request).await;
            assert_error(&response, StatusCode::BAD_REQUEST, 104, fragment, case);
        }
        assert_nothing_stored(&app, "record fields").await;
    }

    async fn unusable_caller_ids_are_error_103(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            ("not the org's number", input(json!({"fromPhone": "+14155550199"})), "is not one of the org's phone numbers"),
            ("a number the org lacks", input(json!({"fromPhone": "front desk 1"})), "is not one of the org's phone numbers"),
        ];
        assert_each_refused(&app, ACTION, 103, &["Caller ID not found."], &cases).await;
        assert_nothing_stored(&app, "demo caller IDs").await;

        let app = spawn_app_with_org(backend, &custom_org(&format!("{{defaultUserId: {UMA}}}"))).await;
        let cases = [
            ("a number without voice", json!({"fromPhone": UMA_SMS_PHONE}), "is not voice-capable"),
            ("a number without voice, national", json!({"fromPhone": "(415) 555-0150"}), "is not voice-capable"),
            ("voice but callerId false", json!({"fromPhone": NO_CALLER_ID_PHONE}), "is not enabled as a caller ID"),
            ("callerId false for another user", json!({"userId": NOBODY, "fromPhone": "415.555.0151"}), "is not enabled as a caller ID"),
            ("a user with no fitting number", json!({"userId": NOBODY}), "voice-capable number enabled as a caller ID"),
        ];
        for (case, mut changes, fragment) in cases {
            changes["ivrId"] = json!(CUSTOM_IVR);
            let response = place(&app, &input(changes)).await;
            assert_error(&response, StatusCode::BAD_REQUEST, 103, fragment, case);
            let message = response.1["message"].as_str().unwrap_or_default();
            assert!(message.starts_with("Caller ID not found."), "{case}: {message}");
        }
        assert_nothing_stored(&app, "custom caller IDs").await;
        // Nobody may still call from a number that fits.
        let (output, stored) = place_ok(&app, &input(json!({"ivrId": CUSTOM_IVR, "userId": NOBODY, "fromPhone": UMA_VOICE_PHONE}))).await;
        assert_eq!(output["owner"], id18(NOBODY));
        assert_eq!(stored["fromPhone"], UMA_VOICE_PHONE);
    }

    async fn first_failing_check_in_the_documented_order_is_reported(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            (
                "user before record, IVR, destination, caller ID",
                json!({"userId": LINUS, "recordId": "bad", "ivrId": "bad", "toPhone": "hello", "fromPhone": "+14155550199"}),
                400, 104, "is not a Fastcall user",
            ),
            ("record before IVR", json!({"recordId": "003Dn0000009Zzz", "toPhone": "hello", "fromPhone": "+14155550199"}), 400, 104, "recordId"),
            ("missing IVR before destination", json!({"toPhone": "hello", "fromPhone": "+14155550199"}), 400, 104, "ivrId is required"),
            ("malformed IVR before destination", json!({"ivrId": "x", "toPhone": null}), 400, 104, "ivrId `x`"),
            ("unknown IVR before destination", json!({"ivrId": "a0IDn0000009Zzz", "toPhone": "hello"}), 400, 104, "is not an IVR"),
            ("destination before caller ID", json!({"ivrId": MENU_IVR, "toPhone": "hello", "fromPhone": "+14155550199"}), 400, 104, "No destination"),
            ("caller ID before provider", json!({"ivrId": MENU_IVR, "toPhone": "+15005550001", "fromPhone": "+14155550199"}), 400, 103, "Caller ID not found."),
            ("provider last", json!({"ivrId": MENU_IVR, "toPhone": "+15005550001"}), 502, 100, "21217"),
        ];
        for (case, request, status, code, fragment) in cases {
            let response = place(&app, &request).await;
            assert_error(&response, StatusCode::from_u16(status).unwrap(), code, fragment, case);
        }
        let calls = app.items("/_emulator/calls").await;
        assert_eq!(calls.len(), 1, "only the provider's refusal is stored: {calls:?}");
        assert_eq!(calls[0]["status"], "Failed");
        assert!(app.items("/_emulator/tasks").await.is_empty());
    }
}
