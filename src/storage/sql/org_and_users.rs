//! The `Storage` trait over SQL: the org data, user statuses and their log, and events.

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::Executor;
use tokio::sync::broadcast;

use super::commit::{NewEvent, insert_events, insert_rows};
use super::{Db, SELECT_EVENTS, STATUS_LOG_FILTERS, SqlStorage, statement};
use crate::domain::objects::StatusType;
use crate::domain::{SalesforceId, Timestamp};
use crate::org::OrgDocument;
use crate::records::{Change, StatusLogEntry, StoredEvent, UserState, UserStatusValue};
use crate::storage::dialect::Dialect;
use crate::storage::{ListFilter, StatusChange, StatusChangeOutcome, Storage, StorageError};

/// Everything `reset` forgets: all but the org data.
const CLEAR_ACTIVITY: [&str; 9] = [
    "DELETE FROM tasks",
    "DELETE FROM voip_errors",
    "DELETE FROM sms_messages",
    "DELETE FROM calls",
    "DELETE FROM status_log",
    "DELETE FROM user_states",
    "DELETE FROM events",
    "DELETE FROM pending_steps",
    "DELETE FROM idempotency_keys",
];

const SEED_USER_STATE: &str = "INSERT INTO user_states (user_id, user_status_id, status_type, changed_at) \
     VALUES ($1, $2, $3, NULL) ON CONFLICT (user_id) DO NOTHING";
const UPDATE_USER_STATE: &str = "UPDATE user_states SET user_status_id = $2, status_type = $3, changed_at = $4 WHERE user_id = $1";
const UPSERT_ORG: &str = "INSERT INTO org_data (id, document, version, updated_at) VALUES (1, $1, 1, $2) \
     ON CONFLICT (id) DO UPDATE SET document = excluded.document, version = org_data.version + 1, \
     updated_at = excluded.updated_at RETURNING version";

type UserStateRow = (Option<SalesforceId>, StatusType, Option<Timestamp>);

fn user_state((user_status_id, status_type, changed_at): UserStateRow) -> UserState {
    UserState {
        status: UserStatusValue {
            user_status_id,
            status_type,
        },
        changed_at,
    }
}

fn org_json(document: &OrgDocument) -> Result<String, StorageError> {
    serde_json::to_string(document).map_err(|e| StorageError::Corrupt(e.to_string()))
}

