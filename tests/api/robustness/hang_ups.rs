//! Clients that hang up mid-request, again and again: whatever point of its transaction a
//! request was dropped at, no connection is left inside a transaction, and writes go on.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use sqlx::Connection;

use crate::backend_tests;
use crate::helpers::*;

/// How many clients hang up on their status changes at once, for how long they go on, and
/// over how many users their changes spread (so that few wait on another's row lock).
const HANGING_UP: usize = 64;
const HANG_UP_FOR: Duration = Duration::from_secs(4);
const USERS: usize = 500;

/// Adds `USERS` Fastcall users to the demo org; answers their Ids.
async fn add_users(app: &TestApp) -> Vec<String> {
    let (status, mut org) = app.get("/_emulator/org").await;
    assert_eq!(status, StatusCode::OK, "{org}");
    let ids: Vec<String> = (0..USERS).map(|n| format!("005Bn{n:010}")).collect();
    let users = org["users"].as_array_mut().expect("the org's users");
    users.extend(ids.iter().map(|id| {
        json!({"id": id, "name": format!("User {id}"), "fastcallUser": true, "statusType": "Offline"})
    }));
    let (status, body) = json_of(app.client.put(app.url("/_emulator/org")).json(&org)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    ids
}

/// Clients that send a status change and hang up within a few milliseconds, again and again,
/// so that requests are dropped at every point of their transactions.
async fn hang_up_on_status_changes(app: &TestApp, users: &[String]) {
    let until = Instant::now() + HANG_UP_FOR;
    let clients: Vec<_> = (0..HANGING_UP)
        .map(|i| {
            let url = app.url("/actions/SubscriberUserStatusInvocable");
            let users = users.to_vec();
            tokio::spawn(async move {
                let mut n = i * 7919;
                while Instant::now() < until {
                    n += 1;
                    let status = if n % 2 == 0 { "Available" } else { "Offline" };
                    let user = &users[n * 31 % users.len()];
                    let patience = Duration::from_micros(300 + (n as u64 * 337) % 5000);
                    let client = http().timeout(patience).build().expect("a client");
                    let body = json!({"userId": user, "statusType": status});
                    // Cut off, or answered: either way the next one goes.
                    let _ = client.post(&url).json(&body).send().await;
                }
            })
        })
        .collect();
    for client in clients {
        client.await.expect("the client ran");
    }
}

backend_tests! {
    async fn clients_hanging_up_mid_transaction_leave_none_open_and_writes_go_on(backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::start(&db, |_| {}).await;
        let users = add_users(&app).await;
        hang_up_on_status_changes(&app, &users).await;
        // Let what was cut off settle.
        tokio::time::sleep(Duration::from_millis(500)).await;
        if backend == Backend::Postgres {
            // A transaction begun for a request that was then dropped, and left open on a
            // pooled connection, would hold its locks for good: the next statement on that
            // connection runs inside it and is never committed.
            let mut conn = sqlx::PgConnection::connect(&db.url).await.expect("PostgreSQL");
            let (open,): (i64,) = sqlx::query_as(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
            )
            .fetch_one(&mut conn)
            .await
            .expect("counted");
            assert_eq!(open, 0, "connections left inside a transaction");
        }
        // Every pooled connection takes a write, and answers it.
        for _ in 0..20 {
            let sent = tokio::time::timeout(
                Duration::from_secs(10),
                app.send_sms(&json!({"toPhone": "+14155550123", "bodyText": "still stored"})),
            )
            .await
            .expect("an SMS answered in time");
            assert_eq!(sent.0, StatusCode::OK, "{}", sent.1);
        }
        app.stop().await;
    }
}
