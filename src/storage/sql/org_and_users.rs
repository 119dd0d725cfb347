//! The `Storage` trait over SQL: the org data, user statuses and their log, and events.

use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use tokio::sync::broadcast;

use super::commit::{NewEvent, insert_events, insert_rows};
use super::{Connection, Db, SELECT_EVENTS, STATUS_LOG_FILTERS, SqlStorage, begin, statement};
use crate::domain::objects::StatusType;
use crate::domain::{OrgName, SalesforceId, Timestamp};
use crate::org::{OrgDocument, key_digest};
use crate::records::{Change, StatusLogEntry, StoredEvent, UserState, UserStatusValue};
use crate::storage::dialect::Dialect;
use crate::storage::{
    EncodeEvent, ListFilter, OrgSummary, StatusChange, StatusChangeOutcome, Storage, StorageError,
    StorageGauges,
};

/// Everything `reset` forgets of an org (`$1`) but its events (`Dialect::FORGET_EVENTS`)
/// and its org data.
const CLEAR_ACTIVITY: [&str; 9] = [
    "DELETE FROM tasks WHERE org = $1",
    "DELETE FROM voip_errors WHERE org = $1",
    "DELETE FROM sms_messages WHERE org = $1",
    "DELETE FROM calls WHERE org = $1",
    "DELETE FROM status_log WHERE org = $1",
    "DELETE FROM user_states WHERE org = $1",
    "DELETE FROM pending_steps WHERE org = $1",
    "DELETE FROM idempotency_keys WHERE org = $1",
    "DELETE FROM opt_outs WHERE org = $1",
];

// A user's state is its org's (`$1`).
const SEED_USER_STATE: &str = "INSERT INTO user_states (org, user_id, user_status_id, status_type, changed_at) \
     VALUES ($1, $2, $3, $4, NULL) ON CONFLICT (org, user_id) DO NOTHING";
const UPDATE_USER_STATE: &str = "UPDATE user_states SET user_status_id = $3, status_type = $4, changed_at = $5 \
     WHERE org = $1 AND user_id = $2";
const DELETE_KEYS: &str = "DELETE FROM api_keys WHERE org = $1";
const UPSERT_ORG: &str = "INSERT INTO orgs (name, document, version, updated_at) VALUES ($1, $2, 1, $3) \
     ON CONFLICT (name) DO UPDATE SET document = excluded.document, version = orgs.version + 1, \
     updated_at = excluded.updated_at RETURNING version";

/// What the probe write stores besides its time: as many bytes as a request's write takes
/// (a message, its event, its indexes), in digits that do not compress, so that the probe
/// fits exactly when a request's write would.
static PROBE_PADDING: LazyLock<String> = LazyLock::new(|| {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..64 * 1024)
        .map(|_| {
            // xorshift64: cheap, and no pattern a database's compression finds.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(b'0' + (state % 10) as u8)
        })
        .collect()
});

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

/// Stores the org's data, creating the org or replacing its data, with its API keys (a key
/// another org holds is a `Conflict`); answers the `org.replaced` event to store with it.
async fn upsert_org(
    conn: &mut Connection,
    org: &OrgName,
    document: &OrgDocument,
    now: Timestamp,
    encode: EncodeEvent,
) -> Result<NewEvent, StorageError> {
    let (version,): (i64,) = sqlx::query_as(UPSERT_ORG)
        .bind(org)
        .bind(org_json(document)?)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query(DELETE_KEYS)
        .bind(org)
        .execute(&mut *conn)
        .await?;
    for api_key in &document.api_keys {
        sqlx::query("INSERT INTO api_keys (digest, org) VALUES ($1, $2)")
            .bind(key_digest(&api_key.key))
            .bind(org)
            .execute(&mut *conn)
            .await?;
    }
    Ok(NewEvent::of(org, &Change::OrgReplaced { version }, encode))
}

