-- wrapup's schema on PostgreSQL: the same tables as on SQLite. Times are milliseconds since
-- the Unix epoch (UTC).

CREATE TABLE divisions (
    seq        BIGSERIAL PRIMARY KEY,
    id         UUID NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE wrapup_codes (
    seq           BIGSERIAL PRIMARY KEY,
    id            UUID NOT NULL UNIQUE,
    division_id   UUID NOT NULL REFERENCES divisions (id),
    name          TEXT NOT NULL,
    name_key      TEXT NOT NULL,
    description   TEXT,
    archived      BOOLEAN NOT NULL DEFAULT FALSE,
    date_created  BIGINT NOT NULL,
    date_modified BIGINT NOT NULL
);
-- Names are unique within a division, ignoring case, among codes that are not archived.
CREATE UNIQUE INDEX wrapup_codes_name ON wrapup_codes (division_id, name_key) WHERE NOT archived;

CREATE TABLE interactions (
    seq                BIGSERIAL PRIMARY KEY,
    id                 UUID NOT NULL UNIQUE,
    division_id        UUID NOT NULL,
    channel            TEXT NOT NULL,
    state              TEXT NOT NULL,
    finalized          BOOLEAN NOT NULL DEFAULT FALSE,
    created_at         BIGINT NOT NULL,
    active_at          BIGINT,
    closed_at          BIGINT,
    finalize_due_at    BIGINT,
    finalized_at       BIGINT,
    wrapup_code_id     UUID,
    wrapup_code_name   TEXT,
    wrapup_duration_ms BIGINT,
    wrapup_notes       TEXT,
    wrapup_applied_at  BIGINT,
    wrapup_applied_by  UUID,
    version            BIGINT NOT NULL
);
-- The finalization timer looks for closed interactions whose settle time has passed.
CREATE INDEX interactions_finalize_due ON interactions (finalize_due_at) WHERE NOT finalized AND state = 'closed';
CREATE INDEX interactions_division ON interactions (division_id, seq);

CREATE TABLE wrapup_history (
    seq            BIGSERIAL PRIMARY KEY,
    interaction_id UUID NOT NULL,
    code_id        UUID NOT NULL,
    code_name      TEXT NOT NULL,
    duration_ms    BIGINT NOT NULL,
    notes          TEXT,
    applied_at     BIGINT NOT NULL,
    applied_by     UUID NOT NULL
);
CREATE INDEX wrapup_history_interaction ON wrapup_history (interaction_id, seq);

-- The event log. seq is the global sequence number the event stream uses as the event id.
-- It is not a sequence: every write transaction that writes events takes the next numbers
-- from event_counter, whose row lock it holds until it commits. Transactions that write
-- events therefore commit in the order of their numbers, on every node, so a reader that
-- has seen event N has seen every event before N.
CREATE TABLE events (
    seq            BIGINT PRIMARY KEY,
    kind           TEXT NOT NULL,
    interaction_id UUID NOT NULL,
    division_id    UUID NOT NULL,
    data           TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX events_created_at ON events (created_at);

CREATE TABLE event_counter (
    only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
    last     BIGINT NOT NULL
);
INSERT INTO event_counter (last) VALUES (0);

CREATE TABLE oauth_clients (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    divisions   TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- Access tokens are stored only as SHA-256 hashes.
CREATE TABLE access_tokens (
    hash       BYTEA PRIMARY KEY,
    client_id  UUID NOT NULL,
    scopes     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX access_tokens_expires ON access_tokens (expires_at);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
