//! A database of each test's own, on SQLite or PostgreSQL.

use sqlx::Connection;
use tempfile::TempDir;

use super::{Backend, POSTGRES_URL_VAR, init_logging};

/// A database of the test's own: a SQLite file in a temporary directory, or a PostgreSQL
/// database created for it and dropped after.
pub struct TestDb {
    pub url: String,
    _dir: Option<TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// Runs `sql` on the database behind the emulator's back: to plant what it could not
    /// have written.
    pub async fn execute(&self, sql: &str) {
        let statement = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()));
        let url = &self.url;
        if url.starts_with("sqlite:") {
            let mut conn = sqlx::SqliteConnection::connect(url).await.expect("SQLite");
            statement.execute(&mut conn).await.expect(sql);
        } else {
            let mut conn = sqlx::PgConnection::connect(url).await.expect("PostgreSQL");
            statement.execute(&mut conn).await.expect(sql);
        }
    }

    /// Brings the database's schema to the migration `version`, as an earlier release left
    /// it.
    pub async fn migrate_to(&self, version: i64) {
        let dir = if self.url.starts_with("sqlite:") {
            "sqlite"
        } else {
            "postgres"
        };
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(dir);
        let mut migrator = sqlx::migrate::Migrator::new(path)
            .await
            .expect("the migrations");
        let earlier: Vec<_> = migrator
            .migrations
            .iter()
            .filter(|m| m.version <= version)
            .cloned()
            .collect();
        migrator.migrations = earlier.into();
        if self.url.starts_with("sqlite:") {
            let options: sqlx::sqlite::SqliteConnectOptions =
                self.url.parse().expect("a SQLite URL");
            let mut conn = sqlx::SqliteConnection::connect_with(&options.create_if_missing(true))
                .await
                .expect("SQLite");
            migrator
                .run(&mut conn)
                .await
                .expect("the earlier migrations");
        } else {
            let mut conn = sqlx::PgConnection::connect(&self.url)
                .await
                .expect("PostgreSQL");
            migrator
                .run(&mut conn)
                .await
                .expect("the earlier migrations");
        }
    }

    pub async fn new(backend: Backend) -> Self {
        init_logging();
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let url = format!("sqlite:{}", dir.path().join("test.db").display());
                Self {
                    url,
                    _dir: Some(dir),
                    postgres: None,
                }
            }
            Backend::Postgres => Self::postgres(None).await,
        }
    }

    /// A PostgreSQL database of the test's own; with `tablespace`, its tables live in that
    /// directory (which the PostgreSQL server's user owns).
    pub async fn postgres(tablespace: Option<&std::path::Path>) -> Self {
        init_logging();
        let admin_url = std::env::var(POSTGRES_URL_VAR).expect("the PostgreSQL URL");
        let name = format!("fc_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .expect("PostgreSQL is reachable");
        let create = format!("CREATE DATABASE {name}");
        sqlx::query(sqlx::AssertSqlSafe(create))
            .execute(&mut admin)
            .await
            .expect("a test database");
        if let Some(location) = tablespace {
            // Only the tables go there: the catalogs a new database copies stay out, so the
            // whole of a small tablespace is the tables' to fill.
            for sql in [
                format!("CREATE TABLESPACE {name} LOCATION '{}'", location.display()),
                format!("ALTER DATABASE {name} SET default_tablespace = {name}"),
            ] {
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&mut admin)
                    .await
                    .expect("a test tablespace");
            }
        }
        let mut url = url::Url::parse(&admin_url).expect("a PostgreSQL URL");
        url.set_path(&name);
        Self {
            url: url.to_string(),
            _dir: None,
            postgres: Some((admin_url, name)),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot block on itself.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                    // The tablespace of the same name, where a test made one.
                    for sql in [
                        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                        format!("DROP TABLESPACE IF EXISTS {name}"),
                    ] {
                        let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                            .execute(&mut admin)
                            .await;
                    }
                }
            });
        })
        .join();
    }
}
