//! The compiled binary, run as a user would, in a temporary directory, each test over a
//! database of its own: on SQLite named by `--database-url`, on PostgreSQL named by
//! `DATABASE_URL`, so that both ways of naming the database are run.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{ADA, Backend, JANE_PHONE, TestApp, TestDb, json_of};
use crate::process::{Emulator, command, free_port, wait_for_exit};

const DEFAULT_DATABASE_FILE: &str = "fastcall-emulator.db";

/// The binary on a free port over `db`, with `args`.
async fn start(
    backend: Backend,
    dir: &Path,
    log_name: &str,
    db: &TestDb,
    args: &[&str],
) -> Emulator {
    match backend {
        Backend::Sqlite => Emulator::start_local(dir, log_name, &db.url, args).await,
        Backend::Postgres => Emulator::start_local_via_env(dir, log_name, &db.url, args).await,
    }
}

/// Sends an SMS saying `body` to Jane through the binary at `base_url`; it must be accepted.
async fn sms_ok(base_url: &str, body: &str) -> Value {
    let input = json!({"toPhone": JANE_PHONE, "bodyText": body});
    let request = crate::helpers::http()
        .build()
        .unwrap()
        .post(format!("{base_url}/actions/SubscriberSMSInvocable"))
        .json(&input);
    let (status, sent) = json_of(request).await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    sent
}

/// Stops `emulator` with SIGTERM: it must exit 0.
fn terminate_cleanly(emulator: Emulator) {
    let (status, log) = emulator.terminate();
    assert_eq!(status.code(), Some(0), "{log}");
}

/// The logged `curl ...` line, after checking that it is one clean line that posts JSON to
/// the SMS action of `base_url`.
fn curl_line<'a>(log: &'a str, base_url: &str) -> &'a str {
    let line = log
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("curl "))
        .unwrap_or_else(|| panic!("no curl line in the log: {log}"));
    assert!(
        !line.contains('\u{1b}'),
        "the curl line has terminal escapes: {line:?}"
    );
    let url = format!("{base_url}/actions/SubscriberSMSInvocable");
    assert!(
        line.split_whitespace().any(|word| word == url),
        "{line} should post to {url}"
    );
    assert!(
        line.contains("-H 'Content-Type: application/json'"),
        "{line}"
    );
    line
}

/// Runs `line` as pasted into a shell (with only `PATH` and `envs` in its environment), and
/// answers the HTTP status and the JSON body that curl got.
fn run_in_shell(line: &str, envs: &[(&str, &str)]) -> (StatusCode, Value) {
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!("{line} -w '\\n%{{http_code}}'"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("sh runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the logged command failed (is curl installed?): {line}\n{output:?}"
    );
    let (body, code) = stdout
        .rsplit_once('\n')
        .unwrap_or_else(|| panic!("no status after the body: {stdout:?}"));
    let status = StatusCode::from_u16(code.trim().parse().expect("a status code")).unwrap();
    let body = serde_json::from_str(body).unwrap_or_else(|_| panic!("a JSON body: {body:?}"));
    (status, body)
}

/// The stored message `id` of `db`, read by a server of the test's own over the same
/// database: what the binary stored is where it was told to store it.
async fn stored_message(db: &TestDb, id: &Value) -> Value {
    let app = TestApp::start(db, |_| {}).await;
    let id = id.as_str().expect("a message id");
    let (status, message) = app.get(&format!("/_emulator/messages/{id}")).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{id} is not in {}: {message}",
        db.url
    );
    app.stop().await;
    message
}

