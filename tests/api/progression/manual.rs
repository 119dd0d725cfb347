//! Manual progression: nothing moves by itself; `POST /_emulator/{messages,calls}/{id}/status`
//! makes the moves a provider could report, and refuses the others.

use std::time::{Duration, Instant};

use fastcall_emulator::lifecycle::Progression;
use reqwest::StatusCode;
use serde_json::json;

use super::stream::{assert_one_event_per_step, by_record, stored_status_events};
use super::*;
use crate::backend_tests;

/// A fresh record of `kind`, moved through `before`; its Id.
async fn record_at(app: &TestApp, kind: Kind, before: &[&str]) -> String {
    let output = match kind {
        Kind::Message => send_sms_to(app, JANE_PHONE).await,
        Kind::Call => place_call_to(app, JANE_PHONE).await,
    };
    let id = id_of(&output);
    for status in before {
        move_ok(app, kind, &id, status).await;
    }
    id
}

/// Each case: the moves that set it up, then the move under test, which is applied.
async fn assert_moves_allowed(app: &TestApp, kind: Kind, cases: &[(&[&str], &str)]) {
    for (before, to) in cases {
        let case = format!("{kind:?} {before:?} -> {to}");
        let id = record_at(app, kind, before).await;
        let moved = move_ok(app, kind, &id, to).await;
        let mut expected = vec!["Queued"];
        expected.extend(before.iter());
        expected.push(to);
        assert_eq!(history_statuses(&moved), expected, "{case}: {moved}");
        let dates = history_dates(&moved);
        assert!(dates.windows(2).all(|d| d[0] <= d[1]), "{case}: {moved}");
        // The answer is the item as stored.
        assert_eq!(record(app, kind, &id).await, moved, "{case}");
        let stored = sobject(app, kind, &id).await;
        assert_eq!(stored["FastCall__Status__c"], *to, "{case}: {stored}");
    }
}

/// Each case: the moves that set it up, then the move under test, which is refused and
/// changes nothing.
async fn assert_moves_refused(app: &TestApp, kind: Kind, cases: &[(&[&str], &str)]) {
    for (before, to) in cases {
        let case = format!("{kind:?} {before:?} -> {to}");
        let id = record_at(app, kind, before).await;
        let current = before.last().copied().unwrap_or("Queued");
        let unchanged = record(app, kind, &id).await;
        let (status, body) = move_record(app, kind, &id, &json!({"status": to})).await;
        assert_eq!(status, StatusCode::CONFLICT, "{case}: {body}");
        assert_eq!(body["errorCode"], "INVALID_TRANSITION", "{case}: {body}");
        let message = body["message"].as_str().expect("a message");
        assert!(
            message.contains(current) && message.contains(to),
            "{case}: {message}"
        );
        assert_eq!(record(app, kind, &id).await, unchanged, "{case}");
    }
}

