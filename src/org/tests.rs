use super::*;

fn parse_yaml(text: &str) -> Result<Org, InvalidOrg> {
    Org::new(OrgDocument::parse(text.as_bytes(), OrgFormat::Yaml)?)
}

fn problems(text: &str) -> Vec<String> {
    parse_yaml(text)
        .expect_err("the org should be refused")
        .problems
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn demo_org_is_valid_and_has_what_the_spec_asks_for() {
    let org = Org::demo();
    let doc = org.document();
    assert!(doc.users.iter().filter(|u| u.fastcall_user).count() >= 2);
    assert!(doc.users.iter().any(|u| !u.fastcall_user));
    assert!(
        doc.users
            .iter()
            .any(|u| u.fastcall_user && !u.group_ids.is_empty())
    );
    assert!(!doc.groups.is_empty());
    for assignment in [Assignment::User, Assignment::Group, Assignment::Org] {
        assert!(
            doc.phone_numbers.iter().any(|p| p.assignment == assignment),
            "{assignment:?}"
        );
    }
    let types: Vec<_> = doc.user_statuses.iter().map(|s| s.status_type).collect();
    assert!(types.contains(&crate::domain::objects::StatusType::Available));
    assert!(types.contains(&crate::domain::objects::StatusType::Offline));
    assert!(doc.sms_templates.iter().any(|t| t.body.contains("{!")));
    assert_eq!(doc.ivrs.len(), 5);
    let objects: Vec<_> = doc
        .records
        .iter()
        .filter_map(|r| org.record(r.id))
        .map(|r| r.object_type)
        .collect();
    assert!(objects.contains(&"Contact") && objects.contains(&"Lead"));
    assert!(org.settings().default_user_id.is_some());
}

#[test]
fn numbers_are_normalised_to_e164() {
    let org = Org::demo();
    assert!(
        org.document()
            .phone_numbers
            .iter()
            .all(|p| p.number.starts_with('+'))
    );
    let voice_only = org
        .document()
        .phone_numbers
        .iter()
        .find(|p| p.name.as_deref() == Some("Voice only"))
        .unwrap();
    assert_eq!(voice_only.number, "+14155550103");
}

#[test]
fn exported_document_loads_back_unchanged_as_json_and_yaml() {
    let org = Org::demo();
    let json = serde_json::to_vec(org.document()).unwrap();
    let from_json = Org::new(OrgDocument::parse(&json, OrgFormat::Json).unwrap()).unwrap();
    assert_eq!(from_json.document(), org.document());
    let yaml = serde_norway::to_string(org.document()).unwrap();
    let from_yaml = parse_yaml(&yaml).unwrap();
    assert_eq!(from_yaml.document(), org.document());
}

#[test]
fn fifteen_character_ids_are_stored_in_18_character_form() {
    let org = parse_yaml("users: [{id: 005Dn0000001Ada, name: Ada}]").unwrap();
    assert_eq!(org.document().users[0].id.as_str(), "005Dn0000001AdaIAE");
}

#[test]
fn malformed_values_name_their_field() {
    let cases = [
        ("users: [{id: nope, name: Ada}]", "users[0].id"),
        (
            "users: [{id: 005Dn0000001AdaIAE, name: Ada, colour: red}]",
            "users[0].colour",
        ),
        (
            "phoneNumbers: [{id: a0PDn0000001AdaMAE, number: '+14155550100', assignment: everyone}]",
            "phoneNumbers[0].assignment",
        ),
        (
            "userStatuses: [{id: a0UDn0000001AvlMAE, name: Busy, statusType: Busy}]",
            "userStatuses[0].statusType",
        ),
        (
            "settings: {defaultCountry: Atlantis}",
            "settings.defaultCountry",
        ),
        ("settings: {smsEnabled: maybe}", "settings.smsEnabled"),
        ("[1, 2]", ""),
    ];
    for (text, path) in cases {
        let err = parse_yaml(text).expect_err(text);
        assert_eq!(err.problems.len(), 1, "{text}");
        assert_eq!(err.problems[0].path, path, "{text}: {}", err.problems[0]);
    }
}

#[test]
fn entries_that_do_not_fit_together_are_all_reported() {
    let found = problems(
        r#"
settings: {defaultUserId: 005Dn0000009ZzzIAE}
users:
  - {id: 005Dn0000001AdaIAE, name: Ada, groupIds: [00GDn0000009ZzzMAE], userStatusId: a0UDn0000009ZzzMAE}
  - {id: 005Dn0000001AdaIAE, name: Ada again}
  - {id: 003Dn0000001JanIAE, name: Not a user}
groups: [{id: 005Dn0000002GrcIAE, name: Not a group}]
phoneNumbers:
  - {id: a0PDn0000001AdaMAE, number: "none", assignment: org}
  - {id: a0PDn0000002SupMAE, number: "+14155550100", assignment: user}
  - {id: a0PDn0000003OrgMAE, number: "(415) 555-0100", assignment: group, groupIds: [00GDn0000001SupMAE]}
records:
  - {id: a1XDn0000001AbcMAE, fields: {Name: Widget}}
  - {id: 003Dn0000002JanIAE, fields: {Tags: [a, b]}}
apiKeys:
  - {key: secret, userId: 005Dn0000001AdaIAE}
  - {key: secret, userId: 005Dn0000001AdaIAE}
  - {key: "with space", userId: 005Dn0000001AdaIAE}
"#,
    );
    let expected = [
        "settings.defaultUserId: 005Dn0000009ZzzIAE is not one of the org's users",
        "users[0].groupIds[0]: 00GDn0000009ZzzMAE is not one of the org's groups",
        "users[0].userStatusId: a0UDn0000009ZzzMAE is not one of the org's user statuses",
        "users[1].id: Id 005Dn0000001AdaIAE is already used by users[0]",
        "users[2].id: a User Id starts with 005, not 003",
        "groups[0].id: a Group Id starts with 00G, not 005",
        "phoneNumbers[0].number: `none` has no digits",
        "phoneNumbers[1].assignment: a number assigned to users needs userIds",
        "phoneNumbers[2].number: +14155550100 is already phoneNumbers[1]",
        "phoneNumbers[2].groupIds[0]: 00GDn0000001SupMAE is not one of the org's groups",
        "records[0].type: required: key prefix a1X is not an object the emulator knows",
        "records[1].fields.Tags: must be text, a number, a boolean or null",
        "apiKeys[1].key: repeats the key of apiKeys[0]",
        "apiKeys[2].key: must be non-empty, without spaces or control characters",
    ];
    for problem in expected {
        assert!(
            found.iter().any(|f| f == problem),
            "missing {problem:?} in {found:#?}"
        );
    }
    assert_eq!(found.len(), expected.len(), "{found:#?}");
}

#[test]
fn record_fields_are_read_case_insensitively() {
    let org = Org::demo();
    let jane = org
        .record(SalesforceId::parse("003Dn0000001Jan").unwrap())
        .unwrap();
    assert_eq!(jane.object_type, "Contact");
    assert_eq!(jane.field("firstname").as_deref(), Some("Jane"));
    assert_eq!(jane.field("Nickname"), None);
}

#[test]
fn api_keys_map_to_their_user() {
    let org = parse_yaml(
        "users: [{id: 005Dn0000001AdaIAE, name: Ada}]\napiKeys: [{key: k-ada, userId: 005Dn0000001AdaIAE}]",
    )
    .unwrap();
    assert!(org.has_api_keys());
    assert_eq!(
        org.user_for_api_key("k-ada")
            .map(|u| u.to_string())
            .as_deref(),
        Some("005Dn0000001AdaIAE")
    );
    assert_eq!(org.user_for_api_key("k-ad"), None);
    assert_eq!(org.user_for_api_key(""), None);
}

#[test]
fn text_that_cannot_be_stored_is_refused() {
    let found = problems(
        "smsTemplates: [{id: a0TDn0000001AptMAE, name: T, body: \"a\\0b\"}]\n\
         records: [{id: 003Dn0000001JanIAE, fields: {FirstName: \"J\\0\"}}]",
    );
    assert_eq!(
        found,
        [
            "smsTemplates[0].body: must not hold the NUL character",
            "records[0].fields.FirstName: must not hold the NUL character",
        ]
    );
}
