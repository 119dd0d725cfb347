//! The test harness: a real server on port 0 over a fresh database per test, on SQLite
//! and on PostgreSQL.

use std::sync::Once;

use fastcall_emulator::config::Config;
use fastcall_emulator::lifecycle::Progression;
use fastcall_emulator::startup::Application;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

mod salesforce;
mod test_db;

pub use salesforce::{
    EXCEPTION, assert_action_list, assert_all_failed, assert_bodies_refused,
    assert_described_action, assert_each_refused, assert_error, assert_exception, assert_failed,
    assert_id, assert_salesforce_datetime_now, assert_succeeded, bulk_results, failed_code, id18,
    parse_salesforce_datetime,
};
pub use test_db::TestDb;

// The demo org's Ids (src/org/demo.yaml).
pub const ADA: &str = "005Dn0000001AdaIAE";
pub const GRACE: &str = "005Dn0000002GrcIAE";
pub const KATHERINE: &str = "005Dn0000003KatIAE";
pub const LINUS: &str = "005Dn0000004LinIAE";
pub const SUPPORT_GROUP: &str = "00GDn0000001SupMAE";
pub const ADA_NUMBER: &str = "a0PDn0000001AdaMAE";
pub const SUPPORT_NUMBER: &str = "a0PDn0000002SupMAE";
pub const MAIN_NUMBER: &str = "a0PDn0000003OrgMAE";
pub const VOICE_NUMBER: &str = "a0PDn0000004VoiMAE";
pub const APPOINTMENT_TEMPLATE: &str = "a0TDn0000001AptMAE";
pub const LEAD_TEMPLATE: &str = "a0TDn0000002LedMAE";
pub const JANE_CONTACT: &str = "003Dn0000001JanIAE";
pub const BOB_LEAD: &str = "00QDn0000001BobMAE";
pub const ACME_ACCOUNT: &str = "001Dn0000001AcmIAE";
pub const ADA_PHONE: &str = "+14155550100";
pub const SUPPORT_PHONE: &str = "+14155550101";
pub const MAIN_PHONE: &str = "+14155550102";
pub const VOICE_PHONE: &str = "+14155550103";
/// Jane's `Phone`.
pub const JANE_PHONE: &str = "+14155550123";
pub const MENU_IVR: &str = "a0IDn0000001MnuMAE";
pub const AVAILABLE_STATUS: &str = "a0UDn0000001AvlMAE";
pub const ON_BREAK_STATUS: &str = "a0UDn0000002BrkMAE";
pub const OFFLINE_STATUS: &str = "a0UDn0000003OffMAE";

/// The environment variable naming the PostgreSQL server the tests create databases on,
/// e.g. `postgres://postgres@127.0.0.1:5432/test`.
pub const POSTGRES_URL_VAR: &str = "FASTCALL_TEST_POSTGRES_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each test body once per backend: `mod sqlite { ... }` and `mod postgres { ... }`,
/// on a multi-threaded runtime, so the server handles requests in parallel as it does in
/// production.
/// Without `FASTCALL_TEST_POSTGRES_URL` the PostgreSQL runs say they are skipped, unless
/// `CI` is set, where they fail.
#[macro_export]
macro_rules! backend_tests {
    ($(async fn $name:ident($backend:ident) $body:block)*) => {
        $(async fn $name($backend: $crate::helpers::Backend) $body)*

        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name($crate::helpers::Backend::Sqlite).await;
            })*
        }

        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if $crate::helpers::postgres_available(stringify!($name)) {
                    super::$name($crate::helpers::Backend::Postgres).await;
                }
            })*
        }
    };
}

/// Whether PostgreSQL tests can run here; in CI a missing URL is a failure, not a skip.
pub fn postgres_available(test: &str) -> bool {
    if std::env::var(POSTGRES_URL_VAR).is_ok() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{POSTGRES_URL_VAR} must be set in CI ({test})"
    );
    eprintln!("skipped {test} on PostgreSQL: set {POSTGRES_URL_VAR} to run it");
    false
}

/// Two servers over one PostgreSQL database, each configured by `configure`; `None`, the
/// test skipped, where PostgreSQL tests cannot run (see `postgres_available`).
pub async fn two_postgres_instances(
    test: &str,
    configure: impl Fn(&mut Config),
) -> Option<(TestDb, TestApp, TestApp)> {
    if !postgres_available(test) {
        return None;
    }
    let db = TestDb::new(Backend::Postgres).await;
    let first = TestApp::start(&db, &configure).await;
    let second = TestApp::start(&db, &configure).await;
    Some((db, first, second))
}

/// A client for the tests' requests. reqwest is built with rustls and without a crypto
/// provider of its own: the one the emulator installs (ring) is installed first.
pub fn http() -> reqwest::ClientBuilder {
    fastcall_emulator::voip::twilio::install_tls();
    reqwest::Client::builder()
}

fn init_logging() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            fastcall_emulator::telemetry::init(
                "info,fastcall_emulator=debug",
                fastcall_emulator::telemetry::LogFormat::Plain,
            );
        }
    });
}

/// A running server.
pub struct TestApp {
    pub base_url: String,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    /// Kept alive as long as the app when the app owns it.
    db: Option<TestDb>,
}

