//! The storage contract: stories told to the `Storage` trait directly, that both backends
//! must tell the same way.

use std::sync::Arc;
use std::time::Duration;

use fastcall_emulator::domain::objects::{
    Direction, SMS_MESSAGE, StatusType, TaskPriority, TaskStatus, TaskSubtype,
};
use fastcall_emulator::domain::{
    CallStatus, DialledNumber, OrgName, ProviderError, SalesforceId, SmsStatus, Timestamp,
};
use fastcall_emulator::events;
use fastcall_emulator::org::{Org, OrgDocument, OrgFormat};
use fastcall_emulator::records::{
    Call, EventKind, OptOut, OptOutChange, PendingStep, SmsMessage, StatusHistory, StoredEvent,
    Task, UserStatusValue, VoipErrorLog,
};
use fastcall_emulator::storage::{
    self, Batch, ListFilter, StatusChange, StatusFilter, StepRules, Storage, StorageError,
    StorageOptions,
};
use tokio::sync::broadcast;

use crate::backend_tests;
use crate::helpers::TestDb;

const ADA: &str = "005Dn0000001AdaIAE";
const GRACE: &str = "005Dn0000002GrcIAE";
const JANE: &str = "003Dn0000001JanIAE";
const ACME: &str = "001Dn0000001AcmIAE";
const AVAILABLE: &str = "a0UDn0000001AvlMAE";

/// The org the contract's records are kept in.
fn default() -> OrgName {
    OrgName::default_org()
}

fn id(raw: &str) -> SalesforceId {
    SalesforceId::parse(raw).unwrap()
}

fn phone(raw: &str) -> DialledNumber {
    DialledNumber::from_canonical(raw).unwrap()
}

fn message(to: &str, user: &str, related: Option<&str>, status: SmsStatus, at: i64) -> SmsMessage {
    SmsMessage {
        id: SalesforceId::generate("a0S"),
        provider_id: (status != SmsStatus::Failed)
            .then(|| format!("SM{}", uuid::Uuid::new_v4().simple())),
        created_at: Timestamp::from_millis(at),
        updated_at: Timestamp::from_millis(at),
        direction: Direction::Outbound,
        owner_id: id(user),
        user_id: Some(id(user)),
        phone_number_id: id("a0PDn0000001AdaMAE"),
        from_phone: phone("+14155550100"),
        to_phone: phone(to),
        body: format!("Hello {to} — ünïcödé ✓ 'quoted' \"twice\""),
        media_url: Some("https://example.com/a.png".into()),
        related_record_id: related.map(id),
        task_id: None,
        status,
        status_history: StatusHistory::starting(status, Timestamp::from_millis(at), None),
        error: None,
    }
}

fn call(to: &str, user: &str, at: i64) -> Call {
    Call {
        id: SalesforceId::generate("a0C"),
        provider_id: Some(format!("CA{}", uuid::Uuid::new_v4().simple())),
        created_at: Timestamp::from_millis(at),
        updated_at: Timestamp::from_millis(at),
        owner_id: id(user),
        user_id: id(user),
        phone_number_id: id("a0PDn0000004VoiMAE"),
        from_phone: phone("+14155550103"),
        to_phone: phone(to),
        ivr_id: id("a0IDn0000001MnuMAE"),
        related_record_id: None,
        task_id: None,
        status: CallStatus::Queued,
        status_history: StatusHistory::starting(
            CallStatus::Queued,
            Timestamp::from_millis(at),
            None,
        ),
        error: None,
    }
}

fn task(owner: &str, related: Option<&str>, at: i64) -> Task {
    let related = related.map(id);
    Task {
        id: SalesforceId::generate("00T"),
        created_at: Timestamp::from_millis(at),
        owner_id: id(owner),
        subject: "SMS to +14155550123".into(),
        description: Some("body".into()),
        status: TaskStatus::Completed,
        priority: TaskPriority::Normal,
        task_subtype: TaskSubtype::Task,
        call_type: None,
        who_id: related.filter(|r| r.key_prefix() == "003"),
        what_id: related.filter(|r| r.key_prefix() != "003"),
        sms_message_id: None,
        call_id: None,
    }
}

fn refusal_of(m: &SmsMessage) -> VoipErrorLog {
    VoipErrorLog {
        id: SalesforceId::generate("a0E"),
        created_at: m.created_at,
        record_type: SMS_MESSAGE,
        record_id: m.id,
        provider: "simulated".into(),
        provider_id: None,
        error: ProviderError {
            code: 21211,
            message: "This phone number is invalid.".into(),
        },
        from_phone: m.from_phone,
        to_phone: m.to_phone,
        user_id: m.user_id,
    }
}

