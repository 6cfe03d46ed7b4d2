-- A version of the stations that any change to any station bumps. A process keeps what it read
-- of them (a station's row, the rating form drawn for it, the finder's lists) until it moves:
-- the rating page reads its station at every tap, and one small row is read instead.
CREATE TABLE stations_version (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  INTEGER NOT NULL
);
INSERT INTO stations_version VALUES (1, 1);
CREATE TRIGGER stations_version_insert AFTER INSERT ON stations BEGIN
    UPDATE stations_version SET version = version + 1;
END;
CREATE TRIGGER stations_version_update AFTER UPDATE ON stations BEGIN
    UPDATE stations_version SET version = version + 1;
END;
CREATE TRIGGER stations_version_delete AFTER DELETE ON stations BEGIN
    UPDATE stations_version SET version = version + 1;
END;
