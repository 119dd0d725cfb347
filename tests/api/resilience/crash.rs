//! `kill -9` of the binary in the middle of a stream of actions from several clients, three
//! times over, on SQLite and PostgreSQL: after each restart every answered action is stored
//! exactly as answered, nothing is half-stored, and each record raised its event once.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::integrity::assert_whole;
use super::*;
use crate::backend_tests;
use crate::helpers::*;
use crate::process::Emulator;

const ROUNDS: usize = 3;
const CLIENTS: usize = 6;
/// Answers received in a round before the process is killed, with requests still in flight.
const ANSWERS_BEFORE_KILL: usize = 50;
const RECORDS: [&str; 3] = [JANE_CONTACT, BOB_LEAD, ACME_ACCOUNT];
const USERS: [&str; 3] = [ADA, GRACE, KATHERINE];

/// The binary in manual progression (records stay as they were answered).
async fn start(dir: &Path, database_url: &str, name: &str) -> Emulator {
    let log = format!("{name}.log");
    let quiet = ["--progression", "manual", "--log", "warn"];
    Emulator::start_local(dir, &log, database_url, &quiet).await
}

/// One request a client sends.
#[derive(Debug, Clone)]
enum Planned {
    Sms {
        body: String,
        record: &'static str,
    },
    Bulk {
        inputs: Vec<(String, &'static str)>,
    },
    Call {
        record: Option<&'static str>,
    },
    Status {
        user: &'static str,
        change: Value,
    },
    /// An SMS or a call the provider refuses: a Failed record, answered 502.
    Refused {
        path: &'static str,
    },
}

/// An answer: what was asked (one SMS of a bulk call each), and what was answered.
#[derive(Debug)]
struct Ack {
    planned: Planned,
    output: Value,
}

fn status_change(i: usize) -> Value {
    match i % 5 {
        0 => json!({"userStatusId": AVAILABLE_STATUS}),
        1 => json!({"userStatusId": ON_BREAK_STATUS}),
        2 => json!({"statusType": "Offline"}),
        3 => json!({"statusType": "Available"}),
        _ => json!({"userStatusId": OFFLINE_STATUS}),
    }
}

/// The `n`th request of `client` in `round`: every kind in turn.
fn plan(round: usize, client: usize, n: usize) -> Planned {
    let tag = format!("r{round} c{client} n{n}");
    let record = |i: usize| RECORDS[i % RECORDS.len()];
    match (client + n) % 5 {
        0 => Planned::Sms {
            body: format!("crash {tag}"),
            record: record(n),
        },
        1 => Planned::Bulk {
            inputs: (0..3)
                .map(|i| (format!("crash {tag} #{i}"), record(n + i)))
                .collect(),
        },
        2 => Planned::Call {
            record: n.is_multiple_of(2).then_some(record(n)),
        },
        3 => Planned::Status {
            user: USERS[(client + n / 5) % USERS.len()],
            change: status_change(client * 7 + n),
        },
        _ if n.is_multiple_of(2) => Planned::Refused { path: SMS_PATH },
        _ => Planned::Refused { path: CALL_PATH },
    }
}

fn sms_input(body: &str, record: &str) -> Value {
    json!({"toPhone": JANE_PHONE, "bodyText": body, "recordId": record})
}

impl Planned {
    fn request(&self) -> (String, Value) {
        match self {
            Self::Sms { body, record } => (SMS_PATH.into(), sms_input(body, record)),
            Self::Bulk { inputs } => {
                let inputs: Vec<Value> = inputs.iter().map(|(b, r)| sms_input(b, r)).collect();
                (bulk_path(SMS_PATH), json!({ "inputs": inputs }))
            }
            Self::Call { record } => {
                let mut input = json!({"toPhone": JANE_PHONE, "ivrId": MENU_IVR});
                if let Some(record) = record {
                    input["recordId"] = json!(record);
                }
                (CALL_PATH.into(), input)
            }
            Self::Status { user, change } => {
                let mut input = change.clone();
                input["userId"] = json!(user);
                (STATUS_PATH.into(), input)
            }
            Self::Refused { path } => {
                let mut input = json!({"toPhone": REFUSED_PHONE, "recordId": JANE_CONTACT});
                match *path {
                    SMS_PATH => input["bodyText"] = json!("refused"),
                    _ => input["ivrId"] = json!(MENU_IVR),
                }
                (path.to_string(), input)
            }
        }
    }

