//! Held requests that a later change answers, and only the matching one.

use super::*;
use crate::backend_tests;

backend_tests! {
    async fn held_calls_request_for_completed_is_answered_by_the_timed_steps(backend) {
        let app = spawn_timed(backend).await;
        let path = format!("/_emulator/calls?to={}&status=Completed&wait={WAIT}", q(JANE_PHONE));
        let mut held = hold(&app, &path);
        held.assert_held("nothing yet").await;
        let call = act(&app, CALL_ACTION, json!({"toPhone": JANE_PHONE, "ivrId": MENU_IVR})).await;
        let items = held.matched().await;
        assert_eq!(items.len(), 1, "{items:?}");
        assert_eq!(items[0]["id"], call["id"]);
        assert_eq!(items[0]["status"], "Completed");
        assert_eq!(statuses(&items[0]), ["Queued", "Ringing", "In Progress", "Completed"]);
    }

    async fn held_calls_request_for_busy_stays_held_across_moves_short_of_it(backend) {
        let app = spawn_app(backend).await;
        let path = format!("/_emulator/calls?to={}&status=Busy&wait={WAIT}", q(JANE_PHONE));
        let mut held = hold(&app, &path);
        let call = act(&app, CALL_ACTION, json!({"toPhone": JANE_PHONE, "ivrId": MENU_IVR})).await;
        let id = call["id"].as_str().unwrap();
        held.assert_held("a Queued call").await;
        move_to(&app, "calls", id, json!({"status": "Ringing"})).await;
        held.assert_held("a move to Ringing").await;
        let other = act(&app, CALL_ACTION, json!({"toPhone": JANE_PHONE, "ivrId": MENU_IVR})).await;
        move_to(&app, "calls", other["id"].as_str().unwrap(), json!({"status": "No Answer"})).await;
        held.assert_held("another call No Answer").await;

        let moved = move_to(&app, "calls", id, json!({"status": "Busy"})).await;
        let items = held.matched().await;
        assert_eq!(items, std::slice::from_ref(&moved), "{path}");
        assert_eq!(items[0]["status"], "Busy");
        assert_eq!(statuses(&items[0]), ["Queued", "Ringing", "Busy"]);
    }

    async fn held_request_for_one_message_by_id_waits_for_that_one_alone(backend) {
        let app = spawn_app(backend).await;
        let sms = json!({"toPhone": JANE_PHONE, "bodyText": "Your code is 1234"});
        let mine = act(&app, SMS_ACTION, sms.clone()).await;
        let id = id_of(&mine);
        let path = format!("/_emulator/messages?id={id}&status=Delivered&wait={WAIT}");
        let mut held = hold(&app, &path);
        held.assert_held("a Queued message").await;
        // Another message to the same number, delivered first: not the one waited for.
        let other = act(&app, SMS_ACTION, sms).await;
        move_to(&app, "messages", &id_of(&other), json!({"status": "Delivered"})).await;
        held.assert_held("another message delivered").await;
        move_to(&app, "messages", &id, json!({"status": "Sent"})).await;
        held.assert_held("a move to Sent").await;

        let moved = move_to(&app, "messages", &id, json!({"status": "Delivered"})).await;
        let items = held.matched().await;
        assert_eq!(items, std::slice::from_ref(&moved), "{path}");
    }

    async fn held_tasks_request_answers_only_the_task_matching_every_filter(backend) {
        let app = spawn_app(backend).await;
        let earlier = act(&app, SMS_ACTION, json!({"toPhone": JANE_PHONE, "bodyText": "Hi", "recordId": JANE_CONTACT})).await;
        let earlier_task = app.item(&format!("/_emulator/tasks/{}", earlier["taskId"].as_str().unwrap())).await;
        let path = format!(
            "/_emulator/tasks?userId={ADA}&relatedRecordId={JANE_CONTACT}&status=Completed&since={}&limit=1&wait={WAIT}",
            just_after(&earlier_task["createdDate"]),
        );
        let mut held = hold(&app, &path);
        held.assert_held("nothing new").await;
        let misses = [
            ("an SMS without a record (no Task)", SMS_ACTION, json!({"toPhone": JANE_PHONE, "bodyText": "Hi"})),
            ("a Task of another record", SMS_ACTION, json!({"toPhone": JANE_PHONE, "bodyText": "Hi", "recordId": BOB_LEAD})),
            ("a Task of another user", SMS_ACTION,
                json!({"toPhone": JANE_PHONE, "bodyText": "Hi", "recordId": JANE_CONTACT, "userId": KATHERINE})),
            ("a call Task of another user", CALL_ACTION,
                json!({"toPhone": JANE_PHONE, "ivrId": MENU_IVR, "recordId": JANE_CONTACT, "userId": GRACE})),
        ];
        for (miss, action, input) in misses {
            act(&app, action, input).await;
            held.assert_held(miss).await;
        }
        let call = act(&app, CALL_ACTION, json!({"toPhone": JANE_PHONE, "ivrId": MENU_IVR, "recordId": JANE_CONTACT})).await;
        let items = held.matched().await;
        let task = app.item(&format!("/_emulator/tasks/{}", call["taskId"].as_str().unwrap())).await;
        assert_eq!(items, std::slice::from_ref(&task), "{path}");
        assert_eq!(task["callId"], call["id"]);
    }

    async fn held_voip_errors_request_answers_only_the_error_matching_every_filter(backend) {
        let app = spawn_app(backend).await;
        let jane = |extra: Value| with_changes(json!({"toPhone": JANE_PHONE, "bodyText": "Hi"}), extra);
        let message = act(&app, SMS_ACTION, jane(json!({}))).await;
        let id = message["id"].as_str().unwrap();
        // An explicit error code on a move logs an error: one of this message, before `since`.
        move_to(&app, "messages", id, json!({"status": "Sent", "errorCode": 30007})).await;
        let earlier = app.items(&format!("/_emulator/voip-errors?relatedRecordId={id}")).await;
        assert_eq!(earlier.len(), 1, "{earlier:?}");
        let path = format!(
            "/_emulator/voip-errors?to={}&from={}&userId={ADA}&relatedRecordId={id}&since={}&limit=1&wait={WAIT}",
            q(JANE_PHONE), q(ADA_PHONE), just_after(&earlier[0]["createdDate"]),
        );
        let mut held = hold(&app, &path);
        held.assert_held("nothing new").await;
        let misses = [
            ("another message's error", json!({})),
            ("an error to another number", json!({"toPhone": JANE_MOBILE})),
            ("an error from another caller ID", json!({"fromPhone": MAIN_PHONE})),
            ("an error of another user", json!({"userId": KATHERINE, "fromPhone": ADA_PHONE})),
        ];
        for (miss, extra) in misses {
            let other = act(&app, SMS_ACTION, jane(extra)).await;
            move_to(&app, "messages", other["id"].as_str().unwrap(), json!({"status": "Undelivered"})).await;
            held.assert_held(miss).await;
        }
        move_to(&app, "messages", id, json!({"status": "Undelivered"})).await;
        let items = held.matched().await;
        assert_eq!(items.len(), 1, "{items:?}");
        assert_eq!(items[0]["recordId"], id);
        assert_eq!(items[0]["errorCode"], 30003);
        assert_eq!(items[0]["recordType"], "FastCall__SMS_Message__c");
        assert_eq!(items[0], app.item(&format!("/_emulator/voip-errors/{}", id_of(&items[0]))).await);
    }

    async fn held_voip_errors_request_is_answered_by_a_refused_sms(backend) {
        let app = spawn_app(backend).await;
        let path = format!("/_emulator/voip-errors?to={}&wait={WAIT}", q(REFUSED_21211));
        let mut held = hold(&app, &path);
        held.assert_held("nothing yet").await;
        act(&app, SMS_ACTION, json!({"toPhone": JANE_PHONE, "bodyText": "Hi"})).await;
        held.assert_held("an accepted SMS").await;
        let refused = app.post(CALL_ACTION, &json!({"toPhone": REFUSED_21612, "ivrId": MENU_IVR})).await;
        assert_exception(&refused, StatusCode::BAD_GATEWAY, 100);
        held.assert_held("a refused call to another number").await;

        let refused = app.post(SMS_ACTION, &json!({"toPhone": REFUSED_21211, "bodyText": "No"})).await;
        assert_exception(&refused, StatusCode::BAD_GATEWAY, 100);
        let items = held.matched().await;
        let message = &app.items("/_emulator/messages?limit=1").await[0];
        assert_eq!(items.len(), 1, "{items:?}");
        assert_eq!(items[0]["recordId"], message["id"]);
        assert_eq!(items[0]["errorCode"], 21211);
        assert_eq!(items[0]["recordType"], "FastCall__SMS_Message__c");
    }

    async fn held_voip_errors_requests_are_answered_by_timed_failure_steps(backend) {
        let app = spawn_timed(backend).await;
        let mut of_sms = hold(&app, &format!("/_emulator/voip-errors?to={}&wait={WAIT}", q(UNDELIVERED_PHONE)));
        let of_call = hold(&app, &format!("/_emulator/voip-errors?to={}&wait={WAIT}", q(CALL_FAILS_PHONE)));
        of_sms.assert_held("nothing yet").await;
        let sms = act(&app, SMS_ACTION, json!({"toPhone": UNDELIVERED_PHONE, "bodyText": "Hi"})).await;
        let call = act(&app, CALL_ACTION, json!({"toPhone": CALL_FAILS_PHONE, "ivrId": MENU_IVR})).await;
        assert_eq!((&sms["status"], &call["status"]), (&json!("Queued"), &json!("Queued")));

        let items = of_sms.matched().await;
        assert_eq!(items.len(), 1, "{items:?}");
        assert_eq!(items[0]["recordId"], sms["id"]);
        assert_eq!(items[0]["providerId"], sms["smsId"]);
        assert_eq!(items[0]["provider"], "simulated");
        assert_eq!(items[0]["errorCode"], 30003);
        assert_eq!(items[0]["recordType"], "FastCall__SMS_Message__c");

        let items = of_call.matched().await;
        assert_eq!(items.len(), 1, "{items:?}");
        assert_eq!(items[0]["recordId"], call["id"]);
        assert_eq!(items[0]["providerId"], call["callId"]);
        assert_eq!(items[0]["provider"], "simulated");
        assert_eq!(items[0]["errorCode"], 13224);
        assert_eq!(items[0]["recordType"], "FastCall__Call__c");
    }

    async fn held_status_log_request_answers_only_the_change_matching_every_filter(backend) {
        let app = spawn_app(backend).await;
        let set = |user: &str, status: Value| with_changes(json!({"userId": user}), status);
        let available = json!({"statusType": "Available"});
        let on_break = json!({"userStatusId": ON_BREAK_STATUS});
        act(&app, STATUS_ACTION, set(GRACE, available.clone())).await;
        let latest = act(&app, STATUS_ACTION, set(GRACE, on_break.clone())).await;
        assert_eq!(latest["changed"], true);
        let path = format!(
            "/_emulator/status-log?userId={GRACE}&status=Available&since={}&limit=1&wait={WAIT}",
            just_after(&latest["changedDate"]),
        );
        let mut held = hold(&app, &path);
        held.assert_held("nothing new").await;
        let misses = [
            ("Katherine going Offline", set(KATHERINE, json!({"statusType": "Offline"}))),
            ("Katherine going Available", set(KATHERINE, available.clone())),
            ("Grace keeping her status", set(GRACE, on_break)),
            ("Grace going Offline", set(GRACE, json!({"userStatusId": OFFLINE_STATUS}))),
        ];
        for (miss, input) in misses {
            act(&app, STATUS_ACTION, input).await;
            held.assert_held(miss).await;
        }
        let change = act(&app, STATUS_ACTION, set(GRACE, available)).await;
        let items = held.matched().await;
        let entry = app.item(&format!("/_emulator/status-log/{}", change["logId"].as_str().unwrap())).await;
        assert_eq!(items, std::slice::from_ref(&entry), "{path}");
        assert_eq!(entry["fromUserStatusId"], OFFLINE_STATUS);
        assert_eq!(entry["toStatusType"], "Available");
    }

    async fn held_requests_on_every_list_each_answer_when_their_own_match_comes(backend) {
        let app = spawn_app(backend).await;
        let mut held = vec![
            hold(&app, &format!("/_emulator/messages?to={}&wait={WAIT}", q(JANE_PHONE))),
            hold(&app, &format!("/_emulator/calls?to={}&wait={WAIT}", q(JANE_MOBILE))),
            hold(&app, &format!("/_emulator/tasks?relatedRecordId={BOB_LEAD}&wait={WAIT}")),
            hold(&app, &format!("/_emulator/voip-errors?to={}&wait={WAIT}", q(REFUSED_21211))),
            hold(&app, &format!("/_emulator/status-log?userId={GRACE}&wait={WAIT}")),
        ];
        held[0].assert_held("nothing yet").await;

        // Each action matches one request; the others stay held until theirs.
        let sms = act(&app, SMS_ACTION, json!({"toPhone": JANE_PHONE, "bodyText": "Hi"})).await;
        let messages = held.remove(0).matched().await;
        assert_all_held(&mut held, "an SMS to Jane").await;
        let call = act(&app, CALL_ACTION, json!({"toPhone": JANE_MOBILE, "ivrId": MENU_IVR})).await;
        let calls = held.remove(0).matched().await;
        assert_all_held(&mut held, "a call to Jane's mobile").await;
        let task_sms = act(&app, SMS_ACTION, json!({"toPhone": BOB_PHONE, "bodyText": "Hi", "recordId": BOB_LEAD})).await;
        let tasks = held.remove(0).matched().await;
        assert_all_held(&mut held, "an SMS to Bob").await;
        let refused = app.post(SMS_ACTION, &json!({"toPhone": REFUSED_21211, "bodyText": "No"})).await;
        assert_exception(&refused, StatusCode::BAD_GATEWAY, 100);
        let voip_errors = held.remove(0).matched().await;
        assert_all_held(&mut held, "a refused SMS").await;
        let change = act(&app, STATUS_ACTION, json!({"userId": GRACE, "statusType": "Available"})).await;
        let status_log = held.remove(0).matched().await;

        let ids = |items: &[Value]| items.iter().map(id_of).collect::<Vec<_>>();
        assert_eq!(ids(&messages), [id_of(&sms)]);
        assert_eq!(ids(&calls), [id_of(&call)]);
        assert_eq!(ids(&tasks), [task_sms["taskId"].as_str().unwrap()]);
        assert_eq!(voip_errors.len(), 1, "{voip_errors:?}");
        assert_eq!(voip_errors[0]["errorCode"], 21211);
        assert_eq!(voip_errors[0]["toPhone"], REFUSED_21211);
        assert_eq!(ids(&status_log), [change["logId"].as_str().unwrap()]);
    }

    async fn a_held_request_with_a_limit_answers_the_newest_matches_of_one_bulk_action(backend) {
        let app = spawn_app(backend).await;
        let path = format!("/_emulator/messages?to={}&limit=2", q(JANE_PHONE));
        let mut held = hold(&app, &format!("{path}&wait={WAIT}"));
        held.assert_held("nothing yet").await;
        let inputs: Vec<Value> = (0..3).map(|i| json!({"toPhone": JANE_PHONE, "bodyText": format!("Hi {i}")})).collect();
        let (status, results) = app.invoke("SubscriberSMSInvocable", json!(inputs)).await;
        assert_eq!(status, StatusCode::OK, "{results}");
        let items = held.matched().await;
        assert_eq!(items.len(), 2, "{items:?}");
        assert_eq!(items, app.items(&path).await);
    }

    async fn held_requests_answer_empty_when_the_server_stops(backend) {
        let app = spawn_app(backend).await;
        let mut held: Vec<Held> = unmatched_paths()
            .iter()
            .map(|path| hold(&app, &format!("{path}&wait={WAIT}")))
            .collect();
        // Time for the requests to arrive and be held.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_all_held(&mut held, "nothing").await;
        let stopping = Instant::now();
        app.stop().await;
        let stopped = stopping.elapsed();
        assert!(stopped < Duration::from_secs_f64(WAIT / 4.0), "stop took {stopped:?}");
        for request in held {
            let items = request.matched().await;
            assert!(items.is_empty(), "{items:?}");
        }
    }
}
