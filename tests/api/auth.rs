//! Who is calling (docs/actions.md): API keys, X-Fastcall-User-Id, the default user, and the
//! admin token of `/_emulator`.

use fastcall_emulator::config::Secret;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::*;

const SESSION_INVALID: &str = "Session expired or invalid";
const ADMIN_TOKEN: &str = "s3cret-admin";
/// A well-formed user Id that no org here declares.
const STRANGER: &str = "005Dn0000009Zzz";

/// Ada (her own number) and Grace (the org-wide number) each with a key; Ada is the default.
const KEYED_ORG: &str = r#"
settings:
  defaultUserId: 005Dn0000001AdaIAE
users:
  - id: 005Dn0000001AdaIAE
    name: Ada Lovelace
  - id: 005Dn0000002GrcIAE
    name: Grace Hopper
phoneNumbers:
  - id: a0PDn0000001AdaMAE
    number: "+14155550100"
    sms: true
    mms: true
    outboundSms: true
    callerId: true
    assignment: user
    userIds: [005Dn0000001AdaIAE]
  - id: a0PDn0000003OrgMAE
    number: "+14155550102"
    sms: true
    outboundSms: true
    callerId: true
    assignment: org
apiKeys:
  - key: k-ada
    userId: 005Dn0000001AdaIAE
  - key: k-grace
    userId: 005Dn0000002GrcIAE
"#;

fn sms() -> Value {
    json!({ "toPhone": JANE_PHONE, "bodyText": "Hello" })
}

const DIRECT_SMS: &str = "/actions/SubscriberSMSInvocable";
const APEX_SMS: &str = "/services/data/v60.0/actions/custom/apex/SubscriberSMSInvocable";
const APEX_LIST: &str = "/services/data/v60.0/actions/custom/apex";

async fn direct_sms(app: &TestApp, headers: &[(&str, &str)], input: &Value) -> (StatusCode, Value) {
    app.request(Method::POST, DIRECT_SMS, headers, Some(input))
        .await
}

async fn apex_sms(app: &TestApp, headers: &[(&str, &str)], input: &Value) -> (StatusCode, Value) {
    let inputs = json!({ "inputs": [input] });
    app.request(Method::POST, APEX_SMS, headers, Some(&inputs))
        .await
}

/// The stored message's `userId`, the user who sent it.
async fn sender_of(app: &TestApp, message_id: &Value) -> Value {
    let id = message_id.as_str().expect("an id");
    app.item(&format!("/_emulator/messages/{id}")).await["userId"].clone()
}