/// Lifecycle rules under which nothing moves on by itself (manual progression).
struct NoSteps;

impl StepRules for NoSteps {
    fn provider(&self) -> &str {
        "simulated"
    }
    fn next_sms_step(&self, _: &SmsMessage, _: Timestamp) -> Option<PendingStep> {
        None
    }
    fn next_call_step(&self, _: &Call, _: Timestamp) -> Option<PendingStep> {
        None
    }
}

fn filter() -> ListFilter {
    ListFilter {
        limit: 100,
        ..ListFilter::default()
    }
}

async fn open(db: &TestDb) -> Arc<dyn Storage> {
    storage::connect(
        &db.url,
        &StorageOptions::default(),
        Arc::new(NoSteps),
        events::payload,
    )
    .await
    .expect("the database opens")
}

/// The next `count` live events (PostgreSQL relays them asynchronously).
async fn next_events(
    live: &mut broadcast::Receiver<Arc<StoredEvent>>,
    count: usize,
) -> Vec<Arc<StoredEvent>> {
    let mut events = Vec::new();
    while events.len() < count {
        let event = tokio::time::timeout(Duration::from_secs(10), live.recv()).await;
        events.push(
            event
                .expect("an event within 10 s")
                .expect("the event stream is open"),
        );
    }
    events
}

fn value(status_id: Option<&str>, status_type: StatusType) -> UserStatusValue {
    UserStatusValue {
        user_status_id: status_id.map(id),
        status_type,
    }
}

