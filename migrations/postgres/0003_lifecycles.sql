-- Every status a message or call had: a JSON array of {status, date, errorCode}.
ALTER TABLE sms_messages ADD COLUMN status_history TEXT NOT NULL DEFAULT '[]';
ALTER TABLE calls ADD COLUMN status_history TEXT NOT NULL DEFAULT '[]';

-- The next status each message or call is due to reach (at most one per record).
CREATE TABLE pending_steps (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          TEXT   NOT NULL,
    record_id     TEXT   NOT NULL,
    status        TEXT   NOT NULL,
    error_code    INTEGER,
    error_message TEXT,
    due_at        BIGINT NOT NULL
);
CREATE INDEX pending_steps_due_at ON pending_steps (due_at);
CREATE INDEX pending_steps_record_id ON pending_steps (record_id);
