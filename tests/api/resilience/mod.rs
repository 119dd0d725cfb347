//! Resilience: a `kill -9` of the binary in the middle of a stream of actions (`crash`), the
//! PostgreSQL server going away and coming back (`outage`), and hostile inputs, query
//! strings and paths (`hostile`).

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, json_of};

mod crash;
mod disk_full;
mod hostile;
mod hostile_urls;
mod integrity;
mod outage;
pub(crate) mod proxy;

pub(super) const SMS_PATH: &str = "/actions/SubscriberSMSInvocable";
pub(super) const CALL_PATH: &str = "/actions/SubscriberCallInvocable";
pub(super) const STATUS_PATH: &str = "/actions/SubscriberUserStatusInvocable";
/// The simulated provider refuses SMS to this number with its error 21211, calls with 21217.
pub(super) const REFUSED_PHONE: &str = "+15005550001";

/// The Salesforce-shaped route of the action a direct `path` names.
pub(super) fn bulk_path(direct: &str) -> String {
    let action = direct.trim_start_matches("/actions/");
    format!("/services/data/v60.0/actions/custom/apex/{action}")
}

/// A client and the base URL of a server: a `TestApp` or a separate process.
pub(super) struct Api {
    pub client: reqwest::Client,
    pub base: String,
}

impl Api {
    pub fn new(base: String) -> Self {
        let client = crate::helpers::http()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .expect("a client");
        Self { client, base }
    }

    pub fn of(app: &TestApp) -> Self {
        Self {
            client: app.client.clone(),
            base: app.base_url.clone(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        json_of(self.client.get(self.url(path))).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        json_of(self.client.post(self.url(path)).json(body)).await
    }

    /// A record or item that must exist.
    pub async fn item(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    /// Every item of an inspection list (at most 1000, which a test must stay under).
    pub async fn items(&self, list: &str) -> Vec<Value> {
        let separator = if list.contains('?') { '&' } else { '?' };
        let body = self.item(&format!("{list}{separator}limit=1000")).await;
        let items = body["items"].as_array().expect("items").clone();
        assert!(items.len() < 1000, "{list}: the test outgrew one page");
        items
    }
}

/// The values of `key` in `items`, as strings.
pub(super) fn ids(items: &[Value], key: &str) -> Vec<String> {
    items
        .iter()
        .map(|item| item[key].as_str().unwrap_or_default().to_owned())
        .collect()
}
