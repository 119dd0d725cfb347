//! What PostgreSQL and SQLite do differently. The SQL in `sql/` is written once and compiled
//! for each backend; the backend module names its database (`Db`) and implements this.

pub(super) trait Dialect {
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
    /// Where the database takes data-modifying `WITH` queries (PostgreSQL): `INSERT_EVENTS`
    /// as one such query, after the others, and what ends the statement. A group commit
    /// that only inserts is then one statement, one round trip, instead of a transaction
    /// of `BEGIN`, a statement per table and `COMMIT`. `None` where it does not.
    const EVENTS_LAST_IN_WITH: Option<(&'static str, &'static str)>;
    /// Whether the database relays committed events to every instance, this one included.
    /// Where it does not (one process owns the database), events are published in-process
    /// after the commit.
    const RELAYS_EVENTS: bool;
    /// Whether this process is the database's only writer (a SQLite file is claimed by one
    /// process), so that what it committed is all there is.
    const SOLE_WRITER: bool;
    /// Whether parameters are numbered (`$1`, `$2`, ...) in statements built at run time,
    /// or each is `?`.
    const NUMBERED_PARAMETERS: bool;
    /// How many group commits may run at once.
    const GROUP_COMMITS: usize;
}
