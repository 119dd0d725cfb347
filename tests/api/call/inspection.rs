//! Watching calls: `/_emulator/calls`, one call alone, the `FastCall__Call__c` sObject, and
//! calls surviving a restart.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::*;
use crate::backend_tests;

fn ids(items: &[Value]) -> Vec<Value> {
    items.iter().map(|item| item["id"].clone()).collect()
}

/// Four calls: Ada to TO about Jane, Katherine to another number, Grace to TO about Acme,
/// and a refused one of Ada's. Answers their Ids in that order.
async fn four_calls(app: &TestApp) -> [Value; 4] {
    let (a, _) = place_ok(app, &input(json!({"recordId": JANE_CONTACT}))).await;
    let (b, _) = place_ok(
        app,
        &input(json!({"userId": KATHERINE, "toPhone": "+14155550131", "ivrId": TRANSFER_IVR})),
    )
    .await;
    let (c, _) = place_ok(
        app,
        &input(json!({"userId": GRACE, "recordId": ACME_ACCOUNT})),
    )
    .await;
    let refused = place(app, &input(json!({"toPhone": "+15005550001"}))).await;
    assert_error(
        &refused,
        StatusCode::BAD_GATEWAY,
        100,
        "21217",
        "refused call",
    );
    let d = app.items("/_emulator/calls?status=failed").await;
    assert_eq!(d.len(), 1, "{d:?}");
    [
        a["id"].clone(),
        b["id"].clone(),
        c["id"].clone(),
        d[0]["id"].clone(),
    ]
}

/// Asserts `/_emulator/calls?{query}` lists exactly the calls `expected`, in that order.
async fn assert_lists(app: &TestApp, query: &str, expected: Vec<&Value>, case: &str) {
    let listed = app.items(&format!("/_emulator/calls?{query}")).await;
    let expected: Vec<Value> = expected.into_iter().cloned().collect();
    assert_eq!(ids(&listed), expected, "{case}: {query}");
}

