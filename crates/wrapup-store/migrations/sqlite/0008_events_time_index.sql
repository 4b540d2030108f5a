-- The index of events by creation time goes: every write batch added its events to it, a
-- page rewritten in the WAL by every commit (about 6 % of the bytes written per PUT and
-- 3-9 % of the writer's CPU, docs/benchmarks.md, issue 29). Its one reader, the search for
-- the last event created before a time (retention and webhook replays), bisects the log by
-- sequence number instead (queries.rs, last_event_before), events being appended in the
-- order of the writer's clock. Dropping an index only frees its pages: no row is rewritten.
DROP INDEX events_created_at;
