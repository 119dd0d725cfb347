-- Inbound messages and opt-outs (SPEC 10). A message is Outbound or Inbound; an inbound
-- message to a group's number is for no one user, so `user_id` may be empty.
ALTER TABLE sms_messages ADD COLUMN direction TEXT NOT NULL DEFAULT 'Outbound';
ALTER TABLE sms_messages ALTER COLUMN direction DROP DEFAULT;
ALTER TABLE sms_messages ALTER COLUMN user_id DROP NOT NULL;
-- A VoIP error of such a message's reply (Twilio's answer to a keyword) has no user either.
ALTER TABLE voip_errors ALTER COLUMN user_id DROP NOT NULL;

-- Who opted out of which of the org's numbers, since when: one row per customer and number.
CREATE TABLE opt_outs (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org             TEXT   NOT NULL,
    sender          TEXT   NOT NULL,
    org_number      TEXT   NOT NULL,
    phone_number_id TEXT   NOT NULL,
    message_id      TEXT   NOT NULL,
    since           BIGINT NOT NULL,
    UNIQUE (org, org_number, sender)
);
CREATE INDEX opt_outs_sender ON opt_outs (org, sender);