#[async_trait]
impl Storage for SqlStorage {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn ping(&self) -> Result<(), StorageError> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn probe_write(&self) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO write_probe (id, probed_at, padding) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at, \
             padding = excluded.padding",
        )
        .bind(Timestamp::now())
        .bind(PROBE_PADDING.as_str())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%org))]
    async fn load_org(&self, org: &OrgName) -> Result<Option<OrgDocument>, StorageError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT document FROM orgs WHERE name = $1")
            .bind(org)
            .fetch_optional(&self.reader)
            .await?;
        row.map(|(json,)| {
            serde_json::from_str(&json)
                .map_err(|e| StorageError::Corrupt(format!("stored org data: {e}")))
        })
        .transpose()
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn load_orgs(&self) -> Result<Vec<(OrgName, OrgDocument)>, StorageError> {
        let rows: Vec<(OrgName, String)> =
            sqlx::query_as("SELECT name, document FROM orgs ORDER BY name")
                .fetch_all(&self.reader)
                .await?;
        rows.into_iter()
            .map(|(name, json)| {
                let document = serde_json::from_str(&json).map_err(|e| {
                    StorageError::Corrupt(format!("stored data of the org {name}: {e}"))
                })?;
                Ok((name, document))
            })
            .collect()
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn list_orgs(&self) -> Result<Vec<OrgSummary>, StorageError> {
        let orgs: Vec<(OrgName, i64, Timestamp)> =
            sqlx::query_as("SELECT name, version, updated_at FROM orgs ORDER BY name")
                .fetch_all(&self.reader)
                .await?;
        let mut summaries: Vec<OrgSummary> = orgs
            .into_iter()
            .map(|(name, version, updated_at)| OrgSummary {
                name,
                version,
                updated_at,
                messages: 0,
                calls: 0,
                tasks: 0,
                status_changes: 0,
                voip_errors: 0,
                opt_outs: 0,
            })
            .collect();
        let counted: [(&str, fn(&mut OrgSummary) -> &mut i64); 6] = [
            ("SELECT org, COUNT(*) FROM sms_messages GROUP BY org", |s| {
                &mut s.messages
            }),
            ("SELECT org, COUNT(*) FROM calls GROUP BY org", |s| {
                &mut s.calls
            }),
            ("SELECT org, COUNT(*) FROM tasks GROUP BY org", |s| {
                &mut s.tasks
            }),
            ("SELECT org, COUNT(*) FROM status_log GROUP BY org", |s| {
                &mut s.status_changes
            }),
            ("SELECT org, COUNT(*) FROM voip_errors GROUP BY org", |s| {
                &mut s.voip_errors
            }),
            ("SELECT org, COUNT(*) FROM opt_outs GROUP BY org", |s| {
                &mut s.opt_outs
            }),
        ];
        for (sql, count) in counted {
            let counts: Vec<(OrgName, i64)> = sqlx::query_as(sql).fetch_all(&self.reader).await?;
            for (org, n) in counts {
                if let Ok(at) = summaries.binary_search_by(|s| s.name.cmp(&org)) {
                    *count(&mut summaries[at]) = n;
                }
            }
        }
        Ok(summaries)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%org))]
    async fn delete_org(&self, org: &OrgName) -> Result<bool, StorageError> {
        let now = Timestamp::now();
        let mut tx = begin(&self.writer).await?;
        let deleted = sqlx::query("DELETE FROM orgs WHERE name = $1")
            .bind(org)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        if !deleted {
            tx.rollback().await?;
            return Ok(false);
        }
        for &statement in CLEAR_ACTIVITY
            .iter()
            .chain(Db::FORGET_EVENTS)
            .chain(&[DELETE_KEYS])
        {
            sqlx::query(statement).bind(org).execute(&mut *tx).await?;
        }
        let gone = NewEvent::of(org, &Change::OrgDeleted, self.encode);
        let stored = insert_events(&mut tx, &[gone], now).await?;
        self.commit(tx, stored).await?;
        Ok(true)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%org))]
    async fn save_org(&self, org: &OrgName, document: &OrgDocument) -> Result<(), StorageError> {
        let now = Timestamp::now();
        let mut tx = begin(&self.writer).await?;
        let replaced = upsert_org(&mut tx, org, document, now, self.encode).await?;
        sqlx::query("DELETE FROM user_states WHERE org = $1")
            .bind(org)
            .execute(&mut *tx)
            .await?;
        let stored = insert_events(&mut tx, &[replaced], now).await?;
        self.commit(tx, stored).await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%org, with_org = document.is_some()))]
    async fn reset(
        &self,
        org: &OrgName,
        document: Option<&OrgDocument>,
    ) -> Result<(), StorageError> {
        let now = Timestamp::now();
        let mut tx = begin(&self.writer).await?;
        for &statement in CLEAR_ACTIVITY.iter().chain(Db::FORGET_EVENTS) {
            sqlx::query(statement).bind(org).execute(&mut *tx).await?;
        }
        let mut stored = Vec::new();
        if let Some(document) = document {
            let replaced = upsert_org(&mut tx, org, document, now, self.encode).await?;
            stored = insert_events(&mut tx, &[replaced], now).await?;
        }
        self.commit(tx, stored).await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%org, %user_id))]
    async fn user_state(
        &self,
        org: &OrgName,
        user_id: SalesforceId,
    ) -> Result<Option<UserState>, StorageError> {
        let sql = "SELECT user_status_id, status_type, changed_at FROM user_states \
                   WHERE org = $1 AND user_id = $2";
        let row: Option<UserStateRow> = sqlx::query_as(sql)
            .bind(org)
            .bind(user_id)
            .fetch_optional(&self.reader)
            .await?;
        Ok(row.map(user_state))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%org, changes = changes.len()))]
    async fn change_user_statuses(
        &self,
        org: &OrgName,
        changes: &[StatusChange],
    ) -> Result<Vec<StatusChangeOutcome>, StorageError> {
        let mut tx = begin(&self.writer).await?;
        // Lock every user's row first, in Id order, so that two invocations naming the same
        // users in different orders cannot deadlock. A user without a row has the org's
        // status: give it one, then lock it.
        let mut users: Vec<_> = changes.iter().map(|c| (c.user_id, c.initial)).collect();
        users.sort_unstable_by_key(|(user_id, _)| *user_id);
        users.dedup_by_key(|(user_id, _)| *user_id);
        let mut states = Vec::with_capacity(users.len());
        for (user_id, initial) in users {
            sqlx::query(SEED_USER_STATE)
                .bind(org)
                .bind(user_id)
                .bind(initial.user_status_id)
                .bind(initial.status_type)
                .execute(&mut *tx)
                .await?;
            let lock_state = statement!(
                "SELECT user_status_id, status_type, changed_at FROM user_states \
                 WHERE org = $1 AND user_id = $2",
                Db::FOR_UPDATE
            );
            let row: UserStateRow = sqlx::query_as(lock_state)
                .bind(org)
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
                .bind(org)
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
        let rows: Vec<_> = entries.iter().map(|entry| (org, *entry)).collect();
        insert_rows(&mut tx, &rows).await?;
        let changed: Vec<_> = entries
            .iter()
            .map(|entry| NewEvent::of(org, &Change::UserStatusChanged(entry), self.encode))
            .collect();
        let stored = insert_events(&mut tx, &changed, Timestamp::now()).await?;
        self.commit(tx, stored).await?;
        Ok(outcomes)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%org, %id))]
    async fn status_log_entry(
        &self,
        org: &OrgName,
        id: SalesforceId,
    ) -> Result<Option<StatusLogEntry>, StorageError> {
        self.by_id(org, id).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%org))]
    async fn list_status_log(
        &self,
        org: &OrgName,
        filter: &ListFilter,
    ) -> Result<Vec<StatusLogEntry>, StorageError> {
        self.list(org, filter, &STATUS_LOG_FILTERS).await
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<StoredEvent>> {
        self.publisher.subscribers.subscribe()
    }

    fn gauges(&self) -> StorageGauges {
        let pools = [
            Some(&self.writer),
            self.separate_reader.then_some(&self.reader),
        ];
        let (mut size, mut idle) = (0, 0);
        for pool in pools.into_iter().flatten() {
            size += pool.size();
            idle += u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
        }
        let (own_in_use, own_idle) = self.lanes.held();
        size += own_in_use + own_idle;
        idle += own_idle;
        StorageGauges {
            connections_in_use: size.saturating_sub(idle),
            connections_idle: idle,
            subscribers: self.publisher.subscribers.receiver_count(),
        }
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%org, after))]
    async fn events_after(
        &self,
        org: &OrgName,
        after: i64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StorageError> {
        let sql = statement!(
            SELECT_EVENTS,
            "WHERE org = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        );
        Ok(sqlx::query_as(sql)
            .bind(org)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await?)
    }

    /// Forgets the events created before `before` (`Dialect::PRUNE_EVENTS`): those below the
    /// first one created at `before` or later. Those were all created earlier, and the ones
    /// found are the ones deleted (plus one), so no index on their time is needed. An older
    /// event above a younger one (another instance's, whose clock runs behind) goes in a
    /// later prune.
    #[tracing::instrument(level = "debug", skip_all)]
    async fn prune_events(&self, before: Timestamp) -> Result<(), StorageError> {
        for &statement in Db::PRUNE_EVENTS {
            self.delete_before(statement, before).await?;
        }
        Ok(())
    }
}
