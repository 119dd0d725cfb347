//! Two timed instances on one PostgreSQL database: each step of every record is taken by
//! exactly one of them.

use std::collections::{HashMap, HashSet};

use fastcall_emulator::config::Config;
use fastcall_emulator::lifecycle::Progression;

use super::stream::{
    CALL_STATUS_CHANGED, EventStream, SMS_STATUS_CHANGED, assert_one_event_per_step, by_record,
    stored_status_events,
};
use super::*;

const MESSAGES: usize = 20;
const CALLS: usize = 10;

/// Steps are due a step delay after the previous one, whichever instance took it.
const GAP: std::ops::Range<i64> = STEP_DELAY_MS..STEP_DELAY_MS + 5_000;

fn timed(config: &mut Config) {
    config.progression = Progression::Timed;
    config.step_delay_ms = STEP_DELAY_MS as u64;
}

/// One record to send: which path it takes, and where to.
struct Planned {
    path: &'static Path,
    to: String,
}

/// Messages and calls interleaved; every fourth message undelivered, the calls cycling
/// through their four paths; delivered messages each to a number of their own.
fn plan() -> Vec<Planned> {
    let message = |m: usize| match m % 4 {
        3 => Planned {
            path: &SMS_PATHS[1],
            to: UNDELIVERED_PHONE.to_owned(),
        },
        _ => Planned {
            path: &SMS_PATHS[0],
            to: format!("+1415555{:04}", 200 + m),
        },
    };
    let call = |c: usize| {
        let path = &CALL_PATHS[c % CALL_PATHS.len()];
        Planned {
            path,
            to: path.to.to_owned(),
        }
    };
    let mut planned = Vec::new();
    for round in 0..CALLS {
        for m in [2 * round, 2 * round + 1] {
            planned.push(message(m));
        }
        planned.push(call(round));
    }
    assert_eq!(planned.len(), MESSAGES + CALLS);
    planned
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_timed_instances_take_each_step_of_every_record_exactly_once() {
    let Some((_db, first, second)) = two_postgres_instances(
        "two_timed_instances_take_each_step_of_every_record_exactly_once",
        timed,
    )
    .await
    else {
        return;
    };
    let apps = [&first, &second];

    // Sent alternately through both instances.
    let planned = plan();
    let mut ids = Vec::new();
    for (i, record) in planned.iter().enumerate() {
        let app = apps[i % 2];
        let output = match record.path.kind {
            Kind::Message => send_sms_to(app, &record.to).await,
            Kind::Call => place_call_to(app, &record.to).await,
        };
        ids.push(id_of(&output));
    }

    // Every record's last step, as the event stream of one instance tells it.
    let mut pending: HashMap<&str, &str> = ids
        .iter()
        .zip(&planned)
        .map(|(id, record)| (id.as_str(), record.path.last()))
        .collect();
    let types = format!("after=0&types={SMS_STATUS_CHANGED},{CALL_STATUS_CHANGED}");
    let mut stream = EventStream::open(&first, &types).await;
    while !pending.is_empty() {
        let event = stream.next().await;
        let id = id_of(&event.payload);
        if pending
            .get(id.as_str())
            .is_some_and(|last| event.payload["status"] == *last)
        {
            pending.remove(id.as_str());
        }
    }
    drop(stream);

    // Read back through the instance that did not take the action.
    let mut items = Vec::new();
    for (i, (id, record)) in ids.iter().zip(&planned).enumerate() {
        let item = super::record(apps[(i + 1) % 2], record.path.kind, id).await;
        assert_eq!(item["toPhone"], record.to.as_str(), "{item}");
        assert_took_path(&item, record.path, GAP);
        let statuses = history_statuses(&item);
        let distinct: HashSet<&String> = statuses.iter().collect();
        assert_eq!(distinct.len(), statuses.len(), "each status once: {item}");
        items.push(item);
    }

    let events = stored_status_events(&second).await;
    let steps: usize = planned.iter().map(|r| r.path.steps()).sum();
    assert_eq!(steps, 3 * MESSAGES + 21, "the plan's steps");
    let taken: usize = items.iter().map(|i| history_statuses(i).len() - 1).sum();
    assert_eq!(taken, steps, "steps taken");
    assert_eq!(events.len(), steps, "stored status_changed events");
    let grouped = by_record(&events);
    for (item, record) in items.iter().zip(&planned) {
        let of_record = grouped
            .get(&id_of(item))
            .map(Vec::as_slice)
            .unwrap_or_default();
        assert_one_event_per_step(of_record, record.path.kind, item);
    }

    let entries = list(&first, "/_emulator/voip-errors?limit=1000").await;
    let failures = planned.iter().filter(|r| r.path.error.is_some()).count();
    assert_eq!(failures, 7, "the plan's failures");
    assert_eq!(entries.len(), failures, "{entries:?}");
    for (item, record) in items.iter().zip(&planned) {
        let of_record: Vec<Value> = entries
            .iter()
            .filter(|e| e["recordId"] == item["id"])
            .cloned()
            .collect();
        match record.path.error {
            Some((code, message)) => {
                assert_voip_error(&of_record, record.path.kind, item, code, message)
            }
            None => assert!(of_record.is_empty(), "{item}: {of_record:?}"),
        }
    }
}

/// A request held on one instance is answered, as soon as it happens, by a move made
/// through the other: the wake-up travels through the database (LISTEN/NOTIFY).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_held_on_one_instance_is_answered_by_a_move_on_the_other() {
    let Some((_db, first, second)) = two_postgres_instances(
        "a_request_held_on_one_instance_is_answered_by_a_move_on_the_other",
        |_| {},
    )
    .await
    else {
        return;
    };
    let id = id_of(&send_sms_to(&first, JANE_PHONE).await);
    let path = format!("/_emulator/messages?id={id}&status=Delivered&wait={WAIT_SECS}");
    let held = async {
        let started = std::time::Instant::now();
        let answer = first.get(&path).await;
        (answer, started.elapsed())
    };
    let mover = async {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        move_ok(&second, Kind::Message, &id, "Delivered").await
    };
    let (((status, body), waited), moved) = tokio::join!(held, mover);
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    assert_eq!(body["items"], json!([moved]), "{path}");
    assert!(
        waited >= std::time::Duration::from_millis(500),
        "held until the move: {waited:?}"
    );
    assert!(
        waited < std::time::Duration::from_secs(3),
        "answered as soon as the move was made: {waited:?}"
    );
    first.stop().await;
    second.stop().await;
}
