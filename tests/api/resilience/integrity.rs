//! Whether the stored data is whole, whatever happened to the process that wrote it: no
//! record without its Task or provider id, no Task or VoIP error without its record, each
//! user's status log a chain, and exactly one event per record and log entry.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::*;
use crate::helpers::*;

/// What is stored (manual progression: every record as it was created).
pub(super) struct Stored {
    pub messages: Vec<Value>,
    pub calls: Vec<Value>,
    pub log: Vec<Value>,
}

/// Checks everything; `marker_id` is the newest message, whose `sms.created` ends the
/// replay of the events.
pub(super) async fn assert_whole(api: &Api, marker_id: &str) -> Stored {
    let stored = Stored {
        messages: api.items("/_emulator/messages").await,
        calls: api.items("/_emulator/calls").await,
        log: api.items("/_emulator/status-log").await,
    };
    assert_records_whole(api, &stored).await;
    assert_status_chains(api).await;
    assert_one_event_each(api, marker_id, &stored).await;
    stored
}

fn by_id(items: &[Value]) -> HashMap<String, &Value> {
    let id = |i: &Value| i["id"].as_str().expect("an id").to_owned();
    items.iter().map(|i| (id(i), i)).collect()
}

async fn assert_records_whole(api: &Api, stored: &Stored) {
    let tasks = api.items("/_emulator/tasks").await;
    let errors = api.items("/_emulator/voip-errors").await;
    let both = [stored.messages.clone(), stored.calls.clone()].concat();
    let (task_by_id, records) = (by_id(&tasks), by_id(&both));
    let mut errors_of: HashMap<&str, usize> = HashMap::new();
    for error in &errors {
        let record_id = error["recordId"].as_str().unwrap_or_default();
        let failed = records
            .get(record_id)
            .is_some_and(|r| r["status"] == "Failed");
        assert!(failed, "{error} names no Failed record");
        *errors_of.entry(record_id).or_default() += 1;
    }
    // The provider's prefix, and its code for the refused destination (+15005550001).
    let kinds = [
        (&stored.messages, "smsId", "SM", "smsMessageId", 21211),
        (&stored.calls, "callId", "CA", "callId", 21217),
    ];
    for (items, provider_key, prefix, task_link, refusal) in kinds {
        for record in items {
            let id = record["id"].as_str().unwrap();
            match record["status"].as_str() {
                Some("Queued") => {
                    let provider_id = record[provider_key].as_str().unwrap_or_default();
                    assert!(provider_id.starts_with(prefix), "no provider id: {record}");
                    let task_id = record["taskId"].as_str().unwrap_or_default();
                    let task = task_by_id.get(task_id);
                    let task = task.unwrap_or_else(|| panic!("no Task: {record}"));
                    assert_eq!(task[task_link], id, "{task}");
                    assert!(!errors_of.contains_key(id), "a VoIP error for {record}");
                }
                Some("Failed") => {
                    assert_eq!(record[provider_key], Value::Null, "{record}");
                    assert_eq!(record["taskId"], Value::Null, "{record}");
                    assert_eq!(record["errorCode"], refusal, "{record}");
                    assert_eq!(errors_of.get(id), Some(&1), "one VoIP error: {record}");
                }
                other => panic!("status {other:?} in manual progression: {record}"),
            }
        }
    }
    for task in &tasks {
        let links = [&task["smsMessageId"], &task["callId"]];
        let linked: Vec<&str> = links.iter().filter_map(|l| l.as_str()).collect();
        assert_eq!(linked.len(), 1, "a Task of one record: {task}");
        let record = records.get(linked[0]);
        let named = record.is_some_and(|r| r["taskId"] == task["id"]);
        assert!(named, "a Task whose record does not name it: {task}");
    }
}

/// Each user's status log leads from the org's status to the current one, each entry
/// starting where the one before ended.
async fn assert_status_chains(api: &Api) {
    let initial = [
        (ADA, json!(AVAILABLE_STATUS), "Available"),
        (GRACE, json!(OFFLINE_STATUS), "Offline"),
        (KATHERINE, Value::Null, "Available"),
    ];
    for (user, status_id, status_type) in initial {
        let mut log = api
            .items(&format!("/_emulator/status-log?userId={user}"))
            .await;
        log.reverse();
        let mut current = (status_id, json!(status_type));
        for entry in &log {
            let from = (
                entry["fromUserStatusId"].clone(),
                entry["fromStatusType"].clone(),
            );
            assert_eq!(
                from, current,
                "{user}: {entry} does not follow the entry before"
            );
            current = (
                entry["toUserStatusId"].clone(),
                entry["toStatusType"].clone(),
            );
        }
        let state = api.item(&format!("/_emulator/users/{user}")).await;
        let now = (state["userStatusId"].clone(), state["statusType"].clone());
        assert_eq!(now, current, "{user}: {state} is not the log's last status");
    }
}

/// Exactly one `sms.created` per message, `call.created` per call and
/// `user_status.changed` per log entry, and none for anything not stored.
async fn assert_one_event_each(api: &Api, marker_id: &str, stored: &Stored) {
    let mut seen: HashMap<String, HashMap<String, usize>> = HashMap::new();
    for (kind, payload) in replay_until(api, marker_id).await {
        if let Some(id) = payload["id"].as_str() {
            *seen
                .entry(kind)
                .or_default()
                .entry(id.to_owned())
                .or_default() += 1;
        }
    }
    let expected = [
        ("sms.created", &stored.messages),
        ("call.created", &stored.calls),
        ("user_status.changed", &stored.log),
    ];
    for (kind, items) in expected {
        let ids: HashSet<String> = ids(items, "id").into_iter().collect();
        let counts = seen.remove(kind).unwrap_or_default();
        let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "{kind} raised more than once: {twice:?}");
        let raised: HashSet<String> = counts.into_keys().collect();
        let missing: Vec<_> = ids.difference(&raised).collect();
        let extra: Vec<_> = raised.difference(&ids).collect();
        assert!(missing.is_empty(), "{kind}: no event for {missing:?}");
        assert!(
            extra.is_empty(),
            "{kind}: events of records never stored: {extra:?}"
        );
    }
}

/// Every stored event (kind, payload), oldest first, up to the `sms.created` of message
/// `marker_id`.
async fn replay_until(api: &Api, marker_id: &str) -> Vec<(String, Value)> {
    let request = api.client.get(api.url("/_emulator/events?after=0"));
    let mut response = request.send().await.expect("the stream opens");
    assert_eq!(response.status(), StatusCode::OK);
    let (mut buffer, mut events) = (Vec::new(), Vec::new());
    loop {
        while let Some(end) = buffer.windows(2).position(|w| w == b"\n\n") {
            let block: Vec<u8> = buffer.drain(..end + 2).collect();
            let block = String::from_utf8(block).expect("a UTF-8 stream");
            // Keep-alive comments have no event.
            let Some((kind, data)) = sse_event(&block) else {
                continue;
            };
            let payload: Value = serde_json::from_str(&data).expect("a JSON payload");
            let done = kind == "sms.created" && payload["id"] == marker_id;
            events.push((kind, payload));
            if done {
                return events;
            }
        }
        let chunk = tokio::time::timeout(Duration::from_secs(10), response.chunk())
            .await
            .expect("the replay reaches the marker in time")
            .expect("the stream reads")
            .expect("the stream goes on until the marker");
        buffer.extend(chunk.iter().filter(|&&b| b != b'\r'));
    }
}
