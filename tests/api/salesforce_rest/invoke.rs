//! Invoking actions through the Salesforce REST shape: per-input results, limits, envelopes.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::*;
use crate::backend_tests;

backend_tests! {
    async fn invoke_by_plain_or_namespaced_name_echoes_the_name_as_addressed(backend) {
        let app = spawn_app(backend).await;
        for name in [SMS, NAMESPACED_SMS] {
            let response = app.invoke(name, json!([sms_input(JANE_PHONE, "Hello")])).await;
            let results = bulk_results(&response, StatusCode::OK, 1);
            let output = succeeded(&results[0], name);
            assert_eq!(output["owner"], ADA);
            assert_eq!(output["phoneNumberId"], ADA_NUMBER);
            assert_eq!(output["direction"], "Outbound");
            assert_eq!(output["status"], "Queued");
            assert!(output["taskId"].is_null());
            let (status, message) = app.get(&format!("/_emulator/messages/{}", output["id"].as_str().unwrap())).await;
            assert_eq!(status, StatusCode::OK, "{message}");
            assert_eq!(message["body"], "Hello");
        }
    }

    async fn invoke_serves_api_versions_from_v33_0_and_404s_older_ones(backend) {
        let app = spawn_app(backend).await;
        for version in ["v60.0", "v45.0", "v33.0"] {
            let path = apex(version, SMS);
            let response = app.post(&path, &json!({ "inputs": [sms_input(JANE_PHONE, version)] })).await;
            let results = bulk_results(&response, StatusCode::OK, 1);
            succeeded(&results[0], SMS);
        }
        // Apex actions came with v33.0.
        for version in ["v32.0", "v9.0", "v0.0"] {
            let path = apex(version, SMS);
            let response = app.post(&path, &json!({ "inputs": [sms_input(JANE_PHONE, version)] })).await;
            assert_salesforce_error(&response, StatusCode::NOT_FOUND, "NOT_FOUND");
            let response = app.get(&format!("/services/data/{version}/actions/custom/apex")).await;
            assert_salesforce_error(&response, StatusCode::NOT_FOUND, "NOT_FOUND");
        }
        assert_eq!(stored(&app, "messages").await.len(), 3);
    }

    async fn bulk_results_come_in_input_order(backend) {
        let app = spawn_app(backend).await;
        let sent = [("+14155550131", "first"), ("+14155550132", "second"), ("+14155550133", "third")];
        let inputs: Vec<Value> = sent.iter().map(|(to, body)| sms_input(to, body)).collect();
        let response = app.invoke(SMS, json!(inputs)).await;
        let results = bulk_results(&response, StatusCode::OK, 3);
        for ((to, body), result) in sent.iter().zip(&results) {
            let id = succeeded(result, SMS)["id"].as_str().unwrap().to_owned();
            let (status, message) = app.get(&format!("/_emulator/messages/{id}")).await;
            assert_eq!(status, StatusCode::OK, "{message}");
            assert_eq!(message["toPhone"], *to);
            assert_eq!(message["body"], *body);
        }
    }

    async fn a_check_failure_fails_every_input_with_the_first_failing_inputs_error_and_stores_nothing(backend) {
        let app = spawn_app(backend).await;
        // One invocation of the Apex method: the first failing input, in input order, fails
        // them all, however the inputs after it fare.
        let cases = [
            (json!([sms_input(JANE_PHONE, "first"), { "toPhone": JANE_PHONE }, { "toPhone": JANE_PHONE, "bodyText": "x", "fromPhone": "+14155550199" }]), 101, "Body text not provided"),
            (json!([sms_input(JANE_PHONE, "first"), { "toPhone": JANE_PHONE, "bodyText": "x", "fromPhone": "+14155550199" }, { "toPhone": JANE_PHONE }]), 103, "Caller ID not found."),
            // The failing input comes last: the valid ones before it are not sent either.
            (json!([sms_input(JANE_PHONE, "first"), sms_input(JANE_PHONE, "second"), { "toPhone": JANE_PHONE, "bodyText": "x", "mediaURL": "ftp://x" }]), 104, "mediaURL `ftp://x`"),
        ];
        for name in [SMS, NAMESPACED_SMS] {
            for (inputs, code, start) in &cases {
                let response = app.invoke(name, inputs.clone()).await;
                let results = bulk_results(&response, StatusCode::BAD_REQUEST, 3);
                let message = assert_all_failed(&results, name, *code);
                assert!(message.starts_with(start), "{code}: {message}");
            }
        }
        for list in ["messages", "tasks", "voip-errors"] {
            assert!(stored(&app, list).await.is_empty(), "{list}");
        }
    }

    async fn a_malformed_input_fails_the_whole_request_with_104(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            ("a string", json!("hello"), "invalid type"),
            ("a number", json!(5), "invalid type"),
            ("null", json!(null), "invalid type"),
            ("an array", json!([sms_input(JANE_PHONE, "x")]), "invalid type"),
            ("an unknown field", json!({ "toPhone": JANE_PHONE, "bodyText": "x", "colour": "red" }), "colour"),
            ("a number for toPhone", json!({ "toPhone": 4155550123_u64, "bodyText": "x" }), "toPhone"),
            ("a boolean for bodyText", json!({ "toPhone": JANE_PHONE, "bodyText": true }), "bodyText"),
        ];
        for (case, bad, fragment) in &cases {
            let inputs = json!([sms_input(JANE_PHONE, "before"), bad, sms_input(JANE_PHONE, "after")]);
            let response = app.invoke(SMS, inputs).await;
            let results = bulk_results(&response, StatusCode::BAD_REQUEST, 3);
            let message = assert_all_failed(&results, SMS, 104);
            assert!(message.contains(fragment), "{case}: `{message}` mentions `{fragment}`");
        }
        assert!(stored(&app, "messages").await.is_empty());
    }

    async fn zero_inputs_is_400_invalid_input(backend) {
        let app = spawn_app(backend).await;
        let response = app.invoke(SMS, json!([])).await;
        assert_salesforce_error(&response, StatusCode::BAD_REQUEST, "INVALID_INPUT");
        assert!(stored(&app, "messages").await.is_empty());
    }

    async fn two_hundred_inputs_are_accepted_and_all_stored(backend) {
        let app = spawn_app(backend).await;
        let inputs: Vec<Value> = (0..200).map(|i| sms_input(JANE_PHONE, &format!("message {i}"))).collect();
        let response = app.invoke(SMS, json!(inputs)).await;
        let results = bulk_results(&response, StatusCode::OK, 200);
        for result in &results {
            succeeded(result, SMS);
        }
        let (status, body) = app.get("/_emulator/messages?limit=1000").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["items"].as_array().unwrap().len(), 200);
    }

    async fn two_hundred_inputs_at_200_ms_per_hand_off_all_succeed_within_the_request_timeout(backend) {
        // One after another they would take 40 s against the default 30 s request timeout.
        let app = spawn_app_with(backend, |config| config.provider_latency_ms = 200).await;
        let inputs: Vec<Value> = (0..200).map(|i| sms_input(JANE_PHONE, &format!("message {i}"))).collect();
        let response = app.invoke(SMS, json!(inputs)).await;
        let results = bulk_results(&response, StatusCode::OK, 200);
        let messages = stored(&app, "messages?limit=1000").await;
        assert_eq!(messages.len(), 200);
        for (i, result) in results.iter().enumerate() {
            let output = succeeded(result, SMS);
            let message = messages.iter().find(|m| m["id"] == output["id"]).expect("the message is stored");
            assert_eq!(message["body"], format!("message {i}"), "result {i} is its input's");
        }
    }

    async fn the_first_refusal_in_input_order_fails_the_request_while_every_accepted_record_stays(backend) {
        let app = spawn_app_with(backend, |config| config.provider_latency_ms = 50).await;
        // Refused at inputs 7 (cannot route, 21612) and 13 (invalid, 21211); the rest accepted.
        let to = |i: usize| match i {
            7 => "+15005550002",
            13 => "+15005550001",
            _ => JANE_PHONE,
        };
        let inputs: Vec<Value> = (0..40).map(|i| sms_input(to(i), &format!("message {i}"))).collect();
        let response = app.invoke(SMS, json!(inputs)).await;
        let results = bulk_results(&response, StatusCode::BAD_REQUEST, 40);
        let message = assert_all_failed(&results, SMS, 100);
        assert!(message.contains("21612"), "the first refusal's error: {message}");
        let messages = stored(&app, "messages?limit=100").await;
        assert_eq!(messages.len(), 40);
        for message in &messages {
            let i: usize = message["body"].as_str().unwrap()["message ".len()..].parse().unwrap();
            let expected = if i == 7 || i == 13 { "Failed" } else { "Queued" };
            assert_eq!(message["status"], expected, "{message}");
            assert_eq!(message["toPhone"], to(i), "{message}");
        }
        assert_eq!(stored(&app, "voip-errors").await.len(), 2);
    }

    async fn two_hundred_and_one_inputs_is_400_invalid_input(backend) {
        let app = spawn_app(backend).await;
        let inputs: Vec<Value> = (0..201).map(|i| sms_input(JANE_PHONE, &format!("message {i}"))).collect();
        let response = app.invoke(SMS, json!(inputs)).await;
        let message = assert_salesforce_error(&response, StatusCode::BAD_REQUEST, "INVALID_INPUT");
        assert!(message.contains("200"), "{message}");
        assert!(stored(&app, "messages").await.is_empty());
    }

    async fn a_configured_max_bulk_inputs_of_3_refuses_4_inputs(backend) {
        let app = spawn_app_with(backend, |config| config.max_bulk_inputs = 3).await;
        let four: Vec<Value> = (0..4).map(|i| sms_input(JANE_PHONE, &format!("message {i}"))).collect();
        let response = app.invoke(SMS, json!(four)).await;
        assert_salesforce_error(&response, StatusCode::BAD_REQUEST, "INVALID_INPUT");
        assert!(stored(&app, "messages").await.is_empty());
        let response = app.invoke(SMS, json!(four[..3])).await;
        bulk_results(&response, StatusCode::OK, 3);
    }

    async fn unknown_action_is_404_not_found_in_an_array(backend) {
        let app = spawn_app(backend).await;
        let expected = json!([{ "errorCode": "NOT_FOUND", "message": "The requested resource does not exist" }]);
        for name in ["SubscriberFaxInvocable", "FastCall__SubscriberFaxInvocable", "Other__SubscriberSMSInvocable"] {
            let (status, body) = app.invoke(name, json!([sms_input(JANE_PHONE, "x")])).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{name}: {body}");
            assert_eq!(body, expected, "{name}");
            let (status, body) = app.get(&apex("v60.0", name)).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "describe {name}: {body}");
            assert_eq!(body, expected, "describe {name}");
        }
        assert!(stored(&app, "messages").await.is_empty());
    }

    async fn a_bad_version_segment_is_404(backend) {
        let app = spawn_app(backend).await;
        for version in ["60.0", "vX.0", "v60", "v60.", "v.0", "v60.0.1", "version60.0"] {
            let response = app.post(&apex(version, SMS), &json!({ "inputs": [sms_input(JANE_PHONE, "x")] })).await;
            assert_salesforce_error(&response, StatusCode::NOT_FOUND, "NOT_FOUND");
        }
        let others = [
            "/services/data/60.0/actions/custom/apex".to_owned(),
            apex("v60", SMS),
            format!("/services/data/vX.0/sobjects/Contact/{JANE_CONTACT}"),
        ];
        for path in &others {
            let response = app.get(path).await;
            assert_salesforce_error(&response, StatusCode::NOT_FOUND, "NOT_FOUND");
        }
        assert!(stored(&app, "messages").await.is_empty());
    }

    async fn an_unparseable_or_misshapen_body_is_400_json_parser_error(backend) {
        let app = spawn_app(backend).await;
        let input = sms_input(JANE_PHONE, "x");
        let cases = [
            ("not JSON", "hello".to_owned()),
            ("truncated JSON", "{\"inputs\": [".to_owned()),
            ("an empty body", String::new()),
            ("no inputs key", "{}".to_owned()),
            ("inputs an object", json!({ "inputs": input }).to_string()),
            ("inputs a string", json!({ "inputs": "x" }).to_string()),
            ("inputs null", json!({ "inputs": null }).to_string()),
            ("an extra top-level key", json!({ "inputs": [input], "extra": 1 }).to_string()),
            ("a bare array", json!([input]).to_string()),
            ("trailing text", format!("{} trailing", json!({ "inputs": [input] }))),
        ];
        for (case, body) in cases {
            let response = app.post_raw(&apex("v60.0", SMS), body, Some("application/json")).await;
            let (status, json) = &response;
            assert_eq!(*status, StatusCode::BAD_REQUEST, "{case}: {json}");
            assert_salesforce_error(&response, StatusCode::BAD_REQUEST, "JSON_PARSER_ERROR");
        }
        assert!(stored(&app, "messages").await.is_empty());
    }

    async fn a_body_over_the_limit_is_413_in_an_array(backend) {
        let app = spawn_app_with(backend, |config| config.max_body_bytes = 1000).await;
        let inputs = json!([sms_input(JANE_PHONE, &"x".repeat(2000))]);
        let (status, body) = app.invoke(SMS, inputs).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
        let errors = body.as_array().unwrap_or_else(|| panic!("an array envelope, got {body}"));
        assert_eq!(errors.len(), 1, "{body}");
        assert_eq!(keys(&errors[0]), ["errorCode", "message"], "{body}");
        assert!(errors[0]["errorCode"].as_str().is_some_and(|c| !c.is_empty()), "{body}");
        assert!(stored(&app, "messages").await.is_empty());
    }

    async fn a_wrong_method_is_405_in_an_array(backend) {
        let app = spawn_app(backend).await;
        // Salesforce's words, listing the methods the path has.
        let cases = [
            (Method::PATCH, apex("v60.0", SMS), "GET,HEAD,POST"),
            (Method::PUT, apex("v60.0", NAMESPACED_SMS), "GET,HEAD,POST"),
            (Method::POST, "/services/data/v60.0/actions/custom/apex".to_owned(), "GET,HEAD"),
            (Method::DELETE, sobject("Contact", JANE_CONTACT), "GET,HEAD"),
        ];
        for (method, path, allowed) in cases {
            let (status, body) = app.request(method.clone(), &path, &[], None).await;
            let message = format!("HTTP Method '{method}' not allowed. Allowed are {allowed}");
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}: {body}");
            assert_eq!(body, json!([{ "errorCode": "METHOD_NOT_ALLOWED", "message": message }]), "{method} {path}");
        }
    }

    async fn an_unknown_path_under_services_is_404_in_an_array(backend) {
        let app = spawn_app(backend).await;
        let expected = json!([{ "errorCode": "NOT_FOUND", "message": "The requested resource does not exist" }]);
        for path in [
            "/services",
            "/services/data",
            "/services/data/v60.0",
            "/services/data/v60.0/actions/standard/emailSimple",
            "/services/data/v60.0/query",
            "/services/data/v60.0/sobjects/Contact",
            "/services/oauth2/token",
        ] {
            let (status, body) = app.get(path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
            assert_eq!(body, expected, "{path}");
        }
    }

    async fn a_provider_refusal_fails_the_whole_request_with_100_and_keeps_what_the_provider_accepted(backend) {
        let app = spawn_app(backend).await;
        let inputs = json!([
            sms_input(JANE_PHONE, "before"),
            sms_input("+15005550001", "refused"),
            sms_input(JANE_PHONE, "after"),
        ]);
        let response = app.invoke(SMS, inputs).await;
        let results = bulk_results(&response, StatusCode::BAD_REQUEST, 3);
        let message = assert_all_failed(&results, SMS, 100);
        assert!(message.contains("21211") && message.contains("Check the VoIP error logs"), "{message}");

        // The provider took the other two: they cannot be taken back, so they stay and move on.
        let messages = stored(&app, "messages").await;
        let status_of = |body: &str| messages.iter().find(|m| m["body"] == body).map(|m| m["status"].clone());
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert_eq!(status_of("before"), Some(json!("Queued")));
        assert_eq!(status_of("after"), Some(json!("Queued")));
        let failed = messages.iter().find(|m| m["body"] == "refused").expect("the refused record is kept");
        assert_eq!(failed["toPhone"], "+15005550001");
        assert_eq!(failed["status"], "Failed");
        assert_eq!(failed["errorCode"], 21211);
        assert!(failed["smsId"].is_null());
        let errors = stored(&app, "voip-errors").await;
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0]["recordId"], failed["id"]);
        assert_eq!(errors[0]["errorCode"], 21211);
    }

    async fn bulk_in_an_sms_disabled_org_fails_every_input_with_105(backend) {
        let disabled = fastcall_emulator::org::DEMO_ORG_YAML.replace("smsEnabled: true", "smsEnabled: false");
        assert_ne!(disabled, fastcall_emulator::org::DEMO_ORG_YAML, "the demo org sets smsEnabled");
        let app = spawn_app_with_org(backend, &disabled).await;
        // A valid input, one with every other problem, one for a template and record: all 105.
        let inputs = json!([
            sms_input(JANE_PHONE, "valid"),
            { "toPhone": "hello", "userId": "not-an-id", "mediaURL": "ftp://x", "fromPhone": "nope" },
            { "toPhone": JANE_PHONE, "templateId": APPOINTMENT_TEMPLATE, "recordId": JANE_CONTACT },
        ]);
        for name in [SMS, NAMESPACED_SMS] {
            let response = app.invoke(name, inputs.clone()).await;
            let results = bulk_results(&response, StatusCode::BAD_REQUEST, 3);
            for result in &results {
                let message = assert_failed(result, name, 105);
                assert_eq!(message, "SMS is not enabled for this org (settings.smsEnabled).", "{result}");
            }
        }
        for list in ["messages", "tasks", "voip-errors"] {
            assert!(stored(&app, list).await.is_empty(), "{list}");
        }
    }

    async fn a_bulk_calls_records_are_all_visible_afterwards(backend) {
        let app = spawn_app(backend).await;
        let related = [JANE_CONTACT, BOB_LEAD, ACME_ACCOUNT, JANE_CONTACT];
        let inputs: Vec<Value> = related
            .iter()
            .map(|id| json!({ "toPhone": JANE_PHONE, "bodyText": format!("about {id}"), "recordId": id }))
            .collect();
        let response = app.invoke(SMS, json!(inputs)).await;
        let results = bulk_results(&response, StatusCode::OK, 4);
        let messages = stored(&app, "messages").await;
        let tasks = stored(&app, "tasks").await;
        assert_eq!((messages.len(), tasks.len()), (4, 4));
        for (record_id, result) in related.iter().zip(&results) {
            let output = succeeded(result, SMS);
            assert_eq!(output["relatedRecordId"], *record_id);
            let message = messages.iter().find(|m| m["id"] == output["id"]).expect("the message is stored");
            assert_eq!(message["relatedRecordId"], *record_id);
            assert_eq!(message["taskId"], output["taskId"]);
            let task = tasks.iter().find(|t| t["id"] == output["taskId"]).expect("the task is stored");
            assert_eq!(task["smsMessageId"], output["id"]);
        }
    }
}
