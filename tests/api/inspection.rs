//! The inspection API (docs/inspection-and-events.md): messages, tasks and VoIP errors as lists with
//! filters and one at a time, and reset.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::*;

const JANE_PHONE: &str = "+14155550123";
const ADA_PHONE: &str = "+14155550100";
const MAIN_PHONE: &str = "+14155550102";
const INVALID_DESTINATION: &str = "+15005550001";
const UNROUTABLE_DESTINATION: &str = "+15005550002";
const PAST: &str = "2000-01-01T00:00:00Z";
/// Salesforce's datetime form, `+` encoded.
const FUTURE: &str = "2999-01-01T00:00:00.000%2B0000";

/// A direct SMS that must succeed; its output.
async fn sent(app: &TestApp, input: Value) -> Value {
    let (status, output) = app.send_sms(&input).await;
    assert_eq!(status, StatusCode::OK, "{input}: {output}");
    output
}

/// A direct SMS the provider refuses (error 100); the message's id, from the list.
async fn refused(app: &TestApp, input: Value) -> String {
    let response = app.send_sms(&input).await;
    assert_exception(&response, StatusCode::BAD_GATEWAY, 100);
    let newest = list(app, "/_emulator/messages?limit=1").await;
    assert_eq!(newest[0]["status"], "Failed", "{newest:?}");
    id_of(&newest[0])
}

async fn list(app: &TestApp, path: &str) -> Vec<Value> {
    let (status, body) = app.get(path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{path}: items in {body}"))
        .clone()
}

fn id_of(value: &Value) -> String {
    value["id"].as_str().expect("an id").to_owned()
}

fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(id_of).collect()
}

fn sorted_keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

fn sorted(keys: &[&str]) -> Vec<String> {
    let mut keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
    keys.sort();
    keys
}

