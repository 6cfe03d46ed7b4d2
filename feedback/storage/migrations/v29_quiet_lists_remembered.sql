-- A window's remembered ranking (window_ends.ranking) holds the nation's quiet stations too: a
-- sparse rollout's digest page listed 130,000 of them afresh at every view. What the quiet lists
-- read beyond the ranking (a station added, closed, reopened or given another opening day)
-- forgets it as well.
CREATE TRIGGER stations_added_forget_rankings AFTER INSERT ON stations BEGIN
    UPDATE window_ends SET ranking = NULL WHERE ranking IS NOT NULL;
END;
CREATE TRIGGER station_status_forget_rankings AFTER UPDATE OF status, opened_on ON stations
    WHEN OLD.status IS NOT NEW.status OR OLD.opened_on IS NOT NEW.opened_on BEGIN
    UPDATE window_ends SET ranking = NULL WHERE ranking IS NOT NULL;
END;
