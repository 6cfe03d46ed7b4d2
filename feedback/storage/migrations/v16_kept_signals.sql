-- V16: signals found by the nightly scan of each day, kept. Looking for them per request read a
-- month of every station's ratings into Python: nearly a minute at 10 M ratings.
CREATE TABLE signals (
    id INTEGER PRIMARY KEY,
    day TEXT NOT NULL,     -- the local day of its last rating; single_device: the day scanned
    kind TEXT NOT NULL,
    station_id INTEGER NOT NULL REFERENCES stations(id),
    found TEXT NOT NULL    -- what the rule found, as JSON, instants in UTC
);
CREATE INDEX signals_day ON signals (day);
CREATE TABLE signal_scans (
    day TEXT PRIMARY KEY,  -- a local day whose ratings were looked through
    scanned_at TEXT NOT NULL
);
