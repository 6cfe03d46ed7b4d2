-- V17: the weekly report's lists over every station (quiet, bad weeks running), kept once made
-- (jobs.reports.kept_station_lists): a second or more a week's report at national scale. A
-- change to a station week forgets the lists of that week and the RUN_WEEKS (13) that look back
-- at it; a station added or changed forgets them all. rollups.add_up() forgets them set-based.
CREATE TABLE week_lists (
    monday    TEXT NOT NULL,
    district  TEXT NOT NULL,  -- '' for every district
    lists     TEXT NOT NULL,  -- JSON: quiet, quiet_total, repeat_bad, repeat_bad_total
    PRIMARY KEY (monday, district)
) WITHOUT ROWID;
CREATE TRIGGER station_weeks_forget_lists_add AFTER INSERT ON station_weeks BEGIN
    DELETE FROM week_lists WHERE monday BETWEEN NEW.monday AND date(NEW.monday, '+84 days');
END;
CREATE TRIGGER station_weeks_forget_lists_change AFTER UPDATE ON station_weeks
    -- only a week that turns bad or not, rated or not, changes the lists
    WHEN (OLD.n1 + OLD.n2 > 0) IS NOT (NEW.n1 + NEW.n2 > 0)
      OR (OLD.n1 + OLD.n2 + OLD.n3 + OLD.n4 + OLD.n5 > 0)
         IS NOT (NEW.n1 + NEW.n2 + NEW.n3 + NEW.n4 + NEW.n5 > 0)
BEGIN
    DELETE FROM week_lists WHERE monday BETWEEN NEW.monday AND date(NEW.monday, '+84 days');
END;
CREATE TRIGGER station_weeks_forget_lists_remove AFTER DELETE ON station_weeks BEGIN
    DELETE FROM week_lists WHERE monday BETWEEN OLD.monday AND date(OLD.monday, '+84 days');
END;
CREATE TRIGGER stations_added_forget_week_lists AFTER INSERT ON stations BEGIN
    DELETE FROM week_lists;
END;
CREATE TRIGGER stations_forget_week_lists AFTER UPDATE OF code, name, district, status, opened_on
    ON stations BEGIN
    DELETE FROM week_lists;
END;
