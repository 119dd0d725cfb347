//! PostgreSQL going away and coming back, through a TCP proxy the test cuts and restores:
//! requests fail fast with 503 SERVICE_UNAVAILABLE in their route's error shape, health says
//! so, and the service recovers by itself, having lost nothing and half-stored nothing.

use std::time::{Duration, Instant};

use super::proxy::Proxy;
use super::*;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Well under the request timeout (10 s here): the acquire timeout is 1 s.
const FAST: Duration = Duration::from_secs(3);
const REQUEST_TIMEOUT_SECS: u64 = 10;
/// How long the service may take to notice that the database is back.
const RECOVERY: Duration = Duration::from_secs(20);
/// A customer's message to the org (SPEC 10).
const INBOUND_PATH: &str = "/_emulator/inbound";

/// A server of the demo org whose database is reached through the proxy.
struct Outage {
    proxy: Proxy,
    app: TestApp,
    api: Api,
    _db: TestDb,
}

impl Outage {
    /// The outage set up for `test`; `None`, the test skipped, where PostgreSQL tests cannot
    /// run (see `postgres_available`).
    async fn start(test: &str) -> Option<Self> {
        Self::with_acquire_timeout(test, 1000).await
    }

    async fn with_acquire_timeout(test: &str, acquire_timeout_ms: u64) -> Option<Self> {
        if !postgres_available(test) {
            return None;
        }
        let db = TestDb::new(Backend::Postgres).await;
        let mut url = url::Url::parse(&db.url).expect("a PostgreSQL URL");
        let host = url.host_str().expect("a host").to_owned();
        let proxy = Proxy::start(format!("{host}:{}", url.port().unwrap_or(5432))).await;
        url.set_host(Some("127.0.0.1")).unwrap();
        url.set_port(Some(proxy.addr.port())).unwrap();
        let database_url = url.to_string();
        let app = TestApp::start(&db, move |config| {
            config.database_url = database_url;
            config.db_acquire_timeout_ms = acquire_timeout_ms;
            config.request_timeout_secs = REQUEST_TIMEOUT_SECS;
        })
        .await;
        Some(Self {
            proxy,
            api: Api::of(&app),
            app,
            _db: db,
        })
    }

    /// Sends `request` and checks it failed fast with 503 and nothing to show of its internals;
    /// the error object (unwrapped from the array envelope on `/services`).
    async fn unavailable(&self, what: &str, request: reqwest::RequestBuilder) -> Value {
        let started = Instant::now();
        let response = request.send().await.expect("answered");
        let (status, body) = json_answer(response).await;
        let elapsed = started.elapsed();
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {body}");
        assert!(elapsed < FAST, "{what} took {elapsed:?}");
        self.assert_no_internals(what, &body);
        if what.contains("/services") {
            let errors = body.as_array().expect("the array envelope");
            assert_eq!(errors.len(), 1, "{what}: {body}");
            errors[0].clone()
        } else {
            body
        }
    }

    #[track_caller]
    fn assert_no_internals(&self, what: &str, body: &Value) {
        let text = body.to_string().to_lowercase();
        let port = self.proxy.addr.port().to_string();
        let internals = [
            "sqlx",
            "postgres",
            "connection",
            "pool",
            "5432",
            "os error",
            "eof",
        ];
        for internal in internals.iter().copied().chain([port.as_str(), "fc_test_"]) {
            assert!(
                !text.contains(internal),
                "{what} shows {internal:?}: {body}"
            );
        }
    }

