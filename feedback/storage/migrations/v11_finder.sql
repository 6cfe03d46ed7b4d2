-- The finder. station_places: an R*Tree over the listed stations' GCJ-02 points, kept by
-- triggers. station_feed: a version that every change a finder or the GeoJSON feed shows bumps
-- (its validators, ETag and Last-Modified, come from it; a re-import that changes nothing
-- leaves it alone). Its time is SQLite's: HTTP validators are wall-clock by nature.
CREATE VIRTUAL TABLE station_places USING rtree (id, min_lat, max_lat, min_lon, max_lon);
INSERT INTO station_places
    SELECT id, latitude, latitude, longitude, longitude FROM stations
    WHERE status = 'listed' AND latitude IS NOT NULL AND longitude IS NOT NULL;
CREATE TRIGGER station_places_insert AFTER INSERT ON stations
    WHEN new.status = 'listed' AND new.latitude IS NOT NULL AND new.longitude IS NOT NULL BEGIN
    INSERT INTO station_places VALUES (new.id, new.latitude, new.latitude, new.longitude, new.longitude);
END;
CREATE TRIGGER station_places_update AFTER UPDATE OF latitude, longitude, status ON stations BEGIN
    DELETE FROM station_places WHERE id = old.id;
    INSERT INTO station_places
        SELECT new.id, new.latitude, new.latitude, new.longitude, new.longitude
        WHERE new.status = 'listed' AND new.latitude IS NOT NULL AND new.longitude IS NOT NULL;
END;

CREATE TABLE station_feed (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    version     INTEGER NOT NULL,
    changed_at  TEXT NOT NULL                -- UTC, to the second
);
INSERT INTO station_feed VALUES (1, 1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
CREATE TRIGGER station_feed_insert AFTER INSERT ON stations BEGIN
    UPDATE station_feed SET version = version + 1,
                            changed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now');
END;
CREATE TRIGGER station_feed_update AFTER UPDATE ON stations
    WHEN old.code IS NOT new.code OR old.name IS NOT new.name OR old.district IS NOT new.district
      OR old.address IS NOT new.address OR old.latitude IS NOT new.latitude
      OR old.longitude IS NOT new.longitude OR old.kind IS NOT new.kind
      OR old.amenities IS NOT new.amenities OR old.hours IS NOT new.hours
      OR old.status IS NOT new.status BEGIN
    UPDATE station_feed SET version = version + 1,
                            changed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now');
END;
