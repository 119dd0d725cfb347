//! Secrets stay secret: API keys never come back out of the org export, a server reachable
//! beyond this machine does not take API keys without an admin token guarding them, and
//! the admin token can come from a file rather than the command line.

use fastcall_emulator::config::{Config, Secret};
use fastcall_emulator::startup::{Application, StartupError};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::*;

const KEYED_ORG: &str = r#"
settings: {defaultUserId: 005Dn0000001AdaIAE}
users:
  - {id: 005Dn0000001AdaIAE, name: Ada Lovelace}
  - {id: 005Dn0000002GrcIAE, name: Grace Hopper}
phoneNumbers:
  - {id: a0PDn0000001AdaMAE, number: "+14155550100", sms: true, outboundSms: true, assignment: user, userIds: [005Dn0000001AdaIAE]}
apiKeys:
  - {key: k-ada-very-secret, userId: 005Dn0000001AdaIAE}
  - {key: k-grace-very-secret, userId: 005Dn0000002GrcIAE}
"#;

/// The org data as YAML, for a `PUT` or an org file.
fn put_yaml(app: &TestApp, yaml: &str) -> reqwest::RequestBuilder {
    app.client
        .put(app.url("/_emulator/org"))
        .header("Content-Type", "application/yaml")
        .body(yaml.to_owned())
}

#[track_caller]
fn assert_redacted(what: &str, text: &str) {
    assert!(!text.contains("very-secret"), "{what} shows a key: {text}");
}

/// The fingerprints an export shows, by user.
fn fingerprints(org: &Value) -> Vec<(String, String)> {
    org["apiKeys"]
        .as_array()
        .expect("apiKeys")
        .iter()
        .map(|entry| {
            assert_eq!(entry.as_object().unwrap().len(), 2, "{entry}");
            (
                entry["userId"].as_str().unwrap().to_owned(),
                entry["keyFingerprint"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

backend_tests! {
    async fn the_org_export_and_the_put_answer_show_key_fingerprints_never_keys(backend) {
        let app = spawn_app(backend).await;
        let put = put_yaml(&app, KEYED_ORG).send().await.unwrap();
        assert_eq!(put.status(), StatusCode::OK);
        let answer = put.text().await.unwrap();
        assert_redacted("the PUT answer", &answer);
        let answer: Value = serde_json::from_str(&answer).unwrap();

        let json = app.client.get(app.url("/_emulator/org")).send().await.unwrap();
        let json: Value = serde_json::from_str(&json.text().await.unwrap()).unwrap();
        assert_redacted("the JSON export", &json.to_string());
        let yaml = app
            .client
            .get(app.url("/_emulator/org"))
            .header("Accept", "application/yaml")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_redacted("the YAML export", &yaml);
        assert!(yaml.contains("keyFingerprint: sha256:"), "{yaml}");

        let shown = fingerprints(&json);
        assert_eq!(fingerprints(&answer), shown);
        // `printf %s k-ada-very-secret | sha256sum`, first 8 hex digits: which key is which.
        assert_eq!(shown[0], (ADA.to_owned(), "sha256:ba518860".to_owned()));
        assert_eq!(shown[1].0, GRACE);
        assert_ne!(shown[0].1, shown[1].1);

        // The keys still work: only their export is hidden.
        let (status, _) = send_with_key(&app, "k-ada-very-secret").await;
        assert_eq!(status, StatusCode::OK);
    }

    async fn a_key_with_anything_around_it_is_not_the_key(backend) {
        let app = spawn_app(backend).await;
        assert_eq!(put_yaml(&app, KEYED_ORG).send().await.unwrap().status(), StatusCode::OK);
        for presented in ["k-ada-very-secret x", "k-ada-very-secret\tx", "x k-ada-very-secret"] {
            let (status, body) = send_with_key(&app, presented).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{presented:?}: {body}");
        }
    }

    async fn beyond_loopback_without_an_admin_token_an_org_with_keys_is_refused(backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::start(&db, |config| config.addr = "0.0.0.0:0".parse().unwrap()).await;
        let response = put_yaml(&app, KEYED_ORG).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["errorCode"], "ADMIN_TOKEN_REQUIRED", "{body}");
        // Nothing was stored: the demo org still serves without keys.
        let (status, _) = app.send_sms(&json!({"toPhone": "+14155550123", "bodyText": "hi"})).await;
        assert_eq!(status, StatusCode::OK);
        app.stop().await;

        let app = TestApp::start(&db, |config| {
            config.addr = "0.0.0.0:0".parse().unwrap();
            config.allow_open_admin = true;
        })
        .await;
        assert_eq!(put_yaml(&app, KEYED_ORG).send().await.unwrap().status(), StatusCode::OK);
        app.stop().await;

        // Keys stored, no token, beyond loopback: the emulator will not start.
        let error = Application::build(&Config {
            addr: "0.0.0.0:0".parse().unwrap(),
            database_url: db.url.clone(),
            ..Config::default()
        })
        .await
        .err()
        .expect("refused");
        assert!(matches!(error, StartupError::OpenAdmin { .. }), "{error}");
        assert!(error.to_string().contains("FASTCALL_ADMIN_TOKEN_FILE"), "{error}");
        // With a token, or on loopback, it starts.
        for config in [
            Config { addr: "0.0.0.0:0".parse().unwrap(), admin_token: Some(Secret::new("t0ken")), ..Config::default() },
            Config { addr: "127.0.0.1:0".parse().unwrap(), ..Config::default() },
        ] {
            let config = Config { database_url: db.url.clone(), ..config };
            assert!(Application::build(&config).await.is_ok(), "{:?}", config.addr);
        }
    }

    async fn the_admin_token_can_come_from_a_file(backend) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("admin-token");
        std::fs::write(&path, "from-a-file\n").unwrap();
        let app = spawn_app_with(backend, |config| config.admin_token_file = Some(path)).await;
        let status = |token: &'static str| {
            let request = app.client.get(app.url("/_emulator/org")).bearer_auth(token);
            async move { request.send().await.unwrap().status() }
        };
        assert_eq!(status("from-a-file").await, StatusCode::OK);
        assert_eq!(status("wrong").await, StatusCode::UNAUTHORIZED);
    }
}

async fn send_with_key(app: &TestApp, key: &str) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.url("/actions/SubscriberSMSInvocable"))
        .header("X-API-Key", key)
        .json(&json!({"toPhone": "+14155550123", "bodyText": "hi"}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[test]
fn an_admin_token_file_that_cannot_be_read_stops_the_start() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let config = Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        database_url: "sqlite::memory:".into(),
        admin_token_file: Some("/nonexistent/admin-token".into()),
        ..Config::default()
    };
    let error = runtime
        .block_on(Application::build(&config))
        .err()
        .expect("refused");
    assert!(
        matches!(error, StartupError::AdminTokenFile { .. }),
        "{error}"
    );
}
