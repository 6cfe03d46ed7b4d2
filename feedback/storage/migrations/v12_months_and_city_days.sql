-- Rollups of the daily rollup, kept by triggers on station_days: whatever changes a station's
-- day (a rating, an exclusion, a lift, a rebuild) changes its month and the city's day with it.
-- The downgrade scan and the monthly report read months; the digest's trend reads the city's days.
CREATE TABLE station_months (
    station_id  INTEGER NOT NULL REFERENCES stations (id),
    month       TEXT NOT NULL,               -- YYYY-MM, local
    n1 INTEGER NOT NULL DEFAULT 0, n2 INTEGER NOT NULL DEFAULT 0, n3 INTEGER NOT NULL DEFAULT 0,
    n4 INTEGER NOT NULL DEFAULT 0, n5 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (station_id, month)
) WITHOUT ROWID;
CREATE INDEX station_months_month ON station_months (month);
CREATE TABLE city_days (
    day  TEXT PRIMARY KEY,
    n1 INTEGER NOT NULL DEFAULT 0, n2 INTEGER NOT NULL DEFAULT 0, n3 INTEGER NOT NULL DEFAULT 0,
    n4 INTEGER NOT NULL DEFAULT 0, n5 INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO station_months
    SELECT station_id, substr(day, 1, 7), sum(n1), sum(n2), sum(n3), sum(n4), sum(n5)
    FROM station_days GROUP BY station_id, substr(day, 1, 7);
INSERT INTO city_days
    SELECT day, sum(n1), sum(n2), sum(n3), sum(n4), sum(n5) FROM station_days GROUP BY day;

CREATE TRIGGER station_days_add AFTER INSERT ON station_days BEGIN
    INSERT INTO station_months VALUES (NEW.station_id, substr(NEW.day, 1, 7),
                                       NEW.n1, NEW.n2, NEW.n3, NEW.n4, NEW.n5)
    ON CONFLICT (station_id, month) DO UPDATE SET
        n1 = n1 + excluded.n1, n2 = n2 + excluded.n2, n3 = n3 + excluded.n3,
        n4 = n4 + excluded.n4, n5 = n5 + excluded.n5;
    INSERT INTO city_days VALUES (NEW.day, NEW.n1, NEW.n2, NEW.n3, NEW.n4, NEW.n5)
    ON CONFLICT (day) DO UPDATE SET
        n1 = n1 + excluded.n1, n2 = n2 + excluded.n2, n3 = n3 + excluded.n3,
        n4 = n4 + excluded.n4, n5 = n5 + excluded.n5;
END;
CREATE TRIGGER station_days_change AFTER UPDATE ON station_days BEGIN
    UPDATE station_months SET
        n1 = n1 + NEW.n1 - OLD.n1, n2 = n2 + NEW.n2 - OLD.n2, n3 = n3 + NEW.n3 - OLD.n3,
        n4 = n4 + NEW.n4 - OLD.n4, n5 = n5 + NEW.n5 - OLD.n5
    WHERE station_id = NEW.station_id AND month = substr(NEW.day, 1, 7);
    UPDATE city_days SET
        n1 = n1 + NEW.n1 - OLD.n1, n2 = n2 + NEW.n2 - OLD.n2, n3 = n3 + NEW.n3 - OLD.n3,
        n4 = n4 + NEW.n4 - OLD.n4, n5 = n5 + NEW.n5 - OLD.n5
    WHERE day = NEW.day;
END;
CREATE TRIGGER station_days_remove AFTER DELETE ON station_days BEGIN
    UPDATE station_months SET
        n1 = n1 - OLD.n1, n2 = n2 - OLD.n2, n3 = n3 - OLD.n3, n4 = n4 - OLD.n4, n5 = n5 - OLD.n5
    WHERE station_id = OLD.station_id AND month = substr(OLD.day, 1, 7);
    UPDATE city_days SET
        n1 = n1 - OLD.n1, n2 = n2 - OLD.n2, n3 = n3 - OLD.n3, n4 = n4 - OLD.n4, n5 = n5 - OLD.n5
    WHERE day = OLD.day;
END;
