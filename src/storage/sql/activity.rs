//! The records the actions create, over SQL.

use async_trait::async_trait;

use super::{
    CALL_FILTERS, SMS_FILTERS, SqlStorage, TASK_FILTERS, Table, VOIP_ERROR_FILTERS, select,
    statement,
};
use crate::domain::SalesforceId;
use crate::records::{Call, SmsMessage, Task, VoipErrorLog};
use crate::storage::{ActivityStore, Batch, ListFilter, StorageError};

#[async_trait]
impl ActivityStore for SqlStorage {
    #[tracing::instrument(skip_all, fields(messages = batch.messages.len(), calls = batch.calls.len()))]
    async fn write(&self, batch: Batch) -> Result<(), StorageError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.commits.write(batch).await
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn sms_message(&self, id: SalesforceId) -> Result<Option<SmsMessage>, StorageError> {
        self.by_id(id).await
    }

    #[tracing::instrument(skip_all)]
    async fn sms_message_by_provider_id(
        &self,
        provider_id: &str,
    ) -> Result<Option<SmsMessage>, StorageError> {
        let sql = select!(SmsMessage, "WHERE provider_id = $1");
        Ok(sqlx::query_as(sql)
            .bind(provider_id)
            .fetch_optional(&self.reader)
            .await?)
    }

    #[tracing::instrument(skip_all)]
    async fn list_sms_messages(
        &self,
        filter: &ListFilter,
    ) -> Result<Vec<SmsMessage>, StorageError> {
        self.list(filter, &SMS_FILTERS).await
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn call(&self, id: SalesforceId) -> Result<Option<Call>, StorageError> {
        self.by_id(id).await
    }

    #[tracing::instrument(skip_all)]
    async fn call_by_provider_id(&self, provider_id: &str) -> Result<Option<Call>, StorageError> {
        let sql = select!(Call, "WHERE provider_id = $1");
        Ok(sqlx::query_as(sql)
            .bind(provider_id)
            .fetch_optional(&self.reader)
            .await?)
    }

    #[tracing::instrument(skip_all)]
    async fn list_calls(&self, filter: &ListFilter) -> Result<Vec<Call>, StorageError> {
        self.list(filter, &CALL_FILTERS).await
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn task(&self, id: SalesforceId) -> Result<Option<Task>, StorageError> {
        self.by_id(id).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_tasks(&self, filter: &ListFilter) -> Result<Vec<Task>, StorageError> {
        self.list(filter, &TASK_FILTERS).await
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn voip_error(&self, id: SalesforceId) -> Result<Option<VoipErrorLog>, StorageError> {
        self.by_id(id).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_voip_errors(
        &self,
        filter: &ListFilter,
    ) -> Result<Vec<VoipErrorLog>, StorageError> {
        self.list(filter, &VOIP_ERROR_FILTERS).await
    }
}
