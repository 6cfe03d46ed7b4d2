-- National scale. district_days and district_months: the districts' rollups, kept by triggers on
-- station_days and moved along when a station changes district; the digest's districts, the
-- weekly report and the monthly report's chart read them instead of summing stations.
-- station_weeks: each station's ISO weeks (keyed by the Monday), for the weekly report's quiet
-- and repeatedly bad stations. group_months: each district and tier's months with how many of
-- their stations were rated, kept by triggers on station_months, for the monthly report.
-- station_windows: the ranking window of a digest day (every station's counts from first_day to
-- end_day), made on demand for the days listed in window_ends (feedback/counts/windows.py) and kept
-- exact by the same triggers afterwards, so a day's digest does not sum a month of station-days.
CREATE TABLE district_days (
    district  TEXT NOT NULL,
    day       TEXT NOT NULL,
    n1 INTEGER NOT NULL DEFAULT 0, n2 INTEGER NOT NULL DEFAULT 0, n3 INTEGER NOT NULL DEFAULT 0,
    n4 INTEGER NOT NULL DEFAULT 0, n5 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (district, day)
) WITHOUT ROWID;
CREATE TABLE district_months (
    district  TEXT NOT NULL,
    month     TEXT NOT NULL,
    n1 INTEGER NOT NULL DEFAULT 0, n2 INTEGER NOT NULL DEFAULT 0, n3 INTEGER NOT NULL DEFAULT 0,
    n4 INTEGER NOT NULL DEFAULT 0, n5 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (district, month)
) WITHOUT ROWID;
CREATE INDEX district_months_month ON district_months (month);
INSERT INTO district_days
    SELECT district, day, sum(n1), sum(n2), sum(n3), sum(n4), sum(n5)
    FROM station_days JOIN stations ON stations.id = station_id GROUP BY district, day;
INSERT INTO district_months
    SELECT district, month, sum(n1), sum(n2), sum(n3), sum(n4), sum(n5)
    FROM station_months JOIN stations ON stations.id = station_id GROUP BY district, month;
CREATE INDEX stations_district ON stations (district, tier);
CREATE INDEX stations_status ON stations (status);
CREATE INDEX stations_opened_on ON stations (opened_on);
CREATE TABLE group_months (
    month     TEXT NOT NULL,
    district  TEXT NOT NULL,
    tier      TEXT NOT NULL,
    rated     INTEGER NOT NULL DEFAULT 0,  -- stations with a counted rating in the month
    n1 INTEGER NOT NULL DEFAULT 0, n2 INTEGER NOT NULL DEFAULT 0, n3 INTEGER NOT NULL DEFAULT 0,
    n4 INTEGER NOT NULL DEFAULT 0, n5 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (month, district, tier)
) WITHOUT ROWID;
INSERT INTO group_months
    SELECT month, district, tier, sum(n1 + n2 + n3 + n4 + n5 > 0), sum(n1), sum(n2), sum(n3),
           sum(n4), sum(n5)
    FROM station_months JOIN stations ON stations.id = station_id GROUP BY month, district, tier;
CREATE TRIGGER station_months_add AFTER INSERT ON station_months BEGIN
    INSERT INTO group_months
        SELECT NEW.month, district, tier, NEW.n1 + NEW.n2 + NEW.n3 + NEW.n4 + NEW.n5 > 0,
               NEW.n1, NEW.n2, NEW.n3, NEW.n4, NEW.n5
        FROM stations WHERE id = NEW.station_id
    ON CONFLICT (month, district, tier) DO UPDATE SET rated = rated + excluded.rated,
        n1 = n1 + excluded.n1, n2 = n2 + excluded.n2, n3 = n3 + excluded.n3,
        n4 = n4 + excluded.n4, n5 = n5 + excluded.n5;