/// Asserts each `(query, expected ids)` case over `list_path`, reporting every miss at once.
async fn assert_filters(app: &TestApp, list_path: &str, cases: Vec<(String, Vec<&String>)>) {
    let mut wrong = Vec::new();
    for (query, expected) in cases {
        let path = format!("{list_path}?{query}");
        let (status, body) = app.get(&path).await;
        let got = body["items"].as_array().map(|items| ids(items));
        let expected: Vec<String> = expected.into_iter().cloned().collect();
        if status != StatusCode::OK || got.as_ref() != Some(&expected) {
            wrong.push(format!(
                "{path}: expected {expected:?}, got {status} {got:?} {body}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// Four messages: Ada's, Grace's from the main line, Ada's to Jane from the main line with a
/// Task, and Ada's refused by the provider. Their ids, oldest first.
async fn seed_messages(app: &TestApp) -> [String; 4] {
    let one = sent(app, json!({"toPhone": JANE_PHONE, "bodyText": "one"})).await;
    let two = sent(
        app,
        json!({"toPhone": "+14155550124", "bodyText": "two", "userId": GRACE}),
    )
    .await;
    let three = json!({"toPhone": JANE_PHONE, "bodyText": "three", "recordId": JANE_CONTACT, "fromPhone": MAIN_PHONE});
    let three = sent(app, three).await;
    let four = refused(
        app,
        json!({"toPhone": INVALID_DESTINATION, "bodyText": "four"}),
    )
    .await;
    [id_of(&one), id_of(&two), id_of(&three), four]
}

const MESSAGE_KEYS: [&str; 19] = [
    "createdDate",
    "direction",
    "id",
    "owner",
    "phoneNumberId",
    "relatedRecordId",
    "smsId",
    "status",
    "taskId",
    "body",
    "encoding",
    "numSegments",
    "fromPhone",
    "toPhone",
    "mediaURL",
    "userId",
    "errorCode",
    "errorMessage",
    "statusHistory",
];

backend_tests! {
    async fn messages_are_listed_newest_first_with_every_key(backend) {
        let app = spawn_app(backend).await;
        let output = sent(&app, json!({"toPhone": JANE_PHONE, "bodyText": "one"})).await;
        let with_task = sent(&app, json!({"toPhone": JANE_PHONE, "bodyText": "two", "recordId": JANE_CONTACT})).await;
        let failed = refused(&app, json!({"toPhone": INVALID_DESTINATION, "bodyText": "three"})).await;

        let items = list(&app, "/_emulator/messages").await;
        assert_eq!(ids(&items), [failed.clone(), id_of(&with_task), id_of(&output)]);
        for item in &items {
            assert_eq!(sorted_keys(item), sorted(&MESSAGE_KEYS), "{item}");
        }
        let first = &items[2];
        for (key, value) in output.as_object().unwrap() {
            assert_eq!(&first[key], value, "{key} as the action answered it");
        }
        assert_eq!(first["body"], "one");
        assert_eq!(first["fromPhone"], ADA_PHONE);
        assert_eq!(first["toPhone"], JANE_PHONE);
        assert_eq!(first["userId"], ADA);
        for key in ["mediaURL", "errorCode", "errorMessage"] {
            assert!(first[key].is_null(), "{key}: {first}");
        }
        assert!(first["smsId"].as_str().unwrap().starts_with("SM"), "{first}");
        assert_eq!(items[1]["relatedRecordId"], JANE_CONTACT);
        assert_eq!(items[1]["taskId"], with_task["taskId"]);
        assert!(items[1]["taskId"].as_str().unwrap().starts_with("00T"));

        let failed_item = &items[0];
        assert_eq!(failed_item["status"], "Failed");
        assert_eq!(failed_item["errorCode"], 21211);
        assert!(!failed_item["errorMessage"].as_str().unwrap().is_empty(), "{failed_item}");
        assert!(failed_item["smsId"].is_null(), "{failed_item}");
        assert_eq!(failed_item["toPhone"], INVALID_DESTINATION);

        let mms = json!({"toPhone": JANE_PHONE, "bodyText": "pic", "mediaURL": "https://example.com/a.png"});
        let mms = sent(&app, mms).await;
        let newest = list(&app, "/_emulator/messages?limit=1").await;
        assert_eq!(id_of(&newest[0]), id_of(&mms));
        assert_eq!(newest[0]["mediaURL"], "https://example.com/a.png");
    }

    async fn message_filters_narrow_the_list_and_combine(backend) {
        let app = spawn_app(backend).await;
        let [m1, m2, m3, m4] = seed_messages(&app).await;
        let all = vec![&m4, &m3, &m2, &m1];
        let cases = vec![
            ("to=%2B14155550123".to_owned(), vec![&m3, &m1]),
            ("to=+14155550123".to_owned(), vec![&m3, &m1]),
            ("to=4155550123".to_owned(), vec![&m3, &m1]),
            ("to=(415)%20555-0123".to_owned(), vec![&m3, &m1]),
            ("from=%2B14155550102".to_owned(), vec![&m3, &m2]),
            ("from=415.555.0100".to_owned(), vec![&m4, &m1]),
            (format!("userId={GRACE}"), vec![&m2]),
            (format!("userId={}", &GRACE[..15]), vec![&m2]),
            (format!("userId={ADA}"), vec![&m4, &m3, &m1]),
            (format!("relatedRecordId={JANE_CONTACT}"), vec![&m3]),
            (format!("relatedRecordId={}", &JANE_CONTACT[..15]), vec![&m3]),
            ("status=Failed".to_owned(), vec![&m4]),
            ("status=queued".to_owned(), vec![&m3, &m2, &m1]),
            ("status=Delivered".to_owned(), vec![]),
            ("limit=2".to_owned(), vec![&m4, &m3]),
            ("limit=1000".to_owned(), all.clone()),
            (format!("since={PAST}"), all.clone()),
            ("since=2000-01-01T01:00:00%2B01:00".to_owned(), all.clone()),
            (format!("since={FUTURE}"), vec![]),
            (format!("to=%2B14155550123&userId={ADA}&relatedRecordId={JANE_CONTACT}"), vec![&m3]),
            ("to=%2B14155550123&status=Failed".to_owned(), vec![]),
            (format!("from=%2B14155550102&userId={ADA}"), vec![&m3]),
            ("status=queued&limit=1".to_owned(), vec![&m3]),
            (format!("userId={ADA}&since={PAST}&limit=2"), vec![&m4, &m3]),
            (format!("userId={GRACE}&since={FUTURE}"), vec![]),
        ];
        assert_filters(&app, "/_emulator/messages", cases).await;
    }

    async fn since_keeps_messages_created_at_or_after_the_instant(backend) {
        let app = spawn_app(backend).await;
        let [.., m4] = seed_messages(&app).await;
        let (_, newest) = app.get(&format!("/_emulator/messages/{m4}")).await;
        let created = newest["createdDate"].as_str().unwrap().to_owned();
        let items = list(&app, &format!("/_emulator/messages?since={}", created.replace('+', "%2B"))).await;
        assert!(ids(&items).contains(&m4), "{created}: {items:?}");
        for item in &items {
            assert!(item["createdDate"].as_str().unwrap() >= created.as_str(), "{item} is before {created}");
        }
    }

    async fn a_message_is_found_by_either_id_form_and_by_sms_id(backend) {
        let app = spawn_app(backend).await;
        let output = sent(&app, json!({"toPhone": JANE_PHONE, "bodyText": "hello"})).await;
        let id = id_of(&output);
        let listed = list(&app, "/_emulator/messages").await.remove(0);
        let sms_id = output["smsId"].as_str().unwrap();
        for key in [id.clone(), id[..15].to_owned(), id.to_uppercase(), id.to_lowercase(), sms_id.to_owned()] {
            let (status, item) = app.get(&format!("/_emulator/messages/{key}")).await;
            assert_eq!(status, StatusCode::OK, "{key}: {item}");
            assert_eq!(item, listed, "{key}");
        }
        for unknown in ["a0SDn0000009ZzzMAE", "a0SDn0000009Zzz", "SM00000000000000000000000000000000", "nope"] {
            let (status, body) = app.get(&format!("/_emulator/messages/{unknown}")).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{unknown}: {body}");
            assert_eq!(body["errorCode"], "NOT_FOUND", "{unknown}: {body}");
        }
    }

    async fn tasks_are_listed_newest_first_and_filtered(backend) {
        let app = spawn_app(backend).await;
        let m1 = sent(&app, json!({"toPhone": JANE_PHONE, "bodyText": "to Jane", "recordId": JANE_CONTACT})).await;
        let m2 = json!({"recordId": BOB_LEAD, "phoneNumberFieldName": "MobilePhone", "bodyText": "to Bob",
                        "userId": GRACE});
        let m2 = sent(&app, m2).await;
        let m3 = sent(&app, json!({"toPhone": "+14155550127", "bodyText": "to Acme", "recordId": ACME_ACCOUNT})).await;
        sent(&app, json!({"toPhone": JANE_PHONE, "bodyText": "no record, no Task"})).await;
        refused(&app, json!({"toPhone": INVALID_DESTINATION, "bodyText": "refused", "recordId": ACME_ACCOUNT})).await;

        let items = list(&app, "/_emulator/tasks").await;
        let [t1, t2, t3] = [&m1, &m2, &m3].map(|m| m["taskId"].as_str().expect("a Task").to_owned());
        assert_eq!(ids(&items), [t3.clone(), t2.clone(), t1.clone()]);
        let jane = &items[2];
        assert_eq!(jane["ownerId"], ADA);
        assert_eq!(jane["whoId"], JANE_CONTACT);
        assert!(jane["whatId"].is_null(), "{jane}");
        assert_eq!(jane["status"], "Completed");
        assert_eq!(jane["subject"], format!("SMS to {JANE_PHONE}"));
        assert_eq!(jane["description"], "to Jane");
        assert_eq!(jane["smsMessageId"], m1["id"]);
        assert_eq!(items[1]["ownerId"], GRACE);
        assert_eq!(items[1]["whoId"], BOB_LEAD);
        assert_eq!(items[0]["whatId"], ACME_ACCOUNT);
        assert!(items[0]["whoId"].is_null(), "{}", items[0]);

        let cases = vec![
            (format!("userId={GRACE}"), vec![&t2]),
            (format!("userId={ADA}"), vec![&t3, &t1]),
            (format!("relatedRecordId={JANE_CONTACT}"), vec![&t1]),
            (format!("relatedRecordId={}", &BOB_LEAD[..15]), vec![&t2]),
            (format!("relatedRecordId={ACME_ACCOUNT}"), vec![&t3]),
            ("status=completed".to_owned(), vec![&t3, &t2, &t1]),
            ("status=Not%20Started".to_owned(), vec![]),
            (format!("since={PAST}"), vec![&t3, &t2, &t1]),
            (format!("since={FUTURE}"), vec![]),
            ("limit=1".to_owned(), vec![&t3]),
            (format!("userId={ADA}&relatedRecordId={ACME_ACCOUNT}"), vec![&t3]),
            (format!("userId={GRACE}&relatedRecordId={JANE_CONTACT}"), vec![]),
            (format!("userId={ADA}&status=Completed&limit=1"), vec![&t3]),
        ];
        assert_filters(&app, "/_emulator/tasks", cases).await;

        for filter in ["to", "from"] {
            let (status, body) = app.get(&format!("/_emulator/tasks?{filter}=%2B14155550123")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{filter}: {body}");
            assert_eq!(body["errorCode"], "INVALID_FILTER", "{body}");
            assert!(body["message"].as_str().unwrap().contains(filter), "{body}");
        }
    }

    async fn a_task_is_found_by_either_id_form(backend) {
        let app = spawn_app(backend).await;
        let output = sent(&app, json!({"toPhone": JANE_PHONE, "bodyText": "hi", "recordId": JANE_CONTACT})).await;
        let task_id = output["taskId"].as_str().unwrap().to_owned();
        let listed = list(&app, "/_emulator/tasks").await.remove(0);
        for key in [task_id.clone(), task_id[..15].to_owned()] {
            let (status, item) = app.get(&format!("/_emulator/tasks/{key}")).await;
            assert_eq!(status, StatusCode::OK, "{key}: {item}");
            assert_eq!(item, listed, "{key}");
        }
        for unknown in ["00TDn0000009ZzzMAE", output["id"].as_str().unwrap(), "nope"] {
            let (status, body) = app.get(&format!("/_emulator/tasks/{unknown}")).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{unknown}: {body}");
            assert_eq!(body["errorCode"], "NOT_FOUND", "{body}");
        }
    }

    async fn voip_errors_are_listed_filtered_and_found_by_id(backend) {
        let app = spawn_app(backend).await;
        let m1 = refused(&app, json!({"toPhone": INVALID_DESTINATION, "bodyText": "one"})).await;
        let m2 = refused(&app, json!({"toPhone": UNROUTABLE_DESTINATION, "bodyText": "two", "userId": GRACE})).await;
        sent(&app, json!({"toPhone": JANE_PHONE, "bodyText": "fine"})).await;

        let items = list(&app, "/_emulator/voip-errors").await;
        assert_eq!(items.len(), 2, "{items:?}");
        let keys = [
            "id", "createdDate", "recordType", "recordId", "provider", "providerId", "errorCode", "errorMessage",
            "fromPhone", "toPhone", "userId",
        ];
        for item in &items {
            assert_eq!(sorted_keys(item), sorted(&keys), "{item}");
        }
        let (e2, e1) = (&items[0], &items[1]);
        assert_eq!(e1["recordId"], m1);
        assert_eq!(e1["errorCode"], 21211);
        assert_eq!(e1["toPhone"], INVALID_DESTINATION);
        assert_eq!(e1["fromPhone"], ADA_PHONE);
        assert_eq!(e1["userId"], ADA);
        assert_eq!(e2["recordId"], m2);
        assert_eq!(e2["errorCode"], 21612);
        assert_eq!(e2["fromPhone"], MAIN_PHONE);
        assert_eq!(e2["userId"], GRACE);
        assert!(!e2["errorMessage"].as_str().unwrap().is_empty(), "{e2}");

        let (id1, id2) = (id_of(e1), id_of(e2));
        let cases = vec![
            ("to=%2B15005550001".to_owned(), vec![&id1]),
            ("to=+15005550002".to_owned(), vec![&id2]),
            ("from=%2B14155550102".to_owned(), vec![&id2]),
            (format!("userId={GRACE}"), vec![&id2]),
            (format!("userId={ADA}&to=%2B15005550002"), vec![]),
            (format!("since={PAST}"), vec![&id2, &id1]),
            (format!("since={FUTURE}"), vec![]),
            ("limit=1".to_owned(), vec![&id2]),
        ];
        assert_filters(&app, "/_emulator/voip-errors", cases).await;

        let (status, body) = app.get("/_emulator/voip-errors?status=Failed").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["errorCode"], "INVALID_FILTER");
        assert!(body["message"].as_str().unwrap().contains("status"), "{body}");

        for key in [id1.clone(), id1[..15].to_owned()] {
            let (status, item) = app.get(&format!("/_emulator/voip-errors/{key}")).await;
            assert_eq!(status, StatusCode::OK, "{key}: {item}");
            assert_eq!(&item, e1, "{key}");
        }
        for unknown in ["a0EDn0000009ZzzMAE", m1.as_str(), "nope"] {
            let (status, body) = app.get(&format!("/_emulator/voip-errors/{unknown}")).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{unknown}: {body}");
            assert_eq!(body["errorCode"], "NOT_FOUND", "{body}");
        }
    }

    async fn invalid_filters_are_400_naming_the_filter(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            ("/_emulator/messages", "colour=red", "colour"),
            ("/_emulator/messages", "userId=nope", "userId"),
            ("/_emulator/messages", "userId=005Dn0000001AdaIAX", "userId"),
            ("/_emulator/messages", "relatedRecordId=123", "relatedRecordId"),
            ("/_emulator/messages", "id=SMa51836536e3c412585559e78e03a9356", "id"),
            ("/_emulator/status-log", "id=a0L", "id"),
            ("/_emulator/messages", "to=not-a-number", "to"),
            ("/_emulator/messages", "from=none", "from"),
            ("/_emulator/messages", "since=yesterday", "since"),
            ("/_emulator/messages", "since=2026-13-01T00:00:00Z", "since"),
            ("/_emulator/messages", "limit=0", "limit"),
            ("/_emulator/messages", "limit=1001", "limit"),
            ("/_emulator/messages", "limit=ten", "limit"),
            ("/_emulator/messages", "limit=-1", "limit"),
            ("/_emulator/messages", "status=Lost", "status"),
            ("/_emulator/messages", "status=Completed", "status"),
            ("/_emulator/tasks", "status=Queued", "status"),
            ("/_emulator/tasks", "colour=red", "colour"),
            ("/_emulator/voip-errors", "limit=0", "limit"),
            ("/_emulator/voip-errors", "userId=nope", "userId"),
        ];
        let mut wrong = Vec::new();
        for (list_path, query, filter) in cases {
            let path = format!("{list_path}?{query}");
            let (status, body) = app.get(&path).await;
            let message = body["message"].as_str().unwrap_or("");
            if status != StatusCode::BAD_REQUEST || body["errorCode"] != "INVALID_FILTER" || !message.contains(filter) {
                wrong.push(format!("{path}: expected 400 INVALID_FILTER naming {filter}, got {status} {body}"));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    async fn lists_hold_100_items_unless_a_limit_says_otherwise(backend) {
        let app = spawn_app(backend).await;
        let inputs: Vec<Value> =
            (0..101).map(|i| json!({"toPhone": JANE_PHONE, "bodyText": format!("bulk {i}")})).collect();
        let (status, body) = app.invoke("SubscriberSMSInvocable", Value::Array(inputs)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(list(&app, "/_emulator/messages").await.len(), 100);
        let all = list(&app, "/_emulator/messages?limit=1000").await;
        assert_eq!(all.len(), 101);
        assert_eq!(all[0]["body"], "bulk 100");
        assert_eq!(all[100]["body"], "bulk 0");
    }

    async fn reset_forgets_all_activity_and_keeps_the_org(backend) {
        let app = spawn_app(backend).await;
        let org = app.get("/_emulator/org").await.1;
        let [m1, ..] = seed_messages(&app).await;
        assert_eq!(list(&app, "/_emulator/tasks").await.len(), 1);
        assert_eq!(list(&app, "/_emulator/voip-errors").await.len(), 1);

        let (status, body) = app.post("/_emulator/reset", &json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        for path in ["/_emulator/messages", "/_emulator/tasks", "/_emulator/voip-errors"] {
            assert_eq!(list(&app, path).await, Vec::<Value>::new(), "{path}");
        }
        assert_eq!(app.get(&format!("/_emulator/messages/{m1}")).await.0, StatusCode::NOT_FOUND);
        assert_eq!(app.get("/_emulator/org").await.1, org);

        let again = sent(&app, json!({"toPhone": JANE_PHONE, "bodyText": "after reset"})).await;
        assert_eq!(again["phoneNumberId"], ADA_NUMBER);
        assert_eq!(ids(&list(&app, "/_emulator/messages").await), [id_of(&again)]);
    }

    async fn reset_with_an_unknown_parameter_is_400_and_clears_nothing(backend) {
        let app = spawn_app(backend).await;
        let output = sent(&app, json!({"toPhone": JANE_PHONE, "bodyText": "keep me"})).await;
        for query in ["colour=red", "org=yes"] {
            let (status, body) = app.post(&format!("/_emulator/reset?{query}"), &json!({})).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
            assert!(body["errorCode"].is_string(), "{query}: {body}");
        }
        assert_eq!(ids(&list(&app, "/_emulator/messages").await), [id_of(&output)]);
    }

    async fn a_stored_row_the_emulator_cannot_read_is_a_500_not_a_gap_in_the_list(backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::start(&db, |_| {}).await;
        let output = sent(&app, json!({"toPhone": JANE_PHONE, "bodyText": "Hi"})).await;
        let id = output["id"].as_str().expect("an id").to_owned();
        db.execute(&format!("UPDATE sms_messages SET status = 'Teleported' WHERE id = '{id}'")).await;
        for path in ["/_emulator/messages".to_owned(), format!("/_emulator/messages/{id}")] {
            let (status, body) = app.get(&path).await;
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{path}: {body}");
            assert_eq!(body["errorCode"], "UNKNOWN_EXCEPTION", "{path}: {body}");
        }
        app.stop().await;
    }

    async fn every_message_shows_its_encoding_and_segments_in_the_item_and_the_sobject(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            ("a".repeat(160), "GSM-7", 1),
            ("a".repeat(161), "GSM-7", 2),
            (format!("{}€", "a".repeat(159)), "GSM-7", 2),
            ("ж".repeat(70), "UCS-2", 1),
            ("😀".repeat(36), "UCS-2", 2),
        ];
        for (body, encoding, segments) in cases {
            let output = sent(&app, json!({"toPhone": JANE_PHONE, "bodyText": body})).await;
            let id = id_of(&output);
            let (status, item) = app.get(&format!("/_emulator/messages/{id}")).await;
            assert_eq!(status, StatusCode::OK, "{item}");
            assert_eq!(item["encoding"], encoding, "{body}");
            assert_eq!(item["numSegments"], segments, "{body}");
            let path = format!("/services/data/v60.0/sobjects/FastCall__SMS_Message__c/{id}");
            let (status, sobject) = app.get(&path).await;
            assert_eq!(status, StatusCode::OK, "{sobject}");
            assert_eq!(sobject["FastCall__Encoding__c"], encoding, "{body}");
            assert_eq!(sobject["FastCall__Num_Segments__c"], segments, "{body}");
        }
    }
}