#[async_trait]
impl Storage for SqlStorage {
    #[tracing::instrument(skip_all)]
    async fn ping(&self) -> Result<(), StorageError> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn probe_write(&self) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO write_probe (id, probed_at) VALUES (1, $1) \
             ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at",
        )
        .bind(Timestamp::now())
        .execute(&self.writer)
        .await?;
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
        let now = Timestamp::now();
        let mut tx = self.writer.begin().await?;
        let (version,): (i64,) = sqlx::query_as(UPSERT_ORG)
            .bind(org_json(document)?)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
        tx.execute("DELETE FROM user_states").await?;
        let replaced = NewEvent::of(&Change::OrgReplaced { version }, self.encode);
        let stored = insert_events(&mut tx, &[replaced], now).await?;
        tx.commit().await?;
        self.publish_committed(stored);
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(with_org = org.is_some()))]
    async fn reset(&self, org: Option<&OrgDocument>) -> Result<(), StorageError> {
        let now = Timestamp::now();
        let mut tx = self.writer.begin().await?;
        for statement in CLEAR_ACTIVITY {
            tx.execute(statement).await?;
        }
        let mut stored = Vec::new();
        if let Some(document) = org {
            let (version,): (i64,) = sqlx::query_as(UPSERT_ORG)
                .bind(org_json(document)?)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
            let replaced = NewEvent::of(&Change::OrgReplaced { version }, self.encode);
            stored = insert_events(&mut tx, &[replaced], now).await?;
        }
        tx.commit().await?;
        self.publish_committed(stored);
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(%user_id))]
    async fn user_state(&self, user_id: SalesforceId) -> Result<Option<UserState>, StorageError> {
        let sql =
            "SELECT user_status_id, status_type, changed_at FROM user_states WHERE user_id = $1";
        let row: Option<UserStateRow> = sqlx::query_as(sql)
            .bind(user_id)
            .fetch_optional(&self.reader)
            .await?;
        Ok(row.map(user_state))
    }

    #[tracing::instrument(skip_all, fields(changes = changes.len()))]
    async fn change_user_statuses(
        &self,
        changes: &[StatusChange],
    ) -> Result<Vec<StatusChangeOutcome>, StorageError> {
        let mut tx = self.writer.begin().await?;
        // Lock every user's row first, in Id order, so that two invocations naming the same
        // users in different orders cannot deadlock. A user without a row has the org's
        // status: give it one, then lock it.
        let mut users: Vec<_> = changes.iter().map(|c| (c.user_id, c.initial)).collect();
        users.sort_unstable_by_key(|(user_id, _)| *user_id);
        users.dedup_by_key(|(user_id, _)| *user_id);
        let mut states = Vec::with_capacity(users.len());
        for (user_id, initial) in users {
            sqlx::query(SEED_USER_STATE)
                .bind(user_id)
                .bind(initial.user_status_id)
                .bind(initial.status_type)
                .execute(&mut *tx)
                .await?;
            let lock_state = statement!(
                "SELECT user_status_id, status_type, changed_at FROM user_states WHERE user_id = $1",
                Db::FOR_UPDATE
            );
            let row: UserStateRow = sqlx::query_as(lock_state)
                .bind(user_id)
                .fetch_one(&mut *tx)
                .await?;
            states.push((user_id, user_state(row)));
        }
        // Then apply the changes in input order, each from the state the one before left.
        let mut outcomes = Vec::with_capacity(changes.len());
        for change in changes {
            let at = states.binary_search_by_key(&change.user_id, |(user_id, _)| *user_id);
            let state = &mut states[at.expect("every user's state was locked above")].1;
            let previous = *state;
            if previous.status == change.to {
                outcomes.push(StatusChangeOutcome {
                    previous,
                    logged: None,
                });
                continue;
            }
            // Read the clock under the lock, so the log's times follow its order.
            let now = Timestamp::now();
            sqlx::query(UPDATE_USER_STATE)
                .bind(change.user_id)
                .bind(change.to.user_status_id)
                .bind(change.to.status_type)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            *state = UserState {
                status: change.to,
                changed_at: Some(now),
            };
            let entry = StatusLogEntry {
                id: change.log_id,
                user_id: change.user_id,
                from_user_status_id: previous.status.user_status_id,
                from_status_type: previous.status.status_type,
                to_user_status_id: change.to.user_status_id,
                to_status_type: change.to.status_type,
                changed_at: now,
                changed_by: change.changed_by,
            };
            outcomes.push(StatusChangeOutcome {
                previous,
                logged: Some(entry),
            });
        }
        let entries: Vec<&StatusLogEntry> =
            outcomes.iter().filter_map(|o| o.logged.as_ref()).collect();
        if entries.is_empty() {
            tx.rollback().await?;
            return Ok(outcomes);
        }
        insert_rows(&mut tx, &entries).await?;
        let changed: Vec<_> = entries
            .iter()
            .map(|entry| NewEvent::of(&Change::UserStatusChanged(entry), self.encode))
            .collect();
        let stored = insert_events(&mut tx, &changed, Timestamp::now()).await?;
        tx.commit().await?;
        self.publish_committed(stored);
        Ok(outcomes)
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn status_log_entry(
        &self,
        id: SalesforceId,
    ) -> Result<Option<StatusLogEntry>, StorageError> {
        self.by_id(id).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_status_log(
        &self,
        filter: &ListFilter,
    ) -> Result<Vec<StatusLogEntry>, StorageError> {
        self.list(filter, &STATUS_LOG_FILTERS).await
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<StoredEvent>> {
        self.events.subscribe()
    }

    #[tracing::instrument(skip_all, fields(after))]
    async fn events_after(&self, after: i64, limit: u32) -> Result<Vec<StoredEvent>, StorageError> {
        let sql = statement!(SELECT_EVENTS, "WHERE seq > $1 ORDER BY seq LIMIT $2");
        Ok(sqlx::query_as(sql)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await?)
    }

    #[tracing::instrument(skip_all)]
    async fn prune_events(&self, before: Timestamp) -> Result<(), StorageError> {
        self.delete_before("DELETE FROM events WHERE created_at < $1", before)
            .await
    }
}
