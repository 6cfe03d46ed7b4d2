-- V18: a form's once key is kept for ONCE_KEY_DAYS (7) in a table of its own, not for ever beside
-- its rating: a resent form comes within minutes, and the keys with their unique index took 29 of
-- a rating's bytes. The keys of the week up to the latest form rating move over; older ones are
-- let go (their bytes stay in the rows they were written in; new rows have none).
CREATE TABLE once_keys (
    key        BLOB PRIMARY KEY,  -- feedback.db.once_key
    rating_id  INTEGER NOT NULL,
    at         INTEGER NOT NULL   -- when it came (seconds since 1970, UTC), to let it go by
) WITHOUT ROWID;
INSERT INTO once_keys
    SELECT once_key, id, rated_at FROM ratings
    WHERE once_key IS NOT NULL AND rated_at >= (
        SELECT max(rated_at) - 7 * 86400 FROM ratings WHERE once_key IS NOT NULL);
DROP INDEX ratings_once_key;
