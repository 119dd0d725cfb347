//! What each action takes and returns, for Salesforce's describe calls.

use super::ActionName;

/// The Salesforce type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    Id,
    String,
}

impl ParamType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Id => "ID",
            Self::String => "STRING",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Parameter {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: ParamType,
    pub required: bool,
    pub description: &'static str,
}

#[derive(Debug)]
pub struct ActionSpec {
    pub name: ActionName,
    pub label: &'static str,
    pub description: &'static str,
    pub inputs: &'static [Parameter],
    pub outputs: &'static [Parameter],
}

const fn param(
    name: &'static str,
    label: &'static str,
    kind: ParamType,
    description: &'static str,
) -> Parameter {
    Parameter {
        name,
        label,
        kind,
        required: false,
        description,
    }
}

const fn required(p: Parameter) -> Parameter {
    Parameter {
        required: true,
        ..p
    }
}

use ParamType::{Id, String};

const SMS: ActionSpec = ActionSpec {
    name: ActionName::Sms,
    label: "Send SMS/MMS",
    description: "Sends an SMS or MMS message from a Fastcall caller ID, optionally logged on a record.",
    inputs: &[
        param(
            "bodyText",
            "Body Text",
            String,
            "Body of the SMS/MMS message. Required unless templateId gives the body.",
        ),
        param(
            "fromPhone",
            "From Phone",
            String,
            "Caller ID to send from; resolved from the user's numbers when absent.",
        ),
        param(
            "mediaURL",
            "Media URL",
            String,
            "URL of a GIF, PNG or JPEG image to send as MMS.",
        ),
        param(
            "phoneNumberFieldName",
            "Phone Number Field Name",
            String,
            "API name of the recordId field holding the destination.",
        ),
        param(
            "recordId",
            "Record Id",
            Id,
            "Record the message relates to; a Task is logged on it.",
        ),
        param(
            "templateId",
            "Template Id",
            Id,
            "Fastcall SMS template whose merge fields fill the body.",
        ),
        required(param(
            "toPhone",
            "To Phone",
            String,
            "Destination number. May be blank when recordId and phoneNumberFieldName give it.",
        )),
        param(
            "userId",
            "User Id",
            Id,
            "Fastcall user to send as; defaults to the running user.",
        ),
    ],
    outputs: &[
        param(
            "createdDate",
            "Created Date",
            String,
            "When the message record was created.",
        ),
        param("direction", "Direction", String, "Always Outbound."),
        param("id", "Id", Id, "The FastCall__SMS_Message__c record."),
        param(
            "owner",
            "Owner",
            Id,
            "The user, or the group whose number was the caller ID.",
        ),
        param(
            "phoneNumberId",
            "Phone Number Id",
            Id,
            "The phone number used as caller ID.",
        ),
        param(
            "relatedRecordId",
            "Related Record Id",
            Id,
            "The recordId passed in.",
        ),
        param("smsId", "SMS Id", String, "The provider's message id."),
        param(
            "status",
            "Status",
            String,
            "Initial delivery status, such as Queued.",
        ),
        param(
            "taskId",
            "Task Id",
            Id,
            "The Task logged on the record, when recordId was given.",
        ),
    ],
};

pub fn spec(name: ActionName) -> &'static ActionSpec {
    match name {
        ActionName::Sms => &SMS,
    }
}
