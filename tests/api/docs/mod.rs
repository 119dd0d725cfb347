//! The documentation against the code: `docs/` and the README's settings table list exactly
//! what the code serves, answers and accepts, their links lead somewhere, and the README's
//! error example is what the demo org answers. Each test fails when one side changes alone.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::{ArgAction, CommandFactory};
use fastcall_emulator::actions::ApiException;
use fastcall_emulator::actions::catalog::{self, Parameter};
use fastcall_emulator::actions::{ActionName, ErrorCode};
use fastcall_emulator::config::Config;
use fastcall_emulator::domain::objects::{IvrType, StatusType};
use fastcall_emulator::http::error::ExceptionResponse;
use fastcall_emulator::http::{contract, endpoints};
use fastcall_emulator::org::{
    ApiKey, Assignment, Group, Ivr, OrgDocument, PhoneNumber, Record, Settings, SmsTemplate, User,
    UserStatus,
};
use fastcall_emulator::records::EventKind;
use reqwest::StatusCode;
use serde::de::{self, DeserializeOwned, Visitor};
use serde_json::Value;

use crate::backend_tests;
use crate::helpers::spawn_app;
use markdown::{code, rows, section};

mod layers;
mod links;
mod markdown;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn assert_same(what: &str, code_side: BTreeSet<String>, docs_side: BTreeSet<String>) {
    let undocumented: Vec<_> = code_side.difference(&docs_side).collect();
    let stale: Vec<_> = docs_side.difference(&code_side).collect();
    assert!(
        undocumented.is_empty(),
        "{what} missing from the docs: {undocumented:?}"
    );
    assert!(
        stale.is_empty(),
        "{what} in the docs but not in the code: {stale:?}"
    );
}

#[test]
fn the_route_table_lists_every_route_the_server_answers() {
    let actions = ActionName::ALL.map(ActionName::as_str);
    let served = endpoints()
        .into_iter()
        .map(|e| {
            let path = actions
                .iter()
                .fold(e.path, |path, name| path.replace(name, "{Action}"));
            format!("{} {path}", e.method)
        })
        .collect();
    let index = read("docs/README.md");
    let documented = rows(&section(&index, "## Every route"))
        .iter()
        .map(|cells| code(&cells[0]))
        .collect();
    assert_same("routes", served, documented);
}

/// Every `ErrorCode`, by an exhaustive match: a new code does not compile until it is here.
fn every_error_code() -> Vec<ErrorCode> {
    let all = [
        ErrorCode::Provider,
        ErrorCode::BodyMissing,
        ErrorCode::CallerId,
        ErrorCode::Invalid,
        ErrorCode::Capability,
    ];
    for code in all {
        match code {
            ErrorCode::Provider
            | ErrorCode::BodyMissing
            | ErrorCode::CallerId
            | ErrorCode::Invalid
            | ErrorCode::Capability => {}
        }
    }
    all.to_vec()
}

#[test]
fn every_api_exception_code_is_documented_with_its_http_status() {
    let errors = read("docs/errors.md");
    let table = rows(&section(&errors, "## The APIException"));
    let expected = every_error_code()
        .into_iter()
        .map(|c| {
            let status = ExceptionResponse::from(ApiException::new(c, "")).status();
            format!("{} {}", c.code(), status.as_u16())
        })
        .collect();
    let documented = table
        .iter()
        .map(|cells| format!("{} {}", cells[0], cells[cells.len() - 1]))
        .collect();
    assert_same(
        "APIException codes and their HTTP statuses",
        expected,
        documented,
    );
}

/// Every `"UPPER_CASE"` string literal in `src/http/` (the error codes are the only ones
/// there): the platform `errorCode`s the server can answer.
fn platform_codes_in(dir: &Path, into: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path: PathBuf = entry.unwrap().path();
        if path.is_dir() {
            platform_codes_in(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            for (start, _) in text.match_indices('"') {
                let rest = &text[start + 1..];
                let word: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                    .collect();
                let quoted = rest[word.len()..].starts_with('"');
                if quoted && word.contains('_') && !word.starts_with('_') {
                    into.insert(word);
                }
            }
        }
    }
}

/// Every `errorCode` value `openapi.yaml` names in an `enum`.
fn platform_codes_in_openapi(value: &Value, into: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(values)) = map.get("errorCode").and_then(|c| c.get("enum")) {
                into.extend(values.iter().filter_map(Value::as_str).map(str::to_owned));
            }
            map.values()
                .for_each(|v| platform_codes_in_openapi(v, into));
        }
        Value::Array(items) => items
            .iter()
            .for_each(|v| platform_codes_in_openapi(v, into)),
        _ => {}
    }
}