backend_tests! {
    async fn manual_records_do_not_move_by_themselves(backend) {
        let app = spawn_progressing(backend, Progression::Manual).await;
        let sms = send_sms_to(&app, JANE_PHONE).await;
        let call = place_call_to(&app, JANE_PHONE).await;
        // Five step delays' worth of waiting for a first step that never comes.
        let waits = [
            ("/_emulator/messages?status=Sent&wait=0.5", Duration::from_millis(500)),
            ("/_emulator/calls?status=Ringing&wait=0.5", Duration::from_millis(500)),
        ];
        for (path, wait) in waits {
            let started = Instant::now();
            assert!(list(&app, path).await.is_empty(), "{path}");
            assert!(started.elapsed() >= wait, "{path} answered before its wait was over");
        }
        for (kind, output) in [(Kind::Message, &sms), (Kind::Call, &call)] {
            let item = record(&app, kind, &id_of(output)).await;
            assert_eq!(item["status"], "Queued", "{item}");
            assert_eq!(history_statuses(&item), ["Queued"], "{item}");
            assert_eq!(item["statusHistory"][0]["date"], output[created_key(kind)], "{item}");
        }
        let events = stored_status_events(&app).await;
        assert!(events.is_empty(), "{events:?}");
    }

    async fn message_moves_a_provider_could_report_are_applied(backend) {
        let app = spawn_progressing(backend, Progression::Manual).await;
        let cases: &[(&[&str], &str)] = &[
            (&[], "Sent"),
            (&[], "Delivered"),
            (&[], "Undelivered"),
            (&[], "Failed"),
            (&["Sent"], "Delivered"),
            (&["Sent"], "Undelivered"),
            (&["Sent"], "Failed"),
        ];
        assert_moves_allowed(&app, Kind::Message, cases).await;
    }

    async fn call_moves_a_provider_could_report_are_applied(backend) {
        let app = spawn_progressing(backend, Progression::Manual).await;
        let cases: &[(&[&str], &str)] = &[
            (&[], "Ringing"),
            (&[], "In Progress"),
            (&[], "Completed"),
            (&[], "Busy"),
            (&[], "No Answer"),
            (&[], "Failed"),
            (&[], "Canceled"),
            (&["Ringing"], "In Progress"),
            (&["Ringing"], "Busy"),
            (&["Ringing"], "No Answer"),
            (&["Ringing"], "Canceled"),
            (&["Ringing"], "Failed"),
            (&["Ringing", "In Progress"], "Completed"),
            (&["In Progress"], "Failed"),
        ];
        assert_moves_allowed(&app, Kind::Call, cases).await;
    }

    async fn message_moves_backwards_or_out_of_a_final_status_are_409(backend) {
        let app = spawn_progressing(backend, Progression::Manual).await;
        let cases: &[(&[&str], &str)] = &[
            (&[], "Queued"),
            (&["Sent"], "Queued"),
            (&["Sent"], "Sent"),
            (&["Delivered"], "Queued"),
            (&["Delivered"], "Sent"),
            (&["Delivered"], "Undelivered"),
            (&["Sent", "Undelivered"], "Delivered"),
            (&["Failed"], "Sent"),
            (&["Failed"], "Delivered"),
        ];
        assert_moves_refused(&app, Kind::Message, cases).await;
    }

    async fn call_moves_backwards_out_of_a_final_status_or_unanswered_after_answer_are_409(backend) {
        let app = spawn_progressing(backend, Progression::Manual).await;
        let cases: &[(&[&str], &str)] = &[
            (&[], "Queued"),
            (&["Ringing"], "Queued"),
            (&["In Progress"], "Ringing"),
            (&["In Progress"], "Busy"),
            (&["In Progress"], "No Answer"),
            (&["In Progress"], "Canceled"),
            (&["Completed"], "Failed"),
            (&["Completed"], "In Progress"),
            (&["Busy"], "Completed"),
            (&["No Answer"], "Ringing"),
            (&["Failed"], "Ringing"),
            (&["Canceled"], "Queued"),
        ];
        assert_moves_refused(&app, Kind::Call, cases).await;
    }

    async fn each_manual_move_raises_one_status_changed_event_with_the_item(backend) {
        let app = spawn_progressing(backend, Progression::Manual).await;
        let sms = id_of(&send_sms_to(&app, JANE_PHONE).await);
        let call = id_of(&place_call_to(&app, JANE_PHONE).await);
        move_ok(&app, Kind::Message, &sms, "Sent").await;
        let message = move_ok(&app, Kind::Message, &sms, "Delivered").await;
        move_ok(&app, Kind::Call, &call, "Ringing").await;
        let call_item = move_ok(&app, Kind::Call, &call, "Busy").await;
        // A refused move raises nothing.
        let (status, _) = move_record(&app, Kind::Call, &call, &json!({"status": "Completed"})).await;
        assert_eq!(status, StatusCode::CONFLICT);

        let events = stored_status_events(&app).await;
        assert_eq!(events.len(), 4, "{events:?}");
        let grouped = by_record(&events);
        assert_one_event_per_step(&grouped[&sms], Kind::Message, &message);
        assert_one_event_per_step(&grouped[&call], Kind::Call, &call_item);
    }
}
