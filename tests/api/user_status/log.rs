//! The status log (`/_emulator/status-log`, its entries, filters and `changedBy`) and the
//! users route (`/_emulator/users/{id}`).

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::*;
use crate::backend_tests;

/// Ada and Grace, each with an API key; Ada is the default user.
const KEYED_ORG: &str = r#"
settings:
  defaultUserId: 005Dn0000001AdaIAE
users:
  - id: 005Dn0000001AdaIAE
    name: Ada Lovelace
    userStatusId: a0UDn0000001AvlMAE
  - id: 005Dn0000002GrcIAE
    name: Grace Hopper
    statusType: Offline
userStatuses:
  - id: a0UDn0000001AvlMAE
    name: Available
    statusType: Available
  - id: a0UDn0000002BrkMAE
    name: On Break
    statusType: Offline
apiKeys:
  - key: k-ada
    userId: 005Dn0000001AdaIAE
  - key: k-grace
    userId: 005Dn0000002GrcIAE
"#;

/// Four changes, oldest first: Ada to On Break, Grace to bare Available, Ada back to the
/// Available record, Katherine to bare Offline. Answers their outputs.
async fn four_changes(app: &TestApp) -> Vec<Value> {
    let mut outputs = Vec::new();
    for (user, status) in [
        (ADA, ON_BREAK),
        (GRACE, BARE_AVAILABLE),
        (ADA, AVAILABLE_RECORD),
        (KATHERINE, BARE_OFFLINE),
    ] {
        outputs.push(set_ok(app, &input(user, status)).await);
    }
    outputs
}

/// A case of `changedBy`: its name, the request headers, the user changed, the status
/// given, and the user expected as `changedBy`.
type HeaderCase<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, Status, &'a str);

fn ids(entries: &[Value]) -> Vec<Value> {
    entries.iter().map(|e| e["id"].clone()).collect()
}

/// The log Ids of `outputs` at `positions`, in that order.
fn log_ids(outputs: &[Value], positions: &[usize]) -> Vec<Value> {
    positions
        .iter()
        .map(|&i| outputs[i]["logId"].clone())
        .collect()
}

#[track_caller]
fn assert_invalid_filter(response: &(StatusCode, Value), case: &str) {
    let (status, body) = response;
    assert_eq!(*status, StatusCode::BAD_REQUEST, "{case}: {body}");
    assert_eq!(body["errorCode"], "INVALID_FILTER", "{case}: {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{case}: {body}"
    );
}

