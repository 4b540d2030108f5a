-- Queues, agents and after-call work (docs/api.md#queues-and-agents): queues with their
-- after-call-work settings and codes (a JSON array of code ids, in the order added), agents
-- (users), and on each interaction its routing (queue, agent, prompt, timeout, skip, end of
-- after-call work; JSON, NULL when it has neither queue nor agent) and the deadline of a
-- time-boxed prompt still pending (NULL otherwise).

CREATE TABLE queues (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            BLOB NOT NULL UNIQUE,
    division_id   BLOB NOT NULL REFERENCES divisions (id),
    name          TEXT NOT NULL,
    -- Queue names are unique ignoring case, as in Genesys Cloud.
    name_key      TEXT NOT NULL UNIQUE,
    description   TEXT,
    wrapup_prompt TEXT NOT NULL,
    timeout_ms    INTEGER,
    code_ids      TEXT NOT NULL,
    date_created  INTEGER NOT NULL,
    date_modified INTEGER NOT NULL
);

CREATE TABLE users (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           BLOB NOT NULL UNIQUE,
    division_id  BLOB NOT NULL REFERENCES divisions (id),
    name         TEXT NOT NULL,
    name_key     TEXT NOT NULL,
    email        TEXT NOT NULL,
    state        TEXT NOT NULL,
    date_created INTEGER NOT NULL
);

ALTER TABLE interactions ADD COLUMN routing TEXT;
ALTER TABLE interactions ADD COLUMN acw_due_at INTEGER;
-- The timer looks for time-boxed after-call work whose timeout has passed.
CREATE INDEX interactions_acw_due ON interactions (acw_due_at) WHERE acw_due_at IS NOT NULL;
