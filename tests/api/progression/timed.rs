//! Timed progression: one step per step delay, in the background, along every path of
//! the simulated provider.

use fastcall_emulator::lifecycle::Progression;
use reqwest::StatusCode;
use serde_json::json;

use super::paths::BUSY_PHONE;
use super::stream::{assert_one_event_per_step, by_record, stored_status_events};
use super::*;
use crate::backend_tests;

/// Steps are at least a step delay apart, and not much more.
const GAP: std::ops::Range<i64> = STEP_DELAY_MS..STEP_DELAY_MS + 2_000;

/// Starts one record down each of `paths`, waits for each to end; the items, in order.
async fn run_paths(app: &TestApp, paths: &[Path]) -> Vec<Value> {
    let mut outputs = Vec::new();
    for path in paths {
        let output = start(app, path).await;
        assert_eq!(output["status"], "Queued", "{}: {output}", path.name);
        outputs.push(output);
    }
    let mut items = Vec::new();
    for (path, output) in paths.iter().zip(&outputs) {
        let item = wait_for(app, path.kind, path.to, path.last()).await;
        assert_eq!(item["id"], output["id"], "{}", path.name);
        items.push(item);
    }
    items
}

/// Checks the record's VoIP error entries: one for a failure with an error code, else none.
async fn assert_voip_errors_follow(app: &TestApp, path: &Path, item: &Value) {
    let entries = voip_errors_of(app, &id_of(item)).await;
    match path.error {
        Some((code, message)) => assert_voip_error(&entries, path.kind, item, code, message),
        None => assert!(
            entries.is_empty(),
            "{}: no VoIP error expected: {entries:?}",
            path.name
        ),
    }
}

/// Checks the sObject shows the final status and the time of the last step.
async fn assert_sobject_follows(app: &TestApp, path: &Path, item: &Value) {
    let stored = sobject(app, path.kind, &id_of(item)).await;
    assert_eq!(
        stored["FastCall__Status__c"],
        path.last(),
        "{}: {stored}",
        path.name
    );
    let last_step = *history_dates(item).last().unwrap();
    assert_eq!(
        millis(&stored["LastModifiedDate"]),
        last_step,
        "{}: {stored}",
        path.name
    );
    assert!(
        millis(&stored["LastModifiedDate"]) > millis(&stored["CreatedDate"]),
        "{}: {stored}",
        path.name
    );
}

/// Runs a record down each of `paths`: each takes every step, a step delay apart, and
/// leaves its VoIP errors and its sObject as the path says.
async fn assert_each_takes_its_path(app: &TestApp, paths: &[Path]) {
    let items = run_paths(app, paths).await;
    for (path, item) in paths.iter().zip(&items) {
        assert_took_path(item, path, GAP);
        assert_voip_errors_follow(app, path, item).await;
        assert_sobject_follows(app, path, item).await;
    }
}

/// A server taking timed steps a second apart: a manual move comes well before the first.
async fn spawn_timed_slowly(backend: Backend) -> TestApp {
    spawn_app_with(backend, |config| {
        config.progression = Progression::Timed;
        config.step_delay_ms = 1_000;
    })
    .await
}

