//! Orgs side by side (docs/orgs.md): every route under `/orgs/{name}`, each org isolated from
//! the others, API keys that belong to one org, org names, and creating, listing, resetting
//! and deleting orgs.

use fastcall_emulator::config::Secret;
use fastcall_emulator::org::DEMO_ORG_YAML;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::events::EventStream;
use crate::helpers::*;

const SMS: &str = "/actions/SubscriberSMSInvocable";
const CALL: &str = "/actions/SubscriberCallInvocable";
const STATUS: &str = "/actions/SubscriberUserStatusInvocable";
const MENU_IVR: &str = "a0IDn0000001MnuMAE";
const GRACE: &str = "005Dn0000002GrcIAE";
const AVAILABLE: &str = "a0UDn0000001AvlMAE";

/// `PUT /orgs/{name}/_emulator/org` with `yaml`.
async fn put_org(
    app: &TestApp,
    name: &str,
    yaml: &str,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = app
        .client
        .put(app.url(&format!("/orgs/{name}/_emulator/org")))
        .header("content-type", "application/yaml")
        .body(yaml.to_owned());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    json_of(request).await
}

/// Creates the org `name` with the demo org's data.
async fn create(app: &TestApp, name: &str) {
    let (status, body) = put_org(app, name, DEMO_ORG_YAML, None).await;
    assert_eq!(status, StatusCode::OK, "{name}: {body}");
}

/// `/orgs/{name}{path}`, or `path` for the root.
fn at(org: Option<&str>, path: &str) -> String {
    match org {
        Some(name) => format!("/orgs/{name}{path}"),
        None => path.to_owned(),
    }
}

