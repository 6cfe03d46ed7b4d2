-- Counting: one phone, one counted vote. A device is known by a random cookie, stored only as a
-- keyed hash. A rating held at insert (a repeat that day, a staff device) or excluded later by an
-- inspector is kept but not counted: the rollups hold counted ratings only, and their `held`
-- column what was kept aside. Details (comment, reasons) sent after a one-tap rating are a row
-- of their own; ratings stay append-only.
CREATE TABLE devices (
    id           INTEGER PRIMARY KEY,
    key_hash     TEXT NOT NULL UNIQUE,        -- HMAC of the cookie's random id
    label        TEXT NOT NULL UNIQUE,        -- an opaque name for inspectors
    staff_since  TEXT,                        -- a staff member signed in on this browser
    created_at   TEXT NOT NULL
);
ALTER TABLE ratings ADD COLUMN device_id INTEGER REFERENCES devices (id);
ALTER TABLE ratings ADD COLUMN held_reason TEXT CHECK (held_reason IN ('repeat', 'staff_device'));
-- the repeat rule's lookup: this device, this day, this station
CREATE INDEX ratings_device ON ratings (device_id, day, station_id) WHERE device_id IS NOT NULL;
ALTER TABLE station_totals ADD COLUMN held INTEGER NOT NULL DEFAULT 0;

CREATE TABLE rating_details (
    rating_id  INTEGER PRIMARY KEY REFERENCES ratings (id),   -- at most once per rating
    comment    TEXT NOT NULL DEFAULT '',
    reasons    TEXT NOT NULL DEFAULT '',
    added_at   TEXT NOT NULL
);
CREATE TRIGGER rating_details_are_append_only_update BEFORE UPDATE ON rating_details BEGIN
    SELECT RAISE(ABORT, 'rating details are append-only');
END;
CREATE TRIGGER rating_details_are_append_only_delete BEFORE DELETE ON rating_details BEGIN
    SELECT RAISE(ABORT, 'rating details are append-only');
END;

CREATE TABLE exclusions (
    id           INTEGER PRIMARY KEY,
    station_id   INTEGER NOT NULL REFERENCES stations (id),
    rating_id    INTEGER REFERENCES ratings (id),    -- one rating, or
    device_id    INTEGER REFERENCES devices (id),    -- one device's ratings over days
    from_day     TEXT,
    to_day       TEXT,
    reason       TEXT NOT NULL,
    by           TEXT NOT NULL,
    at           TEXT NOT NULL,
    lifted_at    TEXT,
    lifted_by    TEXT,
    lift_reason  TEXT
);
-- the ratings an exclusion holds while it is in force (removed when it is lifted)
CREATE TABLE excluded_ratings (
    rating_id     INTEGER NOT NULL REFERENCES ratings (id),
    exclusion_id  INTEGER NOT NULL REFERENCES exclusions (id),
    PRIMARY KEY (rating_id, exclusion_id)
) WITHOUT ROWID;
CREATE INDEX excluded_ratings_exclusion ON excluded_ratings (exclusion_id);

CREATE VIEW counted_ratings AS
    SELECT * FROM ratings WHERE held_reason IS NULL
       AND NOT EXISTS (SELECT 1 FROM excluded_ratings WHERE rating_id = ratings.id);

DROP TRIGGER ratings_roll_up;
CREATE TRIGGER ratings_roll_up AFTER INSERT ON ratings WHEN NEW.held_reason IS NULL BEGIN
    INSERT INTO station_days (station_id, day, n1, n2, n3, n4, n5)
    VALUES (NEW.station_id, NEW.day, NEW.score = 1, NEW.score = 2, NEW.score = 3,
            NEW.score = 4, NEW.score = 5)
    ON CONFLICT (station_id, day) DO UPDATE SET
        n1 = n1 + excluded.n1, n2 = n2 + excluded.n2, n3 = n3 + excluded.n3,
        n4 = n4 + excluded.n4, n5 = n5 + excluded.n5;
    INSERT INTO station_totals (station_id, n1, n2, n3, n4, n5, last_rated_at)
    VALUES (NEW.station_id, NEW.score = 1, NEW.score = 2, NEW.score = 3,
            NEW.score = 4, NEW.score = 5, NEW.rated_at)
    ON CONFLICT (station_id) DO UPDATE SET
        n1 = n1 + excluded.n1, n2 = n2 + excluded.n2, n3 = n3 + excluded.n3,
        n4 = n4 + excluded.n4, n5 = n5 + excluded.n5,
        last_rated_at = max(coalesce(last_rated_at, ''), excluded.last_rated_at);
END;

CREATE TRIGGER ratings_held AFTER INSERT ON ratings WHEN NEW.held_reason IS NOT NULL BEGIN
    INSERT INTO station_totals (station_id, held) VALUES (NEW.station_id, 1)
    ON CONFLICT (station_id) DO UPDATE SET held = held + 1;
END;

-- The first exclusion of a counted rating takes it out of the rollups.
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
        last_rated_at = (SELECT rated_at FROM counted_ratings
                         WHERE counted_ratings.station_id = sid ORDER BY rated_at DESC LIMIT 1)
    FROM (SELECT station_id AS sid, score FROM ratings WHERE id = NEW.rating_id)
    WHERE station_id = sid;
END;

-- When its last exclusion is lifted, a rating counts again.
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
    FROM (SELECT station_id AS sid, score, rated_at AS r_at FROM ratings WHERE id = OLD.rating_id)
    WHERE station_id = sid;
END;
