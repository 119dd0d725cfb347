//! Whole-document checks of org data: unique Ids, references that resolve, valid numbers.
//! Every problem is collected, so one round of fixes is enough.

use std::collections::HashMap;

use super::{Assignment, Index, InvalidOrg, Org, OrgDocument, OrgProblem, is_phone_field};
use crate::domain::objects::{self, GROUP, USER};
use crate::domain::{DialledNumber, SalesforceId};

struct Checker {
    problems: Vec<OrgProblem>,
    /// Every Id in the document, with the path of the entry that declares it.
    declared: HashMap<SalesforceId, String>,
}

impl Checker {
    fn problem(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(OrgProblem {
            path: path.into(),
            message: message.into(),
        });
    }

    /// Declares an entry's Id; returns its index map entry for the collection.
    fn declare(
        &mut self,
        path: String,
        id: SalesforceId,
        index: usize,
        into: &mut Index<SalesforceId, usize>,
    ) {
        if let Some(first) = self.declared.get(&id) {
            let message = format!("Id {id} is already used by {first}");
            self.problem(format!("{path}.id"), message);
            return;
        }
        self.declared.insert(id, path);
        into.insert(id, index);
    }

    fn require_prefix(&mut self, path: String, id: SalesforceId, expected: objects::ObjectType) {
        if id.key_prefix() != expected.key_prefix {
            let message = format!(
                "a {} Id starts with {}, not {}",
                expected.api_name,
                expected.key_prefix,
                id.key_prefix()
            );
            self.problem(path, message);
        }
    }

    fn require_non_blank(&mut self, path: String, value: &str) {
        if value.trim().is_empty() {
            self.problem(path, "must not be blank");
        } else {
            self.require_storable(path, value);
        }
    }

    /// Text that flows into stored records must not hold NUL, which PostgreSQL cannot store.
    fn require_storable(&mut self, path: String, value: &str) {
        if value.contains('\0') {
            self.problem(path, "must not hold the NUL character");
        }
    }

    fn require_known(
        &mut self,
        path: String,
        id: SalesforceId,
        known: &Index<SalesforceId, usize>,
        what: &str,
    ) {
        if !known.contains_key(&id) {
            self.problem(path, format!("{id} is not one of the org's {what}"));
        }
    }
}

pub(super) fn validate(mut document: OrgDocument) -> Result<Org, InvalidOrg> {
    let mut check = Checker {
        problems: Vec::new(),
        declared: HashMap::new(),
    };
    let mut users = Index::default();
    let mut groups = Index::default();
    let mut statuses = Index::default();
    let mut templates = Index::default();
    let mut ivrs = Index::default();
    let mut phone_ids = Index::default();
    let mut record_ids = Index::default();

    for (i, group) in document.groups.iter().enumerate() {
        check.require_prefix(format!("groups[{i}].id"), group.id, GROUP);
        check.require_non_blank(format!("groups[{i}].name"), &group.name);
        check.declare(format!("groups[{i}]"), group.id, i, &mut groups);
    }
    for (i, status) in document.user_statuses.iter().enumerate() {
        check.require_non_blank(format!("userStatuses[{i}].name"), &status.name);
        check.declare(format!("userStatuses[{i}]"), status.id, i, &mut statuses);
    }
    for (i, user) in document.users.iter().enumerate() {
        let path = format!("users[{i}]");
        check.require_prefix(format!("{path}.id"), user.id, USER);
        check.require_non_blank(format!("{path}.name"), &user.name);
        if let Some(email) = &user.email {
            check.require_storable(format!("{path}.email"), email);
        }
        check.declare(path.clone(), user.id, i, &mut users);
        for (j, group_id) in user.group_ids.iter().enumerate() {
            check.require_known(
                format!("{path}.groupIds[{j}]"),
                *group_id,
                &groups,
                "groups",
            );
        }
        if let Some(status_id) = user.user_status_id {
            match statuses
                .get(&status_id)
                .map(|&s| &document.user_statuses[s])
            {
                None => check.problem(
                    format!("{path}.userStatusId"),
                    format!("{status_id} is not one of the org's user statuses"),
                ),
                Some(status) if user.status_type.is_some_and(|t| t != status.status_type) => check
                    .problem(
                        format!("{path}.statusType"),
                        format!(
                            "contradicts userStatusId, whose status type is {}",
                            status.status_type.as_str()
                        ),
                    ),
                Some(_) => {}
            }
        }
    }
    for (i, template) in document.sms_templates.iter().enumerate() {
        check.require_non_blank(format!("smsTemplates[{i}].name"), &template.name);
        check.require_storable(format!("smsTemplates[{i}].body"), &template.body);
        check.declare(format!("smsTemplates[{i}]"), template.id, i, &mut templates);
    }
    for (i, ivr) in document.ivrs.iter().enumerate() {
        check.require_non_blank(format!("ivrs[{i}].name"), &ivr.name);
        check.declare(format!("ivrs[{i}]"), ivr.id, i, &mut ivrs);
    }

    let numbers = check_phone_numbers(&mut check, &mut document, &users, &groups, &mut phone_ids);
    let records = check_records(&mut check, &document, &mut record_ids);

    if let Some(id) = document.settings.default_user_id {
        check.require_known("settings.defaultUserId".into(), id, &users, "users");
    }
    let mut keys_seen = HashMap::new();
    for (i, api_key) in document.api_keys.iter().enumerate() {
        let path = format!("apiKeys[{i}]");
        if api_key.key.trim().is_empty()
            || api_key
                .key
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            check.problem(
                format!("{path}.key"),
                "must be non-empty, without spaces or control characters",
            );
        } else if let Some(first) = keys_seen.insert(api_key.key.as_str(), i) {
            check.problem(
                format!("{path}.key"),
                format!("repeats the key of apiKeys[{first}]"),
            );
        }
        check.require_known(format!("{path}.userId"), api_key.user_id, &users, "users");
    }

    if !check.problems.is_empty() {
        return Err(InvalidOrg {
            problems: check.problems,
        });
    }
    let number_index = numbers.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let by_phone = index_phones(&document);
    Ok(Org {
        document,
        numbers,
        number_index,
        users,
        groups,
        statuses,
        templates,
        ivrs,
        records,
        by_phone,
    })
}

