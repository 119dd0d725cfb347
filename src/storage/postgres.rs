//! PostgreSQL: one pool for reads and writes; several instances may share the database.

use std::str::FromStr;

use sqlx::Postgres;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::sql::SqlStorage;
use super::{StorageError, StorageOptions};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

pub(super) async fn connect(
    url: &str,
    options: &StorageOptions,
) -> Result<SqlStorage<Postgres>, StorageError> {
    let connect_options = PgConnectOptions::from_str(url)
        .map_err(|e| StorageError::Config(format!("bad PostgreSQL URL: {e}")))?
        .application_name("fastcall-emulator");
    let pool = PgPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.acquire_timeout)
        .connect_with(connect_options)
        .await?;
    MIGRATOR
        .run(&pool)
        .await
        .map_err(|e| StorageError::Config(format!("migrating PostgreSQL: {e}")))?;
    Ok(SqlStorage {
        reader: pool.clone(),
        writer: pool,
    })
}
