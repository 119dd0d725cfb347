//! `List::may_match` on events as the storage raises them, and `until_found` on a channel
//! of its own: which events make a held poll query again.

use std::cell::Cell;
use std::future::{pending, poll_fn};
use std::pin::{Pin, pin};
use std::task::Poll;

use tokio::sync::broadcast;

use super::*;
use crate::domain::objects::{CALL, SMS_MESSAGE, STATUS_LOG, StatusType};
use crate::domain::{CallStatus, DialledNumber, OrgName, SalesforceId, SmsStatus, Timestamp};
use crate::events;
use crate::records::{Call, Change, SmsMessage, StatusHistory, StatusLogEntry};

const ADA: &str = "005Dn0000001AdaIAE";
const GRACE: &str = "005Dn0000002GrcIAE";
const JANE_CONTACT: &str = "003Dn0000001JanIAE";
const BOB_LEAD: &str = "00QDn0000001BobMAE";
const ADA_PHONE: &str = "+14155550100";
const JANE_PHONE: &str = "+14155550123";
const BOB_PHONE: &str = "+14155550125";
const KATHERINE: &str = "005Dn0000003KatIAE";
const NOBODY_PHONE: &str = "+14155550199";

/// A filter that sets only what `set` sets.
fn only(set: impl FnOnce(&mut ListFilter)) -> ListFilter {
    let mut filter = ListFilter::default();
    set(&mut filter);
    filter
}

fn id(raw: &str) -> SalesforceId {
    SalesforceId::parse(raw).unwrap()
}

fn phone(raw: &str) -> DialledNumber {
    DialledNumber::from_canonical(raw).unwrap()
}

fn stored(change: Change<'_>) -> StoredEvent {
    StoredEvent {
        seq: 1,
        org: OrgName::default_org(),
        kind: change.kind(),
        payload: events::payload(&change),
        created_at: Timestamp::now(),
    }
}

/// A Queued message from Ada to Jane, about Jane.
fn message() -> SmsMessage {
    let now = Timestamp::now();
    SmsMessage {
        id: SalesforceId::generate(SMS_MESSAGE.key_prefix),
        provider_id: Some("SM0123456789abcdef0123456789abcdef".into()),
        created_at: now,
        updated_at: now,
        direction: Direction::Outbound,
        owner_id: id(ADA),
        user_id: Some(id(ADA)),
        phone_number_id: id("a0PDn0000001AdaMAE"),
        from_phone: phone(ADA_PHONE),
        to_phone: phone(JANE_PHONE),
        body: "Sent or Delivered? +14155550125".into(),
        media_url: None,
        related_record_id: Some(id(JANE_CONTACT)),
        task_id: None,
        status: SmsStatus::Queued,
        status_history: StatusHistory::default(),
        error: None,
    }
}

/// A Ringing call from Ada to Jane, about Jane.
fn call() -> Call {
    let m = message();
    Call {
        id: SalesforceId::generate(CALL.key_prefix),
        provider_id: Some("CA0123456789abcdef0123456789abcdef".into()),
        created_at: m.created_at,
        updated_at: m.updated_at,
        owner_id: m.owner_id,
        user_id: id(ADA),
        phone_number_id: m.phone_number_id,
        from_phone: m.from_phone,
        to_phone: m.to_phone,
        ivr_id: id("a0IDn0000001MnuMAE"),
        related_record_id: m.related_record_id,
        task_id: None,
        status: CallStatus::Ringing,
        status_history: StatusHistory::default(),
        error: None,
    }
}

/// Grace became Available.
fn status_change() -> StatusLogEntry {
    StatusLogEntry {
        id: SalesforceId::generate(STATUS_LOG.key_prefix),
        user_id: id(GRACE),
        from_user_status_id: None,
        from_status_type: StatusType::Offline,
        to_user_status_id: None,
        to_status_type: StatusType::Available,
        changed_at: Timestamp::now(),
        changed_by: Some(id(ADA)),
    }
}

/// Jane's reply to Ada.
fn inbound() -> SmsMessage {
    let m = message();
    SmsMessage {
        direction: Direction::Inbound,
        from_phone: m.to_phone,
        to_phone: m.from_phone,
        status: SmsStatus::Received,
        ..m
    }
}

