CREATE TABLE calls (
    seq               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                TEXT    NOT NULL UNIQUE,
    provider_id       TEXT    UNIQUE,
    created_at        BIGINT  NOT NULL,
    updated_at        BIGINT  NOT NULL,
    owner_id          TEXT    NOT NULL,
    user_id           TEXT    NOT NULL,
    phone_number_id   TEXT    NOT NULL,
    from_phone        TEXT    NOT NULL,
    to_phone          TEXT    NOT NULL,
    ivr_id            TEXT    NOT NULL,
    related_record_id TEXT,
    task_id           TEXT,
    status            TEXT    NOT NULL,
    error_code        INTEGER,
    error_message     TEXT
);
CREATE INDEX calls_to_phone ON calls (to_phone);
CREATE INDEX calls_user_id ON calls (user_id);
CREATE INDEX calls_related_record_id ON calls (related_record_id);

ALTER TABLE tasks ADD COLUMN call_type TEXT;
ALTER TABLE tasks ADD COLUMN call_id TEXT;

-- A user's status as set through the action; a user without a row has the org's status.
CREATE TABLE user_states (
    user_id        TEXT   PRIMARY KEY,
    user_status_id TEXT,
    status_type    TEXT   NOT NULL,
    changed_at     BIGINT
);

CREATE TABLE status_log (
    seq                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                  TEXT   NOT NULL UNIQUE,
    user_id             TEXT   NOT NULL,
    from_user_status_id TEXT,
    from_status_type    TEXT   NOT NULL,
    to_user_status_id   TEXT,
    to_status_type      TEXT   NOT NULL,
    changed_at          BIGINT NOT NULL,
    changed_by          TEXT
);
CREATE INDEX status_log_user_id ON status_log (user_id);

-- Every event, written in the transaction that caused it; streamed and replayed by seq.
CREATE TABLE events (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       TEXT   NOT NULL,
    payload    TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX events_created_at ON events (created_at);
