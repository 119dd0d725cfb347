//! Org data (docs/org-data.md): export, replacement through `PUT /_emulator/org`, `--org FILE`
//! at start, persistence across restarts, and reset with `?org=true`.

use fastcall_emulator::config::Config;
use fastcall_emulator::startup::Application;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::*;

// The replacement org's Ids, in 18-character form, with the 15-character form it is written in.
const ZED: &str = "005Dn0000009ZedIAE";
const ZED_15: &str = "005Dn0000009Zed";
const YAN: &str = "005Dn0000008YanIAE";
const OPS_GROUP: &str = "00GDn0000009OpsMAE";
const ZED_NUMBER: &str = "a0PDn0000009ZedMAE";
const OPS_NUMBER: &str = "a0PDn0000008OpsMAE";
const KIM_CONTACT: &str = "003Dn0000009KimIAE";

/// A small org unlike the demo: Ids in 15-character form, numbers in national notation.
fn zed_org() -> Value {
    json!({
        "settings": {"defaultUserId": ZED_15},
        "users": [
            {"id": ZED_15, "name": "Zed Shaw", "email": "zed@example.com", "fastcallUser": true,
             "groupIds": ["00GDn0000009Ops"]},
            {"id": "005Dn0000008Yan", "name": "Yan Li", "fastcallUser": true}
        ],
        "groups": [{"id": "00GDn0000009Ops", "name": "Ops"}],
        "phoneNumbers": [
            {"id": "a0PDn0000009Zed", "number": "(415) 555-0199", "sms": true, "mms": true, "voice": true,
             "outboundSms": true, "callerId": true, "assignment": "user", "userIds": [ZED_15]},
            {"id": "a0PDn0000008Ops", "number": "415-555-0198", "sms": true, "outboundSms": true,
             "assignment": "group", "groupIds": ["00GDn0000009Ops"]}
        ],
        "records": [{"id": "003Dn0000009Kim", "fields": {"FirstName": "Kim", "MobilePhone": "4155550197"}}]
    })
}

/// The same org as `zed_org`, written as YAML.
const ZED_ORG_YAML: &str = r#"
settings: {defaultUserId: 005Dn0000009Zed}
users:
  - {id: 005Dn0000009Zed, name: Zed Shaw, email: zed@example.com, fastcallUser: true, groupIds: [00GDn0000009Ops]}
  - {id: 005Dn0000008Yan, name: Yan Li, fastcallUser: true}
groups:
  - {id: 00GDn0000009Ops, name: Ops}
phoneNumbers:
  - id: a0PDn0000009Zed
    number: "(415) 555-0199"
    sms: true
    mms: true
    voice: true
    outboundSms: true
    callerId: true
    assignment: user
    userIds: [005Dn0000009Zed]
  - {id: a0PDn0000008Ops, number: "415-555-0198", sms: true, outboundSms: true,
     assignment: group, groupIds: [00GDn0000009Ops]}
records:
  - {id: 003Dn0000009Kim, fields: {FirstName: Kim, MobilePhone: "4155550197"}}
"#;

async fn put_org(
    app: &TestApp,
    body: impl Into<reqwest::Body>,
    content_type: &str,
) -> (StatusCode, Value) {
    let request = app.client.put(app.url("/_emulator/org"));
    json_of(request.header("content-type", content_type).body(body)).await
}

async fn put_org_json(app: &TestApp, org: &Value) -> (StatusCode, Value) {
    put_org(app, org.to_string(), "application/json").await
}

async fn get_org(app: &TestApp) -> Value {
    app.item("/_emulator/org").await
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|e| e["id"].as_str().expect("an id"))
        .collect()
}

/// Asserts the stored org is `zed_org`, normalised: 18-character Ids, E.164 numbers.
#[track_caller]
fn assert_is_zed_org(org: &Value) {
    assert_eq!(org["settings"]["defaultUserId"], ZED, "{org}");
    assert_eq!(ids(&org["users"]), [ZED, YAN], "{org}");
    assert_eq!(org["users"][0]["groupIds"], json!([OPS_GROUP]), "{org}");
    assert_eq!(ids(&org["groups"]), [OPS_GROUP], "{org}");
    assert_eq!(ids(&org["phoneNumbers"]), [ZED_NUMBER, OPS_NUMBER], "{org}");
    assert_eq!(org["phoneNumbers"][0]["number"], "+14155550199", "{org}");
    assert_eq!(org["phoneNumbers"][0]["userIds"], json!([ZED]), "{org}");
    assert_eq!(org["phoneNumbers"][1]["number"], "+14155550198", "{org}");
    assert_eq!(
        org["phoneNumbers"][1]["groupIds"],
        json!([OPS_GROUP]),
        "{org}"
    );
    assert_eq!(ids(&org["records"]), [KIM_CONTACT], "{org}");
}