backend_tests! {
    async fn status_log_lists_changes_newest_first_with_every_key(backend) {
        let app = spawn_app(backend).await;
        let outputs = four_changes(&app).await;
        let log = status_log(&app, "").await;
        assert_eq!(ids(&log), log_ids(&outputs, &[3, 2, 1, 0]));
        assert_log_entry(&log[3], ADA, ADA_INITIAL, ON_BREAK, ADA);
        assert_log_entry(&log[2], GRACE, GRACE_INITIAL, BARE_AVAILABLE, ADA);
        assert_log_entry(&log[1], ADA, ON_BREAK, AVAILABLE_RECORD, ADA);
        assert_log_entry(&log[0], KATHERINE, KATHERINE_INITIAL, BARE_OFFLINE, ADA);
        for (entry, output) in log.iter().rev().zip(&outputs) {
            assert_eq!(entry["changedDate"], output["changedDate"], "{entry}");
        }
        for pair in log.windows(2) {
            assert!(parse_salesforce_datetime(&pair[0]["changedDate"]) >= parse_salesforce_datetime(&pair[1]["changedDate"]), "{pair:?}");
        }
        for entry in &log {
            let id = entry["id"].as_str().unwrap();
            assert_eq!(log_entry(&app, id).await, *entry);
            assert_eq!(log_entry(&app, &id[..15]).await, *entry, "by 15-character Id");
            assert_eq!(log_entry(&app, &id.to_lowercase()).await, *entry, "by lower-cased Id");
        }
    }

    async fn unknown_or_malformed_log_entry_is_404(backend) {
        let app = spawn_app(backend).await;
        set_ok(&app, &input(ADA, ON_BREAK)).await;
        for id in [id18("a0LDn0000009Zzz"), "not-an-id".to_owned(), ADA.to_owned()] {
            let (status, body) = app.get(&format!("/_emulator/status-log/{id}")).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{id}: {body}");
            assert_eq!(body["errorCode"], "NOT_FOUND", "{id}: {body}");
        }
    }

    async fn changed_by_is_the_invoking_user_without_api_keys(backend) {
        let app = spawn_app(backend).await;
        let cases: [HeaderCase; 4] = [
            ("no header: the default user", &[], KATHERINE, ON_BREAK, ADA),
            ("X-Fastcall-User-Id", &[("X-Fastcall-User-Id", GRACE)], KATHERINE, BARE_OFFLINE, GRACE),
            ("X-Fastcall-User-Id of another user", &[("X-Fastcall-User-Id", KATHERINE)], ADA, BARE_OFFLINE, KATHERINE),
            ("X-Fastcall-User-Id, 15 characters", &[("X-Fastcall-User-Id", &GRACE[..15])], GRACE, ON_BREAK, GRACE),
        ];
        for (case, headers, user, to, by) in cases {
            let (status, output) = set_status_with(&app, headers, &input(user, to)).await;
            assert_eq!(status, StatusCode::OK, "{case}: {output}");
            let entry = log_entry(&app, output["logId"].as_str().expect("a log Id")).await;
            assert_eq!(entry["changedBy"], by, "{case}: {entry}");
            assert_eq!(entry["userId"], user, "{case}: {entry}");
        }
    }

    async fn changed_by_is_the_api_key_user_with_keys_in_the_org(backend) {
        let app = spawn_app_with_org(backend, KEYED_ORG).await;
        let cases: [HeaderCase; 3] = [
            ("Grace's bearer key, changing Ada", &[("Authorization", "Bearer k-grace")], ADA, ON_BREAK, GRACE),
            ("Ada's X-API-Key, X-Fastcall-User-Id ignored", &[("X-API-Key", "k-ada"), ("X-Fastcall-User-Id", GRACE)], GRACE, BARE_AVAILABLE, ADA),
            ("Grace's key, changing Grace", &[("X-API-Key", "k-grace")], GRACE, ON_BREAK, GRACE),
        ];
        for (case, headers, user, to, by) in cases {
            let (status, output) = set_status_with(&app, headers, &input(user, to)).await;
            assert_eq!(status, StatusCode::OK, "{case}: {output}");
            let entry = log_entry(&app, output["logId"].as_str().expect("a log Id")).await;
            assert_eq!(entry["changedBy"], by, "{case}: {entry}");
        }
        // Without a key (the default user does not stand in): 401, nothing changes.
        for headers in [&[][..], &[("X-Fastcall-User-Id", ADA)][..], &[("X-API-Key", "wrong")][..]] {
            let (status, body) = set_status_with(&app, headers, &input(ADA, BARE_OFFLINE)).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{headers:?}: {body}");
            assert_eq!(body["errorCode"], "INVALID_SESSION_ID", "{body}");
        }
        assert_eq!(status_log(&app, "").await.len(), 3);
        assert_eq!(user_state(&app, ADA).await["userStatusId"], ON_BREAK_STATUS);
    }

    async fn status_log_filters_by_user_status_since_and_limit(backend) {
        let app = spawn_app(backend).await;
        let outputs = four_changes(&app).await;
        let first_date = outputs[0]["changedDate"].as_str().unwrap();
        let third_date = outputs[2]["changedDate"].as_str().unwrap();
        let since_third: Vec<usize> = (0..4).rev()
            .filter(|&i| parse_salesforce_datetime(&outputs[i]["changedDate"]) >= parse_salesforce_datetime(&outputs[2]["changedDate"]))
            .collect();
        let cases = [
            (format!("?userId={ADA}"), vec![2, 0]),
            (format!("?userId={}", &ADA[..15]), vec![2, 0]),
            (format!("?userId={GRACE}"), vec![1]),
            (format!("?userId={LINUS}"), vec![]),
            ("?status=Offline".to_owned(), vec![3, 0]),
            ("?status=available".to_owned(), vec![2, 1]),
            (format!("?userId={ADA}&status=OFFLINE"), vec![0]),
            ("?limit=1".to_owned(), vec![3]),
            ("?limit=3".to_owned(), vec![3, 2, 1]),
            ("?limit=1000".to_owned(), vec![3, 2, 1, 0]),
            ("?since=2000-01-01T00:00:00Z".to_owned(), vec![3, 2, 1, 0]),
            (format!("?since={}", query_value(first_date)), vec![3, 2, 1, 0]),
            (format!("?since={}", query_value(third_date)), since_third),
            ("?since=2999-01-01T00:00:00Z".to_owned(), vec![]),
            (format!("?userId={ADA}&since={}&limit=1", query_value(first_date)), vec![2]),
        ];
        for (query, expected) in cases {
            let got = ids(&status_log(&app, &query).await);
            assert_eq!(got, log_ids(&outputs, &expected), "{query}");
        }
    }

    async fn status_log_refuses_filters_it_does_not_take(backend) {
        let app = spawn_app(backend).await;
        set_ok(&app, &input(ADA, ON_BREAK)).await;
        for query in [
            "to=%2B14155550123",
            "from=%2B14155550100",
            &format!("relatedRecordId={JANE_CONTACT}"),
            "status=Busy",
            "status=On%20Break",
            "userId=nobody",
            "since=yesterday",
            "limit=0",
            "limit=1001",
            "limit=ten",
            "statusType=Offline",
        ] {
            let response = app.get(&format!("/_emulator/status-log?{query}")).await;
            assert_invalid_filter(&response, query);
        }
    }

    async fn users_route_shows_the_org_status_until_changed_then_the_change(backend) {
        let app = spawn_app(backend).await;
        let initial = [
            (ADA, "Ada Lovelace", Some("Available"), ADA_INITIAL),
            (GRACE, "Grace Hopper", Some("Offline"), GRACE_INITIAL),
            (KATHERINE, "Katherine Johnson", None, KATHERINE_INITIAL),
        ];
        for (id, name, status_name, status) in initial {
            let expected = json!({
                "id": id, "name": name, "fastcallUser": true, "userStatusId": status.0,
                "userStatusName": status_name, "statusType": status.1, "changedDate": null,
            });
            assert_eq!(user_state(&app, id).await, expected);
            assert_eq!(user_state(&app, &id[..15]).await, expected, "by 15-character Id");
        }
        let output = set_ok(&app, &input(ADA, ON_BREAK)).await;
        let user = user_state(&app, ADA).await;
        assert_eq!(user["userStatusId"], ON_BREAK_STATUS);
        assert_eq!(user["userStatusName"], "On Break");
        assert_eq!(user["statusType"], "Offline");
        assert_eq!(user["changedDate"], output["changedDate"]);
        let output = set_ok(&app, &input(ADA, BARE_AVAILABLE)).await;
        let user = user_state(&app, &ADA.to_uppercase()).await;
        assert!(user["userStatusId"].is_null(), "{user}");
        assert!(user["userStatusName"].is_null(), "{user}");
        assert_eq!(user["statusType"], "Available");
        assert_eq!(user["changedDate"], output["changedDate"]);
        // Grace was not touched.
        assert!(user_state(&app, GRACE).await["changedDate"].is_null());
    }

    async fn users_route_shows_non_fastcall_users_and_404_for_unknown_ones(backend) {
        let app = spawn_app(backend).await;
        let linus = user_state(&app, LINUS).await;
        assert_eq!(linus["id"], LINUS);
        assert_eq!(linus["name"], "Linus Integration");
        assert_eq!(linus["fastcallUser"], false);
        assert!(linus["userStatusId"].is_null(), "{linus}");
        assert!(linus["userStatusName"].is_null(), "{linus}");
        assert_eq!(linus["statusType"], "Offline", "the org says nothing: Offline");
        assert!(linus["changedDate"].is_null(), "{linus}");
        for id in [id18("005Dn0000009Zzz"), JANE_CONTACT.to_owned(), "nobody".to_owned()] {
            let (status, body) = app.get(&format!("/_emulator/users/{id}")).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{id}: {body}");
            assert_eq!(body["errorCode"], "NOT_FOUND", "{id}: {body}");
        }
    }
}