/// The records each number is in a phone field of, dialled as Fastcall dials: an inbound
/// message is related to the record its sender's number belongs to.
fn index_phones(document: &OrgDocument) -> Index<DialledNumber, Vec<SalesforceId>> {
    let country = document.settings.default_country;
    let mut by_phone: Index<DialledNumber, Vec<SalesforceId>> = Index::default();
    for record in &document.records {
        let numbers = record
            .fields
            .iter()
            .filter(|(name, _)| is_phone_field(name))
            .filter_map(|(_, value)| DialledNumber::dial(value.as_str()?, country).ok());
        for number in numbers {
            let holders = by_phone.entry(number).or_default();
            // A record with the number in two fields holds it once.
            if holders.last() != Some(&record.id) {
                holders.push(record.id);
            }
        }
    }
    by_phone
}

/// Normalises every number to E.164 in place and checks its assignment.
fn check_phone_numbers(
    check: &mut Checker,
    document: &mut OrgDocument,
    users: &Index<SalesforceId, usize>,
    groups: &Index<SalesforceId, usize>,
    phone_ids: &mut Index<SalesforceId, usize>,
) -> Vec<DialledNumber> {
    let country = document.settings.default_country;
    let mut numbers = Vec::with_capacity(document.phone_numbers.len());
    let mut seen: HashMap<DialledNumber, usize> = HashMap::new();
    for (i, phone) in document.phone_numbers.iter_mut().enumerate() {
        let path = format!("phoneNumbers[{i}]");
        check.declare(path.clone(), phone.id, i, phone_ids);
        match DialledNumber::dial(&phone.number, country) {
            Ok(number) => {
                if let Some(first) = seen.insert(number, i) {
                    check.problem(
                        format!("{path}.number"),
                        format!("{number} is already phoneNumbers[{first}]"),
                    );
                }
                phone.number = number.to_string();
                numbers.push(number);
            }
            Err(e) => check.problem(format!("{path}.number"), format!("`{}` {e}", phone.number)),
        }
        for (j, user_id) in phone.user_ids.iter().enumerate() {
            check.require_known(format!("{path}.userIds[{j}]"), *user_id, users, "users");
        }
        for (j, group_id) in phone.group_ids.iter().enumerate() {
            check.require_known(format!("{path}.groupIds[{j}]"), *group_id, groups, "groups");
        }
        let assignment_problem = match phone.assignment {
            Assignment::User if phone.user_ids.is_empty() => {
                Some("a number assigned to users needs userIds")
            }
            Assignment::User if !phone.group_ids.is_empty() => {
                Some("a number assigned to users takes no groupIds")
            }
            Assignment::Group if phone.group_ids.is_empty() => {
                Some("a number assigned to groups needs groupIds")
            }
            Assignment::Group if !phone.user_ids.is_empty() => {
                Some("a number assigned to groups takes no userIds")
            }
            Assignment::Org if !phone.user_ids.is_empty() || !phone.group_ids.is_empty() => {
                Some("an org-wide number takes no userIds or groupIds")
            }
            _ => None,
        };
        if let Some(message) = assignment_problem {
            check.problem(format!("{path}.assignment"), message);
        }
    }
    numbers
}

/// Works out each record's object type and checks its fields are scalars.
fn check_records(
    check: &mut Checker,
    document: &OrgDocument,
    record_ids: &mut Index<SalesforceId, usize>,
) -> Index<SalesforceId, (usize, String)> {
    let mut records = Index::with_capacity_and_hasher(document.records.len(), Default::default());
    for (i, record) in document.records.iter().enumerate() {
        let path = format!("records[{i}]");
        check.declare(path.clone(), record.id, i, record_ids);
        let object_type = match &record.object_type {
            Some(name) if is_api_name(name) => Some(name.clone()),
            Some(name) => {
                check.problem(
                    format!("{path}.type"),
                    format!("`{name}` is not an object API name"),
                );
                None
            }
            None => match objects::standard_object_for_prefix(record.id.key_prefix()) {
                Some(name) => Some(name.to_owned()),
                None => {
                    let message = format!(
                        "required: key prefix {} is not an object the emulator knows",
                        record.id.key_prefix()
                    );
                    check.problem(format!("{path}.type"), message);
                    None
                }
            },
        };
        for (name, value) in &record.fields {
            if !is_api_name(name) {
                check.problem(
                    format!("{path}.fields"),
                    format!("`{name}` is not a field API name"),
                );
            } else if value.is_array() || value.is_object() {
                check.problem(
                    format!("{path}.fields.{name}"),
                    "must be text, a number, a boolean or null",
                );
            } else if let Some(text) = value.as_str() {
                check.require_storable(format!("{path}.fields.{name}"), text);
            }
        }
        if let Some(object_type) = object_type {
            records.insert(record.id, (i, object_type));
        }
    }
    records
}

/// Salesforce API names: a letter, then letters, digits and underscores.
fn is_api_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
