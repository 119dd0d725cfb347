-- Many orgs side by side (SPEC 11): every row belongs to one org, by name, and what the
-- database held before becomes the org `default`. Each `org` column loses its default
-- once filled, so that a write that forgets its org fails instead of landing in `default`.
CREATE TABLE orgs (
    name       TEXT   PRIMARY KEY,
    document   TEXT   NOT NULL,
    version    BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
INSERT INTO orgs (name, document, version, updated_at)
    SELECT 'default', document, version, updated_at FROM org_data;
DROP TABLE org_data;

ALTER TABLE sms_messages ADD COLUMN org TEXT NOT NULL DEFAULT 'default';
ALTER TABLE sms_messages ALTER COLUMN org DROP DEFAULT;
CREATE INDEX sms_messages_org ON sms_messages (org, seq);

ALTER TABLE calls ADD COLUMN org TEXT NOT NULL DEFAULT 'default';
ALTER TABLE calls ALTER COLUMN org DROP DEFAULT;
CREATE INDEX calls_org ON calls (org, seq);

ALTER TABLE tasks ADD COLUMN org TEXT NOT NULL DEFAULT 'default';
ALTER TABLE tasks ALTER COLUMN org DROP DEFAULT;
CREATE INDEX tasks_org ON tasks (org, seq);

ALTER TABLE voip_errors ADD COLUMN org TEXT NOT NULL DEFAULT 'default';
ALTER TABLE voip_errors ALTER COLUMN org DROP DEFAULT;
CREATE INDEX voip_errors_org ON voip_errors (org, seq);

ALTER TABLE status_log ADD COLUMN org TEXT NOT NULL DEFAULT 'default';
ALTER TABLE status_log ALTER COLUMN org DROP DEFAULT;
CREATE INDEX status_log_org ON status_log (org, seq);

ALTER TABLE events ADD COLUMN org TEXT NOT NULL DEFAULT 'default';
ALTER TABLE events ALTER COLUMN org DROP DEFAULT;
CREATE INDEX events_org ON events (org, seq);

ALTER TABLE pending_steps ADD COLUMN org TEXT NOT NULL DEFAULT 'default';
ALTER TABLE pending_steps ALTER COLUMN org DROP DEFAULT;
CREATE INDEX pending_steps_org ON pending_steps (org);

-- A user's status and an idempotency key are the org's own: the same user Id or key in
-- two orgs is two rows.
ALTER TABLE user_states ADD COLUMN org TEXT NOT NULL DEFAULT 'default';
ALTER TABLE user_states ALTER COLUMN org DROP DEFAULT;
ALTER TABLE user_states DROP CONSTRAINT user_states_pkey;
ALTER TABLE user_states ADD PRIMARY KEY (org, user_id);

ALTER TABLE idempotency_keys ADD COLUMN org TEXT NOT NULL DEFAULT 'default';
ALTER TABLE idempotency_keys ALTER COLUMN org DROP DEFAULT;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys ADD PRIMARY KEY (org, key);

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