backend_tests! {
    async fn timed_messages_take_every_step_of_their_path_a_step_delay_apart(backend) {
        let app = spawn_progressing(backend, Progression::Timed).await;
        assert_each_takes_its_path(&app, &SMS_PATHS).await;
    }

    async fn timed_calls_take_every_step_of_their_path_a_step_delay_apart(backend) {
        let app = spawn_progressing(backend, Progression::Timed).await;
        assert_each_takes_its_path(&app, &CALL_PATHS).await;
    }

    async fn each_timed_step_raises_one_status_changed_event_with_the_updated_item(backend) {
        let app = spawn_progressing(backend, Progression::Timed).await;
        let paths: Vec<&Path> = all_paths().collect();
        let mut items = Vec::new();
        for path in &paths {
            items.push(start(&app, path).await);
        }
        for (path, output) in paths.iter().zip(&mut items) {
            *output = wait_for(&app, path.kind, path.to, path.last()).await;
        }
        let events = stored_status_events(&app).await;
        let steps: usize = paths.iter().map(|p| p.steps()).sum();
        assert_eq!(events.len(), steps, "{events:?}");
        let grouped = by_record(&events);
        assert_eq!(grouped.len(), paths.len(), "{events:?}");
        for (path, item) in paths.iter().zip(&items) {
            let of_record = grouped.get(&id_of(item)).map(Vec::as_slice).unwrap_or_default();
            assert_one_event_per_step(of_record, path.kind, item);
        }
    }

    async fn refused_records_take_no_steps_timed_or_immediate(backend) {
        for progression in [Progression::Timed, Progression::Immediate] {
            let app = spawn_progressing(backend, progression).await;
            let refused = [
                (Kind::Message, INVALID_PHONE, 21211),
                (Kind::Message, NOT_SMS_PHONE, 21614),
                (Kind::Call, INVALID_PHONE, 21217),
            ];
            for (kind, to, code) in refused {
                let (status, body) = match kind {
                    Kind::Message => app.send_sms(&json!({"toPhone": to, "bodyText": "no"})).await,
                    Kind::Call => {
                        let input = json!({"toPhone": to, "ivrId": MENU_IVR});
                        app.post("/actions/SubscriberCallInvocable", &input).await
                    }
                };
                assert_eq!(status, StatusCode::BAD_GATEWAY, "{kind:?} {to}: {body}");
                assert_eq!(body["errorCode"], 100, "{body}");
                assert!(body["message"].as_str().unwrap().contains(&code.to_string()), "{body}");
            }
            // A record sent after the refused ones, waited for until it took its three steps:
            // the refused ones had as long to move.
            send_sms_to(&app, JANE_PHONE).await;
            let witness = wait_for(&app, Kind::Message, JANE_PHONE, "Delivered").await;

            let events = stored_status_events(&app).await;
            assert!(events.iter().all(|e| e.payload["id"] == witness["id"]), "{events:?}");
            assert_eq!(events.len(), 3, "{events:?}");
            for (kind, to, code) in refused {
                let items = list(&app, &format!("{}?to={}", kind.list(), encode(to))).await;
                assert_eq!(items.len(), 1, "{kind:?} {to}: {items:?}");
                let item = &items[0];
                assert_eq!(item["status"], "Failed", "{item}");
                assert_eq!(item["errorCode"], code, "{item}");
                assert_eq!(history_statuses(item), ["Failed"], "{item}");
                assert_eq!(item["statusHistory"][0]["errorCode"], code, "{item}");
                let stored = sobject(&app, kind, &id_of(item)).await;
                assert_eq!(stored["FastCall__Status__c"], "Failed", "{stored}");
                // The refusal's own entry, and no other.
                let entries = voip_errors_of(&app, &id_of(item)).await;
                assert_eq!(entries.len(), 1, "{entries:?}");
                assert_eq!(entries[0]["errorCode"], code, "{entries:?}");
            }
        }
    }

    async fn a_timed_record_goes_on_from_where_a_manual_move_put_it(backend) {
        // A long delay: the move comes well before the first step would.
        let app = spawn_timed_slowly(backend).await;
        let sms = send_sms_to(&app, JANE_PHONE).await;
        let call = place_call_to(&app, JANE_PHONE).await;
        let moved_sms = move_ok(&app, Kind::Message, &id_of(&sms), "Sent").await;
        let moved_call = move_ok(&app, Kind::Call, &id_of(&call), "In Progress").await;

        let message = wait_for(&app, Kind::Message, JANE_PHONE, "Delivered").await;
        assert_eq!(history_statuses(&message), ["Queued", "Sent", "Delivered"], "{message}");
        assert_eq!(message["statusHistory"][1], moved_sms["statusHistory"][1]);
        let call = wait_for(&app, Kind::Call, JANE_PHONE, "Completed").await;
        assert_eq!(history_statuses(&call), ["Queued", "In Progress", "Completed"], "{call}");
        assert_eq!(call["statusHistory"][1], moved_call["statusHistory"][1]);
        for item in [&message, &call] {
            let dates = history_dates(item);
            assert!(dates[2] - dates[1] >= 1_000, "the next step comes a step delay after the move: {item}");
        }
    }

    async fn a_timed_record_moved_off_its_numbers_path_goes_on_as_a_regular_one(backend) {
        let app = spawn_timed_slowly(backend).await;
        // A busy number's call is never answered, unless it is answered by hand.
        let call = place_call_to(&app, BUSY_PHONE).await;
        move_ok(&app, Kind::Call, &id_of(&call), "In Progress").await;
        let call = wait_for(&app, Kind::Call, BUSY_PHONE, "Completed").await;
        assert_eq!(history_statuses(&call), ["Queued", "In Progress", "Completed"], "{call}");
        assert_eq!(call["errorCode"], Value::Null, "{call}");
    }
}