END;
CREATE TRIGGER station_months_change AFTER UPDATE ON station_months BEGIN
    UPDATE group_months SET
        rated = rated + (NEW.n1 + NEW.n2 + NEW.n3 + NEW.n4 + NEW.n5 > 0)
                      - (OLD.n1 + OLD.n2 + OLD.n3 + OLD.n4 + OLD.n5 > 0),
        n1 = n1 + NEW.n1 - OLD.n1, n2 = n2 + NEW.n2 - OLD.n2, n3 = n3 + NEW.n3 - OLD.n3,
        n4 = n4 + NEW.n4 - OLD.n4, n5 = n5 + NEW.n5 - OLD.n5
    WHERE month = NEW.month
      AND (district, tier) = (SELECT district, tier FROM stations WHERE id = NEW.station_id);
END;
CREATE TRIGGER station_months_remove AFTER DELETE ON station_months BEGIN
    UPDATE group_months SET
        rated = rated - (OLD.n1 + OLD.n2 + OLD.n3 + OLD.n4 + OLD.n5 > 0),
        n1 = n1 - OLD.n1, n2 = n2 - OLD.n2, n3 = n3 - OLD.n3, n4 = n4 - OLD.n4, n5 = n5 - OLD.n5
    WHERE month = OLD.month
      AND (district, tier) = (SELECT district, tier FROM stations WHERE id = OLD.station_id);
END;
-- a station that changes district or tier takes its months along
CREATE TRIGGER station_group_move AFTER UPDATE OF district, tier ON stations
    WHEN OLD.district IS NOT NEW.district OR OLD.tier IS NOT NEW.tier BEGIN
    UPDATE group_months SET
        rated = group_months.rated - (moved.n1 + moved.n2 + moved.n3 + moved.n4 + moved.n5 > 0),
        n1 = group_months.n1 - moved.n1, n2 = group_months.n2 - moved.n2,
        n3 = group_months.n3 - moved.n3, n4 = group_months.n4 - moved.n4,
        n5 = group_months.n5 - moved.n5
    FROM station_months AS moved
    WHERE moved.station_id = NEW.id AND group_months.month = moved.month
      AND group_months.district = OLD.district AND group_months.tier = OLD.tier;
    INSERT INTO group_months
        SELECT month, NEW.district, NEW.tier, n1 + n2 + n3 + n4 + n5 > 0, n1, n2, n3, n4, n5
        FROM station_months WHERE station_id = NEW.id
    ON CONFLICT (month, district, tier) DO UPDATE SET rated = rated + excluded.rated,
        n1 = n1 + excluded.n1, n2 = n2 + excluded.n2, n3 = n3 + excluded.n3,
        n4 = n4 + excluded.n4, n5 = n5 + excluded.n5;
END;
CREATE TABLE station_weeks (
    station_id  INTEGER NOT NULL REFERENCES stations (id),
    monday      TEXT NOT NULL,
    n1 INTEGER NOT NULL DEFAULT 0, n2 INTEGER NOT NULL DEFAULT 0, n3 INTEGER NOT NULL DEFAULT 0,
    n4 INTEGER NOT NULL DEFAULT 0, n5 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (station_id, monday)
) WITHOUT ROWID;
CREATE INDEX station_weeks_monday ON station_weeks (monday);
INSERT INTO station_weeks
    SELECT station_id, date(day, 'weekday 0', '-6 days'), sum(n1), sum(n2), sum(n3), sum(n4), sum(n5)
    FROM station_days GROUP BY 1, 2;

CREATE TABLE window_ends (
    end_day       TEXT PRIMARY KEY,
    first_day     TEXT NOT NULL,
    stations_upto INTEGER NOT NULL, -- a window has a row for every station up to this id
    ranking       TEXT              -- the nation's best and worst in it (JSON), until it changes
) WITHOUT ROWID;
CREATE TABLE station_windows (
    end_day     TEXT NOT NULL,
    station_id  INTEGER NOT NULL REFERENCES stations (id),
    n1 INTEGER NOT NULL DEFAULT 0, n2 INTEGER NOT NULL DEFAULT 0, n3 INTEGER NOT NULL DEFAULT 0,
    n4 INTEGER NOT NULL DEFAULT 0, n5 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (end_day, station_id)
) WITHOUT ROWID;
-- the stations without a rating in a window: the digest's quiet ones, found without a pass
CREATE INDEX station_windows_empty ON station_windows (end_day, station_id)
    WHERE n1 + n2 + n3 + n4 + n5 = 0;

