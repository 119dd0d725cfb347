//! Stored records as Salesforce sObjects (`/services/data/vNN.N/sobjects/...`). The field
//! names of the emulator's own objects are its own (see the README).

use std::collections::BTreeMap;

use axum::Json;
use serde::Serialize;
use serde_json::Value;

use crate::domain::objects::{
    CALL, CallType, Direction, ObjectType, SMS_MESSAGE, TASK, TaskPriority, TaskStatus, TaskSubtype,
};
use crate::domain::{
    CallStatus, DialledNumber, Encoding, OrgName, SalesforceId, Segments, SmsStatus, Timestamp,
};
use crate::org::Org;
use crate::records::{Call, SmsMessage, Task};
use crate::storage::{Storage, StorageError};

/// What every record the emulator creates begins with.
#[derive(Serialize)]
struct Header {
    attributes: Attributes,
    #[serde(rename = "Id")]
    id: SalesforceId,
    #[serde(rename = "OwnerId")]
    owner_id: SalesforceId,
    #[serde(rename = "CreatedDate")]
    created_date: Timestamp,
    #[serde(rename = "LastModifiedDate")]
    last_modified_date: Timestamp,
}

#[derive(Serialize)]
struct Attributes {
    #[serde(rename = "type")]
    object: String,
    url: String,
}

impl Attributes {
    /// `data` is the data API's path the record was asked for under:
    /// `/services/data/v60.0`, or `/orgs/qa/services/data/v60.0`.
    fn new(data: &str, object: &str, id: SalesforceId) -> Self {
        Self {
            object: object.to_owned(),
            url: format!("{data}/sobjects/{object}/{id}"),
        }
    }
}

impl Header {
    fn new(
        data: &str,
        object: ObjectType,
        id: SalesforceId,
        owner_id: SalesforceId,
        created_date: Timestamp,
        last_modified_date: Timestamp,
    ) -> Self {
        Self {
            attributes: Attributes::new(data, object.api_name, id),
            id,
            owner_id,
            created_date,
            last_modified_date,
        }
    }
}

/// The fields of a message and of a call alike: who sent it, between which numbers, about
/// what, and where it is now.
#[derive(Serialize)]
struct Exchange<S> {
    /// The acting user; none for an inbound message to a group's number.
    #[serde(rename = "CreatedById")]
    created_by_id: Option<SalesforceId>,
    #[serde(rename = "FastCall__Status__c")]
    status: S,
    #[serde(rename = "FastCall__Direction__c")]
    direction: Direction,
    #[serde(rename = "FastCall__From_Phone__c")]
    from_phone: DialledNumber,
    #[serde(rename = "FastCall__To_Phone__c")]
    to_phone: DialledNumber,
    #[serde(rename = "FastCall__Phone_Number__c")]
    phone_number_id: SalesforceId,
    #[serde(rename = "FastCall__Related_Record_Id__c")]
    related_record_id: Option<SalesforceId>,
    #[serde(rename = "FastCall__Task_Id__c")]
    task_id: Option<SalesforceId>,
    #[serde(rename = "FastCall__User__c")]
    user_id: Option<SalesforceId>,
    #[serde(rename = "FastCall__Error_Code__c")]
    error_code: Option<i32>,
    #[serde(rename = "FastCall__Error_Message__c")]
    error_message: Option<String>,
}

/// The [`Header`] and [`Exchange`] fields of a message or a call, which name them alike.
macro_rules! exchange {
    ($data:expr, $object:expr, $record:ident, $direction:expr) => {
        (
            Header::new(
                $data,
                $object,
                $record.id,
                $record.owner_id,
                $record.created_at,
                $record.updated_at,
            ),
            Exchange {
                created_by_id: $record.user_id.into(),
                status: $record.status,
                direction: $direction,
                from_phone: $record.from_phone,
                to_phone: $record.to_phone,
                phone_number_id: $record.phone_number_id,
                related_record_id: $record.related_record_id,
                task_id: $record.task_id,
                user_id: $record.user_id.into(),
                error_code: $record.error.as_ref().map(|e| e.code),
                error_message: $record.error.map(|e| e.message),
            },
        )
    };
}

#[derive(Serialize)]
struct SmsMessageObject {
    #[serde(flatten)]
    header: Header,
    #[serde(flatten)]
    exchange: Exchange<SmsStatus>,
    #[serde(rename = "FastCall__Body__c")]
    body: String,
    #[serde(rename = "FastCall__Encoding__c")]
    encoding: Encoding,
    #[serde(rename = "FastCall__Num_Segments__c")]
    num_segments: u32,
    #[serde(rename = "FastCall__Media_URL__c")]
    media_url: Option<String>,
    #[serde(rename = "FastCall__SMS_Id__c")]
    provider_id: Option<String>,
}

