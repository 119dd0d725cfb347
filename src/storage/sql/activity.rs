//! The records the actions create, over SQL.

use async_trait::async_trait;
use sqlx::{Encode, Executor, FromRow, IntoArguments, Type};

use super::{
    CALL_FILTERS, Dialect, SMS_FILTERS, SqlStorage, TASK_FILTERS, VOIP_ERROR_FILTERS, call_columns,
    list_query, sms_columns, task_columns, voip_error_columns,
};
use crate::domain::{CallStatus, E164, SalesforceId, SmsStatus, Timestamp};
use crate::storage::{
    ActivityStore, Batch, Call, ListFilter, SmsMessage, StatusHistory, StorageError, Task,
    VoipErrorLog,
};

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
    async fn write(&self, batch: Batch) -> Result<(), StorageError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.commits.write(batch).await
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
