//! Steps are stored with their records: a step that fell due while the process was down
//! is taken soon after the restart.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fastcall_emulator::lifecycle::Progression;

use super::stream::{assert_one_event_per_step, stored_status_events};
use super::*;
use crate::backend_tests;

/// The first steps are scheduled this far ahead, and the app is stopped long before.
const FIRST_DELAY_MS: i64 = 1_500;

fn now_millis() -> i64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(since_epoch.as_millis()).unwrap()
}

backend_tests! {
    async fn a_step_due_while_stopped_is_taken_after_the_restart(backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::start(&db, |config| {
            config.progression = Progression::Timed;
            config.step_delay_ms = FIRST_DELAY_MS as u64;
        })
        .await;
        let sms = send_sms_to(&app, JANE_PHONE).await;
        let call = place_call_to(&app, JANE_PHONE).await;
        for (kind, output) in [(Kind::Message, &sms), (Kind::Call, &call)] {
            let item = record(&app, kind, &id_of(output)).await;
            assert_eq!(history_statuses(&item), ["Queued"], "nothing due yet: {item}");
        }
        app.stop().await;

        // The one bounded wait: the first steps fall due while nothing runs.
        let due = millis(&sms["createdDate"]).max(millis(&call["startTime"])) + FIRST_DELAY_MS;
        let until_due = u64::try_from(due + 100 - now_millis()).unwrap_or(0);
        assert!(until_due <= FIRST_DELAY_MS as u64 + 100, "the clock went backwards");
        tokio::time::sleep(Duration::from_millis(until_due)).await;

        let restarted_at = now_millis();
        let app = TestApp::start(&db, |config| {
            config.progression = Progression::Timed;
            config.step_delay_ms = STEP_DELAY_MS as u64;
        })
        .await;
        let message = wait_for(&app, Kind::Message, JANE_PHONE, "Delivered").await;
        let call = wait_for(&app, Kind::Call, JANE_PHONE, "Completed").await;
        let events = stored_status_events(&app).await;
        for (path, item) in [(&SMS_PATHS[0], &message), (&CALL_PATHS[0], &call)] {
            assert_eq!(history_statuses(item), path.statuses, "{item}");
            let dates = history_dates(item);
            assert!(dates[1] >= dates[0] + FIRST_DELAY_MS, "the first step waited for its due time: {item}");
            assert!(dates[1] >= restarted_at, "the first step was taken after the restart: {item}");
            assert!(dates.windows(2).all(|d| d[0] <= d[1]), "{item}");
            let of_record: Vec<_> = events.iter().filter(|e| e.payload["id"] == item["id"]).cloned().collect();
            assert_one_event_per_step(&of_record, path.kind, item);
        }
    }

    async fn a_manual_run_leaves_the_steps_of_a_timed_run_pending(backend) {
        let db = TestDb::new(backend).await;
        let timed = |config: &mut fastcall_emulator::config::Config| {
            config.progression = Progression::Timed;
            config.step_delay_ms = 1_000;
        };
        let app = TestApp::start(&db, timed).await;
        let sms = send_sms_to(&app, JANE_PHONE).await;
        app.stop().await;

        // Manual (the test default): nothing moves by itself, even past the step's due time.
        let app = TestApp::start(&db, |_| {}).await;
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        let item = record(&app, Kind::Message, &id_of(&sms)).await;
        assert_eq!(history_statuses(&item), ["Queued"], "{item}");
        app.stop().await;

        let app = TestApp::start(&db, timed).await;
        let message = wait_for(&app, Kind::Message, JANE_PHONE, "Delivered").await;
        assert_eq!(history_statuses(&message), ["Queued", "Sending", "Sent", "Delivered"], "{message}");
    }
}
