//! Idempotency keys, over SQL.

use super::build::Sql;
use super::{Db, SqlStorage, begin, statement};
use crate::domain::{OrgName, Timestamp};
use crate::storage::dialect::Dialect;
use crate::storage::{Claim, IdempotencyStore, KeyClaim, KeyedAnswer, StorageError, StoredAnswer};
use async_trait::async_trait;

// A key is its org's: `$1` is the org, `$2` the key.
const INSERT_KEY: &str = "INSERT INTO idempotency_keys (org, key, fingerprint, status, body, created_at, locked_until) \
     VALUES ($1, $2, $3, NULL, NULL, $4, $5) ON CONFLICT (org, key) DO NOTHING RETURNING key";
const RECLAIM_KEY: &str = "UPDATE idempotency_keys SET fingerprint = $3, status = NULL, body = NULL, \
     created_at = $4, locked_until = $5 WHERE org = $1 AND key = $2";
const ANSWER_KEY: &str =
    "UPDATE idempotency_keys SET status = $3, body = $4 WHERE org = $1 AND key = $2";

/// [`ANSWER_KEY`] for several keys at once, alone or as one write of a larger query. The answers'
/// columns are `VALUES`' own names (`column1` ...), which both databases give them.
pub(super) fn push_answer_keys<'a>(
    statement: &mut Sql,
    answers: impl IntoIterator<Item = (&'a OrgName, &'a KeyedAnswer)>,
) {
    statement
        .push("UPDATE idempotency_keys SET status = answer.column3, body = answer.column4 FROM (");
    statement.values(answers, |row, (org, keyed)| {
        row.bind(org)
            .bind(&keyed.key)
            .bind(i32::from(keyed.answer.status))
            .bind(&keyed.answer.body);
    });
    statement.push(
        ") AS answer \
         WHERE idempotency_keys.org = answer.column1 AND idempotency_keys.key = answer.column2",
    );
}

/// A key as stored.
#[derive(sqlx::FromRow)]
struct KeyRow {
    fingerprint: String,
    status: Option<i32>,
    body: Option<String>,
    created_at: Timestamp,
    locked_until: Timestamp,
}

#[async_trait]
impl IdempotencyStore for SqlStorage {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn claim_key(&self, claim: &KeyClaim<'_>) -> Result<Claim, StorageError> {
        let &KeyClaim {
            org,
            key,
            fingerprint,
            now,
            lease,
            expired_before,
        } = claim;
        let locked_until = Timestamp::from_millis(now.millis() + lease.as_millis() as i64);
        let mut tx = begin(&self.writer).await?;
        // Both statements take the claim as `$1` to `$5`.
        let claiming = |sql| {
            sqlx::query(sql)
                .bind(org)
                .bind(key)
                .bind(fingerprint)
                .bind(now)
                .bind(locked_until)
        };
        let inserted = claiming(INSERT_KEY).fetch_optional(&mut *tx).await?;
        if inserted.is_some() {
            tx.commit().await?;
            return Ok(Claim::Claimed);
        }
        let lock_key = statement!(
            "SELECT fingerprint, status, body, created_at, locked_until FROM idempotency_keys \
             WHERE org = $1 AND key = $2",
            Db::FOR_UPDATE
        );
        let row: KeyRow = sqlx::query_as(lock_key)
            .bind(org)
            .bind(key)
            .fetch_one(&mut *tx)
            .await?;
        let reclaim =
            row.created_at < expired_before || (row.status.is_none() && row.locked_until <= now);
        let claim = if reclaim {
            // Forgotten, or its first request died before answering: the key starts afresh.
            claiming(RECLAIM_KEY).execute(&mut *tx).await?;
            Claim::Claimed
        } else if row.fingerprint != fingerprint {
            Claim::Mismatch
        } else {
            match (row.status, row.body) {
                (Some(status), Some(body)) => Claim::Answered(StoredAnswer {
                    status: status as u16,
                    body,
                }),
                _ => Claim::Running,
            }
        };
        tx.commit().await?;
        Ok(claim)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn answer_key(
        &self,
        org: &OrgName,
        key: &str,
        answer: &StoredAnswer,
    ) -> Result<(), StorageError> {
        sqlx::query(ANSWER_KEY)
            .bind(org)
            .bind(key)
            .bind(i32::from(answer.status))
            .bind(&answer.body)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn release_key(&self, org: &OrgName, key: &str) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM idempotency_keys WHERE org = $1 AND key = $2 AND status IS NULL")
            .bind(org)
            .bind(key)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn prune_keys(&self, before: Timestamp) -> Result<(), StorageError> {
        self.delete_before("DELETE FROM idempotency_keys WHERE created_at < $1", before)
            .await
    }
}
