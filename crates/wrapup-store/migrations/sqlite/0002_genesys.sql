-- Genesys Cloud compatibility (docs/genesys.md): a wrap-up's tags (a JSON array of strings,
-- NULL when there are none) and provisional flag, in the interaction and in its history, and
-- the OAuth client that created a code (NULL for codes created before this migration).

ALTER TABLE interactions ADD COLUMN wrapup_tags TEXT;
ALTER TABLE interactions ADD COLUMN wrapup_provisional INTEGER NOT NULL DEFAULT 0;
ALTER TABLE wrapup_history ADD COLUMN tags TEXT;
ALTER TABLE wrapup_history ADD COLUMN provisional INTEGER NOT NULL DEFAULT 0;
ALTER TABLE wrapup_codes ADD COLUMN created_by BLOB;
