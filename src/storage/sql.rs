//! The `Storage` implementation shared by PostgreSQL and SQLite. Both accept the same SQL
//! (`$n` parameters, `ON CONFLICT`, `RETURNING`), so the queries live here once; the
//! backend modules only open the database.

use async_trait::async_trait;
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Pool, QueryBuilder, Type};

use super::{ListFilter, SmsMessage, SmsRecord, Storage, StorageError, Task, VoipErrorLog};
use crate::domain::{E164, SalesforceId, SmsStatus, Timestamp};
use crate::org::OrgDocument;

/// Reads go to `reader`, writes to `writer`: the same pool on PostgreSQL, a one-connection
/// pool on SQLite, whose single writer would otherwise make writers queue on a busy lock.
pub(super) struct SqlStorage<DB: Database> {
    pub(super) reader: Pool<DB>,
    pub(super) writer: Pool<DB>,
}

// Column lists as macros, so whole statements can be `concat!`ed into static strings.
macro_rules! sms_columns {
    () => {
        "id, provider_id, created_at, updated_at, owner_id, user_id, phone_number_id, from_phone, to_phone, \
         body, media_url, related_record_id, task_id, status, error_code, error_message"
    };
}
macro_rules! task_columns {
    () => {
        "id, created_at, owner_id, subject, description, status, priority, task_subtype, who_id, what_id, \
         sms_message_id"
    };
}
macro_rules! voip_error_columns {
    () => {
        "id, created_at, record_type, record_id, provider, provider_id, error_code, error_message, from_phone, \
         to_phone, user_id"
    };
}

const INSERT_SMS: &str = concat!(
    "INSERT INTO sms_messages (",
    sms_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
);
const INSERT_TASK: &str = concat!(
    "INSERT INTO tasks (",
    task_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
);
const INSERT_VOIP_ERROR: &str = concat!(
    "INSERT INTO voip_errors (",
    voip_error_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
);
const UPSERT_ORG: &str = "INSERT INTO org_data (id, document, version, updated_at) VALUES (1, $1, 1, $2) \
     ON CONFLICT (id) DO UPDATE SET document = excluded.document, version = org_data.version + 1, \
     updated_at = excluded.updated_at";

/// Which filters apply to a list, and the columns they test.
struct FilterColumns {
    to: Option<&'static str>,
    from: Option<&'static str>,
    user: &'static str,
    /// Columns any of which may hold the related record.
    related: &'static [&'static str],
}

const SMS_FILTERS: FilterColumns = FilterColumns {
    to: Some("to_phone"),
    from: Some("from_phone"),
    user: "user_id",
    related: &["related_record_id"],
};
const TASK_FILTERS: FilterColumns = FilterColumns {
    to: None,
    from: None,
    user: "owner_id",
    related: &["who_id", "what_id"],
};
const VOIP_ERROR_FILTERS: FilterColumns = FilterColumns {
    to: Some("to_phone"),
    from: Some("from_phone"),
    user: "user_id",
    related: &["record_id"],
};

