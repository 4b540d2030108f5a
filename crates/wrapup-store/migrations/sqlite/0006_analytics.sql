-- Analytics (docs/genesys.md#analytics): the details and aggregates queries select the
-- interactions created in an interval, in creation order.
CREATE INDEX interactions_created ON interactions (created_at, seq);