/// A 401 platform error as a bare object (direct calls, `/_emulator`).
#[track_caller]
fn assert_unauthorized_object(response: &(StatusCode, Value)) {
    let (status, body) = response;
    assert_eq!(*status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["errorCode"], "INVALID_SESSION_ID", "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(body.get("exceptionType").is_none(), "{body}");
}

/// A 401 in Salesforce's array envelope (`/services`).
#[track_caller]
fn assert_unauthorized_array(response: &(StatusCode, Value)) {
    let (status, body) = response;
    assert_eq!(*status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(
        *body,
        json!([{ "errorCode": "INVALID_SESSION_ID", "message": SESSION_INVALID }])
    );
}

/// Every `/services` route, as (method, path, body).
fn services_routes() -> Vec<(Method, String, Option<Value>)> {
    vec![
        (
            Method::POST,
            APEX_SMS.to_owned(),
            Some(json!({ "inputs": [sms()] })),
        ),
        (
            Method::POST,
            format!("{APEX_LIST}/FastCall__SubscriberSMSInvocable"),
            Some(json!({ "inputs": [sms()] })),
        ),
        (Method::GET, APEX_LIST.to_owned(), None),
        (
            Method::GET,
            format!("{APEX_LIST}/SubscriberSMSInvocable"),
            None,
        ),
        (
            Method::GET,
            format!("/services/data/v60.0/sobjects/Contact/{JANE_CONTACT}"),
            None,
        ),
    ]
}

/// Asserts every `/services` route answers 401 in Salesforce's envelope to `headers`.
async fn assert_services_refuse(app: &TestApp, headers: &[(&str, &str)]) {
    for (method, path, body) in services_routes() {
        let response = app
            .request(method.clone(), &path, headers, body.as_ref())
            .await;
        let (status, answer) = &response;
        assert_eq!(
            *status,
            StatusCode::UNAUTHORIZED,
            "{headers:?} {method} {path}: {answer}"
        );
        assert_unauthorized_array(&response);
    }
}

backend_tests! {
    async fn with_api_keys_a_call_without_a_key_is_401_everywhere(backend) {
        let app = spawn_app_with_org(backend, KEYED_ORG).await;
        let headers: &[(&str, &str)] = &[];
        assert_unauthorized_object(&direct_sms(&app, headers, &sms()).await);
        assert_services_refuse(&app, headers).await;
        assert!(app.items("/_emulator/messages").await.is_empty());
    }

    async fn with_api_keys_a_wrong_key_is_401(backend) {
        let app = spawn_app_with_org(backend, KEYED_ORG).await;
        let wrong: [&[(&str, &str)]; 8] = [
            &[("Authorization", "Bearer nope")],
            &[("Authorization", "Bearer k-grac")],
            &[("Authorization", "Bearer k-grace-2")],
            &[("Authorization", "Basic k-grace")],
            &[("Authorization", "k-grace")],
            &[("X-API-Key", "nope")],
            &[("X-API-Key", "K-GRACE")],
            &[("X-Fastcall-User-Id", GRACE)],
        ];
        for headers in wrong {
            let direct = direct_sms(&app, headers, &sms()).await;
            assert_eq!(direct.0, StatusCode::UNAUTHORIZED, "{headers:?}: {}", direct.1);
            assert_unauthorized_object(&direct);
            assert_services_refuse(&app, headers).await;
        }
        assert!(app.items("/_emulator/messages").await.is_empty());
    }

    async fn a_key_in_any_accepted_header_makes_its_user_the_acting_user(backend) {
        let app = spawn_app_with_org(backend, KEYED_ORG).await;
        let accepted: [&[(&str, &str)]; 4] = [
            &[("Authorization", "Bearer k-grace")],
            &[("Authorization", "bearer k-grace")],
            &[("X-API-Key", "k-grace")],
            // The key decides; the user header is ignored when the org has keys.
            &[("Authorization", "Bearer k-grace"), ("X-Fastcall-User-Id", ADA)],
        ];
        for headers in accepted {
            let (status, output) = direct_sms(&app, headers, &sms()).await;
            assert_eq!(status, StatusCode::OK, "{headers:?}: {output}");
            assert_eq!(output["owner"], GRACE, "{headers:?}");
            assert_eq!(output["phoneNumberId"], MAIN_NUMBER, "{headers:?}");
            assert_eq!(sender_of(&app, &output["id"]).await, GRACE, "{headers:?}");

            let (status, results) = apex_sms(&app, headers, &sms()).await;
            assert_eq!(status, StatusCode::OK, "{headers:?}: {results}");
            assert_eq!(results[0]["outputValues"]["owner"], GRACE, "{headers:?}");
            assert_eq!(sender_of(&app, &results[0]["outputValues"]["id"]).await, GRACE, "{headers:?}");
        }
        let (status, output) = direct_sms(&app, &[("X-API-Key", "k-ada")], &sms()).await;
        assert_eq!(status, StatusCode::OK, "{output}");
        assert_eq!((&output["owner"], &output["phoneNumberId"]), (&json!(ADA), &json!(ADA_NUMBER)));
        assert_eq!(sender_of(&app, &output["id"]).await, ADA);
    }

    async fn with_api_keys_a_key_opens_list_describe_and_sobjects(backend) {
        let app = spawn_app_with_org(backend, KEYED_ORG).await;
        let headers = [("Authorization", "Bearer k-ada")];
        let (status, list) = app.request(Method::GET, APEX_LIST, &headers, None).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        assert!(list["actions"].as_array().unwrap().iter().any(|a| a["name"] == "FastCall__SubscriberSMSInvocable"));
        let (status, describe) = app.request(Method::GET, &format!("{APEX_LIST}/SubscriberSMSInvocable"), &headers, None).await;
        assert_eq!(status, StatusCode::OK, "{describe}");
        assert_eq!(describe["name"], "FastCall__SubscriberSMSInvocable");
        let (status, sent) = direct_sms(&app, &headers, &sms()).await;
        assert_eq!(status, StatusCode::OK, "{sent}");
        let path = format!("/services/data/v60.0/sobjects/FastCall__SMS_Message__c/{}", sent["id"].as_str().unwrap());
        let (status, record) = app.request(Method::GET, &path, &[("X-API-Key", "k-ada")], None).await;
        assert_eq!(status, StatusCode::OK, "{record}");
        assert_eq!(record["OwnerId"], ADA);
    }

    async fn with_api_keys_user_id_in_the_input_still_overrides_the_keys_user(backend) {
        let app = spawn_app_with_org(backend, KEYED_ORG).await;
        let input = json!({ "toPhone": JANE_PHONE, "bodyText": "As Ada", "userId": ADA });
        let (status, output) = direct_sms(&app, &[("X-API-Key", "k-grace")], &input).await;
        assert_eq!(status, StatusCode::OK, "{output}");
        assert_eq!(output["owner"], ADA);
        assert_eq!(sender_of(&app, &output["id"]).await, ADA);
    }

    async fn health_routes_stay_open_with_api_keys_and_an_admin_token(backend) {
        let db = TestDb::new(backend).await;
        let file = tempfile::Builder::new().suffix(".yaml").tempfile().expect("a temporary file");
        std::fs::write(file.path(), KEYED_ORG).expect("the org file is written");
        let org = file.path().to_owned();
        let app = TestApp::start(&db, |config| {
            config.org = Some(org);
            config.admin_token = Some(Secret::new(ADMIN_TOKEN));
        })
        .await;
        assert_eq!(app.get("/livez").await, (StatusCode::OK, json!({ "status": "ok" })));
        assert_eq!(app.get("/readyz").await, (StatusCode::OK, json!({ "status": "ready" })));
        app.stop().await;
    }

    async fn without_keys_x_fastcall_user_id_picks_the_invoking_user(backend) {
        let app = spawn_app(backend).await;
        let (status, output) = direct_sms(&app, &[("X-Fastcall-User-Id", GRACE)], &sms()).await;
        assert_eq!(status, StatusCode::OK, "{output}");
        assert_eq!((&output["owner"], &output["phoneNumberId"]), (&json!(GRACE), &json!(MAIN_NUMBER)));
        assert_eq!(sender_of(&app, &output["id"]).await, GRACE);

        // Katherine's caller ID comes through her group, so the group owns the message.
        let (status, results) = apex_sms(&app, &[("X-Fastcall-User-Id", &KATHERINE[..15])], &sms()).await;
        assert_eq!(status, StatusCode::OK, "{results}");
        let output = &results[0]["outputValues"];
        assert_eq!((&output["owner"], &output["phoneNumberId"]), (&json!(SUPPORT_GROUP), &json!(SUPPORT_NUMBER)));
        assert_eq!(sender_of(&app, &output["id"]).await, KATHERINE);
    }

    async fn without_keys_a_malformed_user_header_is_401(backend) {
        let app = spawn_app(backend).await;
        for value in ["not-an-id", "005Dn00", "005Dn0000002GrcIAX", "Grace Hopper"] {
            let headers = [("X-Fastcall-User-Id", value)];
            // The direct route says what was wrong (docs/actions.md, "Who is calling")...
            let direct = direct_sms(&app, &headers, &sms()).await;
            assert_eq!(
                direct,
                (
                    StatusCode::UNAUTHORIZED,
                    json!({
                        "errorCode": "INVALID_SESSION_ID",
                        "message": "X-Fastcall-User-Id is not a valid Salesforce user Id",
                    })
                ),
                "{value}"
            );
            // ...every /services route answers Salesforce's fixed envelope.
            assert_services_refuse(&app, &headers).await;
        }
        assert!(app.items("/_emulator/messages").await.is_empty());
    }

    async fn without_keys_an_unknown_or_non_fastcall_invoking_user_is_104_when_acting(backend) {
        let app = spawn_app(backend).await;
        for (user, fragment) in [(STRANGER, "is not a user of the org"), (LINUS, "is not a Fastcall user")] {
            let headers = [("X-Fastcall-User-Id", user)];
            let message = assert_exception(&direct_sms(&app, &headers, &sms()).await, StatusCode::BAD_REQUEST, 104);
            assert!(message.contains(fragment), "{user}: {message}");
            let (status, results) = apex_sms(&app, &headers, &sms()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{results}");
            let text = results[0]["errors"][0]["message"].as_str().unwrap();
            assert!(text.contains("APIException: [104]") && text.contains(fragment), "{user}: {text}");
        }
        assert!(app.items("/_emulator/messages").await.is_empty());
    }

    async fn without_keys_or_header_the_default_user_acts(backend) {
        let app = spawn_app(backend).await;
        let (status, output) = direct_sms(&app, &[], &sms()).await;
        assert_eq!(status, StatusCode::OK, "{output}");
        assert_eq!((&output["owner"], &output["phoneNumberId"]), (&json!(ADA), &json!(ADA_NUMBER)));
        assert_eq!(sender_of(&app, &output["id"]).await, ADA);
        let (status, results) = apex_sms(&app, &[], &sms()).await;
        assert_eq!(status, StatusCode::OK, "{results}");
        assert_eq!(sender_of(&app, &results[0]["outputValues"]["id"]).await, ADA);
    }

    async fn without_a_default_user_or_header_sms_is_104(backend) {
        let org = KEYED_ORG.split("apiKeys:").next().unwrap().replace("settings:\n  defaultUserId: 005Dn0000001AdaIAE\n", "");
        let app = spawn_app_with_org(backend, &org).await;
        let message = assert_exception(&direct_sms(&app, &[], &sms()).await, StatusCode::BAD_REQUEST, 104);
        assert!(message.contains("No acting user"), "{message}");
        let (status, output) = direct_sms(&app, &[("X-Fastcall-User-Id", GRACE)], &sms()).await;
        assert_eq!(status, StatusCode::OK, "{output}");
        assert_eq!(output["owner"], GRACE);
    }

    async fn user_id_in_the_input_overrides_the_invoking_user(backend) {
        let app = spawn_app(backend).await;
        let as_grace = json!({ "toPhone": JANE_PHONE, "bodyText": "x", "userId": GRACE });
        let (status, output) = direct_sms(&app, &[("X-Fastcall-User-Id", LINUS)], &as_grace).await;
        assert_eq!(status, StatusCode::OK, "{output}");
        assert_eq!(output["owner"], GRACE);
        assert_eq!(sender_of(&app, &output["id"]).await, GRACE);

        let as_katherine = json!({ "toPhone": JANE_PHONE, "bodyText": "x", "userId": KATHERINE });
        let (status, results) = apex_sms(&app, &[("X-Fastcall-User-Id", GRACE)], &as_katherine).await;
        assert_eq!(status, StatusCode::OK, "{results}");
        assert_eq!(results[0]["outputValues"]["owner"], SUPPORT_GROUP);
        assert_eq!(sender_of(&app, &results[0]["outputValues"]["id"]).await, KATHERINE);

        let (status, output) = direct_sms(&app, &[], &as_katherine).await;
        assert_eq!(status, StatusCode::OK, "{output}");
        assert_eq!(sender_of(&app, &output["id"]).await, KATHERINE);
    }

    async fn with_an_admin_token_every_emulator_route_needs_it(backend) {
        let app = spawn_app_with(backend, |config| config.admin_token = Some(Secret::new(ADMIN_TOKEN))).await;
        let admin = format!("Bearer {ADMIN_TOKEN}");
        let admin: [(&str, &str); 1] = [("Authorization", &admin)];
        // Activity to look at, made without the admin token.
        let (status, sent) = app.send_sms(&json!({ "toPhone": JANE_PHONE, "bodyText": "x", "recordId": JANE_CONTACT })).await;
        assert_eq!(status, StatusCode::OK, "{sent}");
        let refused = app.send_sms(&json!({ "toPhone": "+15005550001", "bodyText": "x" })).await;
        assert_exception(&refused, StatusCode::BAD_GATEWAY, 100);
        let (status, errors) = app.request(Method::GET, "/_emulator/voip-errors", &admin, None).await;
        assert_eq!(status, StatusCode::OK, "{errors}");
        let voip_error_id = errors["items"][0]["id"].as_str().expect("a VoIP error").to_owned();
        let (status, org) = app.request(Method::GET, "/_emulator/org", &admin, None).await;
        assert_eq!(status, StatusCode::OK, "{org}");
        let mut disabled = org.clone();
        disabled["settings"]["smsEnabled"] = json!(false);

        let routes = [
            (Method::GET, "/_emulator/org".to_owned(), None),
            (Method::PUT, "/_emulator/org".to_owned(), Some(disabled)),
            (Method::GET, "/_emulator/messages".to_owned(), None),
            (Method::GET, format!("/_emulator/messages/{}", sent["id"].as_str().unwrap()), None),
            (Method::GET, "/_emulator/tasks".to_owned(), None),
            (Method::GET, format!("/_emulator/tasks/{}", sent["taskId"].as_str().unwrap()), None),
            (Method::GET, "/_emulator/voip-errors".to_owned(), None),
            (Method::GET, format!("/_emulator/voip-errors/{voip_error_id}"), None),
            (Method::POST, "/_emulator/reset".to_owned(), None),
        ];
        let wrong = format!("Bearer {ADMIN_TOKEN}x");
        let refused_headers: [&[(&str, &str)]; 6] = [
            &[],
            &[("Authorization", "Bearer wrong")],
            &[("Authorization", &wrong)],
            &[("Authorization", ADMIN_TOKEN)],
            &[("Authorization", "Basic s3cret-admin")],
            &[("X-API-Key", ADMIN_TOKEN)],
        ];
        for (method, path, body) in &routes {
            for headers in refused_headers {
                let response = app.request(method.clone(), path, headers, body.as_ref()).await;
                assert_eq!(response.0, StatusCode::UNAUTHORIZED, "{method} {path} {headers:?}: {}", response.1);
                assert_unauthorized_object(&response);
            }
        }
        // Nothing was changed or cleared by the refused requests.
        let (status, output) = app.send_sms(&json!({ "toPhone": JANE_PHONE, "bodyText": "still on" })).await;
        assert_eq!(status, StatusCode::OK, "{output}");

        for (method, path, body) in &routes {
            let body = if *method == Method::PUT { Some(org.clone()) } else { body.clone() };
            let (status, answer) = app.request(method.clone(), path, &admin, body.as_ref()).await;
            assert_eq!(status, StatusCode::OK, "{method} {path}: {answer}");
        }
        let (status, messages) = app.request(Method::GET, "/_emulator/messages", &admin, None).await;
        assert_eq!(status, StatusCode::OK, "{messages}");
        assert!(messages["items"].as_array().unwrap().is_empty(), "the reset went through: {messages}");
    }

    async fn with_an_admin_token_action_routes_do_not_need_it(backend) {
        let app = spawn_app_with(backend, |config| config.admin_token = Some(Secret::new(ADMIN_TOKEN))).await;
        for headers in [&[][..], &[("Authorization", "Bearer not-the-admin-token")][..]] {
            let (status, output) = direct_sms(&app, headers, &sms()).await;
            assert_eq!(status, StatusCode::OK, "{headers:?}: {output}");
            assert_eq!(output["owner"], ADA);
            let (status, results) = apex_sms(&app, headers, &sms()).await;
            assert_eq!(status, StatusCode::OK, "{headers:?}: {results}");
            let (status, list) = app.request(Method::GET, APEX_LIST, headers, None).await;
            assert_eq!(status, StatusCode::OK, "{headers:?}: {list}");
            let path = format!("/services/data/v60.0/sobjects/Contact/{JANE_CONTACT}");
            let (status, jane) = app.request(Method::GET, &path, headers, None).await;
            assert_eq!(status, StatusCode::OK, "{headers:?}: {jane}");
            assert_eq!(jane["FirstName"], "Jane");
        }
    }

    async fn without_an_admin_token_emulator_routes_are_open(backend) {
        let app = spawn_app(backend).await;
        let (status, sent) = app.send_sms(&json!({ "toPhone": JANE_PHONE, "bodyText": "x", "recordId": JANE_CONTACT })).await;
        assert_eq!(status, StatusCode::OK, "{sent}");
        let (status, org) = app.get("/_emulator/org").await;
        assert_eq!(status, StatusCode::OK, "{org}");
        assert_eq!(org["settings"]["defaultUserId"], ADA);
        let (status, stored) = app.request(Method::PUT, "/_emulator/org", &[], Some(&org)).await;
        assert_eq!(status, StatusCode::OK, "{stored}");
        let (status, messages) = app.get("/_emulator/messages").await;
        assert_eq!(status, StatusCode::OK, "{messages}");
        assert_eq!(messages["items"][0]["id"], sent["id"]);
        let (status, message) = app.get(&format!("/_emulator/messages/{}", sent["id"].as_str().unwrap())).await;
        assert_eq!((status, &message["id"]), (StatusCode::OK, &sent["id"]));
        let (status, tasks) = app.get("/_emulator/tasks").await;
        assert_eq!((status, &tasks["items"][0]["id"]), (StatusCode::OK, &sent["taskId"]));
        let (status, errors) = app.get("/_emulator/voip-errors").await;
        assert_eq!((status, &errors["items"]), (StatusCode::OK, &json!([])));
        let (status, reset) = app.request(Method::POST, "/_emulator/reset", &[], None).await;
        assert_eq!(status, StatusCode::OK, "{reset}");
        let (status, messages) = app.get("/_emulator/messages").await;
        assert_eq!((status, &messages["items"]), (StatusCode::OK, &json!([])));
    }
}
