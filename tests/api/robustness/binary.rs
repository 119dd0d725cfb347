//! The compiled binary: secrets never reach its log, even at trace level; with no flags it
//! listens on 127.0.0.1:8080 only, over ./fastcall-emulator.db, and warns when told to listen
//! beyond the machine without API keys.

use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::*;
use crate::process::{Emulator, free_port, other_local_address};

const WARNING: &str = "listening beyond this machine without API keys";

/// A request to send and the status it must get: method, path, headers, body.
type Request<'a> = (
    Method,
    &'a str,
    Vec<(&'a str, &'a str)>,
    Option<&'a str>,
    StatusCode,
);

fn write_org(dir: &Path) -> String {
    let path = dir.join("org.yaml");
    std::fs::write(&path, keyed_demo_org()).expect("the org file is written");
    path.display().to_string()
}

#[tokio::test]
async fn secrets_never_reach_the_log_even_at_trace_level() {
    let dir = tempfile::tempdir().unwrap();
    let org = write_org(dir.path());
    let addr = format!("127.0.0.1:{}", free_port());
    let emulator = Emulator::start(
        dir.path(),
        "emulator.log",
        &["--addr", &addr, "--org", &org],
        &[("RUST_LOG", "trace"), ("FASTCALL_ADMIN_TOKEN", ADMIN_TOKEN)],
        format!("http://{addr}"),
    )
    .await;
    let wrong_key = "k-ada-83b1f0c4eZ";
    let wrong_token = "adm-4f1e9c2b7Z";
    let new_key = "k-new-61c0d93a";
    let ada = format!("Bearer {ADA_KEY}");
    let admin = format!("Bearer {ADMIN_TOKEN}");
    let sms_body = sms("x").to_string();
    let other_body = sms("other").to_string();
    let bulk_body = inputs(&[sms("x")]).to_string();
    let failing_org = json!({ "apiKeys": [{ "key": new_key, "userId": ADA }] }).to_string();
    let broken_org = format!("{{\"apiKeys\": [{{\"key\": \"{new_key}\"");
    let requests: Vec<Request> = vec![
        (
            Method::POST,
            SMS,
            vec![("Authorization", &ada), (IDEMPOTENCY_KEY, "idem-1")],
            Some(&sms_body),
            StatusCode::OK,
        ),
        (
            Method::POST,
            SMS,
            vec![("Authorization", &ada), (IDEMPOTENCY_KEY, "idem-1")],
            Some(&sms_body),
            StatusCode::OK,
        ),
        (
            Method::POST,
            SMS,
            vec![("X-API-Key", GRACE_KEY)],
            Some(&sms_body),
            StatusCode::OK,
        ),
        (
            Method::POST,
            APEX_SMS,
            vec![("X-API-Key", ADA_KEY), (IDEMPOTENCY_KEY, "idem-2")],
            Some(&bulk_body),
            StatusCode::OK,
        ),
        (
            Method::POST,
            SMS,
            vec![("Authorization", &ada), (IDEMPOTENCY_KEY, "idem-1")],
            Some(&other_body),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Method::POST,
            SMS,
            vec![("Authorization", "Bearer k-ada-83b1f0c4eZ")],
            Some(&sms_body),
            StatusCode::UNAUTHORIZED,
        ),
        (
            Method::POST,
            APEX_SMS,
            vec![("X-API-Key", wrong_key)],
            Some(&bulk_body),
            StatusCode::UNAUTHORIZED,
        ),
        (
            Method::GET,
            APEX,
            vec![("X-Fastcall-User-Id", ADA_KEY)],
            None,
            StatusCode::UNAUTHORIZED,
        ),
        (
            Method::GET,
            "/_emulator/messages",
            vec![("Authorization", &admin)],
            None,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/_emulator/messages",
            vec![("Authorization", "Bearer adm-4f1e9c2b7Z")],
            None,
            StatusCode::UNAUTHORIZED,
        ),
        (
            Method::GET,
            "/_emulator/org",
            vec![("X-API-Key", ADMIN_TOKEN)],
            None,
            StatusCode::UNAUTHORIZED,
        ),
        (
            Method::GET,
            "/_emulator/org",
            vec![("Authorization", &admin)],
            None,
            StatusCode::OK,
        ),
        (
            Method::PUT,
            "/_emulator/org",
            vec![("Authorization", &admin)],
            Some(&failing_org),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::PUT,
            "/_emulator/org",
            vec![("Authorization", &admin)],
            Some(&broken_org),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (method, path, headers, body, expected) in &requests {
        let status = emulator.request(method.clone(), path, headers, *body).await;
        assert_eq!(status, *expected, "{method} {path} {headers:?}");
    }
    assert_eq!(wrong_key.len(), ADA_KEY.len());
    assert_eq!(wrong_token.len(), ADMIN_TOKEN.len());

    let (status, log) = emulator.terminate();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains(" DEBUG "), "the log is verbose: {log}");
    let secrets = [
        ADA_KEY,
        GRACE_KEY,
        ADMIN_TOKEN,
        wrong_key,
        wrong_token,
        new_key,
    ];
    for secret in secrets {
        let line = log.lines().find(|line| line.contains(secret));
        assert_eq!(line, None, "the log shows the secret {secret}");
    }
}

#[tokio::test]
async fn with_no_flags_the_binary_listens_on_loopback_only_over_its_own_sqlite_file() {
    let default_port = 8080;
    let free = |ip: IpAddr| TcpListener::bind(SocketAddr::new(ip, default_port)).is_ok();
    let other = other_local_address();
    if !free(IpAddr::from([127, 0, 0, 1])) || other.is_some_and(|ip| !free(ip)) {
        // As with PostgreSQL (helpers.rs), CI must run what a developer's machine may skip.
        assert!(
            std::env::var_os("CI").is_none(),
            "port {default_port}, the default, is taken: CI must leave it free for this test"
        );
        eprintln!("skipped: port {default_port}, the default, is taken on this machine");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let emulator = Emulator::start(
        dir.path(),
        "emulator.log",
        &[],
        &[],
        format!("http://127.0.0.1:{default_port}"),
    )
    .await;
    let log = emulator.stderr();
    assert!(
        log.contains(&format!("ready on http://127.0.0.1:{default_port}")),
        "{log}"
    );
    assert!(!log.contains(WARNING), "{log}");
    // And it serves from a SQLite file in its working directory.
    let database = dir.path().join("fastcall-emulator.db");
    assert!(
        database.is_file(),
        "no {} after a run with no flags",
        database.display()
    );
    match other {
        Some(ip) => {
            let via_other = TcpStream::connect_timeout(
                &SocketAddr::new(ip, default_port),
                Duration::from_secs(2),
            );
            assert!(via_other.is_err(), "reachable through {ip}");
        }
        None => eprintln!("this machine has only loopback: not tried through another address"),
    }
    let (status, log) = emulator.terminate();
    assert_eq!(status.code(), Some(0), "{log}");
}

#[tokio::test]
async fn listening_on_all_interfaces_without_api_keys_logs_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let addr = format!("0.0.0.0:{port}");
    let emulator = Emulator::start(
        dir.path(),
        "emulator.log",
        &["--addr", &addr],
        &[],
        format!("http://127.0.0.1:{port}"),
    )
    .await;
    let log = emulator.stderr();
    assert!(
        log.contains(&format!("ready on http://0.0.0.0:{port}")),
        "{log}"
    );
    let warning = log.lines().find(|line| line.contains(WARNING));
    let warning = warning.unwrap_or_else(|| panic!("no warning: {log}"));
    assert!(warning.contains("WARN"), "{warning}");
    // It is indeed reachable beyond loopback (which the default test relies on to fail).
    if let Some(ip) = other_local_address() {
        let via_other =
            TcpStream::connect_timeout(&SocketAddr::new(ip, port), Duration::from_secs(2));
        assert!(via_other.is_ok(), "not reachable through {ip}");
    }
    let (status, log) = emulator.terminate();
    assert_eq!(status.code(), Some(0), "{log}");
}

#[tokio::test]
async fn listening_on_all_interfaces_with_api_keys_and_an_admin_token_logs_no_warning() {
    let dir = tempfile::tempdir().unwrap();
    let org = write_org(dir.path());
    let token = dir.path().join("admin-token");
    std::fs::write(&token, "an-admin-token\n").unwrap();
    let token = token.display().to_string();
    let port = free_port();
    let addr = format!("0.0.0.0:{port}");
    let emulator = Emulator::start(
        dir.path(),
        "emulator.log",
        &["--addr", &addr, "--org", &org],
        &[("FASTCALL_ADMIN_TOKEN_FILE", &token)],
        format!("http://127.0.0.1:{port}"),
    )
    .await;
    let ada = format!("Bearer {ADA_KEY}");
    let sent = emulator
        .request(
            Method::POST,
            SMS,
            &[("Authorization", &ada)],
            Some(&sms("x").to_string()),
        )
        .await;
    assert_eq!(sent, StatusCode::OK);
    let (status, log) = emulator.terminate();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(
        log.contains(&format!("ready on http://0.0.0.0:{port}")),
        "{log}"
    );
    assert!(!log.contains(WARNING), "{log}");
    assert!(!log.contains("an-admin-token"), "{log}");
}

#[test]
fn listening_on_all_interfaces_with_api_keys_but_no_admin_token_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let org = write_org(dir.path());
    let database = format!("sqlite:{}", dir.path().join("db.sqlite").display());
    let output = crate::process::command()
        .args([
            "--addr",
            "0.0.0.0:0",
            "--org",
            &org,
            "--database-url",
            &database,
        ])
        .output()
        .expect("the binary runs");
    assert!(!output.status.success(), "{output:?}");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(said.contains("FASTCALL_ADMIN_TOKEN_FILE"), "{said}");
    assert!(said.contains("--allow-open-admin"), "{said}");
}
