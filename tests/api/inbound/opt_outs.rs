//! What an opt-out does to later messages, and the list of opt-outs: filtered, kept across
//! restarts, cleared by reset, each org's own, and the same on every instance.

use fastcall_emulator::org::DEMO_ORG_YAML;

use super::*;
use crate::backend_tests;

/// `%2B14155550123`: a number for a query string.
fn query_number(number: &str) -> String {
    number.replace('+', "%2B")
}

backend_tests! {
    async fn an_opted_out_customer_is_refused_21610_by_that_number_and_texted_by_others(backend) {
        let app = spawn_app(backend).await;
        text(&app, JANE_PHONE, ADA_PHONE, "STOP").await;

        let refused = send_from(&app, ADA_PHONE, JANE_PHONE).await;
        assert_error(&refused, StatusCode::BAD_GATEWAY, 100, "21610", "opted out");
        let failed = &app.items(&format!("/_emulator/messages?status=Failed&to={}", query_number(JANE_PHONE))).await;
        assert_eq!(failed.len(), 1, "{failed:?}");
        assert_eq!(failed[0]["errorCode"], 21610);
        assert_eq!(failed[0]["fromPhone"], ADA_PHONE);
        let logged = app.items("/_emulator/voip-errors").await;
        assert_eq!(logged.len(), 1, "{logged:?}");
        assert_eq!(logged[0]["errorCode"], 21610);
        assert_eq!(logged[0]["recordId"], failed[0]["id"]);
        assert_eq!(logged[0]["userId"], ADA);

        // The org's other numbers still text her; Ada's line still texts everyone else.
        let (status, output) = send_from(&app, MAIN_PHONE, JANE_PHONE).await;
        assert_eq!(status, StatusCode::OK, "{output}");
        let (status, output) = send_from(&app, ADA_PHONE, STRANGER).await;
        assert_eq!(status, StatusCode::OK, "{output}");
        // Her number as she may have typed it: the dialling rule finds the same customer.
        let (status, body) = send_from(&app, ADA_PHONE, "(415) 555-0123").await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    }

    async fn an_opted_out_recipient_fails_a_salesforce_rest_batch_but_the_accepted_stay(backend) {
        let app = spawn_app(backend).await;
        text(&app, JANE_PHONE, ADA_PHONE, "UNSUBSCRIBE").await;
        let inputs = json!([
            {"fromPhone": ADA_PHONE, "toPhone": STRANGER, "bodyText": "one"},
            {"fromPhone": ADA_PHONE, "toPhone": JANE_PHONE, "bodyText": "two"},
        ]);
        let (status, results) = app.invoke("SubscriberSMSInvocable", inputs).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{results}");
        let message = assert_all_failed(results.as_array().unwrap(), "SubscriberSMSInvocable", 100);
        assert!(message.contains("21610"), "{message}");
        // As with every provider refusal: what the provider accepted is kept, the refused
        // message is kept as Failed.
        let sent = app.items("/_emulator/messages?direction=Outbound").await;
        let statuses: Vec<_> = sent.iter().map(|m| (m["toPhone"].clone(), m["status"].clone())).collect();
        assert_eq!(statuses.len(), 3, "two sent and one reply: {statuses:?}");
        assert!(statuses.contains(&(json!(STRANGER), json!("Queued"))), "{statuses:?}");
        assert!(statuses.contains(&(json!(JANE_PHONE), json!("Failed"))), "{statuses:?}");
    }

    async fn opt_outs_are_listed_newest_first_and_filtered(backend) {
        let app = spawn_app(backend).await;
        text(&app, JANE_PHONE, ADA_PHONE, "STOP").await;
        text(&app, STRANGER, ADA_PHONE, "STOP").await;
        text(&app, JANE_PHONE, MAIN_PHONE, "QUIT").await;
        let all = opt_outs(&app, "").await;
        let routes: Vec<_> = all.iter().map(|o| (o["fromPhone"].as_str().unwrap(), o["toPhone"].as_str().unwrap())).collect();
        assert_eq!(routes, [(JANE_PHONE, MAIN_PHONE), (STRANGER, ADA_PHONE), (JANE_PHONE, ADA_PHONE)]);
        assert_eq!(keys(&all[0]), ["fromPhone", "messageId", "phoneNumberId", "since", "toPhone"]);
        assert_eq!(opt_outs(&app, &format!("?from={}", query_number(JANE_PHONE))).await.len(), 2);
        assert_eq!(opt_outs(&app, &format!("?to={}", query_number(ADA_PHONE))).await.len(), 2);
        let one = opt_outs(&app, &format!("?from={}&to={}", query_number(JANE_PHONE), query_number(MAIN_PHONE))).await;
        assert_eq!(one.len(), 1);
        assert_eq!(opt_outs(&app, "?limit=1").await, all[..1]);
        assert_eq!(opt_outs(&app, "?since=2999-01-01T00:00:00Z").await, Vec::<Value>::new());
        // Filters that fit no opt-out are refused, as in every list.
        for query in ["userId=005Dn0000001AdaIAE", "status=Received", "direction=Inbound", "id=a0SDn0000000001"] {
            let (status, body) = app.get(&format!("/_emulator/opt-outs?{query}")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
            assert_eq!(body["errorCode"], "INVALID_FILTER", "{query}");
        }
    }

    async fn a_long_poll_on_opt_outs_wakes_when_the_customer_texts_stop(backend) {
        let app = spawn_app(backend).await;
        let path = format!("/_emulator/opt-outs?from={}&wait=10", query_number(JANE_PHONE));
        let (polled, ()) = polled_while(&app, &path, async {
            text(&app, STRANGER, ADA_PHONE, "STOP").await;
            text(&app, JANE_PHONE, ADA_PHONE, "STOP").await;
        })
        .await;
        assert_eq!(polled["items"][0]["fromPhone"], JANE_PHONE, "{polled}");
    }

    async fn opt_outs_survive_a_restart_and_are_cleared_by_reset(backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::start(&db, |_| {}).await;
        text(&app, JANE_PHONE, ADA_PHONE, "STOP").await;
        app.stop().await;
        let app = TestApp::start(&db, |_| {}).await;
        assert_eq!(opt_outs(&app, "").await.len(), 1, "kept across the restart");
        let (status, _) = send_from(&app, ADA_PHONE, JANE_PHONE).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "still refused after the restart");
        let (status, body) = app.post("/_emulator/reset", &json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(opt_outs(&app, "").await.is_empty());
        let (status, output) = send_from(&app, ADA_PHONE, JANE_PHONE).await;
        assert_eq!(status, StatusCode::OK, "{output}");
        app.stop().await;
    }

    async fn an_opt_out_is_its_orgs_own(backend) {
        let app = spawn_app(backend).await;
        let request = app
            .client
            .put(app.url("/orgs/qa/_emulator/org"))
            .header("content-type", "application/yaml")
            .body(DEMO_ORG_YAML);
        let (status, body) = json_of(request).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, received) = app
            .post("/orgs/qa/_emulator/inbound", &json!({"from": JANE_PHONE, "to": ADA_PHONE, "body": "STOP"}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{received}");
        assert_eq!(app.items("/orgs/qa/_emulator/opt-outs").await.len(), 1);
        assert!(opt_outs(&app, "").await.is_empty(), "the default org's customers are not qa's");
        let (status, output) = send_from(&app, ADA_PHONE, JANE_PHONE).await;
        assert_eq!(status, StatusCode::OK, "the default org still texts her: {output}");
        let input = json!({"fromPhone": ADA_PHONE, "toPhone": JANE_PHONE, "bodyText": "Hi"});
        let (status, _) = app.post("/orgs/qa/actions/SubscriberSMSInvocable", &input).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "qa does not");
        let (status, body) = app.request(reqwest::Method::DELETE, "/orgs/qa", &[], None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, _) = app.get("/orgs/qa/_emulator/opt-outs").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opt_out_texted_to_one_instance_is_honoured_at_once_by_another() {
    let Some((_db, first, second)) = two_postgres_instances(
        "an_opt_out_texted_to_one_instance_is_honoured_at_once_by_another",
        |_| {},
    )
    .await
    else {
        return;
    };
    text(&first, JANE_PHONE, ADA_PHONE, "STOP").await;
    let (status, body) = send_from(&second, ADA_PHONE, JANE_PHONE).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(opt_outs(&second, "").await.len(), 1);
    text(&second, JANE_PHONE, ADA_PHONE, "START").await;
    let (status, body) = send_from(&first, ADA_PHONE, JANE_PHONE).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_texted_to_one_instance_wakes_a_long_poll_on_another() {
    let Some((_db, first, second)) = two_postgres_instances(
        "a_message_texted_to_one_instance_wakes_a_long_poll_on_another",
        |_| {},
    )
    .await
    else {
        return;
    };
    let path = "/_emulator/messages?direction=Inbound&wait=10";
    let texting = text(&first, JANE_PHONE, ADA_PHONE, "On my way");
    let (polled, received) = polled_while(&second, path, texting).await;
    assert_eq!(polled["items"], json!([received["message"]]));
}