CREATE TRIGGER station_days_add_around AFTER INSERT ON station_days BEGIN
    INSERT INTO station_weeks VALUES (NEW.station_id, date(NEW.day, 'weekday 0', '-6 days'),
                                      NEW.n1, NEW.n2, NEW.n3, NEW.n4, NEW.n5)
    ON CONFLICT (station_id, monday) DO UPDATE SET
        n1 = n1 + excluded.n1, n2 = n2 + excluded.n2, n3 = n3 + excluded.n3,
        n4 = n4 + excluded.n4, n5 = n5 + excluded.n5;
    INSERT INTO district_days
        SELECT district, NEW.day, NEW.n1, NEW.n2, NEW.n3, NEW.n4, NEW.n5
        FROM stations WHERE id = NEW.station_id
    ON CONFLICT (district, day) DO UPDATE SET
        n1 = n1 + excluded.n1, n2 = n2 + excluded.n2, n3 = n3 + excluded.n3,
        n4 = n4 + excluded.n4, n5 = n5 + excluded.n5;
    INSERT INTO district_months
        SELECT district, substr(NEW.day, 1, 7), NEW.n1, NEW.n2, NEW.n3, NEW.n4, NEW.n5
        FROM stations WHERE id = NEW.station_id
    ON CONFLICT (district, month) DO UPDATE SET
        n1 = n1 + excluded.n1, n2 = n2 + excluded.n2, n3 = n3 + excluded.n3,
        n4 = n4 + excluded.n4, n5 = n5 + excluded.n5;
    INSERT INTO station_windows
        SELECT end_day, NEW.station_id, NEW.n1, NEW.n2, NEW.n3, NEW.n4, NEW.n5
        FROM window_ends WHERE NEW.day BETWEEN first_day AND end_day
    ON CONFLICT (end_day, station_id) DO UPDATE SET
        n1 = n1 + excluded.n1, n2 = n2 + excluded.n2, n3 = n3 + excluded.n3,
        n4 = n4 + excluded.n4, n5 = n5 + excluded.n5;
    UPDATE window_ends SET ranking = NULL
    WHERE NEW.day BETWEEN first_day AND end_day AND ranking IS NOT NULL;
END;
CREATE TRIGGER station_days_change_around AFTER UPDATE ON station_days BEGIN
    UPDATE station_weeks SET
        n1 = n1 + NEW.n1 - OLD.n1, n2 = n2 + NEW.n2 - OLD.n2, n3 = n3 + NEW.n3 - OLD.n3,
        n4 = n4 + NEW.n4 - OLD.n4, n5 = n5 + NEW.n5 - OLD.n5
    WHERE station_id = NEW.station_id AND monday = date(NEW.day, 'weekday 0', '-6 days');
    UPDATE district_days SET
        n1 = n1 + NEW.n1 - OLD.n1, n2 = n2 + NEW.n2 - OLD.n2, n3 = n3 + NEW.n3 - OLD.n3,
        n4 = n4 + NEW.n4 - OLD.n4, n5 = n5 + NEW.n5 - OLD.n5
    WHERE district = (SELECT district FROM stations WHERE id = NEW.station_id) AND day = NEW.day;
    UPDATE district_months SET
        n1 = n1 + NEW.n1 - OLD.n1, n2 = n2 + NEW.n2 - OLD.n2, n3 = n3 + NEW.n3 - OLD.n3,
        n4 = n4 + NEW.n4 - OLD.n4, n5 = n5 + NEW.n5 - OLD.n5
    WHERE district = (SELECT district FROM stations WHERE id = NEW.station_id)
      AND month = substr(NEW.day, 1, 7);
    INSERT INTO station_windows
        SELECT end_day, NEW.station_id, NEW.n1 - OLD.n1, NEW.n2 - OLD.n2, NEW.n3 - OLD.n3,
               NEW.n4 - OLD.n4, NEW.n5 - OLD.n5
        FROM window_ends WHERE NEW.day BETWEEN first_day AND end_day
    ON CONFLICT (end_day, station_id) DO UPDATE SET
        n1 = n1 + excluded.n1, n2 = n2 + excluded.n2, n3 = n3 + excluded.n3,
        n4 = n4 + excluded.n4, n5 = n5 + excluded.n5;
    UPDATE window_ends SET ranking = NULL
    WHERE NEW.day BETWEEN first_day AND end_day AND ranking IS NOT NULL;
