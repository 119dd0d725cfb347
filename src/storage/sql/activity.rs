//! The records the actions create, over SQL: each read within its org.

use async_trait::async_trait;

use super::{
    CALL_FILTERS, OPT_OUT_FILTERS, SMS_FILTERS, SqlStorage, TASK_FILTERS, Table,
    VOIP_ERROR_FILTERS, select, statement,
};
use crate::domain::{DialledNumber, OrgName, SalesforceId};
use crate::records::{Call, OptOut, SmsMessage, Task, VoipErrorLog};
use crate::storage::{ActivityStore, Batch, ListFilter, StorageError};

#[async_trait]
impl ActivityStore for SqlStorage {
    #[tracing::instrument(level = "debug", skip_all, fields(%org, messages = batch.messages.len(), calls = batch.calls.len()))]
    async fn write(&self, org: &OrgName, batch: Batch) -> Result<(), StorageError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.commits.write(org, batch).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%org, %id))]
    async fn sms_message(
        &self,
        org: &OrgName,
        id: SalesforceId,
    ) -> Result<Option<SmsMessage>, StorageError> {
        self.by_id(org, id).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%org))]
    async fn sms_message_by_provider_id(
        &self,
        org: &OrgName,
        provider_id: &str,
    ) -> Result<Option<SmsMessage>, StorageError> {
        let sql = select!(SmsMessage, "WHERE org = $1 AND provider_id = $2");
        Ok(sqlx::query_as(sql)
            .bind(org)
            .bind(provider_id)
            .fetch_optional(&self.reader)
            .await?)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%org))]
    async fn list_sms_messages(
        &self,
        org: &OrgName,
        filter: &ListFilter,
    ) -> Result<Vec<SmsMessage>, StorageError> {
        self.list(org, filter, &SMS_FILTERS).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%org, %id))]
    async fn call(&self, org: &OrgName, id: SalesforceId) -> Result<Option<Call>, StorageError> {
        self.by_id(org, id).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%org))]
    async fn call_by_provider_id(
        &self,
        org: &OrgName,
        provider_id: &str,
    ) -> Result<Option<Call>, StorageError> {
        let sql = select!(Call, "WHERE org = $1 AND provider_id = $2");
        Ok(sqlx::query_as(sql)
            .bind(org)
            .bind(provider_id)
            .fetch_optional(&self.reader)
            .await?)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%org))]
    async fn list_calls(
        &self,
        org: &OrgName,
        filter: &ListFilter,
    ) -> Result<Vec<Call>, StorageError> {
        self.list(org, filter, &CALL_FILTERS).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%org, %id))]
    async fn task(&self, org: &OrgName, id: SalesforceId) -> Result<Option<Task>, StorageError> {
        self.by_id(org, id).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%org))]
    async fn list_tasks(
        &self,
        org: &OrgName,
        filter: &ListFilter,
    ) -> Result<Vec<Task>, StorageError> {
        self.list(org, filter, &TASK_FILTERS).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%org, %id))]
    async fn voip_error(
        &self,
        org: &OrgName,
        id: SalesforceId,
    ) -> Result<Option<VoipErrorLog>, StorageError> {
        self.by_id(org, id).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%org))]
    async fn list_voip_errors(
        &self,
        org: &OrgName,
        filter: &ListFilter,
    ) -> Result<Vec<VoipErrorLog>, StorageError> {
        self.list(org, filter, &VOIP_ERROR_FILTERS).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%org))]
    async fn list_opt_outs(
        &self,
        org: &OrgName,
        filter: &ListFilter,
    ) -> Result<Vec<OptOut>, StorageError> {
        self.list(org, filter, &OPT_OUT_FILTERS).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%org, routes = routes.len()))]
    async fn opted_out(
        &self,
        org: &OrgName,
        routes: &[(DialledNumber, DialledNumber)],
    ) -> Result<Vec<(DialledNumber, DialledNumber)>, StorageError> {
        if routes.is_empty() || !self.opt_outs.may_hold(org) {
            return Ok(Vec::new());
        }
        self.screens.opted_out(org, routes).await
    }
}
