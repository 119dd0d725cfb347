//! The storage contract: one story, told to the `Storage` trait directly, that both
//! backends must tell the same way.

use fastcall_emulator::domain::{Country, E164, SalesforceId, SmsStatus, Timestamp};
use fastcall_emulator::org::{Org, OrgDocument};
use fastcall_emulator::storage::{
    self, ListFilter, SmsMessage, SmsRecord, Storage, StorageError, StorageOptions, Task,
    VoipErrorLog,
};

use crate::backend_tests;
use crate::helpers::TestDb;

fn id(raw: &str) -> SalesforceId {
    SalesforceId::parse(raw).unwrap()
}

fn phone(raw: &str) -> E164 {
    E164::parse(raw, Country::US).unwrap()
}

fn message(to: &str, user: &str, related: Option<&str>, status: SmsStatus, at: i64) -> SmsMessage {
    SmsMessage {
        id: SalesforceId::generate("a0S"),
        provider_id: (status != SmsStatus::Failed)
            .then(|| format!("SM{}", uuid::Uuid::new_v4().simple())),
        created_at: Timestamp::from_millis(at),
        updated_at: Timestamp::from_millis(at),
        owner_id: id(user),
        user_id: id(user),
        phone_number_id: id("a0PDn0000001AdaMAE"),
        from_phone: phone("+14155550100"),
        to_phone: phone(to),
        body: format!("Hello {to} — ünïcödé ✓"),
        media_url: None,
        related_record_id: related.map(id),
        task_id: None,
        status,
        error_code: None,
        error_message: None,
    }
}

fn with_task(mut m: SmsMessage) -> SmsRecord {
    let related = m.related_record_id.expect("a related record");
    let task = Task {
        id: SalesforceId::generate("00T"),
        created_at: m.created_at,
        owner_id: m.user_id,
        subject: format!("SMS to {}", m.to_phone),
        description: Some(m.body.clone()),
        status: "Completed".into(),
        priority: "Normal".into(),
        task_subtype: "Task".into(),
        who_id: (related.key_prefix() == "003").then_some(related),
        what_id: (related.key_prefix() != "003").then_some(related),
        sms_message_id: Some(m.id),
    };
    m.task_id = Some(task.id);
    SmsRecord {
        message: m,
        task: Some(task),
        voip_error: None,
    }
}

fn refused(mut m: SmsMessage) -> SmsRecord {
    m.error_code = Some(21211);
    m.error_message = Some("This phone number is invalid.".into());
    let entry = VoipErrorLog {
        id: SalesforceId::generate("a0E"),
        created_at: m.created_at,
        record_type: "FastCall__SMS_Message__c".into(),
        record_id: m.id,
        provider: "simulated".into(),
        provider_id: None,
        error_code: 21211,
        error_message: "This phone number is invalid.".into(),
        from_phone: m.from_phone,
        to_phone: m.to_phone,
        user_id: m.user_id,
    };
    SmsRecord {
        message: m,
        task: None,
        voip_error: Some(entry),
    }
}

fn plain(m: SmsMessage) -> SmsRecord {
    SmsRecord {
        message: m,
        task: None,
        voip_error: None,
    }
}

fn filter() -> ListFilter {
    ListFilter {
        limit: 100,
        ..ListFilter::default()
    }
}

async fn open(db: &TestDb) -> std::sync::Arc<dyn Storage> {
    storage::connect(&db.url, &StorageOptions::default())
        .await
        .expect("the database opens")
}

const ADA: &str = "005Dn0000001AdaIAE";
const GRACE: &str = "005Dn0000002GrcIAE";
const JANE: &str = "003Dn0000001JanIAE";
const ACME: &str = "001Dn0000001AcmIAE";

