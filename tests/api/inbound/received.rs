//! The inbound message as stored: who owns it, what it is related to, where it shows, and
//! what is refused.

use super::*;
use crate::backend_tests;

/// An org whose two records share a number, and whose org-wide number has no default user.
const SHARED_NUMBER_ORG: &str = r#"
users:
  - {id: 005Dn0000010Uma, name: Uma Tester}
phoneNumbers:
  - {id: a0PDn0000010Uma, number: "+14155550150", sms: true, outboundSms: true, assignment: user, userIds: [005Dn0000010Uma]}
  - {id: a0PDn0000011Org, number: "+14155550151", sms: true, assignment: org}
records:
  - id: 003Dn0000010Emm
    fields: {FirstName: Emma, MobilePhone: "+14155550160"}
  - id: 00QDn0000010Eli
    fields: {FirstName: Eli, Work_Phone__c: "(415) 555-0160"}
  - id: 001Dn0000010Sol
    fields: {Name: Solo Inc, Phone: "415.555.0161", Fax: "+14155550162"}
"#;

fn received_keys() -> Vec<&'static str> {
    vec!["keyword", "message", "reply"]
}

backend_tests! {
    async fn an_inbound_message_is_stored_received_and_owned_as_the_number_is(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            (ADA_PHONE, ADA_NUMBER, json!(ADA), json!(ADA)),
            (SUPPORT_PHONE, SUPPORT_NUMBER, json!(SUPPORT_GROUP), Value::Null),
            // An org-wide number's messages are the org's default user's.
            (MAIN_PHONE, MAIN_NUMBER, json!(ADA), json!(ADA)),
        ];
        for (to, number_id, owner, user) in cases {
            let received = text(&app, STRANGER, to, "Is my order ready? ✓").await;
            assert_eq!(keys(&received), received_keys());
            let message = &received["message"];
            assert_eq!(message["direction"], "Inbound", "{to}");
            assert_eq!(message["status"], "Received");
            assert_eq!(message["fromPhone"], STRANGER);
            assert_eq!(message["toPhone"], to);
            assert_eq!(message["phoneNumberId"], number_id);
            assert_eq!(message["owner"], owner, "{to}");
            assert_eq!(message["userId"], user, "{to}");
            assert_eq!(message["body"], "Is my order ready? ✓");
            assert_eq!(message["encoding"], "UCS-2");
            assert_eq!(message["numSegments"], 1);
            assert_eq!(message["relatedRecordId"], Value::Null, "nobody's number");
            assert_eq!(message["taskId"], Value::Null);
            assert_eq!(message["errorCode"], Value::Null);
            assert_eq!(message["statusHistory"].as_array().map(Vec::len), Some(1));
            assert!(message["smsId"].as_str().is_some_and(|sid| sid.starts_with("SM") && sid.len() == 34));
            assert_id(&message["id"], "a0S");
            let id = message["id"].as_str().unwrap();
            assert_eq!(&app.item(&format!("/_emulator/messages/{id}")).await, message);
            let sid = message["smsId"].as_str().unwrap();
            assert_eq!(&app.item(&format!("/_emulator/messages/{sid}")).await, message);
        }
        assert!(app.items("/_emulator/tasks").await.is_empty());
    }

    async fn a_sender_whose_number_one_record_holds_is_related_with_a_task(backend) {
        let app = spawn_app(backend).await;
        // Jane's MobilePhone is written "(415) 555-0124": the dialling rule matches it.
        for (from, record, field) in [(JANE_PHONE, JANE_CONTACT, "whoId"), ("+14155550124", JANE_CONTACT, "whoId"), ("+14155550127", ACME_ACCOUNT, "whatId")] {
            let received = text(&app, from, ADA_PHONE, "Running late").await;
            let message = &received["message"];
            assert_eq!(message["relatedRecordId"], record, "{from}");
            let task_id = message["taskId"].as_str().expect("a Task");
            let task = app.item(&format!("/_emulator/tasks/{task_id}")).await;
            assert_eq!(task[field], record, "{from}");
            assert_eq!(task["subject"], format!("SMS from {from}"));
            assert_eq!(task["description"], "Running late");
            assert_eq!(task["smsMessageId"], message["id"]);
            assert_eq!(task["ownerId"], ADA);
            assert_eq!(task["status"], "Completed");
        }
        let related = app.items(&format!("/_emulator/messages?relatedRecordId={JANE_CONTACT}&direction=Inbound")).await;
        assert_eq!(related.len(), 2);
    }

    async fn a_task_about_a_message_to_a_groups_number_belongs_to_a_user(backend) {
        // The demo org's default user, Ada, owns it; the message stays the group's.
        let app = spawn_app(backend).await;
        let received = text(&app, JANE_PHONE, SUPPORT_PHONE, "Hello support").await;
        assert_eq!(received["message"]["owner"], SUPPORT_GROUP);
        let task = app.item(&format!("/_emulator/tasks/{}", received["message"]["taskId"].as_str().unwrap())).await;
        assert_eq!(task["ownerId"], ADA);
        // Without a default user: the group's first Fastcall user; with none, no Task.
        let org = r#"
users:
  - {id: 005Dn0000010Uma, name: Uma Tester, fastcallUser: false, groupIds: [00GDn0000010Sup]}
  - {id: 005Dn0000011Kit, name: Kit Tester, groupIds: [00GDn0000010Sup]}
groups: [{id: 00GDn0000010Sup, name: Support}, {id: 00GDn0000011Emp, name: Empty}]
phoneNumbers:
  - {id: a0PDn0000010Sup, number: "+14155550150", sms: true, assignment: group, groupIds: [00GDn0000010Sup]}
  - {id: a0PDn0000011Emp, number: "+14155550151", sms: true, assignment: group, groupIds: [00GDn0000011Emp]}
records:
  - id: 003Dn0000010Emm
    fields: {FirstName: Emma, MobilePhone: "+14155550160"}
"#;
        let app = spawn_app_with_org(backend, org).await;
        let received = text(&app, "+14155550160", "+14155550150", "Hi").await;
        let task = app.item(&format!("/_emulator/tasks/{}", received["message"]["taskId"].as_str().unwrap())).await;
        assert_eq!(task["ownerId"], id18("005Dn0000011Kit"));
        let received = text(&app, "+14155550160", "+14155550151", "Hi").await;
        assert_eq!(received["message"]["relatedRecordId"], id18("003Dn0000010Emm"));
        assert_eq!(received["message"]["taskId"], Value::Null, "nobody to own it");
    }

    async fn a_number_several_records_hold_relates_the_message_to_none(backend) {
        let app = spawn_app_with_org(backend, SHARED_NUMBER_ORG).await;
        let shared = text(&app, "+14155550160", "+14155550150", "Who am I?").await;
        assert_eq!(shared["message"]["relatedRecordId"], Value::Null, "Emma and Eli share it");
        assert_eq!(shared["message"]["taskId"], Value::Null);
        // `Phone`, `MobilePhone` and custom `*Phone__c` fields count; `Fax` does not.
        let solo = text(&app, "+14155550161", "+14155550150", "Hello").await;
        assert_eq!(solo["message"]["relatedRecordId"], id18("001Dn0000010Sol"));
        let fax = text(&app, "+14155550162", "+14155550150", "Hello").await;
        assert_eq!(fax["message"]["relatedRecordId"], Value::Null);
        assert_eq!(app.items("/_emulator/tasks").await.len(), 1);
    }

    async fn an_mms_keeps_its_media_and_gets_an_mm_id(backend) {
        let app = spawn_app(backend).await;
        let input = json!({"from": JANE_PHONE, "to": ADA_PHONE, "mediaURL": "https://example.com/receipt.png"});
        let (status, received) = app.post(INBOUND, &input).await;
        assert_eq!(status, StatusCode::CREATED, "{received}");
        assert_eq!(received["message"]["mediaURL"], "https://example.com/receipt.png");
        assert_eq!(received["message"]["body"], "");
        assert!(received["message"]["smsId"].as_str().unwrap().starts_with("MM"));
    }

    async fn inbound_messages_show_in_lists_sobjects_and_long_polls_by_direction(backend) {
        let app = spawn_app(backend).await;
        let (status, output) = send_from(&app, ADA_PHONE, JANE_PHONE).await;
        assert_eq!(status, StatusCode::OK, "{output}");
        let path = "/_emulator/messages?direction=Inbound&wait=10";
        let replying = text(&app, JANE_PHONE, ADA_PHONE, "Thanks!");
        let (polled, received) = polled_while(&app, path, replying).await;
        assert_eq!(polled["items"], json!([received["message"]]));

        let all = app.items("/_emulator/messages").await;
        assert_eq!(all.len(), 2);
        assert_eq!(all[0]["direction"], "Inbound", "newest first");
        let outbound = app.items("/_emulator/messages?direction=outbound").await;
        assert_eq!(outbound.len(), 1);
        assert_eq!(outbound[0]["id"], output["id"]);
        let received_only = app.items("/_emulator/messages?status=Received").await;
        assert_eq!(received_only, [received["message"].clone()]);
        let (status, body) = app.get("/_emulator/messages?direction=Sideways").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body["message"].as_str().unwrap().contains("Inbound, Outbound"), "{body}");

        let id = received["message"]["id"].as_str().unwrap();
        let sobject = app.item(&format!("/services/data/v60.0/sobjects/FastCall__SMS_Message__c/{id}")).await;
        assert_eq!(sobject["FastCall__Direction__c"], "Inbound");
        assert_eq!(sobject["FastCall__Status__c"], "Received");
        assert_eq!(sobject["FastCall__From_Phone__c"], JANE_PHONE);
        assert_eq!(sobject["FastCall__Body__c"], "Thanks!");
        assert_eq!(sobject["OwnerId"], ADA);
    }

    async fn an_inbound_message_cannot_be_moved_and_nothing_becomes_received(backend) {
        let app = spawn_app(backend).await;
        let received = text(&app, JANE_PHONE, ADA_PHONE, "Hi").await;
        let id = received["message"]["id"].as_str().unwrap();
        let (status, body) = app.post(&format!("/_emulator/messages/{id}/status"), &json!({"status": "Delivered"})).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        let (_, output) = send_from(&app, ADA_PHONE, JANE_PHONE).await;
        let sent = output["id"].as_str().unwrap();
        let (status, body) = app.post(&format!("/_emulator/messages/{sent}/status"), &json!({"status": "Received"})).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
    }

    async fn what_is_not_a_message_to_the_orgs_sms_numbers_is_refused_with_nothing_stored(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            (json!({"from": JANE_PHONE, "to": "+14155550999", "body": "Hi"}), "to +14155550999 is not one of the org's phone numbers"),
            (json!({"from": JANE_PHONE, "to": VOICE_PHONE, "body": "Hi"}), "is not SMS-capable"),
            (json!({"from": JANE_PHONE, "to": SUPPORT_PHONE, "mediaURL": "https://example.com/a.png"}), "is not MMS-capable"),
            (json!({"to": ADA_PHONE, "body": "Hi"}), "from is required"),
            (json!({"from": "", "to": ADA_PHONE, "body": "Hi"}), "from is required"),
            (json!({"from": "no digits", "to": ADA_PHONE, "body": "Hi"}), "has no digits"),
            (json!({"from": JANE_PHONE, "body": "Hi"}), "to is required"),
            (json!({"from": JANE_PHONE, "to": ADA_PHONE}), "Pass body, mediaURL, or both"),
            (json!({"from": JANE_PHONE, "to": ADA_PHONE, "body": "  "}), "Pass body, mediaURL, or both"),
            (json!({"from": JANE_PHONE, "to": ADA_PHONE, "body": "x".repeat(1601)}), "1601 characters"),
            (json!({"from": JANE_PHONE, "to": ADA_PHONE, "body": "Hi", "mediaURL": "ftp://x/a.png"}), "mediaURL"),
            (json!({"from": "1".repeat(200), "to": ADA_PHONE, "body": "Hi"}), "from"),
        ];
        for (input, fragment) in cases {
            let (status, body) = app.post(INBOUND, &input).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{input}: {body}");
            assert_eq!(body["errorCode"], "INVALID_FIELD", "{input}: {body}");
            let message = body["message"].as_str().unwrap();
            assert!(message.contains(fragment), "{input}: {fragment:?} in {message:?}");
        }
        for (raw, fragment) in [
            (r#"{"from": "+14155550123", "to": "+14155550100", "body": "Hi", "sid": "x"}"#, "unknown field `sid`"),
            (r#"["+14155550123"]"#, "JSON object"),
            ("from=me", "JSON object"),
            (r#"{"from": "+1415\u0000", "to": "+14155550100", "body": "Hi"}"#, "NUL"),
        ] {
            let (status, body) = app.post_raw(INBOUND, raw, Some("application/json")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{raw}: {body}");
            assert_eq!(body["errorCode"], "JSON_PARSER_ERROR", "{raw}: {body}");
            assert!(body["message"].as_str().unwrap().contains(fragment), "{raw}: {body}");
        }
        assert!(app.items("/_emulator/messages").await.is_empty());
    }

    async fn an_org_without_sms_or_an_owner_for_its_number_refuses_inbound_messages(backend) {
        let app = spawn_app_with_org(backend, SHARED_NUMBER_ORG).await;
        let (status, body) = app.post(INBOUND, &json!({"from": JANE_PHONE, "to": "+14155550151", "body": "Hi"})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body["message"].as_str().unwrap().contains("settings.defaultUserId"), "{body}");
        let no_sms = format!("settings: {{smsEnabled: false}}\n{SHARED_NUMBER_ORG}");
        let app = spawn_app_with_org(backend, &no_sms).await;
        let (status, body) = app.post(INBOUND, &json!({"from": JANE_PHONE, "to": "+14155550150", "body": "Hi"})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body["message"].as_str().unwrap().contains("SMS is not enabled"), "{body}");
        assert!(app.items("/_emulator/messages").await.is_empty());
    }

    async fn a_database_made_by_the_previous_release_keeps_its_messages_as_outbound(backend) {
        let db = TestDb::new(backend).await;
        db.migrate_to(6).await;
        let old = id18("a0SDn0000001Old");
        let logged = id18("a0EDn0000001Old");
        db.execute(&format!(
            "INSERT INTO sms_messages (org, id, provider_id, created_at, updated_at, owner_id, user_id, \
             phone_number_id, from_phone, to_phone, body, status, status_history) VALUES \
             ('default', '{old}', 'SM00000000000000000000000000000001', 1764000000000, 1764000000000, \
             '{ADA}', '{ADA}', 'a0PDn0000001AdaMAE', '+14155550100', '+14155550123', 'kept', 'Failed', '[]'); \
             INSERT INTO voip_errors (org, id, created_at, record_type, record_id, provider, error_code, \
             error_message, from_phone, to_phone, user_id) VALUES ('default', '{logged}', 1764000000000, \
             'FastCall__SMS_Message__c', '{old}', 'simulated', 21211, 'This phone number is invalid.', \
             '+14155550100', '+14155550123', '{ADA}')"
        ))
        .await;
        let app = TestApp::start(&db, |_| {}).await;
        let message = app.item(&format!("/_emulator/messages/{old}")).await;
        assert_eq!((&message["direction"], &message["userId"], &message["body"]), (&json!("Outbound"), &json!(ADA), &json!("kept")));
        assert_eq!(app.items("/_emulator/messages?direction=Outbound").await.len(), 1);
        let entry = app.item(&format!("/_emulator/voip-errors/{logged}")).await;
        assert_eq!((&entry["recordId"], &entry["userId"]), (&json!(old), &json!(ADA)));
        // And the new tables work beside the old rows.
        text(&app, JANE_PHONE, ADA_PHONE, "STOP").await;
        assert_eq!(app.items("/_emulator/messages").await.len(), 3);
        assert_eq!(opt_outs(&app, "").await.len(), 1);
        let orgs = app.get("/orgs").await.1;
        assert_eq!(orgs["items"][0]["counts"]["optOuts"], 1, "{orgs}");
        app.stop().await;
    }
}