fn one_of_each_kind() -> [StoredEvent; 7] {
    [
        stored(Change::SmsCreated(&message())),
        stored(Change::SmsStatusChanged(&message())),
        stored(Change::SmsReceived(&inbound())),
        stored(Change::CallCreated(&call())),
        stored(Change::CallStatusChanged(&call())),
        stored(Change::UserStatusChanged(&status_change())),
        stored(Change::OrgReplaced { version: 2 }),
    ]
}

#[test]
fn an_unfiltered_poll_is_woken_only_by_the_events_that_come_with_its_lists_writes() {
    // One column per event of `one_of_each_kind`.
    let cases = [
        (
            List::Messages,
            [true, true, true, false, false, false, false],
        ),
        (List::Calls, [false, false, false, true, true, false, false]),
        (List::Tasks, [true, false, true, true, false, false, false]),
        (
            List::VoipErrors,
            [true, true, false, true, true, false, false],
        ),
        (
            List::StatusLog,
            [false, false, false, false, false, true, false],
        ),
        (
            List::OptOuts,
            [false, false, true, false, false, false, false],
        ),
    ];
    let anything = ListFilter::default();
    for (list, expected) in cases {
        let woken = one_of_each_kind().map(|event| list.may_match(&anything, &event));
        assert_eq!(woken, expected, "{list:?}");
    }
}

#[test]
fn a_filtered_poll_is_woken_by_an_event_whose_record_matches_every_filter() {
    let message = message();
    let call = call();
    let every_filter = |id, status: StatusFilter| ListFilter {
        id: Some(id),
        to: Some(phone(JANE_PHONE)),
        from: Some(phone(ADA_PHONE)),
        user_id: Some(self::id(ADA)),
        related_record_id: Some(self::id(JANE_CONTACT)),
        status: Some(status),
        direction: None,
        since: Some(Timestamp::from_millis(0)),
        limit: 1,
    };
    let sms = stored(Change::SmsCreated(&message));
    assert!(List::Messages.may_match(
        &every_filter(message.id, StatusFilter::Message(SmsStatus::Queued)),
        &sms
    ));
    let placed = stored(Change::CallCreated(&call));
    assert!(List::Calls.may_match(
        &every_filter(call.id, StatusFilter::Call(CallStatus::Ringing)),
        &placed
    ));
    let change = status_change();
    let filter = ListFilter {
        id: Some(change.id),
        user_id: Some(id(GRACE)),
        status: Some(StatusFilter::User(StatusType::Available)),
        ..ListFilter::default()
    };
    let logged = stored(Change::UserStatusChanged(&change));
    assert!(List::StatusLog.may_match(&filter, &logged));
}

#[test]
fn a_filtered_poll_is_not_woken_by_an_event_whose_record_misses_a_filter() {
    let sms = stored(Change::SmsCreated(&message()));
    let placed = stored(Change::CallCreated(&call()));
    let other_message = SalesforceId::generate(SMS_MESSAGE.key_prefix);
    let cases = [
        ("another id", only(|f| f.id = Some(other_message))),
        ("another to", only(|f| f.to = Some(phone(BOB_PHONE)))),
        ("another from", only(|f| f.from = Some(phone(NOBODY_PHONE)))),
        ("another user", only(|f| f.user_id = Some(id(GRACE)))),
        (
            "another record",
            only(|f| f.related_record_id = Some(id(BOB_LEAD))),
        ),
        (
            "another status",
            only(|f| f.status = Some(StatusFilter::Message(SmsStatus::Delivered))),
        ),
        // Found in the body, which is no filtered field: "Sent" is not the whole string.
        (
            "a status in the body",
            only(|f| f.status = Some(StatusFilter::Message(SmsStatus::Sent))),
        ),
    ];
    for (case, filter) in &cases {
        assert!(!List::Messages.may_match(filter, &sms), "messages, {case}");
        assert!(!List::Calls.may_match(filter, &placed), "calls, {case}");
    }
    let logged = stored(Change::UserStatusChanged(&status_change()));
    let cases = [
        ("another user", only(|f| f.user_id = Some(id(KATHERINE)))),
        (
            "another status",
            only(|f| f.status = Some(StatusFilter::Call(CallStatus::Busy))),
        ),
    ];
    for (case, filter) in &cases {
        assert!(
            !List::StatusLog.may_match(filter, &logged),
            "status log, {case}"
        );
    }
}

