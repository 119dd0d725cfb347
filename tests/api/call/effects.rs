//! What a call leaves behind: the Task, and the provider's refusals.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::*;
use crate::backend_tests;

/// The Task of an accepted call, from `/_emulator/tasks/{id}`.
async fn task_of(app: &TestApp, output: &Value) -> Value {
    let id = output["taskId"]
        .as_str()
        .unwrap_or_else(|| panic!("a taskId: {output}"));
    app.item(&format!("/_emulator/tasks/{id}")).await
}

backend_tests! {
    async fn every_accepted_call_creates_a_task_related_by_who_or_what(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            ("Contact", Some(JANE_CONTACT), Some(JANE_CONTACT), None),
            ("Lead", Some(BOB_LEAD), Some(BOB_LEAD), None),
            ("Account", Some(ACME_ACCOUNT), None, Some(ACME_ACCOUNT)),
            ("no record", None, None, None),
        ];
        for (case, record, who, what) in cases {
            let (output, stored) = place_ok(&app, &input(json!({"recordId": record}))).await;
            assert_id(&output["taskId"], "00T");
            assert_eq!(stored["taskId"], output["taskId"], "{case}");
            let task = task_of(&app, &output).await;
            assert_eq!(task["id"], output["taskId"], "{case}");
            assert_eq!(task["whoId"], json!(who), "{case}: {task}");
            assert_eq!(task["whatId"], json!(what), "{case}: {task}");
            assert_eq!(task["ownerId"], ADA, "{case}");
            assert_eq!(task["status"], "Completed", "{case}");
            assert_eq!(task["subject"], format!("Call to {TO}"), "{case}");
            assert_eq!(task["taskSubtype"], "Call", "{case}");
            assert_eq!(task["callType"], "Outbound", "{case}");
            assert_eq!(task["callId"], output["id"], "{case}: the call record, not the provider's id");
            assert!(task["smsMessageId"].is_null(), "{case}: {task}");
            assert_salesforce_datetime_now(&task["createdDate"]);

            let object = sobject(&app, "Task", output["taskId"].as_str().unwrap()).await;
            assert_eq!(object["attributes"]["type"], "Task", "{case}");
            assert_eq!(object["Id"], output["taskId"], "{case}");
            assert_eq!(object["OwnerId"], ADA, "{case}");
            assert_eq!(object["TaskSubtype"], "Call", "{case}");
            assert_eq!(object["CallType"], "Outbound", "{case}");
            assert_eq!(object["Status"], "Completed", "{case}");
            assert_eq!(object["IsClosed"], true, "{case}");
            assert_eq!(object["Subject"], format!("Call to {TO}"), "{case}");
            assert_eq!(object["WhoId"], json!(who), "{case}: {object}");
            assert_eq!(object["WhatId"], json!(what), "{case}: {object}");
        }
        assert_eq!(app.items("/_emulator/tasks").await.len(), cases.len());
        let about_jane = app.items(&format!("/_emulator/tasks?relatedRecordId={JANE_CONTACT}")).await;
        assert_eq!(about_jane.len(), 1, "{about_jane:?}");
        assert_eq!(about_jane[0]["taskSubtype"], "Call");
    }

    async fn task_is_owned_by_the_acting_user_not_the_group(backend) {
        let app = spawn_app(backend).await;
        let (output, stored) = place_ok(&app, &input(json!({"userId": KATHERINE, "recordId": &JANE_CONTACT[..15]}))).await;
        assert_eq!(output["owner"], SUPPORT_GROUP);
        assert_eq!(output["relatedRecordId"], JANE_CONTACT, "a 15-character recordId is answered in 18");
        assert_eq!(stored["userId"], KATHERINE);
        let task = task_of(&app, &output).await;
        assert_eq!(task["ownerId"], KATHERINE);
        assert_eq!(task["whoId"], JANE_CONTACT);
        let object = sobject(&app, "Task", output["taskId"].as_str().unwrap()).await;
        assert_eq!(object["OwnerId"], KATHERINE);
        let call = sobject(&app, "FastCall__Call__c", output["id"].as_str().unwrap()).await;
        assert_eq!(call["OwnerId"], SUPPORT_GROUP);
        assert_eq!(call["FastCall__User__c"], KATHERINE);
        let katherines = app.items(&format!("/_emulator/tasks?userId={KATHERINE}")).await;
        assert_eq!(katherines.len(), 1, "{katherines:?}");
        assert!(app.items(&format!("/_emulator/tasks?userId={SUPPORT_GROUP}")).await.is_empty());
    }

    async fn task_of_a_call_by_the_invoking_user_is_theirs(backend) {
        let app = spawn_app(backend).await;
        let (status, output) = place_as(&app, GRACE, &input(json!({"recordId": BOB_LEAD}))).await;
        assert_eq!(status, StatusCode::OK, "{output}");
        let task = task_of(&app, &output).await;
        assert_eq!(task["ownerId"], GRACE);
        assert_eq!(task["whoId"], BOB_LEAD);
    }

    async fn provider_refusals_are_error_100_and_keep_a_failed_call(backend) {
        let app = spawn_app(backend).await;
        let cases = [("+15005550001", 21217), ("+15005550002", 21214), ("+15005550003", 21215), ("+15005550004", 21216)];
        for (to, code) in cases {
            let request = input(json!({"toPhone": to, "recordId": JANE_CONTACT, "ivrId": VOICEMAIL_IVR}));
            let response = place(&app, &request).await;
            assert_error(&response, StatusCode::BAD_GATEWAY, 100, &code.to_string(), to);
            assert_error(&response, StatusCode::BAD_GATEWAY, 100, "Check the VoIP error logs", to);
            assert_error(&response, StatusCode::BAD_GATEWAY, 100, "FastCall__Call__c", to);

            let calls = app.items(&format!("/_emulator/calls?to={}", query_phone(to))).await;
            assert_eq!(calls.len(), 1, "{to}: {calls:?}");
            let call = &calls[0];
            assert_eq!(keys(call), item_keys(), "{call}");
            assert_id(&call["id"], "a0C");
            assert_eq!(call["status"], "Failed", "{call}");
            assert_eq!(call["errorCode"], code, "{call}");
            assert!(call["errorMessage"].as_str().is_some_and(|m| !m.is_empty()), "{call}");
            assert!(call["callId"].is_null(), "{call}");
            assert!(call["taskId"].is_null(), "{call}");
            assert_eq!(call["ivr"], VOICEMAIL_IVR);
            assert_eq!(call["relatedRecordId"], JANE_CONTACT);
            assert_eq!(call["direction"], "Outbound");
            assert_eq!(call["owner"], ADA);
            assert_eq!(call["userId"], ADA);
            assert_eq!(call["fromPhone"], ADA_PHONE);
            assert_eq!(call["toPhone"], to);
            assert_salesforce_datetime_now(&call["startTime"]);
            let message = response.1["message"].as_str().unwrap();
            assert!(message.contains(call["id"].as_str().unwrap()), "{to}: the 100 names the call record: {message}");

            let object = sobject(&app, "FastCall__Call__c", call["id"].as_str().unwrap()).await;
            assert_eq!(object["FastCall__Status__c"], "Failed", "{object}");
            assert_eq!(object["FastCall__Error_Code__c"], code, "{object}");
            assert_eq!(object["FastCall__Error_Message__c"], call["errorMessage"], "{object}");
            assert!(object["FastCall__Call_Id__c"].is_null(), "{object}");
            assert!(object["FastCall__Task_Id__c"].is_null(), "{object}");

            let errors = app.items(&format!("/_emulator/voip-errors?to={}", query_phone(to))).await;
            assert_eq!(errors.len(), 1, "{to}: {errors:?}");
            let entry = &errors[0];
            assert_id(&entry["id"], "a0E");
            assert_eq!(entry["recordType"], "FastCall__Call__c", "{entry}");
            assert_eq!(entry["recordId"], call["id"], "{entry}");
            assert_eq!(entry["errorCode"], code, "{entry}");
            assert_eq!(entry["errorMessage"], call["errorMessage"], "{entry}");
            assert_eq!(entry["fromPhone"], ADA_PHONE, "{entry}");
            assert_eq!(entry["toPhone"], to, "{entry}");
            assert_eq!(entry["userId"], ADA, "{entry}");
            let (status, alone) = app.get(&format!("/_emulator/voip-errors/{}", entry["id"].as_str().unwrap())).await;
            assert_eq!(status, StatusCode::OK, "{alone}");
            assert_eq!(&alone, entry);
        }
        assert!(app.items("/_emulator/tasks").await.is_empty(), "no Task for a refused call");
        assert_eq!(app.items("/_emulator/voip-errors").await.len(), cases.len());
        assert_eq!(app.items("/_emulator/calls?status=Failed").await.len(), cases.len());
    }

    async fn refused_call_by_a_group_member_keeps_the_group_as_owner(backend) {
        let app = spawn_app(backend).await;
        let response = place(&app, &input(json!({"userId": KATHERINE, "toPhone": "+15005550002"}))).await;
        assert_error(&response, StatusCode::BAD_GATEWAY, 100, "21214", "Katherine refused");
        let calls = app.items("/_emulator/calls").await;
        assert_eq!(calls.len(), 1, "{calls:?}");
        assert_eq!(calls[0]["owner"], SUPPORT_GROUP);
        assert_eq!(calls[0]["userId"], KATHERINE);
        assert_eq!(calls[0]["fromPhone"], SUPPORT_PHONE);
        let errors = app.items(&format!("/_emulator/voip-errors?userId={KATHERINE}")).await;
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0]["recordType"], "FastCall__Call__c");
    }

    async fn test_numbers_that_calls_accept_are_queued(backend) {
        let app = spawn_app(backend).await;
        let numbers = ["+15005550009", "+15005550020", "+15005550021", "+15005550022"];
        for to in numbers {
            let (output, stored) = place_ok(&app, &input(json!({"toPhone": to}))).await;
            assert_eq!(output["status"], "Queued", "{to}");
            assert_call_id(&output["callId"]);
            assert_id(&output["taskId"], "00T");
            assert_eq!(stored["toPhone"], to);
            assert!(stored["errorCode"].is_null() && stored["errorMessage"].is_null(), "{stored}");
        }
        assert!(app.items("/_emulator/voip-errors").await.is_empty());
        assert_eq!(app.items("/_emulator/tasks").await.len(), numbers.len());
        assert_eq!(app.items("/_emulator/calls?status=Queued").await.len(), numbers.len());
    }
}
