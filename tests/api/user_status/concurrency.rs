//! Concurrent changes for one user are serialised: however the requests interleave, the
//! status log is a chain in which each entry starts where the previous one ended.

use std::collections::HashMap;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::*;
use crate::backend_tests;

/// Two status records and the two bare availabilities.
const TARGETS: [Status; 4] = [ON_BREAK, AVAILABLE_RECORD, BARE_AVAILABLE, BARE_OFFLINE];
const REQUESTS: usize = 60;

/// Fires `count` changes for `user` at once, cycling through TARGETS and spreading them over
/// the servers at `base_urls`; answers each request's target and output, in firing order.
async fn fire(
    client: &reqwest::Client,
    base_urls: &[String],
    user: &'static str,
    count: usize,
) -> Vec<(Status, Value)> {
    let tasks: Vec<_> = (0..count)
        .map(|i| {
            let target = TARGETS[i % TARGETS.len()];
            let url = format!(
                "{}{ACTION}",
                base_urls[(i / TARGETS.len()) % base_urls.len()]
            );
            let client = client.clone();
            let body = input(user, target);
            tokio::spawn(async move {
                let response = client
                    .post(url)
                    .json(&body)
                    .send()
                    .await
                    .expect("POST answered");
                let status = response.status();
                let output: Value = response.json().await.expect("a JSON body");
                assert_eq!(status, StatusCode::OK, "{body}: {output}");
                (target, output)
            })
        })
        .collect();
    let mut responses = Vec::with_capacity(count);
    for task in tasks {
        responses.push(task.await.expect("the request task"));
    }
    responses
}

fn as_json(status: Status) -> (Value, Value) {
    (json!(status.0), json!(status.1))
}

fn from(entry: &Value) -> (Value, Value) {
    (
        entry["fromUserStatusId"].clone(),
        entry["fromStatusType"].clone(),
    )
}

fn to(entry: &Value) -> (Value, Value) {
    (
        entry["toUserStatusId"].clone(),
        entry["toStatusType"].clone(),
    )
}

fn previous(output: &Value) -> (Value, Value) {
    (
        output["previousUserStatusId"].clone(),
        output["previousStatusType"].clone(),
    )
}

/// Asserts `user`'s whole log is a chain from `initial` to the user's current status, and
/// agrees with every response.
async fn assert_chain(app: &TestApp, user: &str, initial: Status, responses: &[(Status, Value)]) {
    let mut log = status_log(app, &format!("?userId={user}&limit=1000")).await;
    log.reverse();
    let changes = responses
        .iter()
        .filter(|(_, output)| output["changed"] == true)
        .count();
    assert_eq!(log.len(), changes, "one entry per change");
    assert!(!log.is_empty(), "alternating targets change something");
    assert_eq!(
        from(&log[0]),
        as_json(initial),
        "the first entry starts at the org's status: {}",
        log[0]
    );
    for (i, pair) in log.windows(2).enumerate() {
        assert_eq!(
            from(&pair[1]),
            to(&pair[0]),
            "entry {} does not start where entry {i} ended: {pair:?}",
            i + 1
        );
        assert!(
            parse_salesforce_datetime(&pair[1]["changedDate"])
                >= parse_salesforce_datetime(&pair[0]["changedDate"]),
            "{pair:?}"
        );
    }
    for entry in &log {
        assert_eq!(entry["userId"], user, "{entry}");
        assert_ne!(
            from(entry),
            to(entry),
            "a logged change changes something: {entry}"
        );
    }
    let last = log.last().unwrap();
    let current = user_state(app, user).await;
    assert_eq!(
        (
            current["userStatusId"].clone(),
            current["statusType"].clone()
        ),
        to(last),
        "{current}"
    );
    assert_eq!(current["changedDate"], last["changedDate"], "{current}");

    let by_id: HashMap<&str, &Value> = log.iter().map(|e| (e["id"].as_str().unwrap(), e)).collect();
    assert_eq!(by_id.len(), log.len(), "log Ids are unique");
    for (target, output) in responses {
        assert_eq!(output["userId"], user, "{output}");
        assert_eq!(
            (output["userStatusId"].clone(), output["statusType"].clone()),
            as_json(*target),
            "{output}"
        );
        if output["changed"] == true {
            let entry = by_id
                .get(output["logId"].as_str().expect("a log Id"))
                .unwrap_or_else(|| panic!("{output} is in the log"));
            assert_eq!(from(entry), previous(output), "{output} vs {entry}");
            assert_eq!(to(entry), as_json(*target), "{output} vs {entry}");
            assert_eq!(
                entry["changedDate"], output["changedDate"],
                "{output} vs {entry}"
            );
        } else {
            assert_eq!(output["changed"], false, "{output}");
            assert!(output["logId"].is_null(), "{output}");
            assert_eq!(
                previous(output),
                as_json(*target),
                "a no-op found the target already set: {output}"
            );
            // The time the target was set: by a logged change, or null for the org's own.
            if output["changedDate"].is_null() {
                assert_eq!(as_json(*target), as_json(initial), "{output}");
            } else {
                assert!(
                    log.iter()
                        .any(|e| e["changedDate"] == output["changedDate"]
                            && to(e) == as_json(*target)),
                    "{output} names a change to its target"
                );
            }
        }
    }
}

backend_tests! {
    async fn concurrent_changes_for_one_user_form_a_chain(backend) {
        let app = spawn_app(backend).await;
        let responses = fire(&app.client, std::slice::from_ref(&app.base_url), ADA, REQUESTS).await;
        assert_chain(&app, ADA, ADA_INITIAL, &responses).await;
        // The log holds nothing else.
        assert_eq!(status_log(&app, "?limit=1000").await.len(), status_log(&app, &format!("?userId={ADA}&limit=1000")).await.len());
    }

    async fn concurrent_changes_for_two_users_form_a_chain_each(backend) {
        let app = spawn_app(backend).await;
        let urls = std::slice::from_ref(&app.base_url);
        let (katherine, grace) = tokio::join!(
            fire(&app.client, urls, KATHERINE, REQUESTS / 2),
            fire(&app.client, urls, GRACE, REQUESTS / 2),
        );
        assert_chain(&app, KATHERINE, KATHERINE_INITIAL, &katherine).await;
        assert_chain(&app, GRACE, GRACE_INITIAL, &grace).await;
    }
}

/// SQLite serves one instance at a time (documented); two share only PostgreSQL.
#[tokio::test]
async fn concurrent_changes_through_two_postgres_instances_form_one_chain() {
    let Some((_db, first, second)) = two_postgres_instances(
        "concurrent_changes_through_two_postgres_instances_form_one_chain",
        |_| {},
    )
    .await
    else {
        return;
    };
    let urls = [first.base_url.clone(), second.base_url.clone()];
    let responses = fire(&first.client, &urls, ADA, REQUESTS).await;
    assert_chain(&first, ADA, ADA_INITIAL, &responses).await;
    let query = format!("?userId={ADA}&limit=1000");
    assert_eq!(
        status_log(&second, &query).await,
        status_log(&first, &query).await
    );
    assert_eq!(
        user_state(&second, ADA).await,
        user_state(&first, ADA).await
    );
    first.stop().await;
    second.stop().await;
}