backend_tests! {
    async fn calls_are_listed_newest_first_with_every_key(backend) {
        let app = spawn_app(backend).await;
        let mut outputs = Vec::new();
        for (to, ivr) in [("+14155550131", MENU_IVR), ("+14155550132", ROUTING_IVR), ("+14155550133", DIRECTORY_IVR)] {
            let (output, _) = place_ok(&app, &input(json!({"toPhone": to, "ivrId": ivr}))).await;
            outputs.push((output, to));
        }
        let calls = app.items("/_emulator/calls").await;
        assert_eq!(calls.len(), 3, "{calls:?}");
        for (call, (output, to)) in calls.iter().zip(outputs.iter().rev()) {
            assert_item_matches_output(call, output);
            assert_eq!(call["toPhone"], *to);
            assert_eq!(call["fromPhone"], ADA_PHONE);
            assert_eq!(call["userId"], ADA);
            assert!(call["errorCode"].is_null() && call["errorMessage"].is_null(), "{call}");
        }
    }

    async fn calls_list_filters_by_to_from_user_and_related_record(backend) {
        let app = spawn_app(backend).await;
        let [a, b, c, d] = four_calls(&app).await;
        let cases = [
            ("to, escaped", "to=%2B14155550123".to_owned(), vec![&c, &a]),
            ("to, '+' sent unencoded", "to=+14155550123".to_owned(), vec![&c, &a]),
            ("to, national", "to=(415)%20555-0123".to_owned(), vec![&c, &a]),
            ("to, the refused number", "to=%2B15005550001".to_owned(), vec![&d]),
            ("from, the group line", format!("from={}", query_phone(SUPPORT_PHONE)), vec![&b]),
            ("from, national", "from=4155550100".to_owned(), vec![&d, &a]),
            ("from, unused number", "from=%2B14155550103".to_owned(), vec![]),
            ("userId", format!("userId={KATHERINE}"), vec![&b]),
            ("userId, 15 characters", format!("userId={}", &GRACE[..15]), vec![&c]),
            ("userId, the group is not a user", format!("userId={SUPPORT_GROUP}"), vec![]),
            ("relatedRecordId, Contact", format!("relatedRecordId={JANE_CONTACT}"), vec![&a]),
            ("relatedRecordId, 15-character Account", format!("relatedRecordId={}", &ACME_ACCOUNT[..15]), vec![&c]),
            ("to and userId", format!("to=%2B14155550123&userId={ADA}"), vec![&a]),
            ("limit", "limit=2".to_owned(), vec![&d, &c]),
            ("limit 1", "limit=1".to_owned(), vec![&d]),
            ("limit 1000", "limit=1000".to_owned(), vec![&d, &c, &b, &a]),
        ];
        for (case, query, expected) in cases {
            assert_lists(&app, &query, expected, case).await;
        }
    }

    async fn calls_list_filters_by_status_in_any_case_and_spelling(backend) {
        let app = spawn_app(backend).await;
        let [a, b, c, d] = four_calls(&app).await;
        let cases = [
            ("Queued", vec![&c, &b, &a]),
            ("queued", vec![&c, &b, &a]),
            ("%20QUEUED%20", vec![&c, &b, &a]),
            ("Failed", vec![&d]),
            ("FAILED", vec![&d]),
            ("In%20Progress", vec![]),
            ("in%20progress", vec![]),
            ("in+progress", vec![]),
            ("No%20Answer", vec![]),
            ("no+answer", vec![]),
            ("Ringing", vec![]),
            ("completed", vec![]),
            ("Busy", vec![]),
            ("Canceled", vec![]),
        ];
        for (status, expected) in cases {
            assert_lists(&app, &format!("status={status}"), expected, status).await;
        }
    }

    async fn calls_list_filters_by_since(backend) {
        let app = spawn_app(backend).await;
        let [a, _, _, d] = four_calls(&app).await;
        let first = stored_call(&app, a.as_str().unwrap()).await;
        let last = stored_call(&app, d.as_str().unwrap()).await;
        let all = app.items("/_emulator/calls").await;
        let cases = [
            ("long ago, RFC 3339", "2000-01-01T00:00:00Z".to_owned(), 4),
            ("long ago, Salesforce format", "2000-01-01T00:00:00.000%2B0000".to_owned(), 4),
            ("far ahead", "2999-01-01T00:00:00Z".to_owned(), 0),
            ("the first call's startTime", query_phone(first["startTime"].as_str().unwrap()), 4),
        ];
        for (case, since, count) in cases {
            let listed = app.items(&format!("/_emulator/calls?since={since}")).await;
            assert_eq!(listed.len(), count, "{case}: {listed:?}");
            assert_eq!(ids(&listed), ids(&all[..count]), "{case}");
        }
        let start = last["startTime"].as_str().unwrap();
        let listed = app.items(&format!("/_emulator/calls?since={}", query_phone(start))).await;
        assert!(ids(&listed).contains(&d), "{listed:?}");
        assert!(listed.iter().all(|call| call["startTime"].as_str().unwrap() >= start), "{listed:?}");
    }

    async fn bad_call_filters_are_400_invalid_filter(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            ("a message status", "status=Delivered", "status"),
            ("an unknown status", "status=Hung%20up", "status"),
            ("an empty status", "status=", "status"),
            ("limit 0", "limit=0", "limit"),
            ("limit 1001", "limit=1001", "limit"),
            ("limit not a number", "limit=ten", "limit"),
            ("since not a datetime", "since=yesterday", "since"),
            ("to not a number", "to=hello", "to"),
            ("from not a number", "from=front%20desk", "from"),
            ("userId malformed", "userId=ada", "userId"),
            ("relatedRecordId malformed", "relatedRecordId=jane", "relatedRecordId"),
            ("an unknown filter", "colour=red", "colour"),
            ("a misspelt filter", "user_id=005Dn0000001AdaIAE", "user_id"),
        ];
        for (case, query, fragment) in cases {
            let (status, body) = app.get(&format!("/_emulator/calls?{query}")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {body}");
            assert_eq!(keys(&body), ["errorCode", "message"], "{case}: {body}");
            assert_eq!(body["errorCode"], "INVALID_FILTER", "{case}: {body}");
            let message = body["message"].as_str().unwrap();
            assert!(message.contains(fragment), "{case}: {message}");
        }
    }

    async fn a_call_is_served_alone_by_18_or_15_character_id_or_call_id(backend) {
        let app = spawn_app(backend).await;
        let (output, _) = place_ok(&app, &input(json!({"recordId": BOB_LEAD}))).await;
        let listed = app.items("/_emulator/calls").await;
        let id = output["id"].as_str().unwrap();
        let call_id = output["callId"].as_str().unwrap();
        for key in [id.to_owned(), id[..15].to_owned(), id.to_lowercase(), call_id.to_owned()] {
            let (status, call) = app.get(&format!("/_emulator/calls/{key}")).await;
            assert_eq!(status, StatusCode::OK, "{key}: {call}");
            assert_eq!(call, listed[0], "{key}");
        }
        let not_found = json!({"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"});
        let task_id = output["taskId"].as_str().unwrap().to_owned();
        for key in ["a0CDn0000009Zzz", "a0CDn0000009ZzzAAA", "CA00000000000000000000000000000000", "nonsense", &task_id, BOB_LEAD] {
            let (status, body) = app.get(&format!("/_emulator/calls/{key}")).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{key}: {body}");
            assert_eq!(body, not_found, "{key}");
        }
    }

    async fn the_call_sobject_is_served_with_its_fields(backend) {
        let app = spawn_app(backend).await;
        let (output, _) = place_ok(&app, &input(json!({"recordId": JANE_CONTACT, "ivrId": TRANSFER_IVR}))).await;
        let id = output["id"].as_str().unwrap();
        let call = sobject(&app, "FastCall__Call__c", id).await;
        assert_eq!(call["attributes"], json!({"type": "FastCall__Call__c", "url": format!("/services/data/v60.0/sobjects/FastCall__Call__c/{id}")}));
        let expected = [
            ("Id", output["id"].clone()),
            ("OwnerId", json!(ADA)),
            ("CreatedById", json!(ADA)),
            ("CreatedDate", output["startTime"].clone()),
            ("FastCall__Status__c", json!("Queued")),
            ("FastCall__Direction__c", json!("Outbound")),
            ("FastCall__From_Phone__c", json!(ADA_PHONE)),
            ("FastCall__To_Phone__c", json!(TO)),
            ("FastCall__IVR__c", json!(TRANSFER_IVR)),
            ("FastCall__Phone_Number__c", json!(ADA_NUMBER)),
            ("FastCall__Related_Record_Id__c", json!(JANE_CONTACT)),
            ("FastCall__Task_Id__c", output["taskId"].clone()),
            ("FastCall__User__c", json!(ADA)),
            ("FastCall__Call_Id__c", output["callId"].clone()),
            ("FastCall__Start_Time__c", output["startTime"].clone()),
            ("FastCall__Error_Code__c", Value::Null),
            ("FastCall__Error_Message__c", Value::Null),
        ];
        for (field, value) in &expected {
            assert_eq!(&call[*field], value, "{field}: {call}");
        }
        assert_salesforce_datetime_now(&call["LastModifiedDate"]);
        // Any case of the object's name, the 15-character Id, any API version.
        for path in [
            format!("/services/data/v60.0/sobjects/fastcall__call__c/{}", &id[..15]),
            format!("/services/data/v45.0/sobjects/FASTCALL__CALL__C/{id}"),
        ] {
            let (status, again) = app.get(&path).await;
            assert_eq!(status, StatusCode::OK, "{path}: {again}");
            assert_eq!(again["Id"], id, "{path}");
            assert_eq!(again["FastCall__IVR__c"], TRANSFER_IVR, "{path}");
        }
        let task_id = output["taskId"].as_str().unwrap().to_owned();
        for missing in ["a0CDn0000009Zzz".to_owned(), task_id, "not-an-id".to_owned()] {
            let (status, body) = app.get(&format!("/services/data/v60.0/sobjects/FastCall__Call__c/{missing}")).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{missing}: {body}");
            assert_eq!(body[0]["errorCode"], "NOT_FOUND", "{missing}: {body}");
        }
    }

    async fn a_restart_on_the_same_database_keeps_calls(backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::start(&db, |_| {}).await;
        let (accepted, _) = place_ok(&app, &input(json!({"recordId": JANE_CONTACT}))).await;
        let refused = place(&app, &input(json!({"toPhone": "+15005550003"}))).await;
        assert_error(&refused, StatusCode::BAD_GATEWAY, 100, "21215", "refused before the restart");
        let lists = ["/_emulator/calls", "/_emulator/tasks", "/_emulator/voip-errors"];
        let mut before = Vec::new();
        for path in lists {
            before.push(app.items(path).await);
        }
        assert_eq!(before.iter().map(Vec::len).collect::<Vec<_>>(), [2, 1, 1]);
        let id = accepted["id"].as_str().unwrap();
        let object = sobject(&app, "FastCall__Call__c", id).await;
        app.stop().await;

        let app = TestApp::start(&db, |_| {}).await;
        for (path, expected) in lists.into_iter().zip(&before) {
            assert_eq!(&app.items(path).await, expected, "{path}");
        }
        assert_eq!(stored_call(&app, id).await, before[0][1]);
        assert_eq!(stored_call(&app, accepted["callId"].as_str().unwrap()).await, before[0][1]);
        assert_eq!(sobject(&app, "FastCall__Call__c", id).await, object);
        // New calls go on top of the kept ones.
        let (after, _) = place_ok(&app, &input(json!({}))).await;
        let calls = app.items("/_emulator/calls").await;
        assert_eq!(ids(&calls), [after["id"].clone(), before[0][0]["id"].clone(), before[0][1]["id"].clone()]);
    }
}
