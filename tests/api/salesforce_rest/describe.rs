//! Listing and describing the actions, and reading sObjects, in Salesforce's shape.

use reqwest::StatusCode;
use serde_json::json;

use super::*;
use crate::backend_tests;

backend_tests! {
    async fn the_action_list_names_the_sms_action_in_salesforce_shape(backend) {
        let app = spawn_app(backend).await;
        let body = app.item("/services/data/v60.0/actions/custom/apex").await;
        let actions = assert_action_list(&body);
        assert!(actions.iter().any(|a| a["name"] == NAMESPACED_SMS), "{body}");
    }

    async fn describing_the_sms_action_gives_salesforce_shape_by_either_name(backend) {
        let app = spawn_app(backend).await;
        let inputs = [
            ("bodyText", "STRING", true),
            ("fromPhone", "STRING", false),
            ("mediaURL", "STRING", false),
            ("phoneNumberFieldName", "STRING", false),
            ("recordId", "ID", false),
            ("templateId", "ID", false),
            ("toPhone", "STRING", true),
            ("userId", "ID", false),
        ];
        for name in [SMS, NAMESPACED_SMS] {
            let body = app.item(&apex("v60.0", name)).await;
            assert_described_action(&body, NAMESPACED_SMS, &inputs, &OUTPUTS);
        }
    }

    async fn an_sms_message_sobject_is_served_by_18_or_15_char_id_and_any_case_of_its_name(backend) {
        let app = spawn_app(backend).await;
        let (status, sent) = app.send_sms(&json!({ "toPhone": JANE_PHONE, "bodyText": "Hi Jane", "recordId": JANE_CONTACT })).await;
        assert_eq!(status, StatusCode::OK, "{sent}");
        let id = sent["id"].as_str().unwrap();
        for (object, requested) in [
            ("FastCall__SMS_Message__c", id),
            ("FastCall__SMS_Message__c", &id[..15]),
            ("fastcall__sms_message__c", id),
            ("FASTCALL__SMS_MESSAGE__C", &id[..15]),
        ] {
            let body = app.item(&sobject(object, requested)).await;
            assert_sobject_is(&body, "FastCall__SMS_Message__c", id);
            assert_eq!(body["OwnerId"], ADA);
            assert_eq!(body["CreatedDate"], sent["createdDate"]);
            parse_salesforce_datetime(&body["CreatedDate"]);
            let status = body["FastCall__Status__c"].as_str().expect("a status");
            assert!(["Queued", "Sending", "Sent", "Delivered"].contains(&status), "{body}");
        }
    }

    async fn a_refused_message_sobject_has_status_failed(backend) {
        let app = spawn_app(backend).await;
        let response = app.invoke(SMS, json!([sms_input("+15005550002", "refused")])).await;
        let results = bulk_results(&response, StatusCode::BAD_REQUEST, 1);
        assert_failed(&results[0], SMS, 100);
        let failed = stored(&app, "messages").await;
        let body = app.item(&sobject("FastCall__SMS_Message__c", failed[0]["id"].as_str().unwrap())).await;
        assert_eq!(body["FastCall__Status__c"], "Failed");
        assert_eq!(body["OwnerId"], ADA);
    }

    async fn a_task_sobject_relates_to_its_record(backend) {
        let app = spawn_app(backend).await;
        for (record_id, who, what) in [(JANE_CONTACT, json!(JANE_CONTACT), json!(null)), (ACME_ACCOUNT, json!(null), json!(ACME_ACCOUNT))] {
            let input = json!({ "toPhone": JANE_PHONE, "bodyText": "Logged", "recordId": record_id });
            let response = app.invoke(SMS, json!([input])).await;
            let results = bulk_results(&response, StatusCode::OK, 1);
            let task_id = succeeded(&results[0], SMS)["taskId"].as_str().expect("a task").to_owned();
            assert!(task_id.starts_with("00T") && task_id.len() == 18, "{task_id}");
            for (object, requested) in [("Task", task_id.as_str()), ("task", &task_id[..15])] {
                let body = app.item(&sobject(object, requested)).await;
                assert_sobject_is(&body, "Task", &task_id);
                assert_eq!(body["OwnerId"], ADA);
                assert_eq!(body["WhoId"], who, "{body}");
                assert_eq!(body["WhatId"], what, "{body}");
                assert_eq!(body["Subject"], "SMS to +14155550123");
                assert_eq!(body["Status"], "Completed");
                assert_eq!(body["Description"], "Logged");
                parse_salesforce_datetime(&body["CreatedDate"]);
            }
        }
    }

    async fn org_contacts_and_leads_are_served_with_their_fields(backend) {
        let app = spawn_app(backend).await;
        let jane = app.item(&sobject("Contact", JANE_CONTACT)).await;
        assert_sobject_is(&jane, "Contact", JANE_CONTACT);
        assert_eq!(jane["FirstName"], "Jane");
        assert_eq!(jane["LastName"], "Doe");
        assert_eq!(jane["Email"], "jane.doe@example.com");
        assert_eq!(jane["Phone"], "+14155550123");
        assert!(jane["MobilePhone"].is_string(), "{jane}");

        let bob = app.item(&sobject("lead", &BOB_LEAD[..15])).await;
        assert_sobject_is(&bob, "Lead", BOB_LEAD);
        assert_eq!(bob["FirstName"], "Bob");
        assert_eq!(bob["LastName"], "Smith");
        assert_eq!(bob["Company"], "Globex");
        assert_eq!(bob["MobilePhone"], "+14155550126");
    }

    async fn unknown_malformed_or_mismatched_sobjects_are_404_in_an_array(backend) {
        let app = spawn_app(backend).await;
        let (status, sent) = app.send_sms(&json!({ "toPhone": JANE_PHONE, "bodyText": "x", "recordId": JANE_CONTACT })).await;
        assert_eq!(status, StatusCode::OK, "{sent}");
        let message_id = sent["id"].as_str().unwrap();
        let task_id = sent["taskId"].as_str().unwrap();
        let cases = [
            ("an unknown message", sobject("FastCall__SMS_Message__c", "a0SDn0000009Zzz")),
            ("an unknown task", sobject("Task", "00TDn0000009Zzz")),
            ("an unknown contact", sobject("Contact", "003Dn0000009Zzz")),
            ("a malformed id", sobject("Contact", "not-an-id")),
            ("a too short id", sobject("Contact", "003Dn00")),
            ("a bad checksum", sobject("Contact", "003Dn0000001JanXXX")),
            ("a message asked for as a Task", sobject("Task", message_id)),
            ("a task asked for as a message", sobject("FastCall__SMS_Message__c", task_id)),
            ("a contact asked for as a Lead", sobject("Lead", JANE_CONTACT)),
            ("a lead asked for as a Contact", sobject("Contact", BOB_LEAD)),
            ("an unknown object", sobject("Widget__c", JANE_CONTACT)),
        ];
        for (case, path) in &cases {
            let response = app.get(path).await;
            let (status, body) = &response;
            assert_eq!(*status, StatusCode::NOT_FOUND, "{case}: {body}");
            assert_eq!(*body, json!([{ "errorCode": "NOT_FOUND", "message": "The requested resource does not exist" }]), "{case}");
        }
    }
}
