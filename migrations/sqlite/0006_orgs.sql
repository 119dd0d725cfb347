-- Many orgs side by side (SPEC 11): every row belongs to one org, by name, and what the
-- database held before becomes the org `default`. (SQLite keeps each added column's
-- default; PostgreSQL drops it, so a write that forgets its org fails in the tests.)
CREATE TABLE orgs (
    name       TEXT    PRIMARY KEY,
    document   TEXT    NOT NULL,
    version    BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);
INSERT INTO orgs (name, document, version, updated_at)
    SELECT 'default', document, version, updated_at FROM org_data;
DROP TABLE org_data;

ALTER TABLE sms_messages ADD COLUMN org TEXT NOT NULL DEFAULT 'default';
CREATE INDEX sms_messages_org ON sms_messages (org, seq);
ALTER TABLE calls ADD COLUMN org TEXT NOT NULL DEFAULT 'default';
CREATE INDEX calls_org ON calls (org, seq);
ALTER TABLE tasks ADD COLUMN org TEXT NOT NULL DEFAULT 'default';
CREATE INDEX tasks_org ON tasks (org, seq);
ALTER TABLE voip_errors ADD COLUMN org TEXT NOT NULL DEFAULT 'default';
CREATE INDEX voip_errors_org ON voip_errors (org, seq);
ALTER TABLE status_log ADD COLUMN org TEXT NOT NULL DEFAULT 'default';
CREATE INDEX status_log_org ON status_log (org, seq);
ALTER TABLE events ADD COLUMN org TEXT NOT NULL DEFAULT 'default';
CREATE INDEX events_org ON events (org, seq);
ALTER TABLE pending_steps ADD COLUMN org TEXT NOT NULL DEFAULT 'default';
CREATE INDEX pending_steps_org ON pending_steps (org);

-- A user's status and an idempotency key are the org's own: the same user Id or key in
-- two orgs is two rows. SQLite cannot change a primary key in place: the tables are made
-- again.
CREATE TABLE user_states_by_org (
    org            TEXT   NOT NULL,
    user_id        TEXT   NOT NULL,
    user_status_id TEXT,
    status_type    TEXT   NOT NULL,
    changed_at     BIGINT,
    PRIMARY KEY (org, user_id)
);
INSERT INTO user_states_by_org (org, user_id, user_status_id, status_type, changed_at)
    SELECT 'default', user_id, user_status_id, status_type, changed_at FROM user_states;
DROP TABLE user_states;
ALTER TABLE user_states_by_org RENAME TO user_states;

CREATE TABLE idempotency_keys_by_org (
    org          TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    fingerprint  TEXT    NOT NULL,
    status       INTEGER,
    body         TEXT,
    created_at   BIGINT  NOT NULL,
    locked_until BIGINT  NOT NULL,
    PRIMARY KEY (org, key)
);
INSERT INTO idempotency_keys_by_org (org, key, fingerprint, status, body, created_at, locked_until)
    SELECT 'default', key, fingerprint, status, body, created_at, locked_until FROM idempotency_keys;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_by_org RENAME TO idempotency_keys;
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

-- The write `/readyz` probes with while writes fail is as large as a request's: a full disk
-- that still takes a tiny row but no message is not ready.
ALTER TABLE write_probe ADD COLUMN padding TEXT;

-- Which org holds each API key, by the key's SHA-256 (hex): a key is unique on the server,
-- even when two instances store orgs at the same moment.
CREATE TABLE api_keys (
    digest TEXT PRIMARY KEY,
    org    TEXT NOT NULL
);
CREATE INDEX api_keys_org ON api_keys (org);
