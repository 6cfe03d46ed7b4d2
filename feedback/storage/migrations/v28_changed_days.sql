-- What changed since the last checked backup. A backup's copy is checked by recounting its
-- rollups; recounting a nation's whole history took minutes a night and grew with it. Each day
-- whose counted ratings change (a rating, an exclusion, a lift, an import, a late arrival) is
-- noted in the backup generation it changed in, and a copy recounts only those days and what
-- holds them (their months, weeks, windows), with a full recount once a week and after what
-- moves whole histories (a rebuild, a station that changes district or tier: full_due).
CREATE TABLE backup_generation (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    generation     INTEGER NOT NULL,     -- the one changes are noted in now
    verified       INTEGER NOT NULL,     -- every change up to this one is in a checked copy
    full_due       INTEGER NOT NULL,     -- 1: the next copy is recounted whole
    full_checked   TEXT                  -- when a copy was last recounted whole (UTC)
);
INSERT INTO backup_generation VALUES (1, 1, 0, 1, NULL);
CREATE TABLE changed_days (
    generation  INTEGER NOT NULL,
    day         TEXT NOT NULL,
    PRIMARY KEY (generation, day)
) WITHOUT ROWID;
-- (an upsert, not INSERT OR IGNORE, which gives way to the conflict handling of the statement
-- that fired the trigger: the rollups' own upserts)
CREATE TRIGGER changed_days_add AFTER INSERT ON station_days BEGIN
    INSERT INTO changed_days SELECT generation, NEW.day FROM backup_generation WHERE true
        ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER changed_days_change AFTER UPDATE ON station_days BEGIN
    INSERT INTO changed_days SELECT generation, NEW.day FROM backup_generation WHERE true
        ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER changed_days_remove AFTER DELETE ON station_days BEGIN
    INSERT INTO changed_days SELECT generation, OLD.day FROM backup_generation WHERE true
        ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER stations_moved_full_recount_due AFTER UPDATE OF district, tier ON stations
    WHEN OLD.district IS NOT NEW.district OR OLD.tier IS NOT NEW.tier BEGIN
    UPDATE backup_generation SET full_due = 1;
END;
