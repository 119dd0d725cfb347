-- Fewer B-trees written per action on SQLite (issue 19). Every index entry is a B-tree insert
-- and, since actions here commit one at a time more often than not, a page written whole to
-- the WAL and checksummed at each commit: about 6,000 instructions a record.
--
-- One process serves a SQLite file (the file's claim) and it is seldom shared by many orgs, so
-- the lists walk the records newest first (`seq`, the rowid) and keep only the indexes that
-- find a few records among many: to, related record (a Task's who and what), Id and
-- provider Id. An org's records are those of every org in the file, read newest first until
-- a page of them is found; a user sends a large share of an org's messages and calls, so the
-- user filter finds its page the same way, as the from and status filters always have.
-- PostgreSQL, which instances and orgs share, keeps its indexes.
DROP INDEX sms_messages_org;
DROP INDEX calls_org;
DROP INDEX tasks_org;
DROP INDEX status_log_org;
DROP INDEX voip_errors_org;
DROP INDEX sms_messages_user_id;
DROP INDEX calls_user_id;

-- Events without AUTOINCREMENT, which updated sqlite_sequence (a page of its own) at every
-- commit. A new event now takes one above the highest seq in the table, so the newest event
-- is never deleted: the prune keeps it, and forgetting an org's events blanks it instead
-- (no org is named ''), so that a seq is never given twice. The highest seq ever given is
-- kept here the same way, as a blank event, when it is above every event left.
CREATE TABLE events_by_rowid (
    seq        INTEGER PRIMARY KEY,
    kind       TEXT   NOT NULL,
    payload    TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    org        TEXT   NOT NULL DEFAULT 'default'
);
INSERT INTO events_by_rowid (seq, kind, payload, created_at, org)
    SELECT seq, kind, payload, created_at, org FROM events;
INSERT INTO events_by_rowid (seq, kind, payload, created_at, org)
    SELECT seq, '', '', 0, '' FROM sqlite_sequence
    WHERE name = 'events' AND seq > (SELECT coalesce(max(seq), 0) FROM events);
DROP TABLE events;
ALTER TABLE events_by_rowid RENAME TO events;