    /// Waits, bounded, until `/readyz` says the database is back.
    async fn wait_until_ready(&self) {
        let deadline = Instant::now() + RECOVERY;
        loop {
            let (status, body) = self.api.get("/readyz").await;
            if status == StatusCode::OK {
                assert_eq!(body, json!({"status": "ready"}));
                return;
            }
            assert!(
                Instant::now() < deadline,
                "not ready {RECOVERY:?} after the restore: {body}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// One of each action, direct and Salesforce-shaped, tagged so what they store is found.
fn actions(tag: &str) -> Vec<(String, Value)> {
    let sms =
        json!({"toPhone": JANE_PHONE, "bodyText": format!("{tag} sms"), "recordId": JANE_CONTACT});
    let call = json!({"toPhone": JANE_PHONE, "ivrId": MENU_IVR});
    let status = json!({"userId": ADA, "statusType": "Offline"});
    let bulk_sms = json!({"toPhone": JANE_PHONE, "bodyText": format!("{tag} bulk sms")});
    vec![
        (SMS_PATH.into(), sms),
        (CALL_PATH.into(), call.clone()),
        (STATUS_PATH.into(), status.clone()),
        (
            bulk_path(SMS_PATH),
            json!({"inputs": [bulk_sms.clone(), bulk_sms]}),
        ),
        (bulk_path(CALL_PATH), json!({"inputs": [call]})),
        (bulk_path(STATUS_PATH), json!({"inputs": [status]})),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_postgres_is_unreachable_actions_answer_503_in_their_routes_shape_fast() {
    let Some(outage) = Outage::start("while_postgres_is_unreachable_actions_answer_503_fast").await
    else {
        return;
    };
    outage.proxy.cut();
    for (path, body) in actions("during the cut") {
        let request = outage.api.client.post(outage.api.url(&path)).json(&body);
        let error = outage.unavailable(&format!("POST {path}"), request).await;
        assert_eq!(error["errorCode"], "SERVICE_UNAVAILABLE", "{path}: {error}");
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{error}"
        );
    }
    // A customer's message too, in the platform's shape.
    let inbound = outage.api.client.post(outage.api.url(INBOUND_PATH));
    let inbound = inbound.json(&json!({"from": JANE_PHONE, "to": ADA_PHONE, "body": "cut"}));
    let error = outage.unavailable("POST /_emulator/inbound", inbound).await;
    assert_eq!(error["errorCode"], "SERVICE_UNAVAILABLE", "{error}");
    // With an Idempotency-Key the key's claim is the first write: it fails the same way.
    let keyed = outage.api.client.post(outage.api.url(SMS_PATH));
    let keyed = keyed
        .header("Idempotency-Key", "outage-1")
        .json(&actions("keyed")[0].1);
    let error = outage
        .unavailable("keyed POST /actions/SubscriberSMSInvocable", keyed)
        .await;
    assert_eq!(error["errorCode"], "SERVICE_UNAVAILABLE", "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_postgres_is_unreachable_readyz_and_lists_are_503_and_livez_200() {
    let Some(outage) =
        Outage::start("while_postgres_is_unreachable_readyz_and_lists_are_503").await
    else {
        return;
    };
    let (status, sent) = outage.app.send_sms(&actions("before the cut")[0].1).await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let id = sent["id"].as_str().unwrap();
    outage.proxy.cut();

    assert_eq!(
        outage.api.get("/livez").await,
        (StatusCode::OK, json!({"status": "ok"}))
    );
    let readyz = outage.api.client.get(outage.api.url("/readyz"));
    let readyz = outage.unavailable("GET /readyz", readyz).await;
    assert_eq!(readyz["status"], "unavailable", "{readyz}");

    let reads = [
        "/_emulator/messages".to_owned(),
        "/_emulator/calls".into(),
        "/_emulator/tasks".into(),
        "/_emulator/voip-errors".into(),
        "/_emulator/status-log".into(),
        "/_emulator/messages?wait=1".into(),
        format!("/_emulator/messages/{id}"),
        format!("/_emulator/users/{ADA}"),
        "/_emulator/events?after=0".into(),
        format!("/services/data/v60.0/sobjects/FastCall__SMS_Message__c/{id}"),
    ];
    for path in reads {
        let request = outage.api.client.get(outage.api.url(&path));
        let error = outage.unavailable(&format!("GET {path}"), request).await;
        assert_eq!(error["errorCode"], "SERVICE_UNAVAILABLE", "{path}: {error}");
    }
    let moving = format!("/_emulator/messages/{id}/status");
    let request = outage
        .api
        .client
        .post(outage.api.url(&moving))
        .json(&json!({"status": "Sent"}));
    let error = outage.unavailable(&format!("POST {moving}"), request).await;
    assert_eq!(error["errorCode"], "SERVICE_UNAVAILABLE", "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_postgres_returns_the_service_recovers_and_nothing_is_lost_or_half_stored() {
    let Some(outage) = Outage::start("after_postgres_returns_the_service_recovers").await else {
        return;
    };
    let api = &outage.api;
    let mut before = Vec::new();
    for (path, body) in actions("before the cut") {
        let (status, answer) = api.post(&path, &body).await;
        assert_eq!(status, StatusCode::OK, "{path}: {answer}");
        before.push(answer);
    }
    let snapshot = stored(api).await;

    outage.proxy.cut();
    for (path, body) in actions("during the cut") {
        let (status, answer) = api.post(&path, &body).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}: {answer}");
    }
    let keyed = || {
        let request = api
            .client
            .post(api.url(SMS_PATH))
            .header("Idempotency-Key", "outage-2");
        request.json(&json!({"toPhone": JANE_PHONE, "bodyText": "keyed during the cut"}))
    };
    let (status, answer) = json_answer(keyed().send().await.unwrap()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    let stop = json!({"from": JANE_PHONE, "to": ADA_PHONE, "body": "STOP"});
    let (status, answer) = api.post(INBOUND_PATH, &stop).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");

    outage.proxy.restore();
    outage.wait_until_ready().await;
    // Nothing answered before the cut was lost, and nothing answered 503 was stored.
    assert_eq!(stored(api).await, snapshot);
    assert!(
        api.items("/_emulator/opt-outs").await.is_empty(),
        "the STOP answered 503 was kept"
    );

    // Actions work again at once; the keyed one runs now, as it never ran.
    let response = keyed().send().await.unwrap();
    let replayed = response.headers().get("idempotent-replayed").cloned();
    let (status, answer) = json_answer(response).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(replayed, None, "a 503 was kept under the key");
    let mut after = vec![answer];
    for (path, body) in actions("after the restore") {
        let (status, answer) = api.post(&path, &body).await;
        assert_eq!(status, StatusCode::OK, "{path}: {answer}");
        after.push(answer);
    }
    // Ada went Offline before the cut; the change during the cut did not happen, so the
    // same change now changes nothing.
    assert_eq!(after[3]["changed"], false, "{}", after[3]);
    assert_eq!(after[3]["logId"], Value::Null, "{}", after[3]);

    let now = stored(api).await;
    let bodies: Vec<String> = ids(&now.messages, "body");
    for body in &bodies {
        assert!(
            !body.starts_with("during the cut"),
            "stored after a 503: {body}"
        );
    }
    assert_eq!(
        bodies
            .iter()
            .filter(|b| *b == "keyed during the cut")
            .count(),
        1
    );
    // Everything from before is there unchanged: every earlier item is still listed.
    for (list, earlier) in [
        (&now.messages, &snapshot.messages),
        (&now.calls, &snapshot.calls),
    ] {
        assert_eq!(&list[list.len() - earlier.len()..], &earlier[..]);
    }
    assert_eq!(now.messages.len(), snapshot.messages.len() + 1 + 3);
    assert_eq!(now.calls.len(), snapshot.calls.len() + 2);
    assert_eq!(now.tasks.len(), snapshot.tasks.len() + 1 + 2);
    assert_eq!(
        now.status_log, snapshot.status_log,
        "no change since before the cut"
    );
    assert_eq!(before[2]["changed"], true, "{}", before[2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_postgres_hangs_requests_answer_503_within_the_acquire_timeout() {
    let Some(outage) = Outage::start("while_postgres_hangs_requests_answer_503").await else {
        return;
    };
    outage.proxy.hang();
    let mut requests: Vec<(String, reqwest::RequestBuilder)> = actions("while it hangs")
        .into_iter()
        .map(|(path, body)| {
            let request = outage.api.client.post(outage.api.url(&path)).json(&body);
            (format!("POST {path}"), request)
        })
        .collect();
    for path in ["/readyz", "/_emulator/messages", "/_emulator/status-log"] {
        requests.push((
            format!("GET {path}"),
            outage.api.client.get(outage.api.url(path)),
        ));
    }
    for (what, request) in requests {
        let error = outage.unavailable(&what, request).await;
        let code = if what.ends_with("/readyz") {
            "status"
        } else {
            "errorCode"
        };
        let expected = if code == "status" {
            "unavailable"
        } else {
            "SERVICE_UNAVAILABLE"
        };
        assert_eq!(error[code], expected, "{what}: {error}");
    }
    assert_eq!(
        outage.api.get("/livez").await,
        (StatusCode::OK, json!({"status": "ok"}))
    );

    outage.proxy.restore();
    outage.wait_until_ready().await;
    let (status, sent) = outage.app.send_sms(&actions("after the hang")[0].1).await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let messages = outage.api.items("/_emulator/messages").await;
    assert_eq!(ids(&messages, "body"), ["after the hang sms"]);
}

/// What the activity lists hold.
#[derive(Debug, PartialEq)]
struct Stored {
    messages: Vec<Value>,
    calls: Vec<Value>,
    tasks: Vec<Value>,
    status_log: Vec<Value>,
}

async fn stored(api: &Api) -> Stored {
    Stored {
        messages: api.items("/_emulator/messages").await,
        calls: api.items("/_emulator/calls").await,
        tasks: api.items("/_emulator/tasks").await,
        status_log: api.items("/_emulator/status-log").await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_postgres_is_known_down_requests_fail_at_once_until_it_answers_again() {
    // A long acquire timeout, so that a request that waited for it cannot pass for fast.
    let acquire = Duration::from_secs(4);
    let Some(outage) = Outage::with_acquire_timeout(
        "once_postgres_is_known_down_requests_fail_at_once",
        acquire.as_millis() as u64,
    )
    .await
    else {
        return;
    };
    outage.proxy.hang();
    let (status, _) = outage.app.send_sms(&actions("finds it down")[0].1).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);

    let sms = || {
        let body = &actions("while known down")[0].1;
        outage
            .api
            .client
            .post(outage.api.url("/actions/SubscriberSMSInvocable"))
            .json(body)
    };
    for what in ["an action", "another", "a third"] {
        let started = Instant::now();
        let (status, _) = json_answer(sms().send().await.expect("answered")).await;
        let took = started.elapsed();
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{what}");
        assert!(
            took < acquire / 2,
            "{what} waited {took:?}, as if the outage were news"
        );
    }
    let started = Instant::now();
    let (status, _) = outage.api.get("/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        started.elapsed() < acquire / 2,
        "/readyz waited {:?}",
        started.elapsed()
    );

    outage.proxy.restore();
    let restored = Instant::now();
    outage.wait_until_ready().await;
    eprintln!(
        "ready again {:?} after the database was",
        restored.elapsed()
    );
    let (status, sent) = outage.app.send_sms(&actions("after it answers")[0].1).await;
    assert_eq!(status, StatusCode::OK, "{sent}");
}
