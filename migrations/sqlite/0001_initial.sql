-- The org data, as one validated JSON document.
CREATE TABLE org_data (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    document   TEXT    NOT NULL,
    version    BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);

-- Times are milliseconds since the Unix epoch, on both backends.
CREATE TABLE sms_messages (
    seq               INTEGER PRIMARY KEY,
    id                TEXT    NOT NULL UNIQUE,
    provider_id       TEXT    UNIQUE,
    created_at        BIGINT  NOT NULL,
    updated_at        BIGINT  NOT NULL,
    owner_id          TEXT    NOT NULL,
    user_id           TEXT    NOT NULL,
    phone_number_id   TEXT    NOT NULL,
    from_phone        TEXT    NOT NULL,
    to_phone          TEXT    NOT NULL,
    body              TEXT    NOT NULL,
    media_url         TEXT,
    related_record_id TEXT,
    task_id           TEXT,
    status            TEXT    NOT NULL,
    error_code        INTEGER,
    error_message     TEXT
);
CREATE INDEX sms_messages_to_phone ON sms_messages (to_phone);
CREATE INDEX sms_messages_user_id ON sms_messages (user_id);
CREATE INDEX sms_messages_related_record_id ON sms_messages (related_record_id);

CREATE TABLE tasks (
    seq            INTEGER PRIMARY KEY,
    id             TEXT   NOT NULL UNIQUE,
    created_at     BIGINT NOT NULL,
    owner_id       TEXT   NOT NULL,
    subject        TEXT   NOT NULL,
    description    TEXT,
    status         TEXT   NOT NULL,
    priority       TEXT   NOT NULL,
    task_subtype   TEXT   NOT NULL,
    who_id         TEXT,
    what_id        TEXT,
    sms_message_id TEXT
);
CREATE INDEX tasks_who_id ON tasks (who_id);
CREATE INDEX tasks_what_id ON tasks (what_id);

CREATE TABLE voip_errors (
    seq           INTEGER PRIMARY KEY,
    id            TEXT    NOT NULL UNIQUE,
    created_at    BIGINT  NOT NULL,
    record_type   TEXT    NOT NULL,
    record_id     TEXT    NOT NULL,
    provider      TEXT    NOT NULL,
    provider_id   TEXT,
    error_code    INTEGER NOT NULL,
    error_message TEXT    NOT NULL,
    from_phone    TEXT    NOT NULL,
    to_phone      TEXT    NOT NULL,
    user_id       TEXT    NOT NULL
);
CREATE INDEX voip_errors_record_id ON voip_errors (record_id);
