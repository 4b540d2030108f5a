-- Genesys notification channels (docs/genesys.md#notifications): one row per channel, with
-- its topics. What a channel's socket saw last is kept when the socket closes, so a
-- reconnect within the replay window resumes after it.

CREATE TABLE notification_channels (
    id              TEXT PRIMARY KEY,
    client_id       UUID NOT NULL,
    -- The hex SHA-256 of the token that created it (`includechannels=token`).
    token_hash      TEXT NOT NULL,
    -- The scopes of that token, space-separated.
    scopes          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    last_used_at    BIGINT NOT NULL,
    -- The id of the socket connected to it now, on whichever node (NULL: none).
    socket          TEXT,
    -- The subscribed topics, a JSON array of strings.
    topics          TEXT NOT NULL,
    -- The last event sequence number its last socket handled, and when that socket closed.
    cursor          BIGINT,
    disconnected_at BIGINT
);

CREATE INDEX notification_channels_client ON notification_channels (client_id);
CREATE INDEX notification_channels_expiry ON notification_channels (expires_at);
