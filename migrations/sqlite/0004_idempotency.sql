-- Idempotency keys: the first request's answer, replayed to retries with the same key.
CREATE TABLE idempotency_keys (
    key          TEXT    PRIMARY KEY,
    -- A digest of what was asked (route, caller, body): a retry must ask the same.
    fingerprint  TEXT    NOT NULL,
    -- The answer; NULL while the first request is still running.
    status       INTEGER,
    body         TEXT,
    created_at   BIGINT  NOT NULL,
    -- A running first request that has not answered by then is taken to have died.
    locked_until BIGINT  NOT NULL
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
