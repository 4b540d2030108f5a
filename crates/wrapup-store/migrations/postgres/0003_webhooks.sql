-- Webhooks on PostgreSQL, as on SQLite (docs/webhooks.md): the endpoints, each endpoint's delivery queue (one row per
-- event it is to receive, with its state), and the log of delivery attempts. Endpoints hold
-- no secret: each endpoint's signing secret is derived by the server from its master key,
-- the endpoint's id and secret_generation.

CREATE TABLE webhooks (
    seq                        BIGSERIAL PRIMARY KEY,
    id                         UUID NOT NULL UNIQUE,
    url                        TEXT NOT NULL,
    description                TEXT,
    -- The event kinds delivered, space-separated.
    event_types                TEXT NOT NULL,
    -- A division grant, as JSON ("all" or a list of ids), as for OAuth clients.
    divisions                  TEXT NOT NULL,
    enabled                    BOOLEAN NOT NULL,
    disabled_reason            TEXT,
    disabled_at                BIGINT,
    -- Since when every attempt has failed (NULL once one succeeds).
    failing_since              BIGINT,
    secret_generation          BIGINT NOT NULL,
    previous_secret_expires_at BIGINT,
    created_by                 UUID NOT NULL,
    created_at                 BIGINT NOT NULL,
    updated_at                 BIGINT NOT NULL,
    -- The last event sequence number taken into the delivery queue.
    cursor                     BIGINT NOT NULL
);

-- One row per (endpoint, event): what to send (the body is kept, so a retry sends the same
-- bytes even once the event is pruned from the log) and where its delivery stands. A node
-- sending a row holds a lease on it until lease_expires_at.
CREATE TABLE webhook_deliveries (
    webhook_id       UUID NOT NULL,
    message_id       TEXT NOT NULL,
    event_seq        BIGINT,
    interaction_id   UUID,
    event_type       TEXT NOT NULL,
    body             TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         BIGINT NOT NULL,
    next_attempt_at  BIGINT NOT NULL,
    lease_id         UUID,
    lease_expires_at BIGINT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (webhook_id, message_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (webhook_id, next_attempt_at) WHERE status = 'pending';
-- An interaction's later event waits for its earlier ones.
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (webhook_id, interaction_id, event_seq) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_done ON webhook_deliveries (updated_at) WHERE status <> 'pending';

CREATE TABLE webhook_attempts (
    seq             BIGSERIAL PRIMARY KEY,
    webhook_id      UUID NOT NULL,
    message_id      TEXT NOT NULL,
    event_seq       BIGINT,
    event_type      TEXT NOT NULL,
    attempt         BIGINT NOT NULL,
    attempted_at    BIGINT NOT NULL,
    response_status BIGINT,
    response_body   TEXT,
    error           TEXT,
    latency_ms      BIGINT NOT NULL,
    result          TEXT NOT NULL,
    next_attempt_at BIGINT
);
CREATE INDEX webhook_attempts_webhook ON webhook_attempts (webhook_id, seq);
CREATE INDEX webhook_attempts_event ON webhook_attempts (webhook_id, event_seq, seq);
CREATE INDEX webhook_attempts_time ON webhook_attempts (attempted_at);
