//! Property tests of the parsers that take outside input: whatever they are given, they
//! answer without panicking, and what they accept means what it says. And of the views' own
//! JSON writer, which writes outside text: whatever a message holds, serde_json's text.

use std::borrow::Cow;

use fastcall_emulator::actions::call::CallInput;
use fastcall_emulator::actions::sms::SmsInput;
use fastcall_emulator::domain::objects::Direction;
use fastcall_emulator::domain::template;
use fastcall_emulator::domain::{
    Country, DialledNumber, MediaUrl, ProviderError, SalesforceId, SmsStatus, Timestamp,
};
use fastcall_emulator::http::extract::{BodyError, parse_object};
use fastcall_emulator::org::{Org, OrgDocument, OrgFormat};
use fastcall_emulator::records::{SmsMessage, StatusHistory, StatusStep};
use fastcall_emulator::views::{MessageItem, SmsOutput, json};
use proptest::prelude::*;
use serde_json::Value;

const ALPHANUMERIC: &str = "[a-zA-Z0-9]";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn salesforce_ids_never_panic(input in any::<String>()) {
        let _ = SalesforceId::parse(&input);
    }

    #[test]
    fn every_form_of_an_id_is_the_same_id(body in proptest::string::string_regex(&format!("{ALPHANUMERIC}{{15}}")).unwrap()) {
        let id = SalesforceId::parse(&body).unwrap();
        let full = id.as_str();
        prop_assert_eq!(full.len(), 18);
        prop_assert_eq!(&full[..15], body.as_str());
        prop_assert_eq!(SalesforceId::parse(full), Ok(id));
        prop_assert_eq!(SalesforceId::parse(&full.to_ascii_uppercase()), Ok(id));
        prop_assert_eq!(SalesforceId::parse(&full.to_ascii_lowercase()), Ok(id));
    }

    #[test]
    fn phone_numbers_never_panic_and_dialled_ones_dial_to_themselves(input in any::<String>(), country in "[A-Z]{2}") {
        let country: Country = country.parse().unwrap_or(Country::US);
        if let Ok(number) = DialledNumber::dial(&input, country) {
            let text = number.as_str();
            prop_assert!(text.starts_with('+') && text[1..].bytes().all(|b| b.is_ascii_digit()), "{}", text);
            prop_assert_eq!(DialledNumber::dial(text, Country::US), Ok(number));
            prop_assert_eq!(DialledNumber::from_canonical(text), Some(number));
        }
    }

    #[test]
    fn phone_like_strings_keep_their_digits_after_one_trunk_zero(input in "[+0-9 ()\\-.x]{0,40}") {
        if let Ok(number) = DialledNumber::dial(&input, Country::US) {
            let digits: String = input.chars().filter(char::is_ascii_digit).collect();
            let international = input.find(|c: char| c == '+' || c.is_ascii_digit()).is_some_and(|at| input[at..].starts_with('+'));
            let expected = if international {
                format!("+{digits}")
            } else {
                format!("+1{}", digits.strip_prefix('0').unwrap_or(&digits))
            };
            prop_assert_eq!(number.as_str(), expected.as_str());
        }
    }

    #[test]
    fn templates_never_panic_and_text_without_merge_fields_is_kept(text in any::<String>()) {
        let rendered = template::render(&text, |object, field| Some(Cow::Owned(format!("<{object}.{field}>"))));
        if !text.contains("{!") {
            prop_assert_eq!(rendered, text);
        }
    }

    #[test]
    fn merge_fields_are_replaced_and_the_rest_kept(
        before in "[^{]*", object in "[A-Za-z]{1,10}", field in "[A-Za-z]{1,10}", after in "[^{]*",
    ) {
        let text = format!("{before}{{!{object}.{field}}}{after}");
        let rendered = template::render(&text, |o, f| Some(Cow::Owned(format!("[{o}/{f}]"))));
        prop_assert_eq!(rendered, format!("{before}[{object}/{field}]{after}"));
    }

    #[test]
    fn media_urls_and_timestamps_never_panic(input in any::<String>()) {
        let _ = MediaUrl::parse(&input);
        let _ = Timestamp::parse(&input);
    }

    #[test]
    fn action_bodies_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_object::<SmsInput>(&bytes);
        let _ = parse_object::<CallInput>(&bytes);
    }

    #[test]
    fn json_objects_with_any_strings_parse_or_name_their_problem(fields in proptest::collection::btree_map("[a-zA-Z]{1,12}", any::<String>(), 0..8)) {
        let body = serde_json::to_vec(&fields).unwrap();
        match parse_object::<SmsInput>(&body) {
            Ok(input) => {
                // Only known fields parse, and text arrives unchanged.
                if let Some(text) = fields.get("bodyText") {
                    prop_assert_eq!(input.body_text.as_deref(), Some(text.as_str()));
                }
            }
            Err(BodyError::Malformed(reason)) => prop_assert!(!reason.is_empty()),
            Err(other) => prop_assert!(false, "unexpected {:?}", other),
        }
    }

    #[test]
    fn text_holding_nul_is_always_refused(prefix in any::<String>(), suffix in any::<String>()) {
        let body = serde_json::json!({ "bodyText": format!("{prefix}\0{suffix}") }).to_string();
        prop_assert!(matches!(parse_object::<SmsInput>(body.as_bytes()), Err(BodyError::Malformed(_))));
    }

    #[test]
    fn org_files_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = OrgDocument::parse(&bytes, OrgFormat::Json).map(Org::new);
        let _ = OrgDocument::parse(&bytes, OrgFormat::Yaml).map(Org::new);
    }
}

