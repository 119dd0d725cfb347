//! What each action takes and returns, for Salesforce's describe calls. The types and
//! required marks are those of Fastcall's own action reference, exactly (`ID` only where
//! it says Id; the call action's parameters are all strings): describe tells Flow Builder
//! what to ask for, while the actions' checks decide what a call really needs.

use super::ActionName;

/// The Salesforce type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    Id,
    String,
    Boolean,
}

impl ParamType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Id => "ID",
            Self::String => "STRING",
            Self::Boolean => "BOOLEAN",
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

use ParamType::{Boolean, Id, String};

// The outputs every message and call has.
const DIRECTION: Parameter = param("direction", "Direction", String, "Always Outbound.");
const OWNER: Parameter = param(
    "owner",
    "Owner",
    String,
    "The user, or the group whose number was the caller ID.",
);
const RELATED_RECORD_ID: Parameter = param(
    "relatedRecordId",
    "Related Record Id",
    String,
    "The recordId passed in.",
);

const SMS: ActionSpec = ActionSpec {
    name: ActionName::Sms,
    label: "Send SMS/MMS",
    description: "Sends an SMS or MMS message from a Fastcall caller ID, optionally logged on a record.",
    inputs: &[
        required(param(
            "bodyText",
            "Body Text",
            String,
            "Body of the SMS/MMS message. May be blank when templateId gives the body.",
        )),
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
        DIRECTION,
        param("id", "Id", Id, "The FastCall__SMS_Message__c record."),
        OWNER,
        param(
            "phoneNumberId",
            "Phone Number Id",
            String,
            "The phone number used as caller ID.",
        ),
        RELATED_RECORD_ID,
        param("smsId", "SMS Id", Id, "The provider's message id."),
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

const CALL: ActionSpec = ActionSpec {
    name: ActionName::Call,
    label: "Start Call",
    description: "Places an outbound call from a Fastcall caller ID and connects it to an IVR; a Task logs it.",
    inputs: &[
        param(
            "fromPhone",
            "From Phone",
            String,
            "Caller ID to call from; resolved from the user's numbers when absent.",
        ),
        param(
            "ivrId",
            "IVR Id",
            String,
            "The Fastcall IVR the call connects to. The call needs it.",
        ),
        param(
            "phoneNumberFieldName",
            "Phone Number Field Name",
            String,
            "API name of the recordId field holding the number to call.",
        ),
        param(
            "recordId",
            "Record Id",
            String,
            "Record the call relates to; the Task is logged on it.",
        ),
        required(param(
            "toPhone",
            "To Phone",
            String,
            "Number to call. May be blank when recordId and phoneNumberFieldName give it.",
        )),
        param(
            "userId",
            "User Id",
            String,
            "Fastcall user to call as; defaults to the running user.",
        ),
    ],
    outputs: &[
        param("callId", "Call Id", String, "The provider's call id."),
        DIRECTION,
        param("id", "Id", String, "The FastCall__Call__c record."),
        param("ivr", "IVR", String, "The IVR the call connects to."),
        OWNER,
        RELATED_RECORD_ID,
        param(
            "startTime",
            "Start Time",
            String,
            "When the call was placed.",
        ),
        param(
            "status",
            "Status",
            String,
            "Initial call status, such as Queued.",
        ),
        param("taskId", "Task Id", String, "The Task logging the call."),
    ],
};

const USER_STATUS: ActionSpec = ActionSpec {
    name: ActionName::UserStatus,
    label: "Set User Status",
    description: "Sets a Fastcall user's status; each real change is logged and broadcast.",
    inputs: &[
        required(param(
            "userId",
            "User Id",
            Id,
            "The Fastcall user whose status changes.",
        )),
        required(param(
            "userStatusId",
            "User Status Id",
            Id,
            "The Fastcall user status to set. May be blank when statusType gives the availability.",
        )),
        param(
            "statusType",
            "Status Type",
            String,
            "Available or Offline: the availability to set when userStatusId is absent or not found.",
        ),
    ],
    outputs: &[
        param("userId", "User Id", Id, "The user."),
        param(
            "userStatusId",
            "User Status Id",
            Id,
            "The status now, when it is a status record.",
        ),
        param(
            "statusType",
            "Status Type",
            String,
            "The availability now: Available or Offline.",
        ),
        param(
            "previousUserStatusId",
            "Previous User Status Id",
            Id,
            "The status before.",
        ),
        param(
            "previousStatusType",
            "Previous Status Type",
            String,
            "The availability before.",
        ),
        param("changed", "Changed", Boolean, "Whether anything changed."),
        param(
            "changedDate",
            "Changed Date",
            String,
            "When the status became what it is now.",
        ),
        param(
            "logId",
            "Log Id",
            Id,
            "The status-log entry of the change; empty when nothing changed.",
        ),
    ],
};

pub fn spec(name: ActionName) -> &'static ActionSpec {
    match name {
        ActionName::UserStatus => &USER_STATUS,
        ActionName::Sms => &SMS,
        ActionName::Call => &CALL,
    }
}
