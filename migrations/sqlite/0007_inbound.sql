-- Inbound messages and opt-outs (SPEC 10). A message is Outbound or Inbound; an inbound
-- message to a group's number is for no one user, so `user_id` may be empty. SQLite cannot
-- drop a NOT NULL in place: the table is made again, with its rows, seqs and indexes.
CREATE TABLE sms_messages_inbound (
    seq               INTEGER PRIMARY KEY,
    id                TEXT    NOT NULL UNIQUE,
    provider_id       TEXT    UNIQUE,
    created_at        BIGINT  NOT NULL,
    updated_at        BIGINT  NOT NULL,
    owner_id          TEXT    NOT NULL,
    user_id           TEXT,
    phone_number_id   TEXT    NOT NULL,
    from_phone        TEXT    NOT NULL,
    to_phone          TEXT    NOT NULL,
    body              TEXT    NOT NULL,
    media_url         TEXT,
    related_record_id TEXT,
    task_id           TEXT,
    status            TEXT    NOT NULL,
    error_code        INTEGER,
    error_message     TEXT,
    status_history    TEXT    NOT NULL DEFAULT '[]',
    org               TEXT    NOT NULL,
    direction         TEXT    NOT NULL
);
INSERT INTO sms_messages_inbound (
    seq, id, provider_id, created_at, updated_at, owner_id, user_id, phone_number_id,
    from_phone, to_phone, body, media_url, related_record_id, task_id, status, error_code,
    error_message, status_history, org, direction
)
    SELECT seq, id, provider_id, created_at, updated_at, owner_id, user_id, phone_number_id,
           from_phone, to_phone, body, media_url, related_record_id, task_id, status,
           error_code, error_message, status_history, org, 'Outbound'
    FROM sms_messages;
DROP TABLE sms_messages;
ALTER TABLE sms_messages_inbound RENAME TO sms_messages;
CREATE INDEX sms_messages_to_phone ON sms_messages (to_phone);
CREATE INDEX sms_messages_user_id ON sms_messages (user_id);
CREATE INDEX sms_messages_related_record_id ON sms_messages (related_record_id);
CREATE INDEX sms_messages_org ON sms_messages (org, seq);

-- A VoIP error of such a message's reply (Twilio's answer to a keyword) has no user either.
CREATE TABLE voip_errors_inbound (
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
    user_id       TEXT,
    org           TEXT    NOT NULL
);
INSERT INTO voip_errors_inbound (
    seq, id, created_at, record_type, record_id, provider, provider_id, error_code,
    error_message, from_phone, to_phone, user_id, org
)
    SELECT seq, id, created_at, record_type, record_id, provider, provider_id, error_code,
           error_message, from_phone, to_phone, user_id, org
    FROM voip_errors;
DROP TABLE voip_errors;
ALTER TABLE voip_errors_inbound RENAME TO voip_errors;
CREATE INDEX voip_errors_record_id ON voip_errors (record_id);
CREATE INDEX voip_errors_org ON voip_errors (org, seq);

-- Who opted out of which of the org's numbers, since when: one row per customer and number.
CREATE TABLE opt_outs (
    seq             INTEGER PRIMARY KEY,
    org             TEXT    NOT NULL,
    sender          TEXT    NOT NULL,
    org_number      TEXT    NOT NULL,
    phone_number_id TEXT    NOT NULL,
    message_id      TEXT    NOT NULL,
    since           BIGINT  NOT NULL,
    UNIQUE (org, org_number, sender)
);
CREATE INDEX opt_outs_sender ON opt_outs (org, sender);
