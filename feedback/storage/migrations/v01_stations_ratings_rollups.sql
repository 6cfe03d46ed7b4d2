-- Stations, their ratings, and the first rollups of them (per station and day, per station).
CREATE TABLE stations (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    district    TEXT NOT NULL,
    address     TEXT NOT NULL DEFAULT '',
    latitude    REAL,
    longitude   REAL,
    tier        TEXT NOT NULL CHECK (tier IN ('city', 'provincial', 'national')),
    kind        TEXT NOT NULL CHECK (kind IN ('fixed', 'mobile', 'partner')),
    opened_on   TEXT NOT NULL,
    amenities   TEXT NOT NULL DEFAULT '',  -- ';'-separated, as in the CSV
    status      TEXT NOT NULL DEFAULT 'listed' CHECK (status IN ('listed', 'closed', 'delisted')),
    is_demo     INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE ratings (
    id          INTEGER PRIMARY KEY,
    station_id  INTEGER NOT NULL REFERENCES stations (id),
    rated_at    TEXT NOT NULL,             -- UTC, see feedback.clock
    day         TEXT NOT NULL,             -- the local day in FEEDBACK_TIMEZONE
    score       INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment     TEXT NOT NULL DEFAULT '',
    reasons     TEXT NOT NULL DEFAULT '',  -- ';'-separated reason keys
    source      TEXT NOT NULL CHECK (source IN ('form', 'import')),
    once_key    TEXT UNIQUE                -- a resent form or re-imported row counts once
);
CREATE INDEX ratings_station_rated_at ON ratings (station_id, rated_at);
CREATE INDEX ratings_day ON ratings (day);

-- Rollups, kept by the trigger below in the rating's own transaction, so that summaries
-- never rescan the history and no writer can forget them.
CREATE TABLE station_days (
    station_id  INTEGER NOT NULL REFERENCES stations (id),
    day         TEXT NOT NULL,
    n1 INTEGER NOT NULL DEFAULT 0, n2 INTEGER NOT NULL DEFAULT 0, n3 INTEGER NOT NULL DEFAULT 0,
    n4 INTEGER NOT NULL DEFAULT 0, n5 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (station_id, day)
) WITHOUT ROWID;
CREATE INDEX station_days_day ON station_days (day);

CREATE TABLE station_totals (
    station_id     INTEGER PRIMARY KEY REFERENCES stations (id),
    n1 INTEGER NOT NULL DEFAULT 0, n2 INTEGER NOT NULL DEFAULT 0, n3 INTEGER NOT NULL DEFAULT 0,
    n4 INTEGER NOT NULL DEFAULT 0, n5 INTEGER NOT NULL DEFAULT 0,
    last_rated_at  TEXT
);

CREATE TRIGGER ratings_roll_up AFTER INSERT ON ratings BEGIN
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

CREATE TRIGGER ratings_are_append_only_update BEFORE UPDATE ON ratings BEGIN
    SELECT RAISE(ABORT, 'ratings are append-only');
END;
CREATE TRIGGER ratings_are_append_only_delete BEFORE DELETE ON ratings BEGIN
    SELECT RAISE(ABORT, 'ratings are append-only');
END;
