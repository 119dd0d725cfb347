//! What a key is bound to and how long: the same key with another body, route or caller is
//! 422; malformed keys are 400; requests refused before they ran keep no key; concurrent
//! calls with one key run once; keys outlive a restart, expire after their TTL and go with a
//! reset.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::*;
use crate::backend_tests;

const REUSED: &str = "IDEMPOTENCY_KEY_REUSED";

/// A request refused before it ran: its name, path, body and headers.
type Refusal<'a> = (&'a str, &'a str, String, &'a [(&'a str, &'a str)]);

backend_tests! {
    async fn the_same_key_with_another_body_is_422_and_runs_nothing(backend) {
        let app = spawn_app(backend).await;
        post_keyed(&app, SMS, "k-body", &[], &sms("first")).await.assert_ran(StatusCode::OK);
        let other = post_keyed(&app, SMS, "k-body", &[], &sms("second")).await;
        assert_platform_error(&other, StatusCode::UNPROCESSABLE_ENTITY, REUSED);

        let body = inputs(&[sms("bulk first")]);
        post_keyed(&app, APEX_SMS, "k-bulk", &[], &body).await.assert_ran(StatusCode::OK);
        let other = post_keyed(&app, APEX_SMS, "k-bulk", &[], &inputs(&[sms("bulk second")])).await;
        assert_salesforce_error(&other, StatusCode::UNPROCESSABLE_ENTITY, REUSED);

        let messages = items(&app, "messages").await;
        let bodies: Vec<_> = messages.iter().map(|m| m["body"].clone()).collect();
        assert_eq!(bodies, [json!("bulk first"), json!("first")]);
    }

    async fn a_retry_with_its_keys_reordered_and_other_whitespace_is_replayed(backend) {
        let app = spawn_app(backend).await;
        let first = format!(r#"{{"toPhone":"{JANE_PHONE}","bodyText":"Hi there","recordId":"{JANE_CONTACT}"}}"#);
        let retry = format!("{{\n  \"recordId\" : \"{JANE_CONTACT}\",\n  \"bodyText\": \"Hi there\",\t\"toPhone\": \"{JANE_PHONE}\"\n}}\n");
        let ran = post_raw_keyed(&app, SMS, b"k-canonical", first).await;
        ran.assert_ran(StatusCode::OK);
        post_raw_keyed(&app, SMS, b"k-canonical", retry).await.assert_replay_of(&ran);

        let first = format!(
            r#"{{"inputs":[{{"toPhone":"{JANE_PHONE}","bodyText":"one"}},{{"toPhone":"{BOB_PHONE}","bodyText":"two"}}]}}"#
        );
        let retry = format!(
            "{{ \"inputs\": [\n {{ \"bodyText\": \"one\", \"toPhone\": \"{JANE_PHONE}\" }},\n {{ \"bodyText\": \"two\", \"toPhone\": \"{BOB_PHONE}\" }}\n] }}"
        );
        let ran = post_raw_keyed(&app, APEX_SMS, b"k-canonical-bulk", first).await;
        ran.assert_ran(StatusCode::OK);
        post_raw_keyed(&app, APEX_SMS, b"k-canonical-bulk", retry).await.assert_replay_of(&ran);

        // The inputs in another order are another request: they are answered in order.
        let swapped = format!(
            r#"{{"inputs":[{{"toPhone":"{BOB_PHONE}","bodyText":"two"}},{{"toPhone":"{JANE_PHONE}","bodyText":"one"}}]}}"#
        );
        let other = post_raw_keyed(&app, APEX_SMS, b"k-canonical-bulk", swapped).await;
        assert_salesforce_error(&other, StatusCode::UNPROCESSABLE_ENTITY, REUSED);
        assert_eq!(items(&app, "messages").await.len(), 3);
    }

    async fn the_same_key_on_another_action_route_is_422_and_runs_nothing(backend) {
        let app = spawn_app(backend).await;
        let first = post_keyed(&app, SMS, "k-route", &[], &sms("x")).await;
        first.assert_ran(StatusCode::OK);
        // Another action, with a body it would take.
        let other = post_keyed(&app, CALL, "k-route", &[], &call()).await;
        assert_platform_error(&other, StatusCode::UNPROCESSABLE_ENTITY, REUSED);
        let other = post_keyed(&app, STATUS, "k-route", &[], &on_break(ADA)).await;
        assert_platform_error(&other, StatusCode::UNPROCESSABLE_ENTITY, REUSED);
        // The same action through the Salesforce shape, and another one there.
        let other = post_keyed(&app, APEX_SMS, "k-route", &[], &inputs(&[sms("x")])).await;
        assert_salesforce_error(&other, StatusCode::UNPROCESSABLE_ENTITY, REUSED);
        let other = post_keyed(&app, APEX_CALL, "k-route", &[], &inputs(&[call()])).await;
        assert_salesforce_error(&other, StatusCode::UNPROCESSABLE_ENTITY, REUSED);

        assert_eq!(items(&app, "messages").await.len(), 1);
        assert!(items(&app, "calls").await.is_empty());
        assert!(items(&app, "status-log").await.is_empty());
    }

    async fn the_same_key_from_another_invoking_user_is_422(backend) {
        let app = spawn_app(backend).await;
        let as_grace = [("X-Fastcall-User-Id", GRACE)];
        let first = post_keyed(&app, SMS, "k-user", &as_grace, &sms("x")).await;
        first.assert_ran(StatusCode::OK);
        assert_eq!(first.body["owner"], GRACE, "{}", first.text);
        let as_ada = [("X-Fastcall-User-Id", ADA)];
        for headers in [&as_ada[..], &[][..]] {
            let other = post_keyed(&app, SMS, "k-user", headers, &sms("x")).await;
            assert_platform_error(&other, StatusCode::UNPROCESSABLE_ENTITY, REUSED);
        }
        // The 15-character form names the same user.
        let grace_15 = [("X-Fastcall-User-Id", &GRACE[..15])];
        post_keyed(&app, SMS, "k-user", &grace_15, &sms("x")).await.assert_replay_of(&first);
        let messages = items(&app, "messages").await;
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert_eq!(messages[0]["userId"], GRACE);
    }

    async fn with_api_keys_the_same_key_from_another_keys_user_is_422(backend) {
        let app = spawn_app_with_org(backend, &keyed_demo_org()).await;
        let ada = format!("Bearer {ADA_KEY}");
        let first = post_keyed(&app, SMS, "k-api", &[("Authorization", &ada)], &sms("x")).await;
        first.assert_ran(StatusCode::OK);
        let other = post_keyed(&app, SMS, "k-api", &[("X-API-Key", GRACE_KEY)], &sms("x")).await;
        assert_platform_error(&other, StatusCode::UNPROCESSABLE_ENTITY, REUSED);
        // Ada's key in the other header is the same caller.
        post_keyed(&app, SMS, "k-api", &[("X-API-Key", ADA_KEY)], &sms("x")).await.assert_replay_of(&first);
        assert_eq!(items(&app, "messages").await.len(), 1);
    }

    async fn malformed_keys_are_400_and_run_nothing(backend) {
        let app = spawn_app(backend).await;
        let long = "k".repeat(256);
        let cases: [(&str, &[u8]); 6] = [
            ("empty", b""),
            ("256 characters", long.as_bytes()),
            ("non-ASCII", "clé-1".as_bytes()),
            ("a tab inside", b"key\tone"),
            ("a space inside", b"key one"),
            ("Latin-1 bytes", b"key\xe9"),
        ];
        for (case, key) in cases {
            let direct = post_raw_keyed(&app, SMS, key, sms("x").to_string()).await;
            let message = assert_api_exception(&direct, StatusCode::BAD_REQUEST, 104);
            assert!(message.contains("Idempotency-Key"), "{case}: {message}");
            let bulk = post_raw_keyed(&app, APEX_SMS, key, inputs(&[sms("x")]).to_string()).await;
            assert_salesforce_error(&bulk, StatusCode::BAD_REQUEST, "INVALID_IDEMPOTENCY_KEY");
            let status = post_raw_keyed(&app, STATUS, key, on_break(ADA).to_string()).await;
            assert_api_exception(&status, StatusCode::BAD_REQUEST, 104);
        }
        assert!(items(&app, "messages").await.is_empty());
        assert!(items(&app, "status-log").await.is_empty());

        // The longest key, and every visible ASCII character, are fine.
        let longest = "k".repeat(255);
        let visible: String = (b'!'..=b'~').map(char::from).collect();
        for key in [longest, visible] {
            let first = post_raw_keyed(&app, SMS, key.as_bytes(), sms("x").to_string()).await;
            first.assert_ran(StatusCode::OK);
            post_raw_keyed(&app, SMS, key.as_bytes(), sms("x").to_string()).await.assert_replay_of(&first);
        }
        assert_eq!(items(&app, "messages").await.len(), 2);
    }

    async fn requests_refused_before_running_keep_no_key(backend) {
        let app = spawn_app_with(backend, |config| config.max_body_bytes = 2000).await;
        // Each refusal is followed by the fixed request with the same key: it runs.
        let direct_refusals: [Refusal; 5] = [
            ("malformed JSON", SMS, "{\"toPhone\": ".into(), &[]),
            ("an unknown field", SMS, json!({ "toPhone": JANE_PHONE, "bodyTxt": "x" }).to_string(), &[]),
            ("an unknown action", "/actions/SubscriberFaxInvocable", sms("x").to_string(), &[]),
            ("an oversized body", SMS, sms(&"x".repeat(3000)).to_string(), &[]),
            ("a malformed user header", SMS, sms("x").to_string(), &[("X-Fastcall-User-Id", "nobody")]),
        ];
        for (case, path, body, headers) in direct_refusals {
            let key = format!("fix-{case}").replace(' ', "-");
            let mut request = app.client.post(app.url(path)).header(IDEMPOTENCY_KEY, &key).body(body);
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            let refused = Reply::from(request.send().await.unwrap()).await;
            assert!(refused.status.is_client_error(), "{case}: {}", refused.text);
            assert_eq!(refused.replayed, None, "{case}");
            let fixed = post_keyed(&app, SMS, &key, &[], &sms("fixed")).await;
            assert_eq!(fixed.status, StatusCode::OK, "{case}: {}", fixed.text);
            assert_eq!(fixed.replayed, None, "{case}: the refusal was kept");
        }
        let bulk_refusals = [
            ("inputs not an array", json!({ "inputs": "x" })),
            ("no inputs", json!({ "inputs": [] })),
            ("an unknown envelope field", json!({ "inputs": [sms("x")], "extra": 1 })),
        ];
        for (case, body) in bulk_refusals {
            let key = format!("fix-bulk-{case}").replace(' ', "-");
            let refused = post_keyed(&app, APEX_SMS, &key, &[], &body).await;
            assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{case}: {}", refused.text);
            let fixed = post_keyed(&app, APEX_SMS, &key, &[], &inputs(&[sms("fixed")])).await;
            fixed.assert_ran(StatusCode::OK);
        }
        assert_eq!(items(&app, "messages").await.len(), 8);
    }

    async fn concurrent_calls_with_one_key_send_once_and_share_the_answer(backend) {
        let app = std::sync::Arc::new(
            spawn_app_with(backend, |config| config.provider_latency_ms = 300).await,
        );
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let app = app.clone();
                tokio::spawn(async move { post_keyed(&app, SMS, "k-race", &[], &sms("race")).await })
            })
            .collect();
        let mut replies = Vec::new();
        for task in tasks {
            replies.push(task.await.expect("the request task"));
        }
        let ran: Vec<_> = replies.iter().filter(|r| r.replayed.is_none()).collect();
        assert_eq!(ran.len(), 1, "exactly one call ran: {replies:?}");
        for reply in &replies {
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
            assert_eq!(reply.text, ran[0].text);
        }
        assert_only(&items(&app, "messages").await, &ran[0].body["id"]);
    }

    async fn concurrent_bulk_calls_with_one_key_place_once(backend) {
        let app = std::sync::Arc::new(
            spawn_app_with(backend, |config| config.provider_latency_ms = 300).await,
        );
        let body = inputs(&[call(), call()]);
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let (app, body) = (app.clone(), body.clone());
                tokio::spawn(async move { post_keyed(&app, APEX_CALL, "k-race", &[], &body).await })
            })
            .collect();
        let mut texts = Vec::new();
        for task in tasks {
            let reply = task.await.expect("the request task");
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
            texts.push(reply.text);
        }
        texts.dedup();
        assert_eq!(texts.len(), 1, "every caller got the one answer: {texts:?}");
        assert_eq!(items(&app, "calls").await.len(), 2);
    }

    async fn keys_survive_a_restart(backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::start(&db, |_| {}).await;
        let first = post_keyed(&app, SMS, "k-restart", &[], &sms("x")).await;
        first.assert_ran(StatusCode::OK);
        let status = post_keyed(&app, STATUS, "k-restart-status", &[], &on_break(ADA)).await;
        status.assert_ran(StatusCode::OK);
        app.stop().await;

        let app = TestApp::start(&db, |_| {}).await;
        post_keyed(&app, SMS, "k-restart", &[], &sms("x")).await.assert_replay_of(&first);
        let other = post_keyed(&app, SMS, "k-restart", &[], &sms("y")).await;
        assert_platform_error(&other, StatusCode::UNPROCESSABLE_ENTITY, REUSED);
        post_keyed(&app, STATUS, "k-restart-status", &[], &on_break(ADA)).await.assert_replay_of(&status);
        assert_eq!(items(&app, "messages").await.len(), 1);
        assert_eq!(items(&app, "status-log").await.len(), 1);
        app.stop().await;
    }

    async fn a_key_runs_again_once_its_ttl_has_passed(backend) {
        let app = spawn_app_with(backend, |config| config.idempotency_ttl_secs = 1).await;
        let first = post_keyed(&app, SMS, "k-ttl", &[], &sms("x")).await;
        first.assert_ran(StatusCode::OK);
        post_keyed(&app, SMS, "k-ttl", &[], &sms("x")).await.assert_replay_of(&first);
        tokio::time::sleep(Duration::from_millis(1500)).await;

        let again = post_keyed(&app, SMS, "k-ttl", &[], &sms("x")).await;
        again.assert_ran(StatusCode::OK);
        assert_ne!(again.body["id"], first.body["id"]);
        post_keyed(&app, SMS, "k-ttl", &[], &sms("x")).await.assert_replay_of(&again);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        // Expired, the key may even carry another request.
        post_keyed(&app, SMS, "k-ttl", &[], &sms("other")).await.assert_ran(StatusCode::OK);
        assert_eq!(items(&app, "messages").await.len(), 3);
    }

    async fn a_reset_forgets_keys(backend) {
        let app = spawn_app(backend).await;
        let first = post_keyed(&app, SMS, "k-reset", &[], &sms("x")).await;
        first.assert_ran(StatusCode::OK);
        let reset = send(&app, Method::POST, "/_emulator/reset", &[], None).await;
        assert_eq!(reset.status, StatusCode::OK, "{}", reset.text);

        let again = post_keyed(&app, SMS, "k-reset", &[], &sms("x")).await;
        again.assert_ran(StatusCode::OK);
        assert_ne!(again.body["id"], first.body["id"]);
        assert_only(&items(&app, "messages").await, &again.body["id"]);
    }
}