/// Asserts the org served is the built-in demo org.
#[track_caller]
fn assert_is_demo_org(org: &Value) {
    assert_eq!(org["settings"]["defaultUserId"], ADA, "{org}");
    assert_eq!(ids(&org["users"]), [ADA, GRACE, KATHERINE, LINUS], "{org}");
    assert_eq!(
        ids(&org["phoneNumbers"]),
        [ADA_NUMBER, SUPPORT_NUMBER, MAIN_NUMBER, VOICE_NUMBER],
        "{org}"
    );
    assert_eq!(org["phoneNumbers"][3]["number"], "+14155550103", "{org}");
}

/// A syntax error is located by line and column; any path will do.
const ANY_PATH: &str = "(any)";

fn write_temp(dir: &tempfile::TempDir, name: &str, contents: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, contents).expect("the org file is written");
    path
}

backend_tests! {
    async fn get_org_returns_the_demo_org_as_json(backend) {
        let app = spawn_app(backend).await;
        let org = get_org(&app).await;
        assert_is_demo_org(&org);
        assert_eq!(org["settings"]["smsEnabled"], true);
        assert_eq!(org["settings"]["defaultCountry"], "US");
        assert_eq!(ids(&org["groups"]), [SUPPORT_GROUP]);
        assert_eq!(ids(&org["smsTemplates"]), [APPOINTMENT_TEMPLATE, LEAD_TEMPLATE]);
        assert_eq!(ids(&org["records"]), [JANE_CONTACT, BOB_LEAD, ACME_ACCOUNT]);
        assert_eq!(org["ivrs"].as_array().unwrap().len(), 5);
    }

    async fn get_org_as_yaml_parses_back_to_the_json_export(backend) {
        let app = spawn_app(backend).await;
        let json_export = get_org(&app).await;
        let request = app.client.get(app.url("/_emulator/org")).header("accept", "application/yaml");
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.contains("yaml"), "{content_type}");
        let yaml = response.text().await.unwrap();
        let parsed: Value = serde_norway::from_str(&yaml).expect("the export is YAML");
        assert_eq!(parsed, json_export, "{yaml}");

        // The YAML export loads back unchanged.
        let (status, stored) = put_org(&app, yaml, "application/yaml").await;
        assert_eq!(status, StatusCode::OK, "{stored}");
        assert_eq!(stored, json_export);
    }

    async fn put_org_as_json_answers_the_normalised_document_and_get_returns_it(backend) {
        let app = spawn_app(backend).await;
        let (status, stored) = put_org_json(&app, &zed_org()).await;
        assert_eq!(status, StatusCode::OK, "{stored}");
        assert_is_zed_org(&stored);
        assert_eq!(get_org(&app).await, stored);
    }

    async fn put_org_as_yaml_is_stored_like_the_same_org_as_json(backend) {
        let app = spawn_app(backend).await;
        let (status, from_yaml) = put_org(&app, ZED_ORG_YAML, "application/yaml").await;
        assert_eq!(status, StatusCode::OK, "{from_yaml}");
        assert_is_zed_org(&from_yaml);
        assert_eq!(get_org(&app).await, from_yaml);

        let (status, from_json) = put_org_json(&app, &zed_org()).await;
        assert_eq!(status, StatusCode::OK, "{from_json}");
        assert_eq!(from_json, from_yaml);

        // Any Content-Type naming YAML counts.
        let (status, again) = put_org(&app, ZED_ORG_YAML, "application/x-yaml; charset=utf-8").await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(again, from_yaml);
    }

    async fn actions_use_a_replaced_org_at_once(backend) {
        let app = spawn_app(backend).await;
        let (status, body) = put_org_json(&app, &zed_org()).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        // The new default user sends from the new user's own number.
        let (status, sent) = app.send_sms(&json!({"toPhone": "+14155550123", "bodyText": "Hi"})).await;
        assert_eq!(status, StatusCode::OK, "{sent}");
        assert_eq!(sent["owner"], ZED);
        assert_eq!(sent["phoneNumberId"], ZED_NUMBER);
        let (_, message) = app.get(&format!("/_emulator/messages/{}", sent["id"].as_str().unwrap())).await;
        assert_eq!(message["fromPhone"], "+14155550199", "{message}");
        assert_eq!(message["userId"], ZED, "{message}");

        // A new record's phone field is a destination.
        let input = json!({"recordId": KIM_CONTACT, "phoneNumberFieldName": "MobilePhone", "bodyText": "Hi Kim"});
        let (status, sent) = app.send_sms(&input).await;
        assert_eq!(status, StatusCode::OK, "{sent}");
        let (_, message) = app.get(&format!("/_emulator/messages/{}", sent["id"].as_str().unwrap())).await;
        assert_eq!(message["toPhone"], "+14155550197", "{message}");

        // The demo's users are gone.
        let response = app.send_sms(&json!({"toPhone": "+14155550123", "bodyText": "Hi", "userId": ADA})).await;
        let message = assert_exception(&response, StatusCode::BAD_REQUEST, 104);
        assert!(message.contains(ADA), "{message}");
        let input = json!({"toPhone": "+14155550123", "bodyText": "Hi", "recordId": JANE_CONTACT});
        let response = app.send_sms(&input).await;
        assert_exception(&response, StatusCode::BAD_REQUEST, 104);
    }

    async fn invalid_orgs_are_refused_naming_the_entry_and_field(backend) {
        let app = spawn_app(backend).await;
        let before = get_org(&app).await;
        let user = |extra: Value| {
            let mut user = json!({"id": ADA, "name": "Ada"});
            user.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            user
        };
        let number = |extra: Value| {
            let mut number = json!({"id": ADA_NUMBER, "number": "+14155550100", "sms": true, "outboundSms": true});
            number.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            number
        };
        let json = |doc: Value| (doc.to_string(), "application/json");
        let yaml = |text: &str| (text.to_owned(), "application/yaml");
        // (case, (body, content type), problem path, fragment of the problem's message)
        let cases = [
            ("malformed Id", json(json!({"users": [{"id": "nope", "name": "Ada"}]})),
             "users[0].id", "not a Salesforce Id"),
            ("unknown field", json(json!({"users": [user(json!({"colour": "red"}))]})),
             "users[0].colour", "colour"),
            ("duplicate Id", json(json!({"users": [user(json!({})), user(json!({"name": "Ada again"}))]})),
             "users[1].id", "already used by users[0]"),
            ("unknown group", json(json!({"users": [user(json!({"groupIds": [SUPPORT_GROUP]}))]})),
             "users[0].groupIds[0]", "not one of the org's groups"),
            ("bad number", json(json!({"phoneNumbers": [number(json!({"number": "none", "assignment": "org"}))]})),
             "phoneNumbers[0].number", "has no digits"),
            ("unknown assignment", json(json!({"phoneNumbers": [number(json!({"assignment": "everyone"}))]})),
             "phoneNumbers[0].assignment", "everyone"),
            ("assignment without groups", json(json!({"phoneNumbers": [number(json!({"assignment": "group"}))]})),
             "phoneNumbers[0].assignment", "groupIds"),
            ("api key of an unknown user",
             json(json!({"users": [user(json!({}))], "apiKeys": [{"key": "k-1", "userId": GRACE}]})),
             "apiKeys[0].userId", "not one of the org's users"),
            ("unknown default user", json(json!({"settings": {"defaultUserId": GRACE}})),
             "settings.defaultUserId", "not one of the org's users"),
            ("number, not an object", json(json!(42)), "", ""),
            ("JSON syntax error", (r#"{"users": ["#.to_owned(), "application/json"), ANY_PATH, "line 1"),
            ("YAML syntax error", yaml("users: [{id: 005Dn0000001AdaIAE, name: Ada\n"), ANY_PATH, "line 2"),
            ("YAML not an object", yaml("just some text\n"), "", ""),
            ("YAML malformed Id", yaml("users: [{id: 005Dn0000001AdaIAX, name: Ada}]\n"), "users[0].id", "checksum"),
        ];
        // Every case runs, so one report lists every refusal that is off.
        let mut wrong = Vec::new();
        for (name, (body, content_type), path, fragment) in cases {
            let (status, refused) = put_org(&app, body, content_type).await;
            let problems = refused["problems"].as_array().cloned().unwrap_or_default();
            let message = problems.first().and_then(|p| p["message"].as_str()).unwrap_or("");
            let fits = status == StatusCode::BAD_REQUEST
                && refused["errorCode"] == "INVALID_ORG"
                && !refused["message"].as_str().unwrap_or("").is_empty()
                && problems.len() == 1
                && (path == ANY_PATH || problems[0]["path"] == path)
                && !message.is_empty()
                && message.contains(fragment);
            if !fits {
                let expected = format!("400 INVALID_ORG at {path:?} with {fragment:?}");
                wrong.push(format!("{name}: expected {expected}, got {status} {refused}"));
            }
            if get_org(&app).await != before {
                wrong.push(format!("{name}: the org was replaced; the previous org must stay in force"));
                put_org_json(&app, &before).await;
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
        let (status, sent) = app.send_sms(&json!({"toPhone": "+14155550123", "bodyText": "Still here"})).await;
        assert_eq!(status, StatusCode::OK, "{sent}");
        assert_eq!(sent["phoneNumberId"], ADA_NUMBER);
    }

    async fn org_sent_as_a_json_array_is_refused_as_not_an_object(backend) {
        let app = spawn_app(backend).await;
        // Nine elements, one per top-level field: an array must not stand in for the object.
        for org in [json!([{}, [], [], [], [], [], [], [], []]), json!([1, 2])] {
            let (status, refused) = put_org_json(&app, &org).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{org}: {refused}");
            assert_eq!(refused["errorCode"], "INVALID_ORG", "{org}: {refused}");
            assert_eq!(refused["problems"][0]["path"], "", "{org}: the root is what is wrong: {refused}");
            assert_is_demo_org(&get_org(&app).await);
        }
    }

    async fn every_problem_of_an_invalid_org_is_listed(backend) {
        let app = spawn_app(backend).await;
        let org = json!({
            "users": [
                {"id": ZED, "name": "Zed", "groupIds": [SUPPORT_GROUP]},
                {"id": ZED, "name": "Zed again"}
            ],
            "phoneNumbers": [
                {"id": ZED_NUMBER, "number": "none", "sms": true, "assignment": "user", "userIds": [ZED]},
                {"id": OPS_NUMBER, "number": "+14155550198", "assignment": "user"}
            ],
            "apiKeys": [{"key": "k-1", "userId": ADA}]
        });
        let (status, refused) = put_org_json(&app, &org).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
        assert_eq!(refused["errorCode"], "INVALID_ORG");
        let problems = refused["problems"].as_array().unwrap();
        let mut paths: Vec<&str> = problems.iter().map(|p| p["path"].as_str().unwrap()).collect();
        paths.sort_unstable();
        assert_eq!(
            paths,
            [
                "apiKeys[0].userId",
                "phoneNumbers[0].number",
                "phoneNumbers[1].assignment",
                "users[0].groupIds[0]",
                "users[1].id",
            ],
            "{refused}"
        );
        assert_is_demo_org(&get_org(&app).await);
    }

    async fn an_org_body_over_the_limit_is_413_and_changes_nothing(backend) {
        let app = spawn_app_with(backend, |config| config.max_body_bytes = 2000).await;
        let mut org = zed_org();
        org["records"][0]["fields"]["Notes"] = json!("x".repeat(3000));
        let (status, body) = put_org_json(&app, &org).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
        assert!(body["errorCode"].is_string(), "{body}");
        assert_is_demo_org(&get_org(&app).await);
    }

    async fn org_file_given_at_start_is_served_as_yaml_or_json(backend) {
        let dir = tempfile::tempdir().unwrap();
        let yaml = write_temp(&dir, "org.yaml", ZED_ORG_YAML);
        let app = spawn_app_with(backend, move |config| config.org = Some(yaml)).await;
        assert_is_zed_org(&get_org(&app).await);
        let (status, sent) = app.send_sms(&json!({"toPhone": "+14155550123", "bodyText": "Hi"})).await;
        assert_eq!(status, StatusCode::OK, "{sent}");
        assert_eq!(sent["owner"], ZED);

        let json_file = write_temp(&dir, "org.json", &zed_org().to_string());
        let app = spawn_app_with(backend, move |config| config.org = Some(json_file)).await;
        assert_is_zed_org(&get_org(&app).await);
    }

    async fn invalid_org_file_fails_the_build_naming_entry_and_field(backend) {
        let dir = tempfile::tempdir().unwrap();
        let db = TestDb::new(backend).await;
        let app = TestApp::start(&db, |_| {}).await;
        put_org_json(&app, &zed_org()).await;
        app.stop().await;

        let cases = [
            ("bad.yaml", "phoneNumbers: [{id: a0PDn0000009Zed, number: 'none', assignment: org}]", "phoneNumbers[0].number"),
            ("bad.json", r#"{"users": [{"id": "nope", "name": "Ada"}]}"#, "users[0].id"),
            ("unknown.yaml", "users: [{id: 005Dn0000001Ada, name: Ada, colour: red}]\n", "users[0].colour"),
        ];
        for (name, contents, path) in cases {
            let config = Config {
                addr: "127.0.0.1:0".parse().unwrap(),
                database_url: db.url.clone(),
                org: Some(write_temp(&dir, name, contents)),
                ..Config::default()
            };
            let Err(error) = Application::build(&config).await else { panic!("{name}: the build should fail") };
            let message = error.to_string();
            assert!(message.contains(path), "{name}: {message}");
            assert!(message.contains(name), "{name}: the file is named in {message}");
        }

        // Nothing was half-loaded: the stored org is still served.
        let app = TestApp::start(&db, |_| {}).await;
        assert_is_zed_org(&get_org(&app).await);
    }

    async fn a_replaced_org_survives_a_restart(backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::start(&db, |_| {}).await;
        assert_is_demo_org(&get_org(&app).await);
        let (_, stored) = put_org_json(&app, &zed_org()).await;
        app.stop().await;

        let app = TestApp::start(&db, |_| {}).await;
        assert_eq!(get_org(&app).await, stored);
        let (status, sent) = app.send_sms(&json!({"toPhone": "+14155550123", "bodyText": "Hi"})).await;
        assert_eq!(status, StatusCode::OK, "{sent}");
        assert_eq!(sent["phoneNumberId"], ZED_NUMBER);
    }

    async fn org_file_on_restart_replaces_the_stored_org(backend) {
        let dir = tempfile::tempdir().unwrap();
        let db = TestDb::new(backend).await;
        let app = TestApp::start(&db, |_| {}).await;
        put_org_json(&app, &zed_org()).await;
        app.stop().await;

        let demo_yaml = write_temp(&dir, "demo.yaml", fastcall_emulator::org::DEMO_ORG_YAML);
        let app = TestApp::start(&db, move |config| config.org = Some(demo_yaml)).await;
        assert_is_demo_org(&get_org(&app).await);
        app.stop().await;

        // What --org loaded is now the stored org.
        let app = TestApp::start(&db, |_| {}).await;
        assert_is_demo_org(&get_org(&app).await);
    }

    async fn reset_with_org_true_leaves_an_empty_org_that_survives_a_restart(backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::start(&db, |_| {}).await;
        let (status, body) = app.post("/_emulator/reset?org=true", &json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let org = get_org(&app).await;
        assert_eq!(org["users"], json!([]), "{org}");
        assert_eq!(org["phoneNumbers"], json!([]), "{org}");
        assert!(org["settings"]["defaultUserId"].is_null(), "{org}");
        let response = app.send_sms(&json!({"toPhone": "+14155550123", "bodyText": "Hi"})).await;
        assert_exception(&response, StatusCode::BAD_REQUEST, 104);
        app.stop().await;

        let app = TestApp::start(&db, |_| {}).await;
        let org = get_org(&app).await;
        assert_eq!(org["users"], json!([]), "the demo org must not come back: {org}");
        assert_eq!(org["phoneNumbers"], json!([]), "{org}");
        let response = app.send_sms(&json!({"toPhone": "+14155550123", "bodyText": "Hi", "userId": ADA})).await;
        assert_exception(&response, StatusCode::BAD_REQUEST, 104);
    }

    async fn reset_without_org_keeps_the_org(backend) {
        let app = spawn_app(backend).await;
        let (_, stored) = put_org_json(&app, &zed_org()).await;
        for path in ["/_emulator/reset", "/_emulator/reset?org=false"] {
            let (status, body) = app.post(path, &json!({})).await;
            assert_eq!(status, StatusCode::OK, "{path}: {body}");
            assert_eq!(get_org(&app).await, stored, "{path}");
        }
        let (status, sent) = app.send_sms(&json!({"toPhone": "+14155550123", "bodyText": "Hi"})).await;
        assert_eq!(status, StatusCode::OK, "{sent}");
        assert_eq!(sent["owner"], ZED);
    }
}