#[async_trait]
impl<DB> Storage for SqlStorage<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'c> &'c Pool<DB>: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> i32: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i32>: Encode<'q, DB> + Type<DB>,
    for<'q> SalesforceId: Encode<'q, DB> + Type<DB>,
    for<'q> Option<SalesforceId>: Encode<'q, DB> + Type<DB>,
    for<'q> E164: Encode<'q, DB> + Type<DB>,
    for<'q> Timestamp: Encode<'q, DB> + Type<DB>,
    for<'q> SmsStatus: Encode<'q, DB> + Type<DB>,
    for<'r> (String,): FromRow<'r, DB::Row>,
    for<'r> SmsMessage: FromRow<'r, DB::Row>,
    for<'r> Task: FromRow<'r, DB::Row>,
    for<'r> VoipErrorLog: FromRow<'r, DB::Row>,
{
    #[tracing::instrument(skip_all)]
    async fn ping(&self) -> Result<(), StorageError> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn load_org(&self) -> Result<Option<OrgDocument>, StorageError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT document FROM org_data WHERE id = 1")
            .fetch_optional(&self.reader)
            .await?;
        row.map(|(json,)| {
            serde_json::from_str(&json)
                .map_err(|e| StorageError::Corrupt(format!("stored org data: {e}")))
        })
        .transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn save_org(&self, document: &OrgDocument) -> Result<(), StorageError> {
        let json =
            serde_json::to_string(document).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        sqlx::query(UPSERT_ORG)
            .bind(json)
            .bind(Timestamp::now().millis())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(count = records.len()))]
    async fn record_sms(&self, records: &[SmsRecord]) -> Result<(), StorageError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut tx = self.writer.begin().await?;
        for record in records {
            let m = &record.message;
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
                .bind(m.error_code)
                .bind(m.error_message.clone())
                .execute(&mut *tx)
                .await?;
            if let Some(t) = &record.task {
                sqlx::query(INSERT_TASK)
                    .bind(t.id)
                    .bind(t.created_at)
                    .bind(t.owner_id)
                    .bind(t.subject.clone())
                    .bind(t.description.clone())
                    .bind(t.status.clone())
                    .bind(t.priority.clone())
                    .bind(t.task_subtype.clone())
                    .bind(t.who_id)
                    .bind(t.what_id)
                    .bind(t.sms_message_id)
                    .execute(&mut *tx)
                    .await?;
            }
            if let Some(e) = &record.voip_error {
                sqlx::query(INSERT_VOIP_ERROR)
                    .bind(e.id)
                    .bind(e.created_at)
                    .bind(e.record_type.clone())
                    .bind(e.record_id)
                    .bind(e.provider.clone())
                    .bind(e.provider_id.clone())
                    .bind(e.error_code)
                    .bind(e.error_message.clone())
                    .bind(e.from_phone)
                    .bind(e.to_phone)
                    .bind(e.user_id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
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

    #[tracing::instrument(skip_all, fields(provider_id))]
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

    #[tracing::instrument(skip_all, fields(with_org = org.is_some()))]
    async fn reset(&self, org: Option<&OrgDocument>) -> Result<(), StorageError> {
        let mut tx = self.writer.begin().await?;
        for statement in [
            "DELETE FROM tasks",
            "DELETE FROM voip_errors",
            "DELETE FROM sms_messages",
        ] {
            tx.execute(statement).await?;
        }
        if let Some(document) = org {
            let json = serde_json::to_string(document)
                .map_err(|e| StorageError::Corrupt(e.to_string()))?;
            sqlx::query(UPSERT_ORG)
                .bind(json)
                .bind(Timestamp::now().millis())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// `SELECT columns FROM table WHERE <filters> ORDER BY seq DESC LIMIT n`: newest first.
fn list_query<DB>(
    columns: &str,
    table: &str,
    filter: &ListFilter,
    on: &FilterColumns,
) -> QueryBuilder<DB>
where
    DB: Database,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> SalesforceId: Encode<'q, DB> + Type<DB>,
    for<'q> E164: Encode<'q, DB> + Type<DB>,
    for<'q> Timestamp: Encode<'q, DB> + Type<DB>,
{
    let mut query = QueryBuilder::new(format!("SELECT {columns} FROM {table} WHERE 1 = 1"));
    if let (Some(to), Some(column)) = (filter.to, on.to) {
        query.push(format_args!(" AND {column} = ")).push_bind(to);
    }
    if let (Some(from), Some(column)) = (filter.from, on.from) {
        query.push(format_args!(" AND {column} = ")).push_bind(from);
    }
    if let Some(user) = filter.user_id {
        query
            .push(format_args!(" AND {} = ", on.user))
            .push_bind(user);
    }
    if let Some(related) = filter.related_record_id {
        query.push(" AND (");
        for (i, column) in on.related.iter().enumerate() {
            if i > 0 {
                query.push(" OR ");
            }
            query.push(format_args!("{column} = ")).push_bind(related);
        }
        query.push(")");
    }
    if let Some(status) = &filter.status {
        query.push(" AND status = ").push_bind(status.clone());
    }
    if let Some(since) = filter.since {
        query.push(" AND created_at >= ").push_bind(since);
    }
    query
        .push(" ORDER BY seq DESC LIMIT ")
        .push_bind(i64::from(filter.limit));
    query
}
