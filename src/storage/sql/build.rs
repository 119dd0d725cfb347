//! Statements built at run time, for the writes: multi-row `INSERT`s and the group commit's
//! query of all its inserts (`commit.rs`); and for the group read of opt-outs (`screen.rs`).
//!
//! sqlx's `QueryBuilder` would do, but writes each `$n` through `fmt` (a few hundred
//! instructions per value, on every request's write) and panics on a value it cannot
//! encode. [`Sql`] writes the placeholders directly and reports such a value as the
//! statement's error.

use sqlx::error::BoxDynError;
use sqlx::query::{Query, QueryAs};
use sqlx::{Arguments, AssertSqlSafe, Database, Encode, FromRow, Type};

use super::{Db, DbRow};
use crate::storage::dialect::Dialect;

type DbArguments = <Db as Database>::Arguments;

/// The most values a statement may bind and still be prepared once and kept by the
/// connection (sqlx's statement cache): a single request's write, or a group's of up to about
/// 18 single SMS, whose shapes come back again and again under load. Unprepared, PostgreSQL
/// parses and plans each group's statement anew: at 256, groups of more than 7 SMS were, and
/// that cost PostgreSQL about a fifth of its CPU per SMS at 16 clients (BENCHMARKS.md). A
/// larger statement's shape (a bulk call's, a group's under heavier load) comes back less
/// often, and kept it costs memory on every connection: at 2,048 the server's peak RSS grew
/// by 9 MB for 7% less of PostgreSQL's CPU.
const PREPARED_VALUES: usize = 640;

/// A statement's SQL, with a placeholder for each value bound as it was written, and the
/// values.
pub(in crate::storage) struct Sql {
    sql: String,
    arguments: DbArguments,
    /// The first value that could not be encoded.
    failed: Option<BoxDynError>,
}

impl Sql {
    pub(in crate::storage) fn new(sql: &str) -> Self {
        let mut text = String::with_capacity(1024);
        text.push_str(sql);
        // Room for a single request's write, so that the values do not grow it a step at a
        // time.
        let mut arguments = DbArguments::default();
        arguments.reserve(32, 1024);
        Self {
            sql: text,
            arguments,
            failed: None,
        }
    }

    pub(in crate::storage) fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Binds `value` where the SQL has got to.
    pub(in crate::storage) fn bind<'t, T>(&mut self, value: T) -> &mut Self
    where
        T: Encode<'t, Db> + Type<Db>,
    {
        if let Err(error) = self.arguments.add(value) {
            self.failed.get_or_insert(error);
        }
        if Db::NUMBERED_PARAMETERS {
            self.sql.push('$');
            self.sql
                .push_str(itoa::Buffer::new().format(self.arguments.len()));
        } else {
            self.sql.push('?');
        }
        self
    }

    /// `VALUES (...), (...)`: a row for each of `rows`, its values bound by `bind`.
    pub(in crate::storage) fn values<R>(
        &mut self,
        rows: impl IntoIterator<Item = R>,
        mut bind: impl FnMut(&mut ValuesRow<'_>, R),
    ) -> &mut Self {
        self.sql.push_str("VALUES ");
        for (i, row) in rows.into_iter().enumerate() {
            self.sql.push_str(if i == 0 { "(" } else { ", (" });
            bind(
                &mut ValuesRow {
                    sql: self,
                    first: true,
                },
                row,
            );
            self.sql.push(')');
        }
        self
    }

    /// `(...)`: `values`, each bound, separated by commas (the list of an `IN`).
    pub(in crate::storage) fn list<'t, T>(
        &mut self,
        values: impl IntoIterator<Item = T>,
    ) -> &mut Self
    where
        T: Encode<'t, Db> + Type<Db>,
    {
        let mut row = ValuesRow {
            sql: self,
            first: true,
        };
        row.sql.sql.push('(');
        for value in values {
            row.bind(value);
        }
        row.sql.sql.push(')');
        self
    }

    /// The statement, to execute; the error of a value that could not be encoded.
    pub(in crate::storage) fn query(self) -> Result<Query<'static, Db, DbArguments>, sqlx::Error> {
        let (sql, arguments, prepared) = self.finished()?;
        Ok(sqlx::query_with(sql, arguments).persistent(prepared))
    }

    /// [`Sql::query`], its rows read as `O`.
    pub(in crate::storage) fn query_as<O>(
        self,
    ) -> Result<QueryAs<'static, Db, O, DbArguments>, sqlx::Error>
    where
        O: for<'r> FromRow<'r, DbRow>,
    {
        let (sql, arguments, prepared) = self.finished()?;
        Ok(sqlx::query_as_with(sql, arguments).persistent(prepared))
    }

    /// The SQL, the values, and whether to keep the statement prepared
    /// ([`PREPARED_VALUES`]); the error of a value that could not be encoded.
    fn finished(self) -> Result<(AssertSqlSafe<String>, DbArguments, bool), sqlx::Error> {
        if let Some(error) = self.failed {
            return Err(sqlx::Error::Encode(error));
        }
        let prepared = self.arguments.len() <= PREPARED_VALUES;
        Ok((AssertSqlSafe(self.sql), self.arguments, prepared))
    }

    #[cfg(test)]
    fn text(&self) -> &str {
        &self.sql
    }
}

/// One row of a `VALUES` list: its values, separated by commas.
pub(in crate::storage) struct ValuesRow<'s> {
    sql: &'s mut Sql,
    first: bool,
}

impl ValuesRow<'_> {
    pub(in crate::storage) fn bind<'t, T>(&mut self, value: T) -> &mut Self
    where
        T: Encode<'t, Db> + Type<Db>,
    {
        if !self.first {
            self.sql.sql.push_str(", ");
        }
        self.first = false;
        self.sql.bind(value);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_the_values_bound() {
        let mut sql = Sql::new("INSERT INTO t (a, b) ");
        sql.values(0..11, |row, i| {
            row.bind(i).bind("x");
        });
        sql.push(" RETURNING a");
        let expected = if Db::NUMBERED_PARAMETERS {
            let rows: Vec<String> = (0..11)
                .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
                .collect();
            format!(
                "INSERT INTO t (a, b) VALUES {} RETURNING a",
                rows.join(", ")
            )
        } else {
            let rows = ["(?, ?)"; 11];
            format!(
                "INSERT INTO t (a, b) VALUES {} RETURNING a",
                rows.join(", ")
            )
        };
        assert_eq!(sql.text(), expected);
        assert!(sql.query().is_ok());
    }

    #[test]
    fn a_list_binds_each_value() {
        let mut sql = Sql::new("SELECT a FROM t WHERE a IN ");
        sql.list(["x", "y", "z"]).push(" AND b IN ").list([1]);
        let expected = if Db::NUMBERED_PARAMETERS {
            "SELECT a FROM t WHERE a IN ($1, $2, $3) AND b IN ($4)"
        } else {
            "SELECT a FROM t WHERE a IN (?, ?, ?) AND b IN (?)"
        };
        assert_eq!(sql.text(), expected);
    }
}
