-- wrapup's schema on SQLite. Ids are 16-byte UUID blobs; times are milliseconds since the
-- Unix epoch (UTC).

CREATE TABLE divisions (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         BLOB NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE wrapup_codes (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            BLOB NOT NULL UNIQUE,
    division_id   BLOB NOT NULL REFERENCES divisions (id),
    name          TEXT NOT NULL,
    name_key      TEXT NOT NULL,
    description   TEXT,
    archived      INTEGER NOT NULL DEFAULT 0,
    date_created  INTEGER NOT NULL,
    date_modified INTEGER NOT NULL
);
-- Names are unique within a division, ignoring case, among codes that are not archived.
CREATE UNIQUE INDEX wrapup_codes_name ON wrapup_codes (division_id, name_key) WHERE archived = 0;

CREATE TABLE interactions (
    seq                INTEGER PRIMARY KEY AUTOINCREMENT,
    id                 BLOB NOT NULL UNIQUE,
    division_id        BLOB NOT NULL,
    channel            TEXT NOT NULL,
    state              TEXT NOT NULL,
    finalized          INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL,
    active_at          INTEGER,
    closed_at          INTEGER,
    finalize_due_at    INTEGER,
    finalized_at       INTEGER,
    wrapup_code_id     BLOB,
    wrapup_code_name   TEXT,
    wrapup_duration_ms INTEGER,
    wrapup_notes       TEXT,
    wrapup_applied_at  INTEGER,
    wrapup_applied_by  BLOB,
    version            INTEGER NOT NULL
);
-- The finalization timer looks for closed interactions whose settle time has passed.
CREATE INDEX interactions_finalize_due ON interactions (finalize_due_at) WHERE finalized = 0 AND state = 'closed';
CREATE INDEX interactions_division ON interactions (division_id, seq);

CREATE TABLE wrapup_history (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    interaction_id BLOB NOT NULL,
    code_id        BLOB NOT NULL,
    code_name      TEXT NOT NULL,
    duration_ms    INTEGER NOT NULL,
    notes          TEXT,
    applied_at     INTEGER NOT NULL,
    applied_by     BLOB NOT NULL
);
CREATE INDEX wrapup_history_interaction ON wrapup_history (interaction_id, seq);

-- The event log: one row per change, written in the transaction of the change. seq is the
-- global sequence number the event stream uses as the event id.
CREATE TABLE events (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind           TEXT NOT NULL,
    interaction_id BLOB NOT NULL,
    division_id    BLOB NOT NULL,
    data           TEXT NOT NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX events_created_at ON events (created_at);

CREATE TABLE oauth_clients (
    id          BLOB PRIMARY KEY,
    name        TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    divisions   TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

-- Access tokens are stored only as SHA-256 hashes.
CREATE TABLE access_tokens (
    hash       BLOB PRIMARY KEY,
    client_id  BLOB NOT NULL,
    scopes     TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX access_tokens_expires ON access_tokens (expires_at);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