#[derive(Serialize)]
struct CallObject {
    #[serde(flatten)]
    header: Header,
    #[serde(flatten)]
    exchange: Exchange<CallStatus>,
    #[serde(rename = "FastCall__IVR__c")]
    ivr_id: SalesforceId,
    #[serde(rename = "FastCall__Call_Id__c")]
    provider_id: Option<String>,
    #[serde(rename = "FastCall__Start_Time__c")]
    start_time: Timestamp,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TaskObject {
    #[serde(flatten)]
    header: Header,
    activity_date: String,
    subject: String,
    description: Option<String>,
    status: TaskStatus,
    priority: TaskPriority,
    task_subtype: TaskSubtype,
    call_type: Option<CallType>,
    is_closed: bool,
    who_id: Option<SalesforceId>,
    what_id: Option<SalesforceId>,
}

/// The record's fields come first, so that its own `attributes` and `Id` win over fields
/// of the same names in the org data (serialising into a map keeps the last value).
#[derive(Serialize)]
struct OrgRecordObject<'a> {
    #[serde(flatten)]
    fields: &'a BTreeMap<String, Value>,
    attributes: Attributes,
    #[serde(rename = "Id")]
    id: SalesforceId,
}

/// The sObject `object`/`id`, if the emulator has it: a message or Task it created, or a
/// record of the org. Object names are case-insensitive, as in Salesforce.
pub async fn sobject(
    storage: &dyn Storage,
    org_name: &OrgName,
    org: &Org,
    data: &str,
    object: &str,
    id: SalesforceId,
) -> Result<Option<Json<Value>>, StorageError> {
    let json = if object.eq_ignore_ascii_case(SMS_MESSAGE.api_name) {
        storage
            .sms_message(org_name, id)
            .await?
            .map(|m| to_value(sms_object(data, m)))
    } else if object.eq_ignore_ascii_case(CALL.api_name) {
        storage
            .call(org_name, id)
            .await?
            .map(|c| to_value(call_object(data, c)))
    } else if object.eq_ignore_ascii_case(TASK.api_name) {
        storage
            .task(org_name, id)
            .await?
            .map(|t| to_value(task_object(data, t)))
    } else {
        org.record(id)
            .filter(|r| r.object_type.eq_ignore_ascii_case(object))
            .map(|r| {
                to_value(OrgRecordObject {
                    fields: r.fields,
                    attributes: Attributes::new(data, r.object_type, id),
                    id,
                })
            })
    };
    Ok(json.map(Json))
}

fn to_value(object: impl Serialize) -> Value {
    serde_json::to_value(object).expect("sObjects serialise to JSON")
}

fn sms_object(data: &str, m: SmsMessage) -> SmsMessageObject {
    let (header, exchange) = exchange!(data, SMS_MESSAGE, m, m.direction);
    let segments = Segments::of(&m.body);
    SmsMessageObject {
        header,
        exchange,
        body: m.body,
        encoding: segments.encoding,
        num_segments: segments.count,
        media_url: m.media_url,
        provider_id: m.provider_id,
    }
}

fn call_object(data: &str, c: Call) -> CallObject {
    let (header, exchange) = exchange!(data, CALL, c, Direction::Outbound);
    CallObject {
        header,
        exchange,
        ivr_id: c.ivr_id,
        provider_id: c.provider_id,
        start_time: c.created_at,
    }
}

fn task_object(data: &str, t: Task) -> TaskObject {
    TaskObject {
        header: Header::new(data, TASK, t.id, t.owner_id, t.created_at, t.created_at),
        activity_date: t.created_at.date(),
        subject: t.subject,
        description: t.description,
        is_closed: t.status == TaskStatus::Completed,
        status: t.status,
        priority: t.priority,
        task_subtype: t.task_subtype,
        call_type: t.call_type,
        who_id: t.who_id,
        what_id: t.what_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_org_record_keeps_its_own_id_and_attributes_over_fields_of_those_names() {
        let id = SalesforceId::parse("003Dn0000001JanIAE").unwrap();
        let fields: BTreeMap<String, Value> = [
            ("Id".to_owned(), Value::from("x")),
            ("attributes".to_owned(), Value::from(7)),
            ("FirstName".to_owned(), Value::from("Jane")),
        ]
        .into_iter()
        .collect();
        let object = to_value(OrgRecordObject {
            fields: &fields,
            attributes: Attributes::new("/services/data/v60.0", "Contact", id),
            id,
        });
        assert_eq!(object["Id"], "003Dn0000001JanIAE");
        assert_eq!(object["attributes"]["type"], "Contact");
        assert_eq!(object["FirstName"], "Jane");
    }
}