END;
CREATE TRIGGER station_days_remove_around AFTER DELETE ON station_days BEGIN
    UPDATE station_weeks SET
        n1 = n1 - OLD.n1, n2 = n2 - OLD.n2, n3 = n3 - OLD.n3, n4 = n4 - OLD.n4, n5 = n5 - OLD.n5
    WHERE station_id = OLD.station_id AND monday = date(OLD.day, 'weekday 0', '-6 days');
    UPDATE district_days SET
        n1 = n1 - OLD.n1, n2 = n2 - OLD.n2, n3 = n3 - OLD.n3, n4 = n4 - OLD.n4, n5 = n5 - OLD.n5
    WHERE district = (SELECT district FROM stations WHERE id = OLD.station_id) AND day = OLD.day;
    UPDATE district_months SET
        n1 = n1 - OLD.n1, n2 = n2 - OLD.n2, n3 = n3 - OLD.n3, n4 = n4 - OLD.n4, n5 = n5 - OLD.n5
    WHERE district = (SELECT district FROM stations WHERE id = OLD.station_id)
      AND month = substr(OLD.day, 1, 7);
    UPDATE station_windows SET
        n1 = n1 - OLD.n1, n2 = n2 - OLD.n2, n3 = n3 - OLD.n3, n4 = n4 - OLD.n4, n5 = n5 - OLD.n5
    WHERE station_id = OLD.station_id
      AND end_day IN (SELECT end_day FROM window_ends WHERE OLD.day BETWEEN first_day AND end_day);
    UPDATE window_ends SET ranking = NULL
    WHERE OLD.day BETWEEN first_day AND end_day AND ranking IS NOT NULL;
END;
-- a remembered ranking names stations: renaming one forgets them
CREATE TRIGGER station_names_forget_rankings AFTER UPDATE OF code, name, district ON stations
    WHEN OLD.code IS NOT NEW.code OR OLD.name IS NOT NEW.name OR OLD.district IS NOT NEW.district BEGIN
    UPDATE window_ends SET ranking = NULL WHERE ranking IS NOT NULL;
END;
-- a station that changes district takes its counts along
CREATE TRIGGER station_district_move AFTER UPDATE OF district ON stations
    WHEN OLD.district IS NOT NEW.district BEGIN
    UPDATE district_days SET
        n1 = district_days.n1 - moved.n1, n2 = district_days.n2 - moved.n2,
        n3 = district_days.n3 - moved.n3, n4 = district_days.n4 - moved.n4,
        n5 = district_days.n5 - moved.n5
    FROM station_days AS moved
    WHERE moved.station_id = NEW.id AND district_days.district = OLD.district
      AND district_days.day = moved.day;
    INSERT INTO district_days
        SELECT NEW.district, day, n1, n2, n3, n4, n5 FROM station_days WHERE station_id = NEW.id
    ON CONFLICT (district, day) DO UPDATE SET
        n1 = n1 + excluded.n1, n2 = n2 + excluded.n2, n3 = n3 + excluded.n3,
        n4 = n4 + excluded.n4, n5 = n5 + excluded.n5;
    UPDATE district_months SET
        n1 = district_months.n1 - moved.n1, n2 = district_months.n2 - moved.n2,
        n3 = district_months.n3 - moved.n3, n4 = district_months.n4 - moved.n4,
        n5 = district_months.n5 - moved.n5
    FROM station_months AS moved
    WHERE moved.station_id = NEW.id AND district_months.district = OLD.district
      AND district_months.month = moved.month;
    INSERT INTO district_months
        SELECT NEW.district, month, n1, n2, n3, n4, n5 FROM station_months WHERE station_id = NEW.id
    ON CONFLICT (district, month) DO UPDATE SET
        n1 = n1 + excluded.n1, n2 = n2 + excluded.n2, n3 = n3 + excluded.n3,
        n4 = n4 + excluded.n4, n5 = n5 + excluded.n5;
END;
