-- Events are read by seq: a replay asks for an org's events after a seq, and the prune deletes
-- below one. Here one process writes every event (the file's claim), so the org's index only
-- narrowed a replay to its org, at the cost of an entry (a B-tree insert and a page written
-- to the WAL) for every event written. A replay now walks the events after its seq, every
-- org's, within the retention (an hour by default); PostgreSQL, which instances share, keeps
-- its index.
DROP INDEX events_org;