backend_tests! {
    async fn opt_outs_change_in_the_order_their_messages_came_and_are_found_by_route(backend) {
        let db = TestDb::new(backend).await;
        let store = open(&db).await;
        let (ada_line, main_line, jane) = (phone("+14155550100"), phone("+14155550102"), phone("+14155550123"));
        let opt_out = |org_number, at| OptOutChange::Out(OptOut {
            sender: jane,
            org_number,
            phone_number_id: id("a0PDn0000001AdaMAE"),
            message_id: SalesforceId::generate("a0S"),
            since: Timestamp::from_millis(at),
        });
        let opt_in = |org_number| OptOutChange::In { sender: jane, org_number };
        // Out, in and out again in one batch; out twice in the next: the last opt-out since
        // the first of the two, and another number's opt-out beside it.
        let batch = Batch { opt_outs: vec![opt_out(ada_line, 1_000), opt_in(ada_line), opt_out(ada_line, 3_000)], ..Batch::default() };
        store.write(&default(), batch).await.unwrap();
        let batch = Batch { opt_outs: vec![opt_out(ada_line, 4_000), opt_out(main_line, 5_000)], ..Batch::default() };
        store.write(&default(), batch).await.unwrap();
        let listed = store.list_opt_outs(&default(), &ListFilter { limit: 10, ..ListFilter::default() }).await.unwrap();
        let routes: Vec<_> = listed.iter().map(|o| (o.org_number, o.since.millis())).collect();
        assert_eq!(routes, [(main_line, 5_000), (ada_line, 3_000)]);

        let stranger = phone("+14155550199");
        let asked = [(ada_line, jane), (ada_line, stranger), (phone("+14155550101"), jane), (main_line, jane)];
        let found = store.opted_out(&default(), &asked).await.unwrap();
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found.contains(&(ada_line, jane)) && found.contains(&(main_line, jane)));
        assert!(store.opted_out(&OrgName::parse("qa").unwrap(), &asked).await.unwrap().is_empty(), "another org's");
        assert!(store.opted_out(&default(), &[]).await.unwrap().is_empty());

        store.write(&default(), Batch { opt_outs: vec![opt_in(main_line)], ..Batch::default() }).await.unwrap();
        assert_eq!(store.opted_out(&default(), &asked).await.unwrap(), [(ada_line, jane)]);
        store.reset(&default(), None).await.unwrap();
        assert!(store.opted_out(&default(), &asked).await.unwrap().is_empty());
    }

    async fn concurrent_opt_out_questions_of_several_orgs_each_get_their_own_answer(backend) {
        let db = TestDb::new(backend).await;
        let store = open(&db).await;
        let line = phone("+14155550100");
        let orgs: Vec<OrgName> = (0..4).map(|i| OrgName::parse(&format!("org{i}")).unwrap()).collect();
        // In org i, the customers +1415555020j with j <= i opted out of the line.
        let customer = |j: usize| phone(&format!("+141555502{j:02}"));
        for (i, org) in orgs.iter().enumerate() {
            let opt_outs = (0..=i)
                .map(|j| OptOutChange::Out(OptOut {
                    sender: customer(j),
                    org_number: line,
                    phone_number_id: id("a0PDn0000001AdaMAE"),
                    message_id: SalesforceId::generate("a0S"),
                    since: Timestamp::from_millis(1_000),
                }))
                .collect();
            store.write(org, Batch { opt_outs, ..Batch::default() }).await.unwrap();
        }
        // Many questions at once share reads; each answer is its own org's.
        let routes: Vec<_> = (0..4).map(|j| (line, customer(j))).collect();
        let questions = (0..64).map(|n| {
            let (store, org, routes) = (store.clone(), orgs[n % 4].clone(), routes.clone());
            async move { (n % 4, store.opted_out(&org, &routes).await.unwrap()) }
        });
        for (i, answer) in futures_util::future::join_all(questions).await {
            assert_eq!(answer, routes[..=i], "org{i}");
        }
    }

    async fn an_api_key_is_held_by_one_org_in_the_database(backend) {
        let db = TestDb::new(backend).await;
        let store = open(&db).await;
        let (qa, uat) = (OrgName::parse("qa").unwrap(), OrgName::parse("uat").unwrap());
        let keyed = |key: &str| {
            let yaml = format!(
                "users: [{{id: {ADA}, name: Ada, fastcallUser: true}}]\napiKeys: [{{key: {key}, userId: {ADA}}}]"
            );
            OrgDocument::parse(yaml.as_bytes(), OrgFormat::Yaml).unwrap()
        };
        store.save_org(&qa, &keyed("shared-key-0123")).await.unwrap();
        // Two instances may each find the key free in memory: the database still refuses.
        let refused = store.save_org(&uat, &keyed("shared-key-0123")).await;
        assert!(matches!(refused, Err(StorageError::Conflict(_))), "{refused:?}");
        assert_eq!(store.load_org(&uat).await.unwrap(), None, "nothing of uat was stored");
        // The org that holds it may store it again; once it lets go, another may take it.
        store.save_org(&qa, &keyed("shared-key-0123")).await.unwrap();
        store.save_org(&qa, &keyed("another-key-0123")).await.unwrap();
        store.save_org(&uat, &keyed("shared-key-0123")).await.unwrap();
        assert!(matches!(store.save_org(&qa, &keyed("shared-key-0123")).await, Err(StorageError::Conflict(_))));
        assert!(store.delete_org(&uat).await.unwrap());
        store.save_org(&qa, &keyed("shared-key-0123")).await.unwrap();
    }

    async fn org_data_is_stored_replaced_and_kept_across_reopening(backend) {
        let db = TestDb::new(backend).await;
        let store = open(&db).await;
        store.ping().await.unwrap();
        assert_eq!(store.load_org(&default()).await.unwrap(), None);
        let demo = Org::demo().document().clone();
        store.save_org(&default(), &demo).await.unwrap();
        assert_eq!(store.load_org(&default()).await.unwrap().as_ref(), Some(&demo));
        let mut changed = demo.clone();
        changed.settings.sms_enabled = false;
        changed.users.truncate(1);
        store.save_org(&default(), &changed).await.unwrap();
        drop(store);
        let store = open(&db).await;
        assert_eq!(store.load_org(&default()).await.unwrap().as_ref(), Some(&changed));
        store.reset(&default(), Some(&OrgDocument::default())).await.unwrap();
        assert_eq!(store.load_org(&default()).await.unwrap(), Some(OrgDocument::default()));
    }

    async fn activity_is_written_whole_read_back_exactly_and_listed_newest_first(backend) {
        let db = TestDb::new(backend).await;
        let store = open(&db).await;
        let mut to_jane = message("+14155550123", ADA, Some(JANE), SmsStatus::Queued, 1_000);
        let jane_task = Task { sms_message_id: Some(to_jane.id), ..task(ADA, Some(JANE), 1_000) };
        to_jane.task_id = Some(jane_task.id);
        let acme_task = task(GRACE, Some(ACME), 2_000);
        let mut failed = message("+15005550001", ADA, None, SmsStatus::Failed, 3_000);
        failed.error = Some(ProviderError { code: 21211, message: "This phone number is invalid.".into() });
        let entry = refusal_of(&failed);
        let lone = message("+14155550123", GRACE, None, SmsStatus::Delivered, 4_000);
        let placed = call("+14155550125", GRACE, 5_000);
        let batch = Batch {
            messages: vec![to_jane.clone(), failed.clone(), lone.clone()],
            calls: vec![placed.clone()],
            tasks: vec![jane_task.clone(), acme_task.clone()],
            voip_errors: vec![entry.clone()],
            steps: Vec::new(),
            hand_offs: Vec::new(),
            opt_outs: Vec::new(),
            answer: None,
        };
        store.write(&default(), batch.clone()).await.unwrap();
        store.write(&default(), Batch::default()).await.unwrap();

        assert_eq!(store.sms_message(&default(), to_jane.id).await.unwrap(), Some(to_jane.clone()));
        let sid = to_jane.provider_id.clone().unwrap();
        assert_eq!(store.sms_message_by_provider_id(&default(), &sid).await.unwrap(), Some(to_jane.clone()));
        assert_eq!(store.sms_message(&default(), SalesforceId::generate("a0S")).await.unwrap(), None);
        assert_eq!(store.call(&default(), placed.id).await.unwrap(), Some(placed.clone()));
        let cid = placed.provider_id.clone().unwrap();
        assert_eq!(store.call_by_provider_id(&default(), &cid).await.unwrap(), Some(placed.clone()));
        assert_eq!(store.task(&default(), jane_task.id).await.unwrap(), Some(jane_task.clone()));
        assert_eq!(store.voip_error(&default(), entry.id).await.unwrap(), Some(entry.clone()));

        let ids = |items: Vec<SmsMessage>| items.into_iter().map(|m| m.id).collect::<Vec<_>>();
        assert_eq!(ids(store.list_sms_messages(&default(), &filter()).await.unwrap()), [lone.id, failed.id, to_jane.id]);
        let to = ListFilter { to: Some(phone("+14155550123")), ..filter() };
        assert_eq!(ids(store.list_sms_messages(&default(), &to).await.unwrap()), [lone.id, to_jane.id]);
        let user_and_from = ListFilter { from: Some(phone("+14155550100")), user_id: Some(id(GRACE)), ..filter() };
        assert_eq!(ids(store.list_sms_messages(&default(), &user_and_from).await.unwrap()), [lone.id]);
        let related = ListFilter { related_record_id: Some(id(JANE)), ..filter() };
        assert_eq!(ids(store.list_sms_messages(&default(), &related).await.unwrap()), [to_jane.id]);
        let status = ListFilter { status: Some(StatusFilter::Message(SmsStatus::Failed)), ..filter() };
        assert_eq!(ids(store.list_sms_messages(&default(), &status).await.unwrap()), [failed.id]);
        let since = ListFilter { since: Some(Timestamp::from_millis(2_000)), limit: 1, ..filter() };
        assert_eq!(ids(store.list_sms_messages(&default(), &since).await.unwrap()), [lone.id]);
        let one = ListFilter { id: Some(to_jane.id), ..filter() };
        assert_eq!(ids(store.list_sms_messages(&default(), &one).await.unwrap()), [to_jane.id]);
        let one_failed = ListFilter { id: Some(to_jane.id), status: Some(StatusFilter::Message(SmsStatus::Failed)), ..filter() };
        assert_eq!(ids(store.list_sms_messages(&default(), &one_failed).await.unwrap()), []);
        let calls = store.list_calls(&default(), &ListFilter { status: Some(StatusFilter::Call(CallStatus::Queued)), ..filter() }).await.unwrap();
        assert_eq!(calls, std::slice::from_ref(&placed));
        let tasks = store.list_tasks(&default(), &ListFilter { related_record_id: Some(id(ACME)), ..filter() }).await.unwrap();
        assert_eq!(tasks, std::slice::from_ref(&acme_task));
        assert_eq!(store.list_voip_errors(&default(), &filter()).await.unwrap(), std::slice::from_ref(&entry));

        // A batch that cannot be written whole leaves nothing behind.
        let fresh = message("+14155550199", ADA, None, SmsStatus::Queued, 6_000);
        let duplicate = lone.clone();
        let batch = Batch { messages: vec![fresh.clone(), duplicate], ..Batch::default() };
        match store.write(&default(), batch.clone()).await {
            Err(StorageError::Conflict(_)) => {}
            other => panic!("a duplicate Id is a conflict, got {other:?}"),
        }
        assert_eq!(store.sms_message(&default(), fresh.id).await.unwrap(), None);

        // Everything survives reopening the database, and a reset forgets it.
        drop(store);
        let store = open(&db).await;
        assert_eq!(store.list_sms_messages(&default(), &filter()).await.unwrap().len(), 3);
        store.reset(&default(), None).await.unwrap();
        assert!(store.list_sms_messages(&default(), &filter()).await.unwrap().is_empty());
        assert!(store.list_calls(&default(), &filter()).await.unwrap().is_empty());
        assert!(store.list_tasks(&default(), &filter()).await.unwrap().is_empty());
        assert!(store.list_voip_errors(&default(), &filter()).await.unwrap().is_empty());
        assert!(store.events_after(&default(), 0, 100).await.unwrap().is_empty());
    }

    async fn writes_raise_events_that_are_streamed_and_replayable(backend) {
        let db = TestDb::new(backend).await;
        let store = open(&db).await;
        let mut live = store.subscribe();
        let sent = message("+14155550123", ADA, None, SmsStatus::Queued, 1_000);
        let placed = call("+14155550125", GRACE, 1_000);
        store.write(&default(), Batch { messages: vec![sent.clone()], calls: vec![placed.clone()], ..Batch::default() }).await.unwrap();
        let events = next_events(&mut live, 2).await;
        assert_eq!(events[0].kind, EventKind::SmsCreated);
        assert_eq!(events[1].kind, EventKind::CallCreated);
        assert!(events[0].seq < events[1].seq);
        let payload: serde_json::Value = serde_json::from_str(&events[0].payload).unwrap();
        assert_eq!(payload["id"], sent.id.as_str());
        assert_eq!(payload["body"], sent.body);
        let payload: serde_json::Value = serde_json::from_str(&events[1].payload).unwrap();
        assert_eq!(payload["callId"], placed.provider_id.clone().unwrap());

        store.save_org(&default(), Org::demo().document()).await.unwrap();
        assert_eq!(next_events(&mut live, 1).await[0].kind, EventKind::OrgReplaced);

        let stored = store.events_after(&default(), 0, 100).await.unwrap();
        let kinds: Vec<_> = stored.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["sms.created", "call.created", "org.replaced"]);
        assert_eq!(store.events_after(&default(), stored[0].seq, 1).await.unwrap(), [stored[1].clone()]);

        store.prune_events(Timestamp::from_millis(Timestamp::now().millis() + 1)).await.unwrap();
        assert!(store.events_after(&default(), 0, 100).await.unwrap().is_empty());
    }

    async fn pruning_forgets_the_events_created_before_the_cutoff_and_keeps_the_rest(backend) {
        let db = TestDb::new(backend).await;
        let store = open(&db).await;
        let write = |at| {
            let store = store.clone();
            async move {
                let sent = message("+14155550123", ADA, None, SmsStatus::Queued, at);
                store.write(&default(), Batch { messages: vec![sent], ..Batch::default() }).await.unwrap();
            }
        };
        write(1_000).await;
        write(1_001).await;
        let old = store.events_after(&default(), 0, 100).await.unwrap();
        // Events take the time of their commit: the next ones are younger than the cutoff.
        let cutoff = Timestamp::from_millis(old[1].created_at.millis() + 1);
        while Timestamp::now() <= cutoff {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        write(1_002).await;
        store.save_org(&default(), Org::demo().document()).await.unwrap();

        store.prune_events(cutoff).await.unwrap();
        let kept = store.events_after(&default(), 0, 100).await.unwrap();
        let kinds: Vec<_> = kept.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["sms.created", "org.replaced"]);
        assert!(kept.iter().all(|e| e.created_at >= cutoff && e.seq > old[1].seq));

        // Nothing younger: nothing is kept, and the next event still gets a new seq.
        store.prune_events(Timestamp::from_millis(Timestamp::now().millis() + 1)).await.unwrap();
        assert!(store.events_after(&default(), 0, 100).await.unwrap().is_empty());
        write(1_003).await;
        let next = store.events_after(&default(), 0, 100).await.unwrap();
        assert!(next[0].seq > kept[1].seq);
    }

    async fn an_event_seq_is_never_given_twice_whatever_was_forgotten(backend) {
        let db = TestDb::new(backend).await;
        let store = open(&db).await;
        let qa = OrgName::parse("qa").unwrap();
        let write = |org: OrgName| {
            let store = store.clone();
            async move {
                let sent = message("+14155550123", ADA, None, SmsStatus::Queued, 1_000);
                store.write(&org, Batch { messages: vec![sent], ..Batch::default() }).await.unwrap();
                store.events_after(&org, 0, 100).await.unwrap().last().unwrap().seq
            }
        };
        let ours = write(default()).await;
        // The newest event goes with its org's activity, then with its org.
        let theirs = write(qa.clone()).await;
        store.reset(&qa, None).await.unwrap();
        assert!(store.events_after(&qa, 0, 100).await.unwrap().is_empty());
        let after_reset = write(default()).await;
        assert!(after_reset > theirs, "{after_reset} after {theirs}");
        let kept: Vec<i64> = store.events_after(&default(), 0, 100).await.unwrap().iter().map(|e| e.seq).collect();
        assert_eq!(kept, [ours, after_reset]);

        store.save_org(&qa, Org::demo().document()).await.unwrap();
        let theirs = write(qa.clone()).await;
        assert!(store.delete_org(&qa).await.unwrap());
        store.reset(&default(), None).await.unwrap();
        // And across reopening, with nothing left to read.
        drop(store);
        let store = open(&db).await;
        assert!(store.events_after(&default(), 0, 100).await.unwrap().is_empty());
        let sent = message("+14155550123", ADA, None, SmsStatus::Queued, 1_000);
        store.write(&default(), Batch { messages: vec![sent], ..Batch::default() }).await.unwrap();
        let next = store.events_after(&default(), 0, 100).await.unwrap();
        assert!(next[0].seq > theirs, "{} after {theirs}", next[0].seq);
    }

    async fn concurrent_writes_commit_together_and_a_bad_one_fails_alone(backend) {
        let db = TestDb::new(backend).await;
        let store = open(&db).await;
        let mut live = store.subscribe();
        let taken = message("+14155550123", ADA, None, SmsStatus::Queued, 1_000);
        store.write(&default(), Batch { messages: vec![taken.clone()], ..Batch::default() }).await.unwrap();

        // Many writers at once, so that the committer takes several in one transaction; one
        // of them reuses a stored Id.
        let batches: Vec<Batch> = (0..120)
            .map(|i| {
                let fresh = message("+14155550124", GRACE, Some(JANE), SmsStatus::Queued, 2_000 + i);
                let mut messages = vec![fresh];
                if i == 60 {
                    messages.push(taken.clone());
                }
                let tasks = vec![task(GRACE, Some(JANE), 2_000 + i)];
                Batch { messages, tasks, calls: vec![call("+14155550125", GRACE, 2_000 + i)], ..Batch::default() }
            })
            .collect();
        let writes = batches.iter().cloned().map(|batch| {
            let store = store.clone();
            tokio::spawn(async move { store.write(&default(), batch).await })
        });
        let outcomes = futures_util::future::join_all(writes).await;
        for (i, (outcome, batch)) in outcomes.into_iter().zip(&batches).enumerate() {
            let outcome = outcome.expect("the writer ran");
            let stored = store.sms_message(&default(), batch.messages[0].id).await.unwrap();
            if i == 60 {
                assert!(matches!(outcome, Err(StorageError::Conflict(_))), "{outcome:?}");
                assert_eq!(stored, None, "nothing of the failed batch is stored");
                assert_eq!(store.call(&default(), batch.calls[0].id).await.unwrap(), None);
                assert_eq!(store.task(&default(), batch.tasks[0].id).await.unwrap(), None);
            } else {
                outcome.unwrap_or_else(|e| panic!("write {i}: {e}"));
                assert_eq!(stored.as_ref(), Some(&batch.messages[0]), "write {i}");
                assert_eq!(store.call(&default(), batch.calls[0].id).await.unwrap().as_ref(), Some(&batch.calls[0]));
                assert_eq!(store.task(&default(), batch.tasks[0].id).await.unwrap().as_ref(), Some(&batch.tasks[0]));
            }
        }
        let all = ListFilter { limit: 1000, ..filter() };
        assert_eq!(store.list_sms_messages(&default(), &all).await.unwrap().len(), 120);
        assert_eq!(store.list_calls(&default(), &all).await.unwrap().len(), 119);
        // One `*.created` event per stored record, each once, in commit order.
        let events = store.events_after(&default(), 0, 1000).await.unwrap();
        assert_eq!(events.len(), 1 + 2 * 119);
        assert!(events.windows(2).all(|pair| pair[0].seq < pair[1].seq));
        // Heard live as stored: each under its own seq, with its own payload.
        let heard = next_events(&mut live, events.len()).await;
        assert!(heard.iter().map(|e| &**e).eq(&events));
    }

    async fn status_changes_are_logged_once_and_a_no_op_logs_nothing(backend) {
        let db = TestDb::new(backend).await;
        let store = open(&db).await;
        let mut live = store.subscribe();
        let initial = value(Some(AVAILABLE), StatusType::Available);
        assert_eq!(store.user_state(&default(), id(ADA)).await.unwrap(), None);
        let change = |to, log: &str| StatusChange {
            user_id: id(ADA),
            initial,
            to,
            changed_by: Some(id(GRACE)),
            log_id: id(log),
        };

        let change_one = async |change| {
            let mut outcomes = store.change_user_statuses(&default(), &[change]).await.unwrap();
            assert_eq!(outcomes.len(), 1);
            outcomes.remove(0)
        };
        let same = change_one(change(initial, "a0LDn0000001AaaMAE")).await;
        assert_eq!(same.previous.status, initial);
        assert_eq!(same.logged, None);
        assert_eq!(store.user_state(&default(), id(ADA)).await.unwrap(), None);

        let offline = value(None, StatusType::Offline);
        let changed = change_one(change(offline, "a0LDn0000002AaaMAE")).await;
        let entry = changed.logged.expect("a logged change");
        assert_eq!((entry.from_user_status_id, entry.from_status_type), (Some(id(AVAILABLE)), StatusType::Available));
        assert_eq!((entry.to_user_status_id, entry.to_status_type), (None, StatusType::Offline));
        assert_eq!(entry.changed_by, Some(id(GRACE)));
        let state = store.user_state(&default(), id(ADA)).await.unwrap().expect("a stored state");
        assert_eq!(state.status, offline);
        assert_eq!(state.changed_at, Some(entry.changed_at));
        assert_eq!(store.status_log_entry(&default(), entry.id).await.unwrap(), Some(entry.clone()));
        assert_eq!(store.list_status_log(&default(), &filter()).await.unwrap(), std::slice::from_ref(&entry));
        let event = &next_events(&mut live, 1).await[0];
        assert_eq!(event.kind, EventKind::UserStatusChanged);

        // Setting it again changes nothing; the org's initial status no longer matters.
        let again = change_one(change(offline, "a0LDn0000003AaaMAE")).await;
        assert_eq!(again.logged, None);
        assert_eq!(again.previous, state);

        // A new org starts users from its own statuses.
        store.save_org(&default(), Org::demo().document()).await.unwrap();
        assert_eq!(store.user_state(&default(), id(ADA)).await.unwrap(), None);
        assert_eq!(store.list_status_log(&default(), &filter()).await.unwrap().len(), 1);
    }

    async fn one_invocations_changes_apply_in_order_each_from_the_one_before(backend) {
        let db = TestDb::new(backend).await;
        let store = open(&db).await;
        let mut live = store.subscribe();
        let available = value(Some(AVAILABLE), StatusType::Available);
        let offline = value(None, StatusType::Offline);
        let change = |user: &str, to, log: &str| StatusChange {
            user_id: id(user),
            initial: available,
            to,
            changed_by: None,
            log_id: id(log),
        };
        // Grace before Ada (the reverse of Id order), Ada twice, and a no-op between.
        let changes = [
            change(GRACE, offline, "a0LDn0000001AaaMAE"),
            change(ADA, offline, "a0LDn0000002AaaMAE"),
            change(ADA, offline, "a0LDn0000003AaaMAE"),
            change(ADA, available, "a0LDn0000004AaaMAE"),
        ];
        let outcomes = store.change_user_statuses(&default(), &changes).await.unwrap();
        let logged: Vec<_> = outcomes.iter().map(|o| o.logged.as_ref().map(|e| e.id)).collect();
        let ids = |raw: [Option<&str>; 4]| raw.map(|log| log.map(id)).to_vec();
        assert_eq!(logged, ids([Some("a0LDn0000001AaaMAE"), Some("a0LDn0000002AaaMAE"), None, Some("a0LDn0000004AaaMAE")]));
        let previous: Vec<_> = outcomes.iter().map(|o| o.previous.status).collect();
        assert_eq!(previous, [available, available, offline, offline]);
        let last = outcomes[3].logged.as_ref().unwrap();
        assert_eq!((last.from_status_type, last.to_status_type), (StatusType::Offline, StatusType::Available));
        assert_eq!(store.user_state(&default(), id(ADA)).await.unwrap().unwrap().status, available);
        assert_eq!(store.user_state(&default(), id(GRACE)).await.unwrap().unwrap().status, offline);
        assert_eq!(store.list_status_log(&default(), &filter()).await.unwrap().len(), 3);
        assert!(next_events(&mut live, 3).await.iter().all(|e| e.kind == EventKind::UserStatusChanged));
    }

    async fn a_pending_step_that_cannot_be_read_is_reported_and_dropped_while_the_others_apply(backend) {
        let db = TestDb::new(backend).await;
        let store = open(&db).await;
        let queued = message("+14155550123", ADA, None, SmsStatus::Queued, 1_000);
        store.write(&default(), Batch { messages: vec![queued.clone()], ..Batch::default() }).await.unwrap();
        db.execute(&format!(
            "INSERT INTO pending_steps (org, kind, record_id, status, error_code, error_message, due_at) \
             VALUES ('default', 'sms', '{id}', 'Teleported', NULL, NULL, 1), ('default', 'fax', '{id}', 'Sent', NULL, NULL, 2), \
             ('default', 'sms', '{id}', 'Sent', NULL, NULL, 3)",
            id = queued.id
        ))
        .await;
        let run = store.run_due_steps(Timestamp::now(), 10).await.unwrap();
        assert_eq!(run.taken, 3);
        let reasons: Vec<_> = run.unreadable.iter().map(|step| step.reason.as_str()).collect();
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert!(reasons[0].contains("`Teleported` is not a status of a `sms` record"), "{reasons:?}");
        assert!(reasons[1].contains("`fax`"), "{reasons:?}");
        let moved = store.sms_message(&default(), queued.id).await.unwrap().expect("the message");
        assert_eq!(moved.status, SmsStatus::Sent, "the readable step applied");
        assert_eq!(store.next_step_due().await.unwrap(), None, "nothing left pending");
    }

    async fn a_row_that_cannot_be_read_back_is_an_error_not_a_gap_in_a_list(backend) {
        let db = TestDb::new(backend).await;
        let store = open(&db).await;
        let good = message("+14155550123", ADA, None, SmsStatus::Queued, 1_000);
        let bad = message("+14155550123", ADA, None, SmsStatus::Queued, 2_000);
        let bad_task = task(ADA, None, 3_000);
        let batch = Batch {
            messages: vec![good.clone(), bad.clone()],
            tasks: vec![bad_task.clone()],
            ..Batch::default()
        };
        store.write(&default(), batch).await.unwrap();
        db.execute(&format!("UPDATE sms_messages SET status = 'Teleported' WHERE id = '{}'", bad.id)).await;
        db.execute(&format!("UPDATE tasks SET priority = 'Urgent!' WHERE id = '{}'", bad_task.id)).await;
        db.execute("UPDATE events SET kind = 'sms.teleported'").await;
        let corrupt = |outcome: &Result<_, StorageError>| matches!(outcome, Err(StorageError::Corrupt(_)));
        assert!(corrupt(&store.sms_message(&default(), bad.id).await.map(|_| ())));
        assert!(corrupt(&store.list_sms_messages(&default(), &filter()).await.map(|_| ())));
        assert!(corrupt(&store.task(&default(), bad_task.id).await.map(|_| ())));
        assert!(corrupt(&store.list_tasks(&default(), &filter()).await.map(|_| ())));
        assert!(corrupt(&store.events_after(&default(), 0, 10).await.map(|_| ())));
        assert_eq!(store.sms_message(&default(), good.id).await.unwrap(), Some(good), "a readable row still reads");
    }
}

