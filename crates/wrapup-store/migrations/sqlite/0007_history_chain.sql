-- A wrap-up's history row no longer costs a write in an index ordered by interaction (a
-- random page per wrap-up): the history is a chain. Each interaction keeps the seq of its
-- latest history row (history_seq), each history row the seq of the one before it for the
-- same interaction (prev_seq); the history is read by following the chain from the
-- interaction. wrapup_history is then written only at its end.
ALTER TABLE wrapup_history ADD COLUMN prev_seq INTEGER;
ALTER TABLE interactions ADD COLUMN history_seq INTEGER;

UPDATE wrapup_history SET prev_seq = (
    SELECT MAX(h.seq) FROM wrapup_history AS h
    WHERE h.interaction_id = wrapup_history.interaction_id AND h.seq < wrapup_history.seq
);

UPDATE interactions SET history_seq = latest.seq
FROM (SELECT interaction_id, MAX(seq) AS seq FROM wrapup_history GROUP BY interaction_id) AS latest
WHERE interactions.id = latest.interaction_id;

DROP INDEX wrapup_history_interaction;
