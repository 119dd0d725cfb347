//! A stand-in for Twilio's REST API, on a port of its own: it keeps every request it gets,
//! and answers as Twilio does (a created resource, or Twilio's error object), or fails as a
//! network can, by the destination number.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// Twilio refuses it: 400 with error 21211.
pub const INVALID_TO: &str = "+14155550171";
/// Twilio fails: 500 with no error object.
pub const SERVER_ERROR_TO: &str = "+14155550172";
/// Twilio throttles: 429 with error 20429.
pub const THROTTLED_TO: &str = "+14155550173";
/// Twilio never answers (within a minute).
pub const HANGING_TO: &str = "+14155550174";

/// A request as the fake received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    /// The form fields, in the order sent, repeated names included.
    pub form: Vec<(String, String)>,
}

impl Received {
    /// The only value of the form field `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        let values = self.fields(name);
        assert!(values.len() <= 1, "{name} sent {} times", values.len());
        values.first().copied()
    }

    /// Every value of the form field `name`, in order.
    pub fn fields(&self, name: &str) -> Vec<&str> {
        self.form
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// The names of the form fields, in order.
    pub fn names(&self) -> Vec<&str> {
        self.form.iter().map(|(key, _)| key.as_str()).collect()
    }
}

#[derive(Default)]
struct Kept {
    requests: Mutex<Vec<Received>>,
    arrived: Notify,
}

pub struct FakeTwilio {
    pub url: String,
    kept: Arc<Kept>,
    server: JoinHandle<()>,
}

impl FakeTwilio {
    pub async fn start() -> FakeTwilio {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let kept = Arc::new(Kept::default());
        let app = Router::new().fallback(answer).with_state(kept.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeTwilio { url, kept, server }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Received> {
        self.kept.requests.lock().unwrap().clone()
    }

    /// The only request received so far.
    pub fn only_request(&self) -> Received {
        let requests = self.requests();
        assert_eq!(requests.len(), 1, "{requests:#?}");
        requests.into_iter().next().unwrap()
    }

    /// Waits until `count` requests have arrived, for at most ten seconds.
    pub async fn wait_for(&self, count: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let arrived = self.kept.arrived.notified();
            if self.requests().len() >= count {
                return;
            }
            assert!(
                tokio::time::timeout_at(deadline, arrived).await.is_ok(),
                "{count} requests expected, got {:#?}",
                self.requests()
            );
        }
    }
}

impl Drop for FakeTwilio {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn answer(
    State(kept): State<Arc<Kept>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let received = Received {
        path: uri.path().to_owned(),
        authorization: header("authorization"),
        content_type: header("content-type"),
        form: url::form_urlencoded::parse(&body).into_owned().collect(),
    };
    let to = received.field("To").unwrap_or_default().to_owned();
    let media = received.field("MediaUrl").is_some();
    let path = received.path.clone();
    kept.requests.lock().unwrap().push(received);
    kept.arrived.notify_waiters();
    match to.as_str() {
        INVALID_TO => error(
            StatusCode::BAD_REQUEST,
            21211,
            "The 'To' number is not a valid phone number.",
        ),
        THROTTLED_TO => error(StatusCode::TOO_MANY_REQUESTS, 20429, "Too Many Requests"),
        SERVER_ERROR_TO => {
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
        }
        HANGING_TO => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            StatusCode::REQUEST_TIMEOUT.into_response()
        }
        _ => created(&path, media),
    }
}

/// A created Message or Call resource, as Twilio answers it (abridged).
fn created(path: &str, media: bool) -> Response {
    let prefix = match (path.ends_with("/Calls.json"), media) {
        (true, _) => "CA",
        (false, true) => "MM",
        (false, false) => "SM",
    };
    let sid = format!("{prefix}{}", uuid::Uuid::new_v4().simple());
    let body = json!({"sid": sid, "status": "queued", "api_version": "2010-04-01"});
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

/// Twilio's error object.
fn error(status: StatusCode, code: i32, message: &str) -> Response {
    let body = json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status.as_u16(),
    });
    (status, axum::Json(body)).into_response()
}