#[tokio::test]
async fn an_unknown_database_scheme_is_refused() {
    match storage::connect(
        "mysql://localhost/x",
        &StorageOptions::default(),
        Arc::new(NoSteps),
        events::payload,
    )
    .await
    {
        Err(StorageError::Config(message)) => assert!(message.contains("postgres://"), "{message}"),
        other => panic!("expected a configuration error, got {:?}", other.err()),
    }
}

/// A SQLite file made before its events lost `AUTOINCREMENT` (migration 0010) counts on from
/// the highest seq it ever gave, even when every event it gave is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_file_counts_events_on_from_the_highest_seq_it_ever_gave() {
    let db = TestDb::new(crate::helpers::Backend::Sqlite).await;
    db.migrate_to(9).await;
    db.execute(
        "INSERT INTO events (seq, org, kind, payload, created_at) \
         VALUES (41, 'default', 'sms.created', '{}', 1); DELETE FROM events",
    )
    .await;
    let store = open(&db).await;
    assert!(
        store
            .events_after(&default(), 0, 100)
            .await
            .unwrap()
            .is_empty()
    );
    let sent = message("+14155550123", ADA, None, SmsStatus::Queued, 1_000);
    store
        .write(
            &default(),
            Batch {
                messages: vec![sent],
                ..Batch::default()
            },
        )
        .await
        .unwrap();
    let next = store.events_after(&default(), 0, 100).await.unwrap();
    assert_eq!(next.iter().map(|e| e.seq).collect::<Vec<_>>(), [42]);
}