#[test]
fn every_platform_error_code_the_server_answers_is_documented() {
    let mut answered = BTreeSet::new();
    platform_codes_in(&root().join("src/http"), &mut answered);
    let document: Value = serde_norway::from_str(contract::OPENAPI_YAML).unwrap();
    platform_codes_in_openapi(&document, &mut answered);
    assert!(
        answered.contains("NOT_FOUND"),
        "the scan found {answered:?}"
    );
    let errors = read("docs/errors.md");
    let documented = rows(&section(&errors, "## The platform error"))
        .iter()
        .map(|cells| code(&cells[0]))
        .collect();
    assert_same("platform errorCodes", answered, documented);
}

/// A deserializer that only records what serde's derive asks for: a struct's field names
/// (as written in the file, renamed) or an enum's variant names.
struct Accepted<'a>(&'a mut Vec<&'static str>);

impl<'de> de::Deserializer<'de> for Accepted<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct or an enum"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.extend(fields);
        Err(de::Error::custom("recorded"))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        variants: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.extend(variants);
        Err(de::Error::custom("recorded"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map identifier ignored_any
    }
}

fn accepted<T: DeserializeOwned>() -> BTreeSet<String> {
    let mut names = Vec::new();
    let _ = T::deserialize(Accepted(&mut names));
    names.into_iter().map(str::to_owned).collect()
}

#[test]
fn every_org_data_field_and_value_the_parser_accepts_is_documented() {
    let org = read("docs/org-data.md");
    let entries = [
        ("settings", accepted::<Settings>()),
        ("users", accepted::<User>()),
        ("groups", accepted::<Group>()),
        ("userStatuses", accepted::<UserStatus>()),
        ("phoneNumbers", accepted::<PhoneNumber>()),
        ("smsTemplates", accepted::<SmsTemplate>()),
        ("ivrs", accepted::<Ivr>()),
        ("records", accepted::<Record>()),
        ("apiKeys", accepted::<ApiKey>()),
    ];
    let listed = entries.iter().map(|(name, _)| name.to_string()).collect();
    assert_same(
        "top-level org entries (this test's list)",
        accepted::<OrgDocument>(),
        listed,
    );
    // Each entry's table, and the values its picklist fields take.
    let picklists = [
        ("phoneNumbers", "assignment", accepted::<Assignment>()),
        ("ivrs", "type", accepted::<IvrType>()),
        ("userStatuses", "statusType", accepted::<StatusType>()),
        ("users", "statusType", accepted::<StatusType>()),
    ];
    for (entry, fields) in entries {
        let table = rows(&section(&org, &format!("### `{entry}`")));
        let documented = table.iter().map(|cells| code(&cells[0])).collect();
        assert_same(&format!("fields of {entry}"), fields, documented);
        for (_, field, values) in picklists.iter().filter(|(e, ..)| *e == entry) {
            let row = table
                .iter()
                .find(|cells| code(&cells[0]) == *field)
                .unwrap();
            for value in values {
                let shown = row[1].contains(&format!("`{value}`"));
                assert!(
                    shown,
                    "{entry}.{field}: `{value}` is not documented: {row:?}"
                );
            }
        }
    }
}

/// `name` and its describe column (`STRING`, or `ID, required`).
fn parameter(p: &Parameter) -> String {
    let required = if p.required { ", required" } else { "" };
    format!("{} {}{required}", p.name, p.kind.as_str())
}

#[test]
fn every_action_parameter_is_documented_with_its_describe_type() {
    let actions = read("docs/actions.md");
    for action in ActionName::ALL {
        let spec = catalog::spec(action);
        let lines = section(&actions, &format!("## {action}"));
        let outputs_start = lines.iter().position(|l| l.starts_with("Outputs")).unwrap();
        let (inputs, outputs) = lines.split_at(outputs_start);
        for (what, documented, parameters) in [
            ("inputs", inputs, spec.inputs),
            ("outputs", outputs, spec.outputs),
        ] {
            // The parameter tables, not the table of checks (whose rows are numbered).
            let documented = rows(documented)
                .iter()
                .filter(|cells| cells[0].starts_with('`'))
                .map(|cells| format!("{} {}", code(&cells[0]), cells[1]))
                .collect();
            let defined = parameters.iter().map(parameter).collect();
            assert_same(&format!("{action} {what}"), defined, documented);
        }
    }
}

