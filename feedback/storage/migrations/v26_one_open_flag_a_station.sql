-- At most one open flag a station. A scan of a past date opened flags of windows that later scans
-- had flagged and inspectors answered (a national test left 54,304 stations with two open
-- flags). Of a station's open flags the latest window's stays open; the others are superseded
-- (a status of their own, widened by SQLite's documented sqlite_schema edit, as in V23).
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(sql, 'CHECK (status IN (''open'', ''confirmed'', ''dismissed''))',
                       'CHECK (status IN (''open'', ''confirmed'', ''dismissed'', ''superseded''))')
WHERE type = 'table' AND name = 'flags';
PRAGMA writable_schema = RESET;

UPDATE flags SET status = 'superseded'
WHERE status = 'open' AND EXISTS (
    SELECT 1 FROM flags AS later WHERE later.station_id = flags.station_id
    AND later.status = 'open' AND later.window_start > flags.window_start);
CREATE UNIQUE INDEX flags_one_open_a_station ON flags (station_id) WHERE status = 'open';
