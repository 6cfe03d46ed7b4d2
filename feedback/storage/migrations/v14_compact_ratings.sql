-- National scale: a rating in fewer bytes. Its instant is whole seconds since 1970 (UTC) rather
-- than text; a form's once key is 12 bytes of the SHA-256 of the text key (feedback.storage.db.once_key)
-- rather than the text, and an imported rating has none (an import finds the same rating by what
-- it says: feedback.counts.ratings.insert_staged); the device index is gone: the repeat rule and device
-- exclusions look at one station's ratings through (station_id, rated_at). The table is rebuilt
-- in place by SQLite's twelve steps (migrate() holds foreign keys off, and checks them after).
DROP VIEW counted_ratings;
DROP TRIGGER exclusion_takes_out;
DROP TRIGGER exclusion_puts_back;
CREATE TABLE ratings_v14 (
    id           INTEGER PRIMARY KEY,
    station_id   INTEGER NOT NULL REFERENCES stations (id),
    rated_at     INTEGER NOT NULL,           -- UTC, seconds since 1970 (feedback.clock.to_epoch)
    day          TEXT NOT NULL,              -- the local day in FEEDBACK_TIMEZONE
    score        INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment      TEXT NOT NULL DEFAULT '',
    reasons      TEXT NOT NULL DEFAULT '',   -- ';'-separated reason keys
    source       TEXT NOT NULL CHECK (source IN ('form', 'import')),
    once_key     BLOB,                       -- a resent form counts once (feedback.db.once_key)
    device_id    INTEGER REFERENCES devices (id),
    held_reason  TEXT CHECK (held_reason IN ('repeat', 'staff_device'))
);
INSERT INTO ratings_v14
    SELECT id, station_id, CAST(strftime('%s', rated_at) AS INTEGER), day, score, comment, reasons,
           source, CASE WHEN source = 'form' THEN once_key(once_key) END, device_id, held_reason
    FROM ratings ORDER BY id;
DROP TABLE ratings;
ALTER TABLE ratings_v14 RENAME TO ratings;
CREATE UNIQUE INDEX ratings_once_key ON ratings (once_key) WHERE once_key IS NOT NULL;
CREATE INDEX ratings_station_rated_at ON ratings (station_id, rated_at);
-- a day's ratings in the order they came: the digest's first bad ones, an export's days
CREATE INDEX ratings_day ON ratings (day, rated_at);

CREATE VIEW counted_ratings AS
    SELECT * FROM ratings WHERE held_reason IS NULL
       AND NOT EXISTS (SELECT 1 FROM excluded_ratings WHERE rating_id = ratings.id);

CREATE TRIGGER ratings_are_append_only_update BEFORE UPDATE ON ratings BEGIN
    SELECT RAISE(ABORT, 'ratings are append-only');
END;
CREATE TRIGGER ratings_are_append_only_delete BEFORE DELETE ON ratings BEGIN
    SELECT RAISE(ABORT, 'ratings are append-only');
END;

CREATE TRIGGER ratings_roll_up AFTER INSERT ON ratings WHEN NEW.held_reason IS NULL BEGIN
    INSERT INTO station_days (station_id, day, n1, n2, n3, n4, n5)
    VALUES (NEW.station_id, NEW.day, NEW.score = 1, NEW.score = 2, NEW.score = 3,
            NEW.score = 4, NEW.score = 5)
    ON CONFLICT (station_id, day) DO UPDATE SET
        n1 = n1 + excluded.n1, n2 = n2 + excluded.n2, n3 = n3 + excluded.n3,
        n4 = n4 + excluded.n4, n5 = n5 + excluded.n5;
    INSERT INTO station_totals (station_id, n1, n2, n3, n4, n5, last_rated_at)
    VALUES (NEW.station_id, NEW.score = 1, NEW.score = 2, NEW.score = 3,
            NEW.score = 4, NEW.score = 5, strftime('%Y-%m-%dT%H:%M:%SZ', NEW.rated_at, 'unixepoch'))
    ON CONFLICT (station_id) DO UPDATE SET
        n1 = n1 + excluded.n1, n2 = n2 + excluded.n2, n3 = n3 + excluded.n3,
        n4 = n4 + excluded.n4, n5 = n5 + excluded.n5,
        last_rated_at = max(coalesce(last_rated_at, ''), excluded.last_rated_at);
END;

CREATE TRIGGER ratings_held AFTER INSERT ON ratings WHEN NEW.held_reason IS NOT NULL BEGIN
    INSERT INTO station_totals (station_id, held) VALUES (NEW.station_id, 1)
    ON CONFLICT (station_id) DO UPDATE SET held = held + 1;
END;

CREATE TRIGGER exclusion_takes_out AFTER INSERT ON excluded_ratings
WHEN (SELECT held_reason IS NULL FROM ratings WHERE id = NEW.rating_id)
 AND (SELECT count(*) FROM excluded_ratings WHERE rating_id = NEW.rating_id) = 1
BEGIN
    UPDATE station_days SET
        n1 = n1 - (score = 1), n2 = n2 - (score = 2), n3 = n3 - (score = 3),
        n4 = n4 - (score = 4), n5 = n5 - (score = 5)
    FROM (SELECT station_id AS sid, day AS d, score FROM ratings WHERE id = NEW.rating_id)
    WHERE station_id = sid AND day = d;
    UPDATE station_totals SET
        n1 = n1 - (score = 1), n2 = n2 - (score = 2), n3 = n3 - (score = 3),
        n4 = n4 - (score = 4), n5 = n5 - (score = 5), held = held + 1,
        last_rated_at = (SELECT strftime('%Y-%m-%dT%H:%M:%SZ', rated_at, 'unixepoch')
                         FROM counted_ratings WHERE counted_ratings.station_id = sid
                         ORDER BY rated_at DESC LIMIT 1)
    FROM (SELECT station_id AS sid, score FROM ratings WHERE id = NEW.rating_id)
    WHERE station_id = sid;
END;

CREATE TRIGGER exclusion_puts_back AFTER DELETE ON excluded_ratings
WHEN (SELECT held_reason IS NULL FROM ratings WHERE id = OLD.rating_id)
 AND NOT EXISTS (SELECT 1 FROM excluded_ratings WHERE rating_id = OLD.rating_id)
BEGIN
    UPDATE station_days SET
        n1 = n1 + (score = 1), n2 = n2 + (score = 2), n3 = n3 + (score = 3),
        n4 = n4 + (score = 4), n5 = n5 + (score = 5)
    FROM (SELECT station_id AS sid, day AS d, score FROM ratings WHERE id = OLD.rating_id)
    WHERE station_id = sid AND day = d;
    UPDATE station_totals SET
        n1 = n1 + (score = 1), n2 = n2 + (score = 2), n3 = n3 + (score = 3),
        n4 = n4 + (score = 4), n5 = n5 + (score = 5), held = held - 1,
        last_rated_at = max(coalesce(last_rated_at, ''), r_at)
    FROM (SELECT station_id AS sid, score,
                 strftime('%Y-%m-%dT%H:%M:%SZ', rated_at, 'unixepoch') AS r_at
          FROM ratings WHERE id = OLD.rating_id)
    WHERE station_id = sid;
END;