/// A JSON value of any shape, for mutating org documents.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[a-zA-Z0-9]{15,18}".prop_map(Value::String),
        "\\+?[0-9 ]{3,16}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-zA-Z]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every place in a JSON document that holds a value, as a JSON pointer.
fn pointers(value: &Value, at: String, into: &mut Vec<String>) {
    into.push(at.clone());
    match value {
        Value::Object(map) => map
            .iter()
            .for_each(|(k, v)| pointers(v, format!("{at}/{k}"), into)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| pointers(v, format!("{at}/{i}"), into)),
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// The demo org with one value anywhere replaced by anything: refused with problems that
    /// say where, or accepted and exported unchanged.
    #[test]
    fn mutated_orgs_are_refused_with_reasons_or_round_trip(choice in any::<prop::sample::Index>(), replacement in any_json()) {
        let mut document = serde_json::to_value(Org::demo().document()).unwrap();
        let mut places = Vec::new();
        pointers(&document, String::new(), &mut places);
        let place = choice.get(&places[1..]).clone();
        *document.pointer_mut(&place).unwrap() = replacement;
        let bytes = serde_json::to_vec(&document).unwrap();
        match OrgDocument::parse(&bytes, OrgFormat::Json).and_then(Org::new) {
            Ok(org) => {
                let exported = serde_json::to_vec(org.document()).unwrap();
                let again = Org::new(OrgDocument::parse(&exported, OrgFormat::Json).unwrap()).unwrap();
                prop_assert_eq!(again.document(), org.document());
            }
            Err(invalid) => {
                prop_assert!(!invalid.problems.is_empty());
                prop_assert!(invalid.problems.iter().all(|p| !p.message.is_empty()));
            }
        }
    }
}

fn any_id() -> impl Strategy<Value = SalesforceId> {
    proptest::string::string_regex(&format!("{ALPHANUMERIC}{{15}}"))
        .unwrap()
        .prop_map(|body| SalesforceId::parse(&body).unwrap())
}

fn any_number() -> impl Strategy<Value = DialledNumber> {
    "\\+[0-9]{1,30}".prop_map(|text| DialledNumber::from_canonical(&text).unwrap())
}

fn any_status() -> impl Strategy<Value = SmsStatus> {
    proptest::sample::select(SmsStatus::ALL)
}

/// A message with any text where it holds text, and any instants, Ids, statuses and codes.
fn any_message() -> impl Strategy<Value = SmsMessage> {
    let ids = (any_id(), any_id(), proptest::option::of(any_id()), any_id());
    let more_ids = (
        proptest::option::of(any_id()),
        proptest::option::of(any_id()),
    );
    let text = (
        any::<String>(),
        proptest::option::of(any::<String>()),
        proptest::option::of(any::<String>()),
        proptest::option::of((any::<i32>(), any::<String>())),
    );
    let steps = proptest::collection::vec(
        (
            any_status(),
            any::<i64>(),
            proptest::option::of(any::<i32>()),
        ),
        0..12,
    );
    let rest = (
        any::<i64>(),
        any::<bool>(),
        any_number(),
        any_number(),
        any_status(),
        steps,
    );
    (ids, more_ids, text, rest).prop_map(
        |(
            (id, owner_id, user_id, phone_number_id),
            (related_record_id, task_id),
            (body, provider_id, media_url, error),
            (created_at, inbound, from_phone, to_phone, status, steps),
        )| SmsMessage {
            id,
            provider_id,
            created_at: Timestamp::from_millis(created_at),
            updated_at: Timestamp::from_millis(created_at),
            direction: if inbound {
                Direction::Inbound
            } else {
                Direction::Outbound
            },
            owner_id,
            user_id,
            phone_number_id,
            from_phone,
            to_phone,
            body,
            media_url,
            related_record_id,
            task_id,
            status,
            status_history: StatusHistory(
                steps
                    .into_iter()
                    .map(|(status, date, error_code)| StatusStep {
                        status,
                        date: Timestamp::from_millis(date),
                        error_code,
                    })
                    .collect(),
            ),
            error: error.map(|(code, message)| ProviderError { code, message }),
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// The views' own JSON writer writes what serde_json writes, whatever the message holds.
    #[test]
    fn messages_are_written_as_serde_json_writes_them(message in any_message()) {
        let output = SmsOutput::from(&message);
        prop_assert_eq!(json::to_string(&output), serde_json::to_string(&output).unwrap());
        let item = MessageItem::from(&message);
        prop_assert_eq!(json::to_string(&item), serde_json::to_string(&item).unwrap());
    }
}
