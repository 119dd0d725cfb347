-- Fewer index entries per write (issue 19): every entry is a B-tree insert and, on SQLite, a
-- page written to the WAL at commit.
--
-- Old events are pruned by seq (an older event has a lower seq; `prune_events` says how), so
-- their time needs no index.
DROP INDEX events_created_at;

-- Columns that are often empty are indexed only where they hold a value: a filter
-- `column = $1` never matches NULL, so it still uses the index, and a row without a value
-- writes no entry. A Task names a Contact or Lead (who) or another record (what), seldom
-- both; a message or call may relate to no record; an inbound message to a group's number
-- is for no one user.
DROP INDEX tasks_who_id;
CREATE INDEX tasks_who_id ON tasks (who_id) WHERE who_id IS NOT NULL;
DROP INDEX tasks_what_id;
CREATE INDEX tasks_what_id ON tasks (what_id) WHERE what_id IS NOT NULL;
DROP INDEX sms_messages_related_record_id;
CREATE INDEX sms_messages_related_record_id ON sms_messages (related_record_id)
    WHERE related_record_id IS NOT NULL;
DROP INDEX calls_related_record_id;
CREATE INDEX calls_related_record_id ON calls (related_record_id)
    WHERE related_record_id IS NOT NULL;
DROP INDEX sms_messages_user_id;
CREATE INDEX sms_messages_user_id ON sms_messages (user_id) WHERE user_id IS NOT NULL;