backend_tests! {
    async fn binary_serves_logs_a_curl_line_and_exits_0_on_sigterm(backend) {
        let db = TestDb::new(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let emulator = start(backend, dir.path(), "run.log", &db, &[]).await;
        let sent = sms_ok(&emulator.base_url, "Hi").await;
        assert_eq!(sent["status"], "Queued");

        // The logged command works as pasted: the demo org's default user sends.
        let log = emulator.stderr_as_written();
        let (status, pasted) = run_in_shell(curl_line(&log, &emulator.base_url), &[]);
        assert_eq!(status, StatusCode::OK, "{pasted}");
        assert_eq!(pasted["owner"], ADA, "{pasted}");

        terminate_cleanly(emulator);
        assert!(!dir.path().join(DEFAULT_DATABASE_FILE).exists(), "the database given was not used");
        assert_eq!(stored_message(&db, &sent["id"]).await["body"], "Hi");
        assert_eq!(stored_message(&db, &pasted["id"]).await["body"], "Hello from fastcall-emulator");
    }

    async fn binary_exits_0_on_sigint_and_stops_answering(backend) {
        let db = TestDb::new(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let emulator = start(backend, dir.path(), "run.log", &db, &[]).await;
        let sent = sms_ok(&emulator.base_url, "Hi").await;
        let base_url = emulator.base_url.clone();

        let (status, log) = emulator.interrupt();
        assert_eq!(status.code(), Some(0), "{log}");
        let after = crate::helpers::http().build().unwrap().get(format!("{base_url}/livez")).send().await;
        assert!(after.is_err(), "the stopped binary still answers: {after:?}");
        assert_eq!(stored_message(&db, &sent["id"]).await["body"], "Hi");
    }

    async fn restarting_the_binary_on_the_same_database_keeps_messages(backend) {
        let db = TestDb::new(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let emulator = start(backend, dir.path(), "first.log", &db, &[]).await;
        let sent = sms_ok(&emulator.base_url, "Keep").await;
        let path = format!("/_emulator/messages/{}", sent["id"].as_str().unwrap());
        let before: Value = reqwest::get(format!("{}{path}", emulator.base_url)).await.unwrap().json().await.unwrap();
        terminate_cleanly(emulator);

        let emulator = start(backend, dir.path(), "second.log", &db, &[]).await;
        let response = reqwest::get(format!("{}{path}", emulator.base_url)).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let after: Value = response.json().await.unwrap();
        // The binary runs the default timed progression: the message may have moved on
        // since, and its history goes on from where it was.
        for key in ["id", "smsId", "body", "createdDate", "toPhone", "fromPhone", "userId"] {
            assert_eq!(after[key], before[key], "{key}: {after}");
        }
        assert_eq!(after["body"], "Keep");
        let (earlier, later) = (before["statusHistory"].as_array().unwrap(), after["statusHistory"].as_array().unwrap());
        assert_eq!(&later[..earlier.len()], &earlier[..], "{after}");
        terminate_cleanly(emulator);
        assert!(!dir.path().join(DEFAULT_DATABASE_FILE).exists(), "the database given was not used");
    }

    async fn a_timed_step_pending_when_the_binary_is_killed_is_taken_after_the_restart(backend) {
        let db = TestDb::new(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let args = ["--progression", "timed", "--step-delay-ms", "1000"];
        let emulator = start(backend, dir.path(), "first.log", &db, &args).await;
        let sent = sms_ok(&emulator.base_url, "Pending").await;
        // Killed before the first step (a second away) was due: no chance to finish anything.
        emulator.kill();

        let emulator = start(backend, dir.path(), "second.log", &db, &args).await;
        let id = sent["id"].as_str().unwrap();
        let path = format!("/_emulator/messages?id={id}&status=Delivered&wait=10");
        let listed: Value = reqwest::get(format!("{}{path}", emulator.base_url)).await.unwrap().json().await.unwrap();
        let items = listed["items"].as_array().expect("items");
        assert_eq!(items.len(), 1, "the message was delivered after the restart: {listed}");
        let statuses: Vec<&str> = items[0]["statusHistory"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap()).collect();
        assert_eq!(statuses, ["Queued", "Sending", "Sent", "Delivered"], "{listed}");
        terminate_cleanly(emulator);
    }
}

/// Linus is no Fastcall user and comes first; Grace has no number to send from; only Ada can
/// send. There is no default user.
const NO_DEFAULT_USER_ORG: &str = r#"
users:
  - {id: 005Dn0000004LinIAE, name: Linus Integration, fastcallUser: false}
  - {id: 005Dn0000002GrcIAE, name: Grace Hopper}
  - {id: 005Dn0000001AdaIAE, name: Ada Lovelace}
phoneNumbers:
  - {id: a0PDn0000001AdaMAE, number: "+14155550100", sms: true, outboundSms: true, assignment: user, userIds: [005Dn0000001AdaIAE]}
"#;
const GRACE_KEY: &str = "k-grace-6d0c31f7";
const ADA_KEY: &str = "k-ada-92b4e8a1";

/// The logged command of an org with neither a default user nor anything else to go by
/// sends as someone who can, as pasted (with the key, never logged, from the environment).
#[tokio::test]
async fn the_logged_curl_line_works_for_an_org_without_a_default_user() {
    let keys = format!(
        "apiKeys:\n  - {{key: {GRACE_KEY}, userId: 005Dn0000002GrcIAE}}\n  \
         - {{key: {ADA_KEY}, userId: {ADA}}}\n"
    );
    let with_keys = format!("{NO_DEFAULT_USER_ORG}{keys}");
    // Each org, and the key (if any) the shell has in FASTCALL_API_KEY.
    let cases = [
        ("API keys", with_keys.as_str(), Some(ADA_KEY)),
        ("no API keys", NO_DEFAULT_USER_ORG, None),
    ];
    for (case, yaml, key) in cases {
        let envs: Vec<(&str, &str)> = key.map(|k| ("FASTCALL_API_KEY", k)).into_iter().collect();
        let dir = tempfile::tempdir().unwrap();
        let org = dir.path().join("org.yaml");
        std::fs::write(&org, yaml).unwrap();
        let database = format!("sqlite:{}", dir.path().join("x.db").display());
        let org = org.display().to_string();
        let emulator =
            Emulator::start_local(dir.path(), "run.log", &database, &["--org", &org]).await;
        let log = emulator.stderr_as_written();
        let (status, output) = run_in_shell(curl_line(&log, &emulator.base_url), &envs);
        assert_eq!(status, StatusCode::OK, "{case}: {output}\n{log}");
        assert_eq!(output["owner"], ADA, "{case}: {output}");
        assert_eq!(output["status"], "Queued", "{case}: {output}");
        let (status, log) = emulator.terminate();
        assert_eq!(status.code(), Some(0), "{case}: {log}");
        for key in [GRACE_KEY, ADA_KEY] {
            assert!(
                !log.contains(key),
                "{case}: the log shows the key {key}: {log}"
            );
        }
    }
}

#[test]
fn help_lists_every_flag_and_environment_variable() {
    use clap::CommandFactory;
    use fastcall_emulator::config::Config;

    // Every setting of src/config.rs (the README's Running table).
    let settings = [
        ("--addr", Some("FASTCALL_ADDR")),
        ("--database-url", Some("DATABASE_URL")),
        ("--org", Some("FASTCALL_ORG")),
        ("--admin-token", Some("FASTCALL_ADMIN_TOKEN")),
        ("--provider", Some("FASTCALL_PROVIDER")),
        (
            "--provider-latency-ms",
            Some("FASTCALL_PROVIDER_LATENCY_MS"),
        ),
        ("--progression", Some("FASTCALL_PROGRESSION")),
        ("--step-delay-ms", Some("FASTCALL_STEP_DELAY_MS")),
        ("--max-body-bytes", Some("FASTCALL_MAX_BODY_BYTES")),
        ("--max-bulk-inputs", Some("FASTCALL_MAX_BULK_INPUTS")),
        ("--db-max-connections", Some("FASTCALL_DB_MAX_CONNECTIONS")),
        (
            "--db-acquire-timeout-ms",
            Some("FASTCALL_DB_ACQUIRE_TIMEOUT_MS"),
        ),
        (
            "--request-timeout-secs",
            Some("FASTCALL_REQUEST_TIMEOUT_SECS"),
        ),
        (
            "--max-concurrent-requests",
            Some("FASTCALL_MAX_CONCURRENT_REQUESTS"),
        ),
        (
            "--header-read-timeout-secs",
            Some("FASTCALL_HEADER_READ_TIMEOUT_SECS"),
        ),
        (
            "--idempotency-ttl-secs",
            Some("FASTCALL_IDEMPOTENCY_TTL_SECS"),
        ),
        (
            "--shutdown-grace-secs",
            Some("FASTCALL_SHUTDOWN_GRACE_SECS"),
        ),
        (
            "--event-keep-alive-secs",
            Some("FASTCALL_EVENT_KEEP_ALIVE_SECS"),
        ),
        (
            "--event-retention-secs",
            Some("FASTCALL_EVENT_RETENTION_SECS"),
        ),
        ("--healthcheck", None),
        ("--log", Some("RUST_LOG")),
        (
            "--provider-concurrency",
            Some("FASTCALL_PROVIDER_CONCURRENCY"),
        ),
        ("--admin-token-file", Some("FASTCALL_ADMIN_TOKEN_FILE")),
        ("--allow-open-admin", Some("FASTCALL_ALLOW_OPEN_ADMIN")),
        (
            "--body-read-timeout-secs",
            Some("FASTCALL_BODY_READ_TIMEOUT_SECS"),
        ),
        ("--twilio-account-sid", Some("TWILIO_ACCOUNT_SID")),
        ("--twilio-auth-token", Some("TWILIO_AUTH_TOKEN")),
        ("--twilio-api-url", Some("FASTCALL_TWILIO_API_URL")),
        ("--twilio-timeout-ms", Some("FASTCALL_TWILIO_TIMEOUT_MS")),
        ("--public-url", Some("FASTCALL_PUBLIC_URL")),
        ("--log-format", Some("FASTCALL_LOG_FORMAT")),
    ];

    // The list is the whole definition: a setting added there must be added here too.
    let mut defined: Vec<(String, Option<String>)> = Config::command()
        .get_arguments()
        .filter_map(|arg| {
            let long = arg.get_long()?;
            let env = arg.get_env().map(|e| e.to_string_lossy().into_owned());
            Some((format!("--{long}"), env))
        })
        .collect();
    let mut listed: Vec<(String, Option<String>)> = settings
        .iter()
        .map(|(flag, env)| (flag.to_string(), env.map(str::to_owned)))
        .collect();
    defined.sort();
    listed.sort();
    assert_eq!(listed, defined, "the settings defined in src/config.rs");

    // One variable set, one not: neither value shows.
    let output = command()
        .arg("--help")
        .env("FASTCALL_ADDR", "127.0.0.1:9")
        .env("TWILIO_AUTH_TOKEN", "token-in-the-environment")
        .output()
        .expect("the binary runs");
    assert!(output.status.success(), "{output:?}");
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(!help.contains("token-in-the-environment"), "{help}");
    let lines: Vec<&str> = help.lines().map(str::trim).collect();
    for (flag, env) in settings {
        // A flag starts its own entry: `--provider <PROVIDER>`, or `--healthcheck` alone.
        let entry = lines
            .iter()
            .any(|line| *line == flag || line.starts_with(&format!("{flag} <")));
        assert!(entry, "--help does not list {flag}:\n{help}");
        if let Some(env) = env {
            // The variable's name, never its value now (`[env: NAME=]` when it is unset).
            assert!(
                help.contains(&format!("[env: {env}]")),
                "--help does not mention {env}:\n{help}"
            );
            assert!(
                !help.contains(&format!("[env: {env}=")),
                "--help shows the value of {env}:\n{help}"
            );
        }
    }
}

/// A second process on the SQLite file of a running one exits at once, naming the file
/// (rather than starting and then failing its writes with "database is locked"); the first
/// goes on serving, and once it is gone the file serves again.
#[tokio::test]
async fn a_second_binary_on_the_same_sqlite_file_exits_non_zero_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shared.db");
    let database = format!("sqlite:{}", file.display());
    let first = Emulator::start_local(dir.path(), "first.log", &database, &[]).await;

    let mut second = command()
        .args(["--addr", &format!("127.0.0.1:{}", free_port())])
        .args(["--database-url", &database])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let status = wait_for_exit(&mut second, Duration::from_secs(30));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut second.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success(), "{stderr}");
    assert!(
        stderr.contains(&file.display().to_string()),
        "the file is not named: {stderr}"
    );
    assert!(
        stderr.contains("in use by another fastcall-emulator process"),
        "{stderr}"
    );

    // The first process goes on serving.
    sms_ok(&first.base_url, "Hi").await;
    terminate_cleanly(first);
    let again = Emulator::start_local(dir.path(), "again.log", &database, &[]).await;
    terminate_cleanly(again);
}

#[test]
fn invalid_org_file_makes_the_binary_exit_non_zero_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let org = dir.path().join("org.yaml");
    std::fs::write(
        &org,
        "phoneNumbers:\n  - {id: a0PDn0000009Zed, number: 'none', assignment: org}\n",
    )
    .unwrap();
    let mut child = command()
        .arg("--addr")
        .arg(format!("127.0.0.1:{}", free_port()))
        .arg("--database-url")
        .arg(format!("sqlite:{}", dir.path().join("x.db").display()))
        .arg("--org")
        .arg(&org)
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let status = wait_for_exit(&mut child, Duration::from_secs(30));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success(), "{stderr}");
    assert!(stderr.contains("phoneNumbers[0].number"), "{stderr}");
    assert!(stderr.contains("org.yaml"), "{stderr}");
}
