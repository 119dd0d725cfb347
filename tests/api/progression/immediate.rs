//! Immediate progression: every step is taken before the action answers; the output still
//! says what the provider answered (Queued).

use fastcall_emulator::lifecycle::Progression;
use reqwest::StatusCode;
use serde_json::json;

use super::stream::{assert_one_event_per_step, by_record, stored_status_events};
use super::*;
use crate::backend_tests;

/// Immediate steps are taken one after the other, with no delay in between.
const GAP: std::ops::Range<i64> = 0..2_000;

backend_tests! {
    async fn immediate_records_are_final_when_the_action_answers_queued(backend) {
        let app = spawn_progressing(backend, Progression::Immediate).await;
        for path in all_paths() {
            let output = start(&app, path).await;
            assert_eq!(output["status"], "Queued", "{}: {output}", path.name);
            // Read back at once, without waiting.
            let item = record(&app, path.kind, &id_of(&output)).await;
            assert_took_path(&item, path, GAP);
            let stored = sobject(&app, path.kind, &id_of(&output)).await;
            assert_eq!(stored["FastCall__Status__c"], path.last(), "{}: {stored}", path.name);
            let entries = voip_errors_of(&app, &id_of(&output)).await;
            match path.error {
                Some((code, message)) => assert_voip_error(&entries, path.kind, &item, code, message),
                None => assert!(entries.is_empty(), "{}: {entries:?}", path.name),
            }
        }
    }

    async fn immediate_steps_raise_one_status_changed_event_each(backend) {
        let app = spawn_progressing(backend, Progression::Immediate).await;
        let mut items = Vec::new();
        for path in all_paths() {
            let output = start(&app, path).await;
            items.push(record(&app, path.kind, &id_of(&output)).await);
        }
        let events = stored_status_events(&app).await;
        let steps: usize = all_paths().map(Path::steps).sum();
        assert_eq!(events.len(), steps, "{events:?}");
        let grouped = by_record(&events);
        for (path, item) in all_paths().zip(&items) {
            let of_record = grouped.get(&id_of(item)).map(Vec::as_slice).unwrap_or_default();
            assert_one_event_per_step(of_record, path.kind, item);
        }
    }

    async fn immediate_bulk_sms_inputs_are_all_final_on_return(backend) {
        let app = spawn_progressing(backend, Progression::Immediate).await;
        let cases = [
            (JANE_PHONE, &SMS_PATHS[0]),
            (UNDELIVERED_PHONE, &SMS_PATHS[1]),
            ("+14155550124", &SMS_PATHS[0]),
            ("+14155550125", &SMS_PATHS[0]),
            (UNDELIVERED_PHONE, &SMS_PATHS[1]),
        ];
        let inputs: Vec<Value> = cases
            .iter()
            .enumerate()
            .map(|(i, (to, _))| json!({"toPhone": to, "bodyText": format!("bulk {i}")}))
            .collect();
        let (status, results) = app.invoke("SubscriberSMSInvocable", json!(inputs)).await;
        assert_eq!(status, StatusCode::OK, "{results}");
        let results = results.as_array().expect("an array of results");
        assert_eq!(results.len(), cases.len());
        for (result, (to, path)) in results.iter().zip(cases) {
            assert_eq!(result["isSuccess"], true, "{result}");
            let output = &result["outputValues"];
            assert_eq!(output["status"], "Queued", "{output}");
            let item = record(&app, Kind::Message, &id_of(output)).await;
            assert_eq!(item["toPhone"], to, "{item}");
            assert_took_path(&item, path, GAP);
        }
    }

    async fn immediate_bulk_calls_are_all_final_on_return(backend) {
        let app = spawn_progressing(backend, Progression::Immediate).await;
        let inputs: Vec<Value> = CALL_PATHS
            .iter()
            .map(|path| json!({"toPhone": path.to, "ivrId": MENU_IVR}))
            .collect();
        let (status, results) = app.invoke("SubscriberCallInvocable", json!(inputs)).await;
        assert_eq!(status, StatusCode::OK, "{results}");
        let results = results.as_array().expect("an array of results");
        assert_eq!(results.len(), CALL_PATHS.len());
        for (result, path) in results.iter().zip(&CALL_PATHS) {
            assert_eq!(result["isSuccess"], true, "{result}");
            assert_eq!(result["outputValues"]["status"], "Queued", "{result}");
            let item = record(&app, Kind::Call, &id_of(&result["outputValues"])).await;
            assert_took_path(&item, path, GAP);
        }
    }
}
