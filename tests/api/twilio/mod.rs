//! The Twilio provider (SPEC 9) against a fake Twilio API: what the emulator sends, what
//! Twilio's answers and failures make of a record, Twilio's signed callbacks, the inbound
//! webhook, and a hand-off the emulator never finished.

use fastcall_emulator::config::{Config, Provider};
use fastcall_emulator::domain::Secret;
use fastcall_emulator::voip::twilio::sign;
use reqwest::StatusCode;

use crate::helpers::*;
use crate::process::{Emulator, free_port};
use fake::FakeTwilio;

mod callbacks;
mod fake;
mod hand_off;
mod inbound;
mod outage;
mod restart;
mod secrets;

pub const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const AUTH_TOKEN: &str = "f0e1d2c3b4a5968778695a4b3c2d1e0f";
/// Where the fake Twilio reaches the emulator: a tunnel's address, with a path of its own.
pub const PUBLIC_URL: &str = "https://fastcall.example.test/emulator";

/// `config` set for the Twilio provider at `fake`.
pub fn twilio_config(config: &mut Config, fake: &FakeTwilio) {
    config.provider = Provider::Twilio;
    config.twilio_account_sid = Some(ACCOUNT_SID.into());
    config.twilio_auth_token = Some(Secret::new(AUTH_TOKEN));
    config.twilio_api_url = fake.url.parse().unwrap();
    config.public_url = Some(PUBLIC_URL.parse().unwrap());
    config.twilio_timeout_ms = 1_000;
}

/// A fake Twilio, and an emulator that sends through it.
pub async fn spawn_with_twilio(backend: Backend) -> (TestApp, FakeTwilio) {
    let fake = FakeTwilio::start().await;
    let app = spawn_app_with(backend, |config| twilio_config(config, &fake)).await;
    (app, fake)
}

/// The form fields as owned pairs.
pub fn form(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Twilio's signature of a request to `path` (as the emulator serves it) with `fields`.
pub fn signature(path: &str, fields: &[(&str, &str)]) -> String {
    let url = format!("{PUBLIC_URL}{path}");
    sign(&Secret::new(AUTH_TOKEN), &url, &form(fields))
}

/// Posts `fields` to `path` as Twilio does, with `signature` when given: the answer's
/// status and body.
pub async fn post_form(
    app: &TestApp,
    path: &str,
    fields: &[(&str, &str)],
    signature: Option<&str>,
) -> (StatusCode, String) {
    let mut request = app.client.post(app.url(path)).form(&form(fields));
    if let Some(signature) = signature {
        request = request.header("X-Twilio-Signature", signature);
    }
    let response = request.send().await.expect("answered");
    let status = response.status();
    (status, response.text().await.unwrap())
}

/// Posts `fields` to `path` signed as Twilio signs them: the answer's status and body.
pub async fn twilio_posts(
    app: &TestApp,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    post_form(app, path, fields, Some(&signature(path, fields))).await
}

/// A status callback, which must be acknowledged (200, empty TwiML).
pub async fn callback(app: &TestApp, fields: &[(&str, &str)]) {
    let (status, body) = twilio_posts(app, "/_provider/twilio/status", fields).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("<Response/>"), "empty TwiML: {body}");
}

/// The binary on a free port of 127.0.0.1 over `database_url`, in manual progression, with the
/// Twilio provider at `fake` (the auth token in its environment) and `args`.
pub async fn start_binary(
    dir: &std::path::Path,
    database_url: &str,
    fake: &FakeTwilio,
    log: &str,
    args: &[&str],
) -> Emulator {
    let addr = format!("127.0.0.1:{}", free_port());
    let twilio = [
        "--addr",
        &addr,
        "--database-url",
        database_url,
        "--progression",
        "manual",
        "--provider",
        "twilio",
        "--twilio-account-sid",
        ACCOUNT_SID,
        "--twilio-api-url",
        &fake.url,
        "--public-url",
        PUBLIC_URL,
    ];
    let args = [&twilio[..], args].concat();
    let env = [("TWILIO_AUTH_TOKEN", AUTH_TOKEN)];
    Emulator::start(dir, log, &args, &env, format!("http://{addr}")).await
}