#[test]
fn every_event_type_is_documented() {
    let events = read("docs/inspection-and-events.md");
    let kinds = EventKind::ALL.map(|k| k.as_str().to_owned()).into();
    let documented = rows(&section(&events, "## Live events"))
        .iter()
        .map(|cells| code(&cells[0]))
        .collect();
    assert_same("event types", kinds, documented);
}

#[test]
fn the_readme_settings_table_lists_every_flag_with_its_variable_and_default() {
    let defined = Config::command()
        .get_arguments()
        .map(|arg| {
            let flag = format!("--{}", arg.get_long().expect("every setting has a flag"));
            let env = arg
                .get_env()
                .map_or("—".to_owned(), |e| e.to_string_lossy().into_owned());
            let default = match arg.get_default_values() {
                _ if matches!(arg.get_action(), ArgAction::SetTrue) => "off".to_owned(),
                [] => "—".to_owned(),
                [value] => value.to_string_lossy().into_owned(),
                many => panic!("{flag} has several defaults: {many:?}"),
            };
            format!("{flag} {env} {default}")
        })
        .collect();
    let readme = read("README.md");
    let documented = rows(&section(&readme, "## Running"))
        .iter()
        .map(|cells| {
            // `--org FILE`: the flag is the first word.
            let flag = code(&cells[0])
                .split_whitespace()
                .next()
                .unwrap()
                .to_owned();
            format!("{flag} {} {}", code(&cells[1]), code(&cells[2]))
        })
        .collect();
    assert_same("settings (flag, variable, default)", defined, documented);
}

/// The README's example of an APIException, as sent there.
const ERROR_EXAMPLE: &str =
    r#"{"toPhone": "+14155550123", "bodyText": "Hello", "fromPhone": "+14155550103"}"#;

backend_tests! {
    async fn the_readme_error_example_is_what_the_demo_org_answers(backend) {
        let app = spawn_app(backend).await;
        let sent = app.post_raw("/actions/SubscriberSMSInvocable", ERROR_EXAMPLE, Some("application/json")).await;
        assert_eq!(sent.0, StatusCode::BAD_REQUEST, "{}", sent.1);
        assert_eq!(sent.1["errorCode"], 103, "{}", sent.1);
        let message = sent.1["message"].as_str().unwrap();
        assert!(read("README.md").contains(&format!("-d '{ERROR_EXAMPLE}'")), "the README sends another request");
        for page in ["README.md", "docs/actions.md", "docs/errors.md"] {
            let shown = read(page).contains(&format!("\"message\": \"{message}\""));
            assert!(shown, "{page} shows another answer than {message}");
        }
    }
}

/// The Postman collection runs in an org of its own: its first request creates it with the
/// built-in demo org's data, word for word, and every request but the Orgs folder's goes to
/// it, so that a run never resets anybody's data.
#[test]
fn the_postman_collection_runs_in_an_org_of_its_own_made_from_the_demo_org() {
    let collection: Value =
        serde_json::from_str(&read("postman/fastcall-emulator.postman_collection.json"))
            .expect("the collection is JSON");
    fn requests<'a>(items: &'a Value, folder: &str, into: &mut Vec<(String, &'a Value)>) {
        for item in items.as_array().expect("items") {
            match item.get("item") {
                Some(children) => requests(children, item["name"].as_str().unwrap(), into),
                None => into.push((folder.to_owned(), item)),
            }
        }
    }
    let mut all = Vec::new();
    requests(&collection["item"], "", &mut all);
    let (_, first) = all[0];
    assert_eq!(first["request"]["method"], "PUT");
    assert_eq!(
        first["request"]["url"]["raw"],
        "{{baseUrl}}/orgs/{{runOrg}}/_emulator/org"
    );
    assert_eq!(
        first["request"]["body"]["raw"],
        fastcall_emulator::org::DEMO_ORG_YAML
    );
    for (folder, request) in &all[1..] {
        let url = request["request"]["url"]["raw"].as_str().unwrap();
        match folder.as_str() {
            "Orgs side by side" => {}
            // Also run alone against a server with the Twilio provider (.ci/postman.sh), where
            // the run has no org of its own: it addresses the default org, and changes nothing
            // on a server with the simulated provider (its routes are 404 there).
            "Twilio provider (--provider twilio)" => {
                assert!(url.starts_with("{{baseUrl}}/"), "{folder}: {url}")
            }
            _ => assert!(url.starts_with("{{orgUrl}}/"), "{folder}: {url}"),
        }
    }
}