/// One of each thing an org keeps, made through `org`'s routes: a message, a call (with its
/// Task), a refused message (with its VoIP error), a status change. Answers their Ids.
async fn fill(app: &TestApp, org: Option<&str>) -> Vec<(&'static str, String)> {
    let (status, sms) = app
        .post(
            &at(org, SMS),
            &json!({"toPhone": JANE_PHONE, "bodyText": "hi"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sms}");
    let (status, call) = app
        .post(
            &at(org, CALL),
            &json!({"toPhone": JANE_PHONE, "ivrId": MENU_IVR}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{call}");
    let (status, _) = app
        .post(
            &at(org, SMS),
            &json!({"toPhone": "+15005550001", "bodyText": "no"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    let (status, changed) = app
        .post(
            &at(org, STATUS),
            &json!({"userId": GRACE, "userStatusId": AVAILABLE}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    let errors = app.items(&at(org, "/_emulator/voip-errors")).await;
    let id = |v: &Value, key: &str| v[key].as_str().unwrap().to_owned();
    vec![
        ("messages", id(&sms, "id")),
        ("messages", id(&errors[0], "recordId")),
        ("calls", id(&call, "id")),
        ("tasks", id(&call, "taskId")),
        ("voip-errors", id(&errors[0], "id")),
        ("status-log", id(&changed, "logId")),
    ]
}

/// Asserts that `org` holds exactly `records`, by every list and item route, and that none of
/// `others` can be reached through its routes.
async fn assert_holds(
    app: &TestApp,
    org: Option<&str>,
    records: &[(&str, String)],
    others: &[(&str, String)],
) {
    for (list, id) in records {
        let items = app.items(&at(org, &format!("/_emulator/{list}"))).await;
        let ids: Vec<&str> = items
            .iter()
            .filter_map(|item| item["id"].as_str())
            .collect();
        let expected = records.iter().filter(|(l, _)| l == list).count();
        assert_eq!(ids.len(), expected, "{org:?} {list}: {items:?}");
        assert!(ids.contains(&id.as_str()), "{org:?} {list} lacks {id}");
        app.item(&at(org, &format!("/_emulator/{list}/{id}"))).await;
    }
    for (list, id) in others {
        let (status, body) = app.get(&at(org, &format!("/_emulator/{list}/{id}"))).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{org:?} reaches another org's {list} {id}: {body}"
        );
    }
}

backend_tests! {
    async fn each_org_holds_only_what_was_made_through_its_own_routes(backend) {
        let app = spawn_app(backend).await;
        create(&app, "qa").await;
        create(&app, "uat").await;
        let root = fill(&app, None).await;
        let qa = fill(&app, Some("qa")).await;
        assert_holds(&app, None, &root, &qa).await;
        assert_holds(&app, Some("qa"), &qa, &root).await;
        assert_holds(&app, Some("default"), &root, &qa).await;
        for list in ["messages", "calls", "tasks", "voip-errors", "status-log"] {
            assert!(app.items(&format!("/orgs/uat/_emulator/{list}")).await.is_empty(), "uat {list}");
        }

        // Records in Salesforce's shape, moves and users' statuses are the org's own too.
        let qa_message = &qa[0].1;
        let sobject = format!("/services/data/v60.0/sobjects/FastCall__SMS_Message__c/{qa_message}");
        app.item(&format!("/orgs/qa{sobject}")).await;
        assert_eq!(app.get(&sobject).await.0, StatusCode::NOT_FOUND);
        let moved = json!({"status": "Sent"});
        let (status, _) = app.post(&format!("/_emulator/messages/{qa_message}/status"), &moved).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "a root move reaches a qa message");
        let (status, body) = app.post(&format!("/orgs/qa/_emulator/messages/{qa_message}/status"), &moved).await;
        assert_eq!((status, &body["status"]), (StatusCode::OK, &json!("Sent")), "{body}");
        // The URLs in the answers keep a client in the org it called.
        let record = app.item(&format!("/orgs/qa{sobject}")).await;
        assert_eq!(record["attributes"]["url"], format!("/orgs/qa{sobject}"));
        let list = app.item("/orgs/qa/services/data/v60.0/actions/custom/apex").await;
        let url = list["actions"][0]["url"].as_str().unwrap();
        assert!(url.starts_with("/orgs/qa/services/data/v60.0/actions/custom/apex/"), "{url}");
        app.item(url).await;
        let grace = |org: Option<&str>| at(org, &format!("/_emulator/users/{GRACE}"));
        assert_eq!(app.item(&grace(Some("qa"))).await["userStatusId"], AVAILABLE);
        assert_eq!(app.item(&grace(Some("uat"))).await["changedDate"], Value::Null, "uat's Grace never changed");

        // A reset forgets one org's activity only.
        let (status, _) = app.post("/orgs/qa/_emulator/reset", &json!({})).await;
        assert_eq!(status, StatusCode::OK);
        assert!(app.items("/orgs/qa/_emulator/messages").await.is_empty());
        assert_holds(&app, None, &root, &qa).await;
    }

    async fn an_orgs_event_stream_and_long_polls_hear_only_its_own_changes(backend) {
        let app = spawn_app(backend).await;
        create(&app, "qa").await;
        let mut qa_events = EventStream::open(&app, "/orgs/qa/_emulator/events?types=sms.created").await;
        let waiting = {
            let client = app.client.clone();
            let url = app.url("/orgs/qa/_emulator/messages?wait=10");
            tokio::spawn(async move { json_of(client.get(url)).await })
        };
        // The root org's message first: neither the stream nor the long poll hears it.
        let (status, _) = app.send_sms(&json!({"toPhone": JANE_PHONE, "bodyText": "root"})).await;
        assert_eq!(status, StatusCode::OK);
        let (status, qa) = app.post("/orgs/qa/actions/SubscriberSMSInvocable", &json!({"toPhone": JANE_PHONE, "bodyText": "qa"})).await;
        assert_eq!(status, StatusCode::OK);
        let event = qa_events.expect("sms.created").await;
        assert_eq!(event.payload()["id"], qa["id"], "the first event is qa's own");
        let (status, polled) = waiting.await.unwrap();
        assert_eq!(status, StatusCode::OK);
        let bodies: Vec<&Value> = polled["items"].as_array().unwrap().iter().map(|m| &m["body"]).collect();
        assert_eq!(bodies, [&json!("qa")]);
    }

    async fn deleting_an_org_removes_everything_it_holds_and_ends_its_streams(backend) {
        let app = spawn_app(backend).await;
        create(&app, "qa").await;
        fill(&app, Some("qa")).await;
        // A customer's STOP: an inbound message, the reply to it and an opt-out.
        let stop = json!({"from": JANE_PHONE, "to": "+14155550100", "body": "STOP"});
        assert_eq!(app.post("/orgs/qa/_emulator/inbound", &stop).await.0, StatusCode::CREATED);
        let root = fill(&app, None).await;
        let mut stream = EventStream::open(&app, "/orgs/qa/_emulator/events").await;

        let (status, listed) = app.get("/orgs").await;
        assert_eq!(status, StatusCode::OK, "{listed}");
        let names: Vec<&Value> = listed["items"].as_array().unwrap().iter().map(|o| &o["name"]).collect();
        assert_eq!(names, [&json!("default"), &json!("qa")]);
        let qa = &listed["items"][1];
        assert_eq!(qa["counts"], json!({"messages": 4, "calls": 1, "tasks": 2, "statusLog": 1, "voipErrors": 1, "optOuts": 1}), "{qa}");
        assert_eq!(qa["version"], 1);
        parse_salesforce_datetime(&qa["updatedDate"]);

        let (status, body) = app.request(Method::DELETE, "/orgs/qa", &[], None).await;
        assert_eq!((status, body), (StatusCode::OK, json!({"name": "qa", "deleted": true})));
        assert_eq!(stream.expect("org.deleted").await.payload(), json!({}));
        assert!(stream.next_frame().await.is_none(), "the stream ends after org.deleted");
        for path in ["/orgs/qa/_emulator/messages", "/orgs/qa/_emulator/org", "/orgs/qa/actions/SubscriberSMSInvocable"] {
            let (status, body) = app.request(Method::GET, path, &[], None).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        }
        assert_eq!(app.get("/orgs").await.1["items"].as_array().unwrap().len(), 1);
        assert_holds(&app, None, &root, &[]).await;
        // Made again, the org starts empty.
        create(&app, "qa").await;
        assert!(app.items("/orgs/qa/_emulator/messages").await.is_empty());
        assert!(app.items("/orgs/qa/_emulator/status-log").await.is_empty());
        assert!(app.items("/orgs/qa/_emulator/opt-outs").await.is_empty());
    }

    async fn names_unknown_orgs_and_default_are_refused_in_each_routes_shape(backend) {
        let app = spawn_app(backend).await;
        let too_long = format!("/orgs/{}/_emulator/messages", "x".repeat(65));
        let cases = [
            ("/orgs/no.such/_emulator/messages", StatusCode::BAD_REQUEST, "INVALID_ORG_NAME", false),
            (too_long.as_str(), StatusCode::BAD_REQUEST, "INVALID_ORG_NAME", false),
            ("/orgs/a%20b/services/data/v60.0/actions/custom/apex", StatusCode::BAD_REQUEST, "INVALID_ORG_NAME", true),
            ("/orgs/nope/_emulator/messages", StatusCode::NOT_FOUND, "NOT_FOUND", false),
            ("/orgs/nope/services/data/v60.0/actions/custom/apex", StatusCode::NOT_FOUND, "NOT_FOUND", true),
            ("/orgs/nope/actions/SubscriberSMSInvocable", StatusCode::NOT_FOUND, "NOT_FOUND", false),
            ("/orgs/default/orgs/default/_emulator/messages", StatusCode::NOT_FOUND, "NOT_FOUND", false),
        ];
        for (path, status, code, in_array) in cases {
            let (got, body) = app.get(path).await;
            assert_eq!(got, status, "{path}: {body}");
            let error = if in_array { &body[0] } else { &body };
            assert_eq!(error["errorCode"], code, "{path}: {body}");
        }
        let deletes = [
            ("/orgs/default", StatusCode::BAD_REQUEST, "DEFAULT_ORG"),
            ("/orgs/nope", StatusCode::NOT_FOUND, "NOT_FOUND"),
            ("/orgs/no.such", StatusCode::BAD_REQUEST, "INVALID_ORG_NAME"),
        ];
        for (path, status, code) in deletes {
            let (got, body) = app.request(Method::DELETE, path, &[], None).await;
            assert_eq!((got, &body["errorCode"]), (status, &json!(code)), "{path}: {body}");
        }
        // A bad org document creates nothing.
        let (status, body) = put_org(&app, "qa", "users: [{id: nope}]", None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(app.get("/orgs/qa/_emulator/messages").await.0, StatusCode::NOT_FOUND);
    }

    async fn an_api_key_acts_in_its_own_org_at_the_root_or_its_prefix_and_nowhere_else(backend) {
        let app = spawn_app(backend).await;
        let keyed = format!("{DEMO_ORG_YAML}\napiKeys: [{{key: qa-key-0123456789, userId: {ADA}}}]\n");
        let (status, body) = put_org(&app, "qa", &keyed, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        create(&app, "uat").await;
        let sms = json!({"toPhone": JANE_PHONE, "bodyText": "keyed"});
        let key = [("Authorization", "Bearer qa-key-0123456789")];
        for path in [SMS.to_owned(), format!("/orgs/qa{SMS}")] {
            let (status, body) = app.request(Method::POST, &path, &key, Some(&sms)).await;
            assert_eq!(status, StatusCode::OK, "{path}: {body}");
        }
        assert_eq!(app.items("/orgs/qa/_emulator/messages").await.len(), 2);
        assert!(app.items("/_emulator/messages").await.is_empty(), "the root request acted in qa");
        // Another org's routes refuse it, in their own shapes.
        let (status, body) = app.request(Method::POST, &format!("/orgs/uat{SMS}"), &key, Some(&sms)).await;
        assert_eq!((status, &body["errorCode"]), (StatusCode::UNAUTHORIZED, &json!("INVALID_SESSION_ID")), "{body}");
        let rest = "/orgs/default/services/data/v60.0/actions/custom/apex";
        let (status, body) = app.request(Method::GET, rest, &key, None).await;
        assert_eq!((status, &body[0]["errorCode"]), (StatusCode::UNAUTHORIZED, &json!("INVALID_SESSION_ID")), "{body}");
        // qa needs its key; another org cannot take it.
        let (status, _) = app.post(&format!("/orgs/qa{SMS}"), &sms).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, body) = put_org(&app, "uat", &keyed, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["problems"][0]["path"], "apiKeys[0].key", "{body}");
        assert!(!body.to_string().contains("qa-key-0123456789"), "the key is not echoed: {body}");
        // Once qa is gone, its key is free.
        let (status, _) = app.request(Method::DELETE, "/orgs/qa", &[], None).await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = put_org(&app, "uat", &keyed, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    async fn a_database_made_by_the_previous_release_becomes_the_org_default(backend) {
        let db = TestDb::new(backend).await;
        db.migrate_to(5).await;
        let document = serde_json::to_string(fastcall_emulator::org::Org::demo().document()).unwrap();
        let old = id18("a0SDn0000001Old");
        db.execute(&format!(
            "INSERT INTO org_data (id, document, version, updated_at) VALUES (1, '{}', 3, 1764000000000); \
             INSERT INTO sms_messages (id, provider_id, created_at, updated_at, owner_id, user_id, \
             phone_number_id, from_phone, to_phone, body, status, status_history) VALUES \
             ('{old}', 'SM00000000000000000000000000000001', 1764000000000, 1764000000000, \
             '{ADA}', '{ADA}', 'a0PDn0000001AdaMAE', '+14155550100', '+14155550123', 'kept', 'Sent', '[]'); \
             INSERT INTO user_states (user_id, user_status_id, status_type, changed_at) VALUES \
             ('{GRACE}', '{AVAILABLE}', 'Available', 1764000000000)",
            document.replace('\'', "''")
        ))
        .await;
        let app = TestApp::start(&db, |_| {}).await;
        let messages = app.items("/_emulator/messages").await;
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert_eq!((&messages[0]["id"], &messages[0]["body"]), (&json!(old), &json!("kept")));
        app.item(&format!("/orgs/default/_emulator/messages/{old}")).await;
        assert_eq!(app.item(&format!("/_emulator/users/{GRACE}")).await["userStatusId"], AVAILABLE);
        let orgs = app.get("/orgs").await.1;
        assert_eq!(orgs["items"].as_array().unwrap().len(), 1, "{orgs}");
        assert_eq!((&orgs["items"][0]["name"], &orgs["items"][0]["version"]), (&json!("default"), &json!(3)));
        assert_eq!(orgs["items"][0]["counts"]["messages"], 1);
        // And the org is served as stored: a new org beside it is empty.
        create(&app, "qa").await;
        assert!(app.items("/orgs/qa/_emulator/messages").await.is_empty());
        app.stop().await;
    }

    async fn the_admin_token_guards_creating_listing_and_deleting_orgs(backend) {
        let app = spawn_app_with(backend, |config| config.admin_token = Some(Secret::new("s3cret-admin-token"))).await;
        let (status, _) = put_org(&app, "qa", DEMO_ORG_YAML, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, body) = put_org(&app, "qa", DEMO_ORG_YAML, Some("s3cret-admin-token")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(app.get("/orgs").await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(app.request(Method::DELETE, "/orgs/qa", &[], None).await.0, StatusCode::UNAUTHORIZED);
        let admin = [("Authorization", "Bearer s3cret-admin-token")];
        assert_eq!(app.request(Method::GET, "/orgs", &admin, None).await.0, StatusCode::OK);
        assert_eq!(app.request(Method::DELETE, "/orgs/qa", &admin, None).await.0, StatusCode::OK);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_org_made_or_deleted_on_one_instance_is_served_streamed_and_polled_or_gone_on_the_other()
{
    let Some((_db, first, second)) = two_postgres_instances("orgs across instances", |_| {}).await
    else {
        return;
    };
    create(&first, "qa").await;
    // The second instance follows the first's org.replaced event.
    until(|| async { second.get("/orgs/qa/_emulator/messages").await.0 == StatusCode::OK }).await;
    let mut events =
        EventStream::open(&second, "/orgs/qa/_emulator/events?types=sms.created").await;
    let waiting = {
        let client = second.client.clone();
        let url = second.url("/orgs/qa/_emulator/messages?wait=10");
        tokio::spawn(async move { json_of(client.get(url)).await })
    };
    // The root org's message first, on the first instance: the second's qa stream and long
    // poll hear neither it nor its event.
    let root = json!({"toPhone": JANE_PHONE, "bodyText": "root"});
    assert_eq!(first.send_sms(&root).await.0, StatusCode::OK);
    let sms = json!({"toPhone": JANE_PHONE, "bodyText": "from the first"});
    let (status, sent) = first.post(&format!("/orgs/qa{SMS}"), &sms).await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    assert_eq!(
        events.expect("sms.created").await.payload()["id"],
        sent["id"]
    );
    let (status, polled) = waiting.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{polled}");
    let ids: Vec<&Value> = polled["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["id"])
        .collect();
    assert_eq!(
        ids,
        [&sent["id"]],
        "the long poll answers qa's message alone"
    );
    second
        .item(&format!(
            "/orgs/qa/_emulator/messages/{}",
            sent["id"].as_str().unwrap()
        ))
        .await;

    let (status, _) = second.request(Method::DELETE, "/orgs/qa", &[], None).await;
    assert_eq!(status, StatusCode::OK);
    // The first instance follows the org.deleted event.
    until(|| async { first.get("/orgs/qa/_emulator/messages").await.0 == StatusCode::NOT_FOUND })
        .await;
}

/// Waits up to 5 s for `done`.
async fn until<F: Future<Output = bool>>(done: impl Fn() -> F) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !done().await {
        assert!(std::time::Instant::now() < deadline, "not within 5 s");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
