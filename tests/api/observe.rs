//! Watching it run (SPEC 13): `/metrics` parses as Prometheus text and its counters move with
//! the calls made; each action call is logged on one line, as text or JSON, with no colour
//! codes in a file; PostgreSQL's notices at start are not logged at info.

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;

use crate::backend_tests;
use crate::helpers::*;
use crate::process::{Emulator, free_port};

/// The samples of a Prometheus text exposition, by metric name and labels as written
/// (`name{a="b"}`); every line that is not a comment must be a sample.
fn parse(text: &str) -> BTreeMap<String, f64> {
    let mut samples = BTreeMap::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let kind = rest.rsplit(' ').next().unwrap();
                assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            }
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("not a sample: {line}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("not a value: {line}"));
        let name_end = series.find('{').unwrap_or(series.len());
        let name = &series[..name_end];
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && name.starts_with("fastcall_"),
            "{line}"
        );
        samples.insert(series.to_owned(), value);
    }
    samples
}

async fn metrics(app: &TestApp) -> BTreeMap<String, f64> {
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    parse(&response.text().await.unwrap())
}

fn sample(samples: &BTreeMap<String, f64>, series: &str) -> f64 {
    samples.get(series).copied().unwrap_or(0.0)
}

backend_tests! {
    async fn metrics_parse_and_count_the_calls_made(backend) {
        let app = spawn_app(backend).await;
        for _ in 0..3 {
            let (status, body) = app.send_sms(&json!({"toPhone": JANE_PHONE, "bodyText": "Hi"})).await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let (status, _) = app.send_sms(&json!({"toPhone": JANE_PHONE, "bodyText": "Hi", "fromPhone": VOICE_PHONE})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _) = app.send_sms(&json!({"toPhone": "+15005550001", "bodyText": "Hi"})).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY);
        let (status, _) = app.invoke("SubscriberSMSInvocable", json!([{"toPhone": JANE_PHONE, "bodyText": "bulk"}])).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = app.post("/actions/SubscriberCallInvocable", &json!({"toPhone": JANE_PHONE, "ivrId": MENU_IVR})).await;
        assert_eq!(status, StatusCode::OK);
        let (status, org) = app.get("/_emulator/org").await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = app.request(Method::PUT, "/orgs/other/_emulator/org", &[], Some(&org)).await;
        assert!(status.is_success(), "{body}");
        let (status, _) = app.post("/orgs/other/actions/SubscriberSMSInvocable", &json!({"toPhone": JANE_PHONE, "bodyText": "Hi"})).await;
        assert_eq!(status, StatusCode::OK);

        let m = metrics(&app).await;
        let action = |org: &str, action: &str, outcome: &str, code: &str| {
            sample(&m, &format!("fastcall_action_calls_total{{org=\"{org}\",action=\"{action}\",outcome=\"{outcome}\",code=\"{code}\"}}"))
        };
        assert_eq!(action("default", "SubscriberSMSInvocable", "ok", ""), 4.0, "{m:#?}");
        assert_eq!(action("default", "SubscriberSMSInvocable", "exception", "103"), 1.0);
        assert_eq!(action("default", "SubscriberSMSInvocable", "exception", "100"), 1.0);
        assert_eq!(action("default", "SubscriberCallInvocable", "ok", ""), 1.0);
        assert_eq!(action("other", "SubscriberSMSInvocable", "ok", ""), 1.0);
        let requests = |route: &str, status: u16| {
            sample(&m, &format!("fastcall_http_requests_total{{method=\"POST\",route=\"{route}\",status=\"{status}\"}}"))
        };
        assert_eq!(requests("/actions/{action}", 200), 5.0, "{m:#?}");
        assert_eq!(requests("/actions/{action}", 502), 1.0);
        assert!(requests("/services/data/{version}/actions/custom/apex/{action}", 200) >= 1.0, "{m:#?}");
        let hand_offs = |outcome: &str, kind: &str| {
            sample(&m, &format!("fastcall_provider_hand_offs_total{{provider=\"simulated\",kind=\"{kind}\",outcome=\"{outcome}\"}}"))
        };
        assert_eq!(hand_offs("accepted", "sms"), 5.0);
        assert_eq!(hand_offs("refused", "sms"), 1.0);
        assert_eq!(hand_offs("accepted", "call"), 1.0);
        assert_eq!(sample(&m, "fastcall_provider_refusals_total{provider=\"simulated\",code=\"21211\"}"), 1.0);
        assert_eq!(sample(&m, "fastcall_action_duration_seconds_count{action=\"SubscriberSMSInvocable\"}"), 7.0);
        assert!(sample(&m, "fastcall_group_commit_writes_count") >= 7.0, "{m:#?}");
        assert_eq!(sample(&m, "fastcall_orgs"), 2.0);
        assert!(sample(&m, "fastcall_db_pool_connections{state=\"idle\"}") + sample(&m, "fastcall_db_pool_connections{state=\"in_use\"}") >= 1.0);
        assert!(sample(&m, "fastcall_event_subscribers") >= 1.0, "the org follower subscribes");
    }

    async fn connections_held_stay_within_db_max_connections_and_the_gauges_count_them(backend) {
        // On PostgreSQL 3 of the 6 are the group tasks' own (`sql/lanes.rs`), 3 pooled.
        let db = TestDb::new(backend).await;
        let app = TestApp::start(&db, |config| config.db_max_connections = 6).await;
        let sends = (0..64).map(|i| {
            let body = json!({"toPhone": JANE_PHONE, "bodyText": format!("at once {i}")});
            let app = &app;
            async move { app.send_sms(&body).await }
        });
        for (status, body) in futures_util::future::join_all(sends).await {
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let m = metrics(&app).await;
        let held = sample(&m, "fastcall_db_pool_connections{state=\"idle\"}")
            + sample(&m, "fastcall_db_pool_connections{state=\"in_use\"}");
        assert!((1.0..=6.0).contains(&held), "{m:#?}");
        if backend == Backend::Postgres {
            // What the server counts, every connection of the emulator's application name
            // to this database (the event relay's among them): none beyond the budget.
            let mut conn = sqlx::PgConnection::connect(&db.url).await.expect("PostgreSQL");
            let (open,): (i64,) = sqlx::query_as(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE datname = current_database() AND application_name = 'fastcall-emulator'",
            )
            .fetch_one(&mut conn)
            .await
            .expect("counted");
            assert!((1..=6).contains(&open), "{open} connections open");
            assert_eq!(open as f64, held, "the gauges count what is open");

            // Every one of them cut by the server: the next SMS finds its connections
            // broken when it makes sure of them (the read of opt-outs, when it reads), and
            // opens others.
            sqlx::query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND application_name = 'fastcall-emulator'",
            )
            .execute(&mut conn)
            .await
            .expect("terminated");
            let (status, body) = app.send_sms(&json!({"toPhone": JANE_PHONE, "bodyText": "after the cut"})).await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        app.stop().await;
    }

    async fn every_answer_carries_a_request_id_and_a_caller_s_is_kept(backend) {
        let app = spawn_app(backend).await;
        let mine = app.client.get(app.url("/livez")).header("X-Request-Id", "trace-42").send().await.unwrap();
        assert_eq!(mine.headers()["x-request-id"], "trace-42");
        let fresh = app.client.get(app.url("/livez")).header("X-Request-Id", "").send().await.unwrap();
        let id = fresh.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_eq!(id.len(), 32, "{id}");
        let refused = app.client.post(app.url("/actions/SubscriberSMSInvocable")).body("{").send().await.unwrap();
        assert!(refused.headers().contains_key("x-request-id"));
    }

    async fn metrics_need_the_admin_token_when_one_is_set(backend) {
        let app = spawn_app_with(backend, |config| config.admin_token = Some("metrics-token".parse().unwrap())).await;
        let response = app.client.get(app.url("/metrics")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let response = app.client.get(app.url("/metrics")).bearer_auth("metrics-token").send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
}

/// The log lines, from the binary's own log file.
mod logs {
    use super::*;

    /// The binary with `args`, logging to a file in `dir`.
    async fn binary(dir: &std::path::Path, database_url: &str, args: &[&str]) -> Emulator {
        let addr = format!("127.0.0.1:{}", free_port());
        let args = [
            &["--addr", addr.as_str(), "--database-url", database_url],
            args,
        ]
        .concat();
        Emulator::start(dir, "emulator.log", &args, &[], format!("http://{addr}")).await
    }

    async fn one_sms_and_one_refusal(base_url: &str) {
        let client = crate::helpers::http().build().unwrap();
        for (to, from) in [(JANE_PHONE, None), (JANE_PHONE, Some(VOICE_PHONE))] {
            let mut input = json!({"toPhone": to, "bodyText": "Hi"});
            if let Some(from) = from {
                input["fromPhone"] = json!(from);
            }
            client
                .post(format!("{base_url}/actions/SubscriberSMSInvocable"))
                .header("X-Request-Id", format!("req-{}", input.to_string().len()))
                .json(&input)
                .send()
                .await
                .unwrap();
        }
    }

    backend_tests! {
        async fn each_action_call_is_one_plain_line_without_colour_codes(backend) {
            let db = TestDb::new(backend).await;
            let dir = tempfile::tempdir().unwrap();
            let emulator = binary(dir.path(), &db.url, &["--log", "info"]).await;
            one_sms_and_one_refusal(&emulator.base_url).await;
            let log = emulator.stderr_as_written();
            assert!(!log.contains('\u{1b}'), "colour codes in a file: {log}");
            let lines: Vec<&str> = log.lines().filter(|l| l.contains("action call")).collect();
            assert_eq!(lines.len(), 2, "{log}");
            assert!(lines[0].contains("org=default") && lines[0].contains("outcome=\"ok\"") && lines[0].contains("request_id=\"req-"), "{}", lines[0]);
            assert!(lines[1].contains("outcome=\"exception\"") && lines[1].contains("code=\"103\"") && lines[1].contains("duration_ms="), "{}", lines[1]);
            assert!(!log.contains("already exists, skipping"), "PostgreSQL's notice at info: {log}");
        }

        async fn each_action_call_is_one_json_object_with_json_logs(backend) {
            let db = TestDb::new(backend).await;
            let dir = tempfile::tempdir().unwrap();
            let emulator = binary(dir.path(), &db.url, &["--log-format", "json"]).await;
            one_sms_and_one_refusal(&emulator.base_url).await;
            let log = emulator.stderr_as_written();
            let objects: Vec<Value> = log
                .lines()
                .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON line: {line}")))
                .collect();
            let calls: Vec<&Value> = objects.iter().filter(|o| o["fields"]["message"] == "action call").collect();
            assert_eq!(calls.len(), 2, "{log}");
            let fields = &calls[1]["fields"];
            assert_eq!(fields["org"], "default");
            assert_eq!(fields["action"], "SubscriberSMSInvocable");
            assert_eq!(fields["outcome"], "exception");
            assert_eq!(fields["code"], "103");
            assert!(fields["request_id"].as_str().unwrap().starts_with("req-"), "{fields}");
            assert!(fields["duration_ms"].as_f64().is_some(), "{fields}");
            assert_eq!(calls[1]["level"], "INFO");
        }
    }
}
