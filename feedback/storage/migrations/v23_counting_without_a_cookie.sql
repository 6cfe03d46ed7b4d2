-- One phone, one counted vote without a genuine cookie. A phone is known by its cookie once that
-- cookie has counted a rating on an earlier day (devices.trusted_from: the day after). Until then,
-- and for a rating without a genuine cookie, it is known by its address and browser (a keyed
-- hash): a rating counts only if no counted rating from the same address and browser came at
-- that station that day (network_days), and is otherwise kept and held as same_network. A
-- rating without a cookie has its address and browser as its device (devices.kind 'network'), so
-- the signals and the exclusions see it as one phone. device_days answers the repeat rule with
-- one insert rather than reading a station's whole day of ratings. Both are kept for two days
-- (the night's signal scan reads yesterday's); staff_networks, the address and browser each
-- staff account signed in from, for the staff_network signal.
--
-- held_reason's CHECK is widened by SQLite's documented edit of sqlite_schema (the rows already
-- meet the wider rule; copying 100 M ratings would take an hour): migrate() bumps the schema
-- version after it, as that procedure asks.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(sql, 'CHECK (held_reason IN (''repeat'', ''staff_device''))',
                       'CHECK (held_reason IN (''repeat'', ''staff_device'', ''same_network''))')
WHERE type = 'table' AND name = 'ratings';
PRAGMA writable_schema = RESET;

ALTER TABLE devices ADD COLUMN kind TEXT NOT NULL DEFAULT 'cookie'
    CHECK (kind IN ('cookie', 'network'));
ALTER TABLE devices ADD COLUMN trusted_from INTEGER;  -- days since 1970; NULL: not yet
-- the phones known so far were counted by their cookies alone: they stay trusted
UPDATE devices SET trusted_from = 0;

CREATE TABLE device_days (
    station_id  INTEGER NOT NULL,
    day         INTEGER NOT NULL,             -- days since 1970 (schema.DAY_NUMBER)
    device_id   INTEGER NOT NULL,
    PRIMARY KEY (station_id, day, device_id)
) WITHOUT ROWID;
CREATE TABLE network_days (
    station_id  INTEGER NOT NULL,
    day         INTEGER NOT NULL,
    network     BLOB NOT NULL,                -- keyed hash of the address and the browser
    device_id   INTEGER NOT NULL,             -- the device of the counted rating that came first
    PRIMARY KEY (station_id, day, network)
) WITHOUT ROWID;
CREATE TABLE staff_networks (
    network  BLOB NOT NULL,
    user_id  INTEGER NOT NULL REFERENCES users (id),
    seen_at  TEXT NOT NULL,
    PRIMARY KEY (network, user_id)
) WITHOUT ROWID;

-- the devices that rated a station today and yesterday, so that none counts twice on the day
-- the service moves to this rule
INSERT INTO device_days
    SELECT DISTINCT station_id, CAST(julianday(day) - 2440587.5 AS INTEGER), device_id
    FROM ratings
    WHERE CAST(julianday(day) - 2440587.5 AS INTEGER)
          >= CAST(julianday('now') - 2440587.5 AS INTEGER) - 2
      AND device_id IS NOT NULL;