/// A server with the demo org over a fresh database.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// A server over a fresh database, with the configuration adjusted by `configure`.
pub async fn spawn_app_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> TestApp {
    let db = TestDb::new(backend).await;
    let mut app = TestApp::start(&db, configure).await;
    app.db = Some(db);
    app
}

/// A server with its org loaded from `yaml` through `--org`.
pub async fn spawn_app_with_org(backend: Backend, yaml: &str) -> TestApp {
    let file = tempfile::Builder::new()
        .suffix(".yaml")
        .tempfile()
        .expect("a temporary file");
    std::fs::write(file.path(), yaml).expect("the org file is written");
    let path = file.path().to_owned();
    spawn_app_with(backend, move |config| config.org = Some(path)).await
}

/// Builds the app. A restart test stops an app and starts another over the same SQLite file
/// in one process: a task the stopped app left behind (giving up an idempotency key, say) may
/// hold its storage, and so the file's claim, for a moment after the stop, which a real
/// process's exit would release. So a claim still held is waited for, briefly.
async fn build(config: &Config) -> Application {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match Application::build(config).await {
            Ok(app) => return app,
            Err(error)
                if error.to_string().contains("is in use by another")
                    && std::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(error) => panic!("the application builds: {error}"),
        }
    }
}

impl TestApp {
    /// Starts a server over `db`, which outlives it (for restart tests).
    /// Records stay at their initial status unless a test chooses a progression: what a
    /// test reads back does not depend on how fast it runs.
    pub async fn start(db: &TestDb, configure: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = Config {
            addr: "127.0.0.1:0".parse().unwrap(),
            database_url: db.url.clone(),
            db_max_connections: 4,
            progression: Progression::Manual,
            ..Config::default()
        };
        configure(&mut config);
        let app = build(&config).await;
        let base_url = format!("http://{}", app.local_addr());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        let client = crate::helpers::http()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap();
        TestApp {
            base_url,
            client,
            stop: Some(stop),
            server: Some(server),
            db: None,
        }
    }

    /// Shuts the server down gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("the server stops cleanly");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        json_of(self.client.get(self.url(path))).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        json_of(self.client.post(self.url(path)).json(body)).await
    }

    /// Posts a raw body, with no Content-Type unless given.
    pub async fn post_raw(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
        content_type: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.post(self.url(path)).body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        json_of(request).await
    }

    /// Posts `body` with `X-Fastcall-User-Id: user`, the user invoking the action.
    pub async fn post_as(&self, path: &str, user: &str, body: &Value) -> (StatusCode, Value) {
        let headers = [("X-Fastcall-User-Id", user)];
        self.request(Method::POST, path, &headers, Some(body)).await
    }

    /// Any method, with the given headers and, when given, a JSON body.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        json_of(request).await
    }

    /// `GET path`, which must answer 200: a record or an item of the inspection API.
    pub async fn item(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    /// The items of an inspection list, e.g. `/_emulator/messages?to=...`.
    pub async fn items(&self, path: &str) -> Vec<Value> {
        let body = self.item(path).await;
        body["items"]
            .as_array()
            .unwrap_or_else(|| panic!("{path}: items in {body}"))
            .clone()
    }

    /// `POST /actions/SubscriberSMSInvocable`.
    pub async fn send_sms(&self, input: &Value) -> (StatusCode, Value) {
        self.post("/actions/SubscriberSMSInvocable", input).await
    }

    /// `POST /services/data/v60.0/actions/custom/apex/{action}` with `{"inputs": inputs}`.
    pub async fn invoke(&self, action: &str, inputs: Value) -> (StatusCode, Value) {
        let path = format!("/services/data/v60.0/actions/custom/apex/{action}");
        self.post(&path, &serde_json::json!({ "inputs": inputs }))
            .await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Sends `request`; its status and JSON body.
pub async fn json_of(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    json_answer(request.send().await.expect("the request is answered")).await
}

/// The status and JSON body of an answer; a body that is not JSON fails the test.
pub async fn json_answer(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("a response body");
    let json = serde_json::from_str(&text).unwrap_or_else(|_| {
        let shown: String = text.chars().take(300).collect();
        panic!("a JSON body, got {status}: {shown:?}")
    });
    (status, json)
}

/// The keys of a JSON object, sorted.
pub fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .unwrap_or_else(|| panic!("an object, got {value}"))
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

/// The type and data of the event in one blank-line-terminated block of an event stream;
/// `None` for a block without one (a keep-alive comment).
pub fn sse_event(block: &str) -> Option<(String, String)> {
    let (mut kind, mut data) = (None, Vec::new());
    for line in block.lines() {
        if let Some(value) = line.strip_prefix("event:") {
            kind = Some(value.trim().to_owned());
        } else if let Some(value) = line.strip_prefix("data:") {
            data.push(value.strip_prefix(' ').unwrap_or(value));
        }
    }
    kind.map(|kind| (kind, data.join("\n")))
}

/// `base` changed by `changes`: each key set to its value, or removed where it is null.
pub fn with_changes(mut base: Value, changes: Value) -> Value {
    let fields = base.as_object_mut().expect("an object");
    for (key, value) in changes.as_object().expect("changes are an object") {
        if value.is_null() {
            fields.remove(key);
        } else {
            fields.insert(key.clone(), value.clone());
        }
    }
    base
}
