//! The records the actions create, over SQL.

use async_trait::async_trait;
use sqlx::{Encode, Executor, FromRow, IntoArguments, Type};

use super::idempotency::ANSWER_KEY;
use super::lifecycle::advance;
use super::{
    CALL_FILTERS, Dialect, SMS_FILTERS, SqlStorage, TASK_FILTERS, VOIP_ERROR_FILTERS, call_columns,
    insert_events, insert_step, insert_voip_error, list_query, sms_columns, task_columns,
    voip_error_columns,
};
use crate::domain::{CallStatus, E164, SalesforceId, SmsStatus, Timestamp};
use crate::events::NewEvent;
use crate::storage::{
    ActivityStore, Batch, Call, ListFilter, RecordKind, SmsMessage, StatusHistory, StepRules,
    StorageError, Task, VoipErrorLog,
};

const INSERT_SMS: &str = concat!(
    "INSERT INTO sms_messages (",
    sms_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
);
const INSERT_CALL: &str = concat!(
    "INSERT INTO calls (",
    call_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
);
const INSERT_TASK: &str = concat!(
    "INSERT INTO tasks (",
    task_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
);

#[async_trait]
impl<DB> ActivityStore for SqlStorage<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> &'static str: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> i32: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i32>: Encode<'q, DB> + Type<DB>,
    for<'q> SalesforceId: Encode<'q, DB> + Type<DB>,
    for<'q> Option<SalesforceId>: Encode<'q, DB> + Type<DB>,
    for<'q> E164: Encode<'q, DB> + Type<DB>,
    for<'q> Timestamp: Encode<'q, DB> + Type<DB>,
    for<'q> SmsStatus: Encode<'q, DB> + Type<DB>,
    for<'q> CallStatus: Encode<'q, DB> + Type<DB>,
    for<'q> &'q StatusHistory: Encode<'q, DB> + Type<DB>,
    for<'r> (i64,): FromRow<'r, DB::Row>,
    for<'r> SmsMessage: FromRow<'r, DB::Row>,
    for<'r> Call: FromRow<'r, DB::Row>,
    for<'r> Task: FromRow<'r, DB::Row>,
    for<'r> VoipErrorLog: FromRow<'r, DB::Row>,
{
    #[tracing::instrument(skip_all, fields(messages = batch.messages.len(), calls = batch.calls.len()))]
    async fn write(&self, batch: &Batch, rules: &dyn StepRules) -> Result<(), StorageError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut tx = self.writer.begin().await?;
        for m in &batch.messages {
            sqlx::query(INSERT_SMS)
                .bind(m.id)
                .bind(m.provider_id.clone())
                .bind(m.created_at)
                .bind(m.updated_at)
                .bind(m.owner_id)
                .bind(m.user_id)
                .bind(m.phone_number_id)
                .bind(m.from_phone)
                .bind(m.to_phone)
                .bind(m.body.clone())
                .bind(m.media_url.clone())
                .bind(m.related_record_id)
                .bind(m.task_id)
                .bind(m.status)
                .bind(&m.status_history)
                .bind(m.error_code)
                .bind(m.error_message.clone())
                .execute(&mut *tx)
                .await?;
        }
        for c in &batch.calls {
            sqlx::query(INSERT_CALL)
                .bind(c.id)
                .bind(c.provider_id.clone())
                .bind(c.created_at)
                .bind(c.updated_at)
                .bind(c.owner_id)
                .bind(c.user_id)
                .bind(c.phone_number_id)
                .bind(c.from_phone)
                .bind(c.to_phone)
                .bind(c.ivr_id)
                .bind(c.related_record_id)
                .bind(c.task_id)
                .bind(c.status)
                .bind(&c.status_history)
                .bind(c.error_code)
                .bind(c.error_message.clone())
                .execute(&mut *tx)
                .await?;
        }
        for t in &batch.tasks {
            sqlx::query(INSERT_TASK)
                .bind(t.id)
                .bind(t.created_at)
                .bind(t.owner_id)
                .bind(t.subject.clone())
                .bind(t.description.clone())
                .bind(t.status.clone())
                .bind(t.priority.clone())
                .bind(t.task_subtype.clone())
                .bind(t.call_type.clone())
                .bind(t.who_id)
                .bind(t.what_id)
                .bind(t.sms_message_id)
                .bind(t.call_id)
                .execute(&mut *tx)
                .await?;
        }
        for entry in &batch.voip_errors {
            insert_voip_error(&mut *tx, entry).await?;
        }
        let mut events: Vec<NewEvent> = batch
            .messages
            .iter()
            .map(NewEvent::sms_created)
            .chain(batch.calls.iter().map(NewEvent::call_created))
            .collect();
        // Steps already due (immediate progression) are taken now, in this transaction, so
        // the records are final when the caller hears back.
        let now = Timestamp::now();
        for step in &batch.steps {
            if step.due_at > now {
                insert_step(&mut *tx, step).await?;
                continue;
            }
            let error = step.provider_error();
            match (
                step.kind,
                SmsStatus::parse(&step.status),
                CallStatus::parse(&step.status),
            ) {
                (RecordKind::Message, Some(to), _) => {
                    advance::<DB, SmsMessage>(
                        &mut tx,
                        step.record_id,
                        to,
                        error,
                        now,
                        rules,
                        &mut events,
                    )
                    .await?;
                }
                (RecordKind::Call, _, Some(to)) => {
                    advance::<DB, Call>(
                        &mut tx,
                        step.record_id,
                        to,
                        error,
                        now,
                        rules,
                        &mut events,
                    )
                    .await?;
                }
                _ => {}
            }
        }
        if let Some(keyed) = &batch.answer {
            sqlx::query(ANSWER_KEY)
                .bind(keyed.key.clone())
                .bind(i32::from(keyed.answer.status))
                .bind(keyed.answer.body.clone())
                .execute(&mut *tx)
                .await?;
        }
        let stored = insert_events(&mut *tx, &events, now).await?;
        tx.commit().await?;
        self.publish_committed(stored);
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn sms_message(&self, id: SalesforceId) -> Result<Option<SmsMessage>, StorageError> {
        let sql = concat!(
            "SELECT ",
            sms_columns!(),
            " FROM sms_messages WHERE id = $1"
        );
        Ok(sqlx::query_as(sql)
            .bind(id)
            .fetch_optional(&self.reader)
            .await?)
    }

    #[tracing::instrument(skip_all)]
    async fn sms_message_by_provider_id(
        &self,
        provider_id: &str,
    ) -> Result<Option<SmsMessage>, StorageError> {
        let sql = concat!(
            "SELECT ",
            sms_columns!(),
            " FROM sms_messages WHERE provider_id = $1"
        );
        Ok(sqlx::query_as(sql)
            .bind(provider_id.to_owned())
            .fetch_optional(&self.reader)
            .await?)
    }

    #[tracing::instrument(skip_all)]
    async fn list_sms_messages(
        &self,
        filter: &ListFilter,
    ) -> Result<Vec<SmsMessage>, StorageError> {
        let mut query = list_query(sms_columns!(), "sms_messages", filter, &SMS_FILTERS);
        Ok(query.build_query_as().fetch_all(&self.reader).await?)
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn call(&self, id: SalesforceId) -> Result<Option<Call>, StorageError> {
        let sql = concat!("SELECT ", call_columns!(), " FROM calls WHERE id = $1");
        Ok(sqlx::query_as(sql)
            .bind(id)
            .fetch_optional(&self.reader)
            .await?)
    }

    #[tracing::instrument(skip_all)]
    async fn call_by_provider_id(&self, provider_id: &str) -> Result<Option<Call>, StorageError> {
        let sql = concat!(
            "SELECT ",
            call_columns!(),
            " FROM calls WHERE provider_id = $1"
        );
        Ok(sqlx::query_as(sql)
            .bind(provider_id.to_owned())
            .fetch_optional(&self.reader)
            .await?)
    }

    #[tracing::instrument(skip_all)]
    async fn list_calls(&self, filter: &ListFilter) -> Result<Vec<Call>, StorageError> {
        let mut query = list_query(call_columns!(), "calls", filter, &CALL_FILTERS);
        Ok(query.build_query_as().fetch_all(&self.reader).await?)
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn task(&self, id: SalesforceId) -> Result<Option<Task>, StorageError> {
        let sql = concat!("SELECT ", task_columns!(), " FROM tasks WHERE id = $1");
        Ok(sqlx::query_as(sql)
            .bind(id)
            .fetch_optional(&self.reader)
            .await?)
    }

    #[tracing::instrument(skip_all)]
    async fn list_tasks(&self, filter: &ListFilter) -> Result<Vec<Task>, StorageError> {
        let mut query = list_query(task_columns!(), "tasks", filter, &TASK_FILTERS);
        Ok(query.build_query_as().fetch_all(&self.reader).await?)
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn voip_error(&self, id: SalesforceId) -> Result<Option<VoipErrorLog>, StorageError> {
        let sql = concat!(
            "SELECT ",
            voip_error_columns!(),
            " FROM voip_errors WHERE id = $1"
        );
        Ok(sqlx::query_as(sql)
            .bind(id)
            .fetch_optional(&self.reader)
            .await?)
    }

    #[tracing::instrument(skip_all)]
    async fn list_voip_errors(
        &self,
        filter: &ListFilter,
    ) -> Result<Vec<VoipErrorLog>, StorageError> {
        let mut query = list_query(
            voip_error_columns!(),
            "voip_errors",
            filter,
            &VOIP_ERROR_FILTERS,
        );
        Ok(query.build_query_as().fetch_all(&self.reader).await?)
    }
}
