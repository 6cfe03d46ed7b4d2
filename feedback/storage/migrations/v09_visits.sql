-- Inspection visits (暗访 and third-party assessments), against the city's checklist.
CREATE TABLE visits (
    id          INTEGER PRIMARY KEY,
    station_id  INTEGER NOT NULL REFERENCES stations (id),
    at          TEXT NOT NULL,
    by          TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('unannounced', 'assessment')),
    items       TEXT NOT NULL,               -- JSON: checklist key → pass, fail or na
    failed      INTEGER NOT NULL,
    notes       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX visits_station ON visits (station_id, at);