    /// What an answer acknowledges; an answer the request should never get is an error.
    fn acknowledged(self, status: StatusCode, answer: Value) -> Result<Vec<Ack>, String> {
        let refused = matches!(self, Self::Refused { .. });
        let expected = if refused {
            StatusCode::BAD_GATEWAY
        } else {
            StatusCode::OK
        };
        if status != expected || (refused && answer["errorCode"] != 100) {
            return Err(format!("{status} instead of {expected}: {answer}"));
        }
        let Self::Bulk { inputs } = self else {
            return Ok(vec![Ack {
                planned: self,
                output: answer,
            }]);
        };
        let results = answer.as_array().filter(|r| r.len() == inputs.len());
        let results = results.ok_or_else(|| format!("not one result per input: {answer}"))?;
        let acks = inputs
            .into_iter()
            .zip(results)
            .map(|((body, record), result)| Ack {
                planned: Self::Sms { body, record },
                output: result["outputValues"].clone(),
            });
        Ok(acks.collect())
    }
}

/// Sends actions, one at a time on a connection of its own, until the server is gone.
async fn client_stream(
    base: String,
    round: usize,
    client_no: usize,
    answered: Arc<AtomicUsize>,
) -> Result<Vec<Ack>, String> {
    let client = crate::helpers::http()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut acks = Vec::new();
    for n in 0.. {
        let planned = plan(round, client_no, n);
        let (path, body) = planned.request();
        let request = client.post(format!("{base}{path}")).json(&body);
        let Ok(response) = request.send().await else {
            break;
        };
        let status = response.status();
        // An answer cut short by the kill acknowledges nothing.
        let Ok(text) = response.text().await else {
            break;
        };
        let answer: Value =
            serde_json::from_str(&text).map_err(|_| format!("{path}: {status} {text:?}"))?;
        let acked = planned.acknowledged(status, answer);
        acks.extend(acked.map_err(|e| format!("{path} {body}: {e}"))?);
        answered.fetch_add(1, Ordering::SeqCst);
    }
    Ok(acks)
}

/// Fires the stream at `emulator` and kills it once enough answers arrived; what was answered.
async fn crash_round(emulator: Emulator, round: usize) -> Vec<Ack> {
    let answered = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let base = emulator.base_url.clone();
            tokio::spawn(client_stream(base, round, c, answered.clone()))
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while answered.load(Ordering::SeqCst) < ANSWERS_BEFORE_KILL {
        let so_far = answered.load(Ordering::SeqCst);
        assert!(
            Instant::now() < deadline && clients.iter().any(|c| !c.is_finished()),
            "round {round}: {so_far} answers, then nothing: {}",
            emulator.stderr()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    emulator.kill();
    let mut acks = Vec::new();
    for client in clients {
        let answers = client.await.expect("the client task");
        acks.extend(answers.unwrap_or_else(|e| panic!("round {round}: {e}")));
    }
    acks
}

backend_tests! {
    async fn every_answered_action_survives_kill_9_mid_stream(backend) {
        let db = TestDb::new(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let mut acks = Vec::new();
        for round in 0..ROUNDS {
            let emulator = start(dir.path(), &db.url, &format!("round{round}")).await;
            if round > 0 {
                verify(&Api::new(emulator.base_url.clone()), &mut acks, round).await;
            }
            acks.extend(crash_round(emulator, round).await);
        }
        let emulator = start(dir.path(), &db.url, "after").await;
        verify(&Api::new(emulator.base_url.clone()), &mut acks, ROUNDS).await;
    }
}

/// Everything answered so far is stored as answered, and the stored data is whole.
async fn verify(api: &Api, acks: &mut Vec<Ack>, round: usize) {
    // The newest message: the last event the replay must reach.
    let marker = Planned::Sms {
        body: format!("marker after round {round}"),
        record: JANE_CONTACT,
    };
    let (path, body) = marker.request();
    let (status, answer) = api.post(&path, &body).await;
    let marker_id = answer["id"].as_str().unwrap_or_default().to_owned();
    let marker = marker.acknowledged(status, answer);
    acks.extend(marker.expect("the restarted server sends"));
    for ack in acks.iter() {
        assert_stored_as_answered(api, ack).await;
    }
    let stored = assert_whole(api, &marker_id).await;
    // Every refusal answered is kept as a Failed record.
    for (path, records) in [(SMS_PATH, &stored.messages), (CALL_PATH, &stored.calls)] {
        let refusals = acks
            .iter()
            .filter(|a| matches!(a.planned, Planned::Refused { path: p } if p == path));
        let failed = records.iter().filter(|r| r["status"] == "Failed").count();
        let refusals = refusals.count();
        assert!(
            failed >= refusals,
            "{path}: {refusals} refusals answered, {failed} kept"
        );
    }
}

/// The stored record or log entry holds exactly what was answered.
async fn assert_stored_as_answered(api: &Api, ack: &Ack) {
    let output = &ack.output;
    let id = output["id"].as_str().unwrap_or_default();
    match &ack.planned {
        Planned::Sms { body, record } => {
            let message = api.item(&format!("/_emulator/messages/{id}")).await;
            assert_answered(output, &message);
            assert_eq!(message["body"], body.as_str(), "{message}");
            assert_eq!(message["relatedRecordId"], *record, "{message}");
            let sms_id = output["smsId"].as_str().unwrap_or_default();
            assert!(sms_id.starts_with("SM"), "{output}");
            let task = answered_task(api, output).await;
            assert_eq!(task["smsMessageId"], id, "{task}");
            assert_eq!(task["description"], body.as_str(), "{task}");
            assert_relates(&task, Some(record));
        }
        Planned::Call { record } => {
            let call = api.item(&format!("/_emulator/calls/{id}")).await;
            assert_answered(output, &call);
            let call_id = output["callId"].as_str().unwrap_or_default();
            assert!(call_id.starts_with("CA"), "{output}");
            let task = answered_task(api, output).await;
            assert_eq!(task["callId"], id, "{task}");
            assert_eq!(task["taskSubtype"], "Call", "{task}");
            assert_relates(&task, *record);
        }
        Planned::Status { user, .. } => {
            assert_eq!(output["userId"], *user, "{output}");
            if output["changed"] == false {
                assert_eq!(output["logId"], Value::Null, "{output}");
                return;
            }
            let log_id = output["logId"].as_str().expect("a log id");
            let entry = api.item(&format!("/_emulator/status-log/{log_id}")).await;
            let pairs = [
                ("userId", "userId"),
                ("fromUserStatusId", "previousUserStatusId"),
                ("fromStatusType", "previousStatusType"),
                ("toUserStatusId", "userStatusId"),
                ("toStatusType", "statusType"),
                ("changedDate", "changedDate"),
            ];
            for (logged, answered) in pairs {
                let (logged_value, answered_value) = (&entry[logged], &output[answered]);
                assert_eq!(
                    logged_value, answered_value,
                    "{logged}: {entry} vs {output}"
                );
            }
        }
        // Refusals name no record; `verify` counts them.
        Planned::Refused { .. } | Planned::Bulk { .. } => {}
    }
}

async fn answered_task(api: &Api, output: &Value) -> Value {
    let task_id = output["taskId"].as_str().expect("a Task id");
    api.item(&format!("/_emulator/tasks/{task_id}")).await
}

/// Every key of the answered output map has the answered value in the stored item.
#[track_caller]
fn assert_answered(output: &Value, item: &Value) {
    for (key, value) in output.as_object().expect("an output map") {
        assert_eq!(&item[key], value, "{key}: stored {item}, answered {output}");
    }
}

#[track_caller]
fn assert_relates(task: &Value, record: Option<&str>) {
    let (who, what) = match record {
        Some(r) if r.starts_with("003") || r.starts_with("00Q") => (json!(r), Value::Null),
        Some(r) => (Value::Null, json!(r)),
        None => (Value::Null, Value::Null),
    };
    assert_eq!((&task["whoId"], &task["whatId"]), (&who, &what), "{task}");
}
