//! The kinds of record the inspection API serves, in one table each: how each is listed,
//! shown and looked up, and for messages and calls, which the provider has its own ids for
//! and moves on, how a move reaches them. The handlers (`lists.rs`, `moves.rs`) are
//! written once, over these traits.

use std::fmt;

use futures_util::future::BoxFuture;
use serde::Serialize;

use super::lists::List;
use super::{PathId, RecordRef};
use crate::domain::{CallStatus, OrgName, ProviderError, SalesforceId, SmsStatus};
use crate::http::error::PlatformError;
use crate::records::{Call, OptOut, SmsMessage, StatusLogEntry, Task, VoipErrorLog};
use crate::storage::{ListFilter, Moved, Storage, StorageError};
use crate::views::{CallItem, MessageItem, OptOutItem, StatusLogItem, TaskItem, VoipErrorItem};

/// A storage call's answer, on its way.
pub type Found<'a, T> = BoxFuture<'a, Result<T, StorageError>>;

/// A kind of record the inspection API lists, newest first, through its view.
pub trait Listed: Sized + Send + 'static {
    /// The list, for the filters it takes and the events that wake its long polls.
    const LIST: List;
    type View<'a>: Serialize + From<&'a Self>;
    /// The org's records that `filter` matches.
    fn query<'a>(
        storage: &'a dyn Storage,
        org: &'a OrgName,
        filter: &'a ListFilter,
    ) -> Found<'a, Vec<Self>>;
}

/// A listed record that has an Id, by which it is shown on its own.
pub trait Shown: Listed {
    fn find<'a>(
        storage: &'a dyn Storage,
        org: &'a OrgName,
        id: SalesforceId,
    ) -> Found<'a, Option<Self>>;
}

/// `Record: List, View, its list query, its lookup by Id` (`Storage` methods).
macro_rules! listed {
    ($($record:ty: $list:expr, $view:ty, $query:ident, $find:ident;)+) => {$(
        impl Listed for $record {
            const LIST: List = $list;
            type View<'a> = $view;
            fn query<'a>(
                storage: &'a dyn Storage,
                org: &'a OrgName,
                filter: &'a ListFilter,
            ) -> Found<'a, Vec<Self>> {
                storage.$query(org, filter)
            }
        }

        impl Shown for $record {
            fn find<'a>(
                storage: &'a dyn Storage,
                org: &'a OrgName,
                id: SalesforceId,
            ) -> Found<'a, Option<Self>> {
                storage.$find(org, id)
            }
        }
    )+};
}

listed! {
    SmsMessage: List::Messages, MessageItem<'a>, list_sms_messages, sms_message;
    Call: List::Calls, CallItem<'a>, list_calls, call;
    Task: List::Tasks, TaskItem<'a>, list_tasks, task;
    VoipErrorLog: List::VoipErrors, VoipErrorItem<'a>, list_voip_errors, voip_error;
    StatusLogEntry: List::StatusLog, StatusLogItem, list_status_log, status_log_entry;
}

/// Opt-outs are listed only: one is named by its customer and number, not by an Id.
impl Listed for OptOut {
    const LIST: List = List::OptOuts;
    type View<'a> = OptOutItem;
    fn query<'a>(
        storage: &'a dyn Storage,
        org: &'a OrgName,
        filter: &'a ListFilter,
    ) -> Found<'a, Vec<Self>> {
        storage.list_opt_outs(org, filter)
    }
}

/// Messages and calls: the provider has its own ids for them (`SM...`, `CA...`), and
/// moves them on.
pub trait Provided: Shown {
    /// What a refused move calls the record.
    const NOUN: &'static str;
    /// How the provider's ids start.
    const SID_PREFIXES: &'static [&'static str];
    type Status: Copy + fmt::Display + Send + 'static;
    /// The statuses a move may name, as written.
    const STATUSES: &'static [&'static str];
    fn parse_status(raw: &str) -> Option<Self::Status>;
    fn id(&self) -> SalesforceId;
    fn find_by_sid<'a>(
        storage: &'a dyn Storage,
        org: &'a OrgName,
        sid: &'a str,
    ) -> Found<'a, Option<Self>>;
    fn move_to<'a>(
        storage: &'a dyn Storage,
        org: &'a OrgName,
        id: SalesforceId,
        to: Self::Status,
        error: Option<ProviderError>,
    ) -> Found<'a, Moved<Self, Self::Status>>;
}

/// `Record: noun, id prefix, Status, its lookup by the provider's id, its move`.
macro_rules! provided {
    ($($record:ty: $noun:literal, $prefixes:expr, $status:ty, $find_by_sid:ident, $move_to:ident;)+) => {$(
        impl Provided for $record {
            const NOUN: &'static str = $noun;
            const SID_PREFIXES: &'static [&'static str] = $prefixes;
            type Status = $status;
            const STATUSES: &'static [&'static str] = <$status>::NAMES;
            fn parse_status(raw: &str) -> Option<$status> {
                <$status>::parse(raw)
            }
            fn id(&self) -> SalesforceId {
                self.id
            }
            fn find_by_sid<'a>(
                storage: &'a dyn Storage,
                org: &'a OrgName,
                sid: &'a str,
            ) -> Found<'a, Option<Self>> {
                storage.$find_by_sid(org, sid)
            }
            fn move_to<'a>(
                storage: &'a dyn Storage,
                org: &'a OrgName,
                id: SalesforceId,
                to: $status,
                error: Option<ProviderError>,
            ) -> Found<'a, Moved<Self, $status>> {
                storage.$move_to(org, id, to, error)
            }
        }
    )+};
}

provided! {
    // Twilio's ids: `SM` for an SMS, `MM` for an MMS, `CA` for a call.
    SmsMessage: "message", &["SM", "MM"], SmsStatus, sms_message_by_provider_id, move_sms;
    Call: "call", &["CA"], CallStatus, call_by_provider_id, move_call;
}

/// The record Id that a message's or call's path names: its own, or the one of the record
/// with the provider's id. `None` when it names nothing.
pub async fn provided_id<R: Provided>(
    storage: &dyn Storage,
    org: &OrgName,
    id: &PathId,
) -> Result<Option<SalesforceId>, PlatformError> {
    Ok(match id.record_or_provider(R::SID_PREFIXES)? {
        RecordRef::Id(id) => Some(id),
        RecordRef::Provider(sid) => R::find_by_sid(storage, org, sid).await?.map(|r| r.id()),
    })
}