/// Polls a held request once: its queries answer at once, so it has then done all it can
/// with the events sent so far.
async fn poll_once<T>(held: Pin<&mut impl Future<Output = T>>) -> Poll<T> {
    let mut held = held;
    poll_fn(|cx| Poll::Ready(held.as_mut().poll(cx))).await
}

/// A poll's query, counting its runs: it finds nothing until its `finds_from`th run.
fn counted(
    runs: &Cell<u32>,
    finds_from: u32,
) -> impl Fn() -> std::future::Ready<Result<Vec<u32>, StorageError>> {
    move || {
        runs.set(runs.get() + 1);
        let run = runs.get();
        std::future::ready(Ok(if run >= finds_from {
            vec![run]
        } else {
            Vec::new()
        }))
    }
}

#[tokio::test]
async fn a_held_poll_runs_its_query_again_only_after_an_event_that_can_match() {
    let message = message();
    let filter = ListFilter {
        id: Some(message.id),
        ..ListFilter::default()
    };
    let (sender, changes) = broadcast::channel(64);
    let runs = Cell::new(0);
    let wakes = |event: &StoredEvent| List::Messages.may_match(&filter, event);
    let mut held = pin!(until_found(changes, wakes, pending(), counted(&runs, 2)));

    let unrelated = [
        Change::SmsCreated(&self::message()),
        Change::CallCreated(&call()),
        Change::UserStatusChanged(&status_change()),
        Change::OrgReplaced { version: 2 },
    ];
    for event in unrelated.into_iter().cycle().take(40) {
        sender.send(Arc::new(stored(event))).unwrap();
    }
    // The poll takes every event queued, and waits for more.
    assert!(poll_once(held.as_mut()).await.is_pending());
    assert_eq!(runs.get(), 1, "only the first query ran");

    sender
        .send(Arc::new(stored(Change::SmsStatusChanged(&message))))
        .unwrap();
    let found = poll_once(held.as_mut()).await;
    assert!(
        matches!(found, Poll::Ready(Ok(ref v)) if v == &[2]),
        "{found:?}"
    );
    assert_eq!(runs.get(), 2);
}

#[tokio::test]
async fn a_held_poll_that_missed_events_runs_its_query_again() {
    let filter = ListFilter {
        id: Some(message().id),
        ..ListFilter::default()
    };
    let (sender, changes) = broadcast::channel(2);
    for _ in 0..5 {
        sender
            .send(Arc::new(stored(Change::OrgReplaced { version: 2 })))
            .unwrap();
    }
    let runs = Cell::new(0);
    let wakes = |event: &StoredEvent| List::Messages.may_match(&filter, event);
    let held = pin!(until_found(changes, wakes, pending(), counted(&runs, 2)));
    let found = poll_once(held).await;
    let answered = matches!(found, Poll::Ready(Ok(ref v)) if v == &[2]);
    assert!(answered, "the missed events may have matched: {found:?}");
}

#[tokio::test]
async fn a_held_poll_answers_empty_when_its_wait_is_over_or_the_events_end() {
    let runs = Cell::new(0);
    let (_sender, changes) = broadcast::channel(2);
    let over = until_found(changes, |_: &StoredEvent| true, async {}, counted(&runs, 9)).await;
    assert!(over.unwrap().is_empty());
    let (sender, changes) = broadcast::channel(2);
    drop(sender);
    let ended = until_found(
        changes,
        |_: &StoredEvent| true,
        pending(),
        counted(&runs, 9),
    )
    .await;
    assert!(ended.unwrap().is_empty());
}

#[test]
fn a_direction_or_an_opt_outs_numbers_wake_only_for_the_message_that_holds_them() {
    let received = stored(Change::SmsReceived(&inbound()));
    let sent = stored(Change::SmsCreated(&message()));
    let inbound_only = ListFilter {
        direction: Some(Direction::Inbound),
        ..ListFilter::default()
    };
    assert!(List::Messages.may_match(&inbound_only, &received));
    assert!(!List::Messages.may_match(&inbound_only, &sent));
    // An opt-out's customer is its message's `fromPhone`, the org's number its `toPhone`.
    let janes = ListFilter {
        from: Some(phone(JANE_PHONE)),
        to: Some(phone(ADA_PHONE)),
        ..ListFilter::default()
    };
    assert!(List::OptOuts.may_match(&janes, &received));
    let strangers = ListFilter {
        from: Some(phone("+14155550199")),
        ..ListFilter::default()
    };
    assert!(!List::OptOuts.may_match(&strangers, &received));
}
