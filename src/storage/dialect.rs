//! What PostgreSQL and SQLite do differently. The SQL in `sql/` is written once and compiled
//! for each backend; the backend module names its database (`Db`) and implements this.

pub(super) trait Dialect: sqlx::Database {
    /// Ends a `SELECT` that locks the rows it reads until commit, where the database has row
    /// locks. SQLite has none and needs none: its one writer connection serialises every
    /// read-modify-write.
    const FOR_UPDATE: &'static str;
    /// Ends a `SELECT` that locks the rows it reads and skips those another transaction
    /// holds, so that several instances share out the work.
    const FOR_UPDATE_SKIP_LOCKED: &'static str;
    /// What goes before and after the `VALUES` of new events: an `INSERT INTO events (org,
    /// kind, payload, created_at)` that returns their seqs and, where several instances share the
    /// database, announces their seqs to every instance on commit, in the same statement.
    const INSERT_EVENTS: (&'static str, &'static str);
    /// How a group commit that only inserts sends its inserts: as one query, not one per
    /// table ([`InsertsAsOne`]).
    const INSERTS_AS_ONE: InsertsAsOne;
    /// Whether the database relays committed events to every instance, this one included.
    /// Where it does not (one process owns the database), events are published in-process
    /// after the commit.
    const RELAYS_EVENTS: bool;
    /// Whether this process is the database's only writer (a SQLite file is claimed by one
    /// process), so that what it committed is all there is.
    const SOLE_WRITER: bool;
    /// Whether the database runs in this process (SQLite, on threads of sqlx's). A connection
    /// idle in its pool was pinged as it was given back (sqlx does so) and has had nothing
    /// to do since, so there is nothing a ping before its next use could find: a ping is a
    /// round trip to its thread and no further.
    const IN_PROCESS: bool;
    /// Whether parameters are numbered (`$1`, `$2`, ...) in statements built at run time,
    /// or each is `?`.
    const NUMBERED_PARAMETERS: bool;
    /// How many group commits may run at once.
    const GROUP_COMMITS: usize;
    /// Forget the events created before `$1`, in order: those below the first one created
    /// at `$1` or later, or all of them when none was.
    const PRUNE_EVENTS: &'static [&'static str];
    /// Forget the events of the org `$1`, in order, within a transaction.
    const FORGET_EVENTS: &'static [&'static str];

    /// The seq of the last row a query inserted, where the database tells it with the
    /// query's outcome (SQLite's last rowid); `None` where it does not.
    fn last_insert_id(done: &Self::QueryResult) -> Option<i64>;
}

/// How a group commit that only inserts (`sql/commit.rs`) sends its inserts as one query.
pub(super) enum InsertsAsOne {
    /// One statement of data-modifying `WITH` queries (PostgreSQL), the events' insert last:
    /// the head of `INSERT_EVENTS` as one such query, up to its `VALUES`, and what ends the
    /// statement after them. A statement is a transaction of its own: one round trip
    /// instead of `BEGIN`, a statement per table and `COMMIT`.
    With {
        events: (&'static str, &'static str),
    },
    /// Statements one after another, `;` between them, from a `BEGIN` to a `COMMIT` of
    /// the same query (SQLite): one call to the connection's thread, instead of one per
    /// table and one each to begin and to commit. The events' insert, the head and tail of
    /// `events` around its `VALUES`, is the last, and returns nothing: the rows of one
    /// `INSERT` take consecutive seqs in the order of its `VALUES`, so the last one's seq
    /// (`Dialect::last_insert_id`) tells them all. (`RETURNING` would cost SQLite a
    /// temporary table and a statement journal each time.)
    Statements {
        events: (&'static str, &'static str),
    },
}

impl InsertsAsOne {
    /// What goes before and after the `VALUES` of the events' insert.
    pub(super) const fn events(&self) -> (&'static str, &'static str) {
        match *self {
            Self::With { events } | Self::Statements { events } => events,
        }
    }
}