backend_tests! {
    async fn storage_tells_the_whole_story_the_same_way(backend) {
        let db = TestDb::new(backend).await;
        let store = open(&db).await;
        store.ping().await.unwrap();

        // Org data: none at first, then exactly what was saved, replaced whole.
        assert_eq!(store.load_org().await.unwrap(), None);
        let demo = Org::demo().document().clone();
        store.save_org(&demo).await.unwrap();
        assert_eq!(store.load_org().await.unwrap().as_ref(), Some(&demo));
        let mut changed = demo.clone();
        changed.settings.sms_enabled = false;
        changed.users.truncate(1);
        store.save_org(&changed).await.unwrap();
        assert_eq!(store.load_org().await.unwrap().as_ref(), Some(&changed));

        // Activity, written in one batch.
        let to_jane = with_task(message("+14155550123", ADA, Some(JANE), SmsStatus::Queued, 1_000));
        let to_acme = with_task(message("+14155550127", GRACE, Some(ACME), SmsStatus::Queued, 2_000));
        let failed = refused(message("+15005550001", ADA, None, SmsStatus::Failed, 3_000));
        let lone = plain(message("+14155550123", GRACE, None, SmsStatus::Delivered, 4_000));
        let batch = [to_jane.clone(), to_acme.clone(), failed.clone(), lone.clone()];
        store.record_sms(&batch).await.unwrap();
        store.record_sms(&[]).await.unwrap();

        // Read back exactly, by Id and by the provider's id.
        assert_eq!(store.sms_message(to_jane.message.id).await.unwrap(), Some(to_jane.message.clone()));
        let sid = to_jane.message.provider_id.clone().unwrap();
        assert_eq!(store.sms_message_by_provider_id(&sid).await.unwrap(), Some(to_jane.message.clone()));
        assert_eq!(store.sms_message(SalesforceId::generate("a0S")).await.unwrap(), None);
        assert_eq!(store.task(to_jane.task.as_ref().unwrap().id).await.unwrap(), to_jane.task.clone());
        let entry = failed.voip_error.clone().unwrap();
        assert_eq!(store.voip_error(entry.id).await.unwrap(), Some(entry.clone()));

        // Lists: newest first, filters AND together.
        let ids = |items: Vec<SmsMessage>| items.into_iter().map(|m| m.id).collect::<Vec<_>>();
        let all = ids(store.list_sms_messages(&filter()).await.unwrap());
        assert_eq!(all, [lone.message.id, failed.message.id, to_acme.message.id, to_jane.message.id]);
        let to = ListFilter { to: Some(phone("+14155550123")), ..filter() };
        assert_eq!(ids(store.list_sms_messages(&to).await.unwrap()), [lone.message.id, to_jane.message.id]);
        let from_and_user = ListFilter { from: Some(phone("+14155550100")), user_id: Some(id(GRACE)), ..filter() };
        assert_eq!(ids(store.list_sms_messages(&from_and_user).await.unwrap()), [lone.message.id, to_acme.message.id]);
        let related = ListFilter { related_record_id: Some(id(JANE)), ..filter() };
        assert_eq!(ids(store.list_sms_messages(&related).await.unwrap()), [to_jane.message.id]);
        let status = ListFilter { status: Some("Failed".into()), ..filter() };
        assert_eq!(ids(store.list_sms_messages(&status).await.unwrap()), [failed.message.id]);
        let since = ListFilter { since: Some(Timestamp::from_millis(2_000)), limit: 2, ..filter() };
        assert_eq!(ids(store.list_sms_messages(&since).await.unwrap()), [lone.message.id, failed.message.id]);

        let tasks = store.list_tasks(&ListFilter { related_record_id: Some(id(ACME)), ..filter() }).await.unwrap();
        assert_eq!(tasks, [to_acme.task.clone().unwrap()]);
        let tasks = store.list_tasks(&ListFilter { user_id: Some(id(ADA)), ..filter() }).await.unwrap();
        assert_eq!(tasks, [to_jane.task.clone().unwrap()]);
        assert_eq!(store.list_voip_errors(&filter()).await.unwrap(), [entry]);

        // A batch that cannot be written whole leaves nothing behind.
        let fresh = plain(message("+14155550199", ADA, None, SmsStatus::Queued, 5_000));
        let duplicate = plain(lone.message.clone());
        match store.record_sms(&[fresh.clone(), duplicate]).await {
            Err(StorageError::Conflict(_)) => {}
            other => panic!("a duplicate Id is a conflict, got {other:?}"),
        }
        assert_eq!(store.sms_message(fresh.message.id).await.unwrap(), None);

        // Everything survives reopening the database.
        drop(store);
        let store = open(&db).await;
        assert_eq!(store.load_org().await.unwrap().as_ref(), Some(&changed));
        assert_eq!(store.list_sms_messages(&filter()).await.unwrap().len(), 4);

        // Reset forgets activity and keeps the org, or replaces it when given one.
        store.reset(None).await.unwrap();
        assert!(store.list_sms_messages(&filter()).await.unwrap().is_empty());
        assert!(store.list_tasks(&filter()).await.unwrap().is_empty());
        assert!(store.list_voip_errors(&filter()).await.unwrap().is_empty());
        assert_eq!(store.load_org().await.unwrap().as_ref(), Some(&changed));
        store.reset(Some(&OrgDocument::default())).await.unwrap();
        assert_eq!(store.load_org().await.unwrap(), Some(OrgDocument::default()));
    }
}

#[tokio::test]
async fn an_unknown_database_scheme_is_refused() {
    match storage::connect("mysql://localhost/x", &StorageOptions::default()).await {
        Err(StorageError::Config(message)) => assert!(message.contains("postgres://"), "{message}"),
        other => panic!("expected a configuration error, got {:?}", other.err()),
    }
}
