-- Made by `make schema` from migrations/ (version 29): do not edit.

CREATE TABLE stations (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    district    TEXT NOT NULL,
    address     TEXT NOT NULL DEFAULT '',
    latitude    REAL,
    longitude   REAL,
    tier        TEXT NOT NULL CHECK (tier IN ('city', 'provincial', 'national')),
    kind        TEXT NOT NULL CHECK (kind IN ('fixed', 'mobile', 'partner')),
    opened_on   TEXT NOT NULL,
    amenities   TEXT NOT NULL DEFAULT '',  -- ';'-separated, as in the CSV
    status      TEXT NOT NULL DEFAULT 'listed' CHECK (status IN ('listed', 'closed', 'delisted')),
    is_demo     INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
, link_version INTEGER NOT NULL DEFAULT 1, hours TEXT NOT NULL DEFAULT '');

CREATE TABLE station_days (
    station_id  INTEGER NOT NULL REFERENCES stations (id),
    day         TEXT NOT NULL,
    n1 INTEGER NOT NULL DEFAULT 0, n2 INTEGER NOT NULL DEFAULT 0, n3 INTEGER NOT NULL DEFAULT 0,
    n4 INTEGER NOT NULL DEFAULT 0, n5 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (station_id, day)
) WITHOUT ROWID;

CREATE TABLE station_totals (
    station_id     INTEGER PRIMARY KEY REFERENCES stations (id),
    n1 INTEGER NOT NULL DEFAULT 0, n2 INTEGER NOT NULL DEFAULT 0, n3 INTEGER NOT NULL DEFAULT 0,
    n4 INTEGER NOT NULL DEFAULT 0, n5 INTEGER NOT NULL DEFAULT 0,
    last_rated_at  TEXT
, held INTEGER NOT NULL DEFAULT 0);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'inspector', 'district', 'manager')),
    district       TEXT,                  -- for role 'district'
    station_code   TEXT,                  -- for role 'manager'
    created_at     TEXT NOT NULL
, disabled_at TEXT);

CREATE TABLE api_tokens (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    token_hash  TEXT NOT NULL UNIQUE,     -- sha256 of the token; the token itself is shown once
    created_at  TEXT NOT NULL
, revoked_at TEXT);

CREATE TABLE channels (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('wecom', 'dingtalk', 'feishu', 'slack', 'webhook', 'email')),
    target      TEXT NOT NULL,              -- a webhook URL, or an e-mail address
    district    TEXT,                       -- only this district's stations; NULL for all
    secret      TEXT,                       -- for signed DingTalk, Feishu and webhook posts
    created_at  TEXT NOT NULL
);

CREATE TABLE deliveries (
    id               INTEGER PRIMARY KEY,
    channel_id       INTEGER NOT NULL REFERENCES channels (id),
    day              TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent')),
    parts_sent       INTEGER NOT NULL DEFAULT 0,   -- a split digest resumes after the last part sent
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    next_attempt_at  TEXT NOT NULL,
    claimed_until    TEXT,                         -- a sender holds the row while it posts
    sent_at          TEXT, parts TEXT, claim_token TEXT, messages_on TEXT,
    UNIQUE (channel_id, day)
);

CREATE INDEX deliveries_pending ON deliveries (status, next_attempt_at);

CREATE TABLE job_runs (
    job          TEXT NOT NULL,
    key          TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('running', 'done')),
    holder       TEXT NOT NULL,
    lease_until  TEXT NOT NULL,
    finished_at  TEXT,
    PRIMARY KEY (job, key)
);

CREATE TABLE flags (
    id             INTEGER PRIMARY KEY,
    station_id     INTEGER NOT NULL REFERENCES stations (id),
    window_start   TEXT NOT NULL,           -- the first of the three silent months
    flagged_on     TEXT NOT NULL,           -- the scan's date
    tier           TEXT NOT NULL,           -- the tier when flagged
    proposed_tier  TEXT NOT NULL CHECK (proposed_tier IN ('provincial', 'city', 'delisted')),
    status         TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'confirmed', 'dismissed', 'superseded')),
    UNIQUE (station_id, window_start)
);

CREATE INDEX flags_status ON flags (status);

CREATE TABLE station_history (
    id          INTEGER PRIMARY KEY,
    station_id  INTEGER NOT NULL REFERENCES stations (id),
    at          TEXT NOT NULL,
    by          TEXT NOT NULL,
    action      TEXT NOT NULL,
    from_tier   TEXT,
    to_tier     TEXT,
    reason      TEXT NOT NULL DEFAULT ''
);

CREATE INDEX station_history_station ON station_history (station_id, at);

CREATE TABLE staff_sessions (
    id_hash     TEXT PRIMARY KEY,          -- sha256 of the id in the signed session cookie
    user_id     INTEGER NOT NULL REFERENCES users (id),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    ended_at    TEXT                       -- set by logout, a new password or disabling
);

CREATE INDEX staff_sessions_user ON staff_sessions (user_id);

CREATE TABLE sign_in_failures (
    key  TEXT NOT NULL,                    -- 'user:NAME' or 'address:KEYED-HASH'
    at   TEXT NOT NULL
);

CREATE INDEX sign_in_failures_key ON sign_in_failures (key, at);

CREATE TABLE devices (
    id           INTEGER PRIMARY KEY,
    key_hash     TEXT NOT NULL UNIQUE,        -- HMAC of the cookie's random id
    label        TEXT NOT NULL UNIQUE,        -- an opaque name for inspectors
    staff_since  TEXT,                        -- a staff member signed in on this browser
    created_at   TEXT NOT NULL
, kind TEXT NOT NULL DEFAULT 'cookie'
    CHECK (kind IN ('cookie', 'network')), trusted_from INTEGER);

CREATE TABLE rating_details (
    rating_id  INTEGER PRIMARY KEY REFERENCES ratings (id),   -- at most once per rating
    comment    TEXT NOT NULL DEFAULT '',
    reasons    TEXT NOT NULL DEFAULT '',
    added_at   TEXT NOT NULL
);

CREATE TRIGGER rating_details_are_append_only_update BEFORE UPDATE ON rating_details BEGIN
    SELECT RAISE(ABORT, 'rating details are append-only');
END;

CREATE TRIGGER rating_details_are_append_only_delete BEFORE DELETE ON rating_details BEGIN
    SELECT RAISE(ABORT, 'rating details are append-only');
END;

CREATE TABLE exclusions (
    id           INTEGER PRIMARY KEY,
    station_id   INTEGER NOT NULL REFERENCES stations (id),
    rating_id    INTEGER REFERENCES ratings (id),    -- one rating, or
    device_id    INTEGER REFERENCES devices (id),    -- one device's ratings over days
    from_day     TEXT,
    to_day       TEXT,
    reason       TEXT NOT NULL,
    by           TEXT NOT NULL,
    at           TEXT NOT NULL,
    lifted_at    TEXT,
    lifted_by    TEXT,
    lift_reason  TEXT
);

CREATE TABLE excluded_ratings (
    rating_id     INTEGER NOT NULL REFERENCES ratings (id),
    exclusion_id  INTEGER NOT NULL REFERENCES exclusions (id),
    PRIMARY KEY (rating_id, exclusion_id)
) WITHOUT ROWID;

CREATE INDEX excluded_ratings_exclusion ON excluded_ratings (exclusion_id);

CREATE TABLE cases (
    id           INTEGER PRIMARY KEY,
    station_id   INTEGER NOT NULL REFERENCES stations (id),
    opened_on    TEXT NOT NULL,              -- local day
    due_on       TEXT NOT NULL,              -- local day; a reopening moves it
    status       TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    resolved_at  TEXT,
    resolved_on  TEXT,                       -- local day
    resolved_by  TEXT,
    note         TEXT                        -- what was done
);

CREATE UNIQUE INDEX cases_one_open_per_station ON cases (station_id) WHERE status = 'open';

CREATE INDEX cases_status_due ON cases (status, due_on);

CREATE TABLE case_ratings (
    case_id    INTEGER NOT NULL REFERENCES cases (id),
    rating_id  INTEGER NOT NULL REFERENCES ratings (id),
    PRIMARY KEY (case_id, rating_id)
) WITHOUT ROWID;

CREATE TABLE case_steps (
    id       INTEGER PRIMARY KEY,
    case_id  INTEGER NOT NULL REFERENCES cases (id),
    at       TEXT NOT NULL,
    day      TEXT NOT NULL,                  -- local day of the step
    by       TEXT NOT NULL,
    action   TEXT NOT NULL CHECK (action IN ('opened', 'joined', 'resolved', 'reopened')),
    due_on   TEXT,                           -- the due day an opening or reopening set
    note     TEXT NOT NULL DEFAULT ''
);

CREATE INDEX case_steps_case ON case_steps (case_id, at);

CREATE TRIGGER case_steps_are_append_only_update BEFORE UPDATE ON case_steps BEGIN
    SELECT RAISE(ABORT, 'case steps are append-only');
END;

CREATE TRIGGER case_steps_are_append_only_delete BEFORE DELETE ON case_steps BEGIN
    SELECT RAISE(ABORT, 'case steps are append-only');
END;

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

CREATE VIRTUAL TABLE station_places USING rtree (id, min_lat, max_lat, min_lon, max_lon);

CREATE TABLE "station_places_rowid"(rowid INTEGER PRIMARY KEY,nodeno);

CREATE TABLE "station_places_node"(nodeno INTEGER PRIMARY KEY,data);

CREATE TABLE "station_places_parent"(nodeno INTEGER PRIMARY KEY,parentnode);

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

CREATE INDEX stations_district ON stations (district, tier);

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

CREATE TRIGGER station_names_forget_rankings AFTER UPDATE OF code, name, district ON stations
    WHEN OLD.code IS NOT NEW.code OR OLD.name IS NOT NEW.name OR OLD.district IS NOT NEW.district BEGIN
    UPDATE window_ends SET ranking = NULL WHERE ranking IS NOT NULL;
END;

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

CREATE TABLE "ratings" (
    id           INTEGER PRIMARY KEY,
    station_id   INTEGER NOT NULL REFERENCES stations (id),
    rated_at     INTEGER NOT NULL,           -- UTC, seconds since 1970 (feedback.clock.to_epoch)
    day          TEXT NOT NULL,              -- the local day in FEEDBACK_TIMEZONE
    score        INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment      TEXT NOT NULL DEFAULT '',
    reasons      TEXT NOT NULL DEFAULT '',   -- ';'-separated reason keys
    source       TEXT NOT NULL CHECK (source IN ('form', 'import')),
    once_key     BLOB,                       -- a resent form counts once (feedback.db.once_key)
    device_id    INTEGER REFERENCES devices (id),
    held_reason  TEXT CHECK (held_reason IN ('repeat', 'staff_device', 'same_network'))
, import_row TEXT);

CREATE INDEX ratings_station_rated_at ON ratings (station_id, rated_at);

CREATE VIEW counted_ratings AS
    SELECT * FROM ratings WHERE held_reason IS NULL
       AND NOT EXISTS (SELECT 1 FROM excluded_ratings WHERE rating_id = ratings.id);

CREATE TRIGGER ratings_are_append_only_update BEFORE UPDATE ON ratings BEGIN
    SELECT RAISE(ABORT, 'ratings are append-only');
END;

CREATE TRIGGER ratings_are_append_only_delete BEFORE DELETE ON ratings BEGIN
    SELECT RAISE(ABORT, 'ratings are append-only');
END;

CREATE TRIGGER ratings_roll_up AFTER INSERT ON ratings WHEN NEW.held_reason IS NULL BEGIN
    INSERT INTO station_days (station_id, day, n1, n2, n3, n4, n5)
    VALUES (NEW.station_id, NEW.day, NEW.score = 1, NEW.score = 2, NEW.score = 3,
            NEW.score = 4, NEW.score = 5)
    ON CONFLICT (station_id, day) DO UPDATE SET
        n1 = n1 + excluded.n1, n2 = n2 + excluded.n2, n3 = n3 + excluded.n3,
        n4 = n4 + excluded.n4, n5 = n5 + excluded.n5;
    INSERT INTO station_totals (station_id, n1, n2, n3, n4, n5, last_rated_at)
    VALUES (NEW.station_id, NEW.score = 1, NEW.score = 2, NEW.score = 3,
            NEW.score = 4, NEW.score = 5, strftime('%Y-%m-%dT%H:%M:%SZ', NEW.rated_at, 'unixepoch'))
    ON CONFLICT (station_id) DO UPDATE SET
        n1 = n1 + excluded.n1, n2 = n2 + excluded.n2, n3 = n3 + excluded.n3,
        n4 = n4 + excluded.n4, n5 = n5 + excluded.n5,
        last_rated_at = max(coalesce(last_rated_at, ''), excluded.last_rated_at);
END;

CREATE TRIGGER ratings_held AFTER INSERT ON ratings WHEN NEW.held_reason IS NOT NULL BEGIN
    INSERT INTO station_totals (station_id, held) VALUES (NEW.station_id, 1)
    ON CONFLICT (station_id) DO UPDATE SET held = held + 1;
END;

CREATE TRIGGER exclusion_takes_out AFTER INSERT ON excluded_ratings
WHEN (SELECT held_reason IS NULL FROM ratings WHERE id = NEW.rating_id)
 AND (SELECT count(*) FROM excluded_ratings WHERE rating_id = NEW.rating_id) = 1
BEGIN
    UPDATE station_days SET
        n1 = n1 - (score = 1), n2 = n2 - (score = 2), n3 = n3 - (score = 3),
        n4 = n4 - (score = 4), n5 = n5 - (score = 5)
    FROM (SELECT station_id AS sid, day AS d, score FROM ratings WHERE id = NEW.rating_id)
    WHERE station_id = sid AND day = d;
    UPDATE station_totals SET
        n1 = n1 - (score = 1), n2 = n2 - (score = 2), n3 = n3 - (score = 3),
        n4 = n4 - (score = 4), n5 = n5 - (score = 5), held = held + 1,
        last_rated_at = (SELECT strftime('%Y-%m-%dT%H:%M:%SZ', rated_at, 'unixepoch')
                         FROM counted_ratings WHERE counted_ratings.station_id = sid
                         ORDER BY rated_at DESC LIMIT 1)
    FROM (SELECT station_id AS sid, score FROM ratings WHERE id = NEW.rating_id)
    WHERE station_id = sid;
END;

CREATE TRIGGER exclusion_puts_back AFTER DELETE ON excluded_ratings
WHEN (SELECT held_reason IS NULL FROM ratings WHERE id = OLD.rating_id)
 AND NOT EXISTS (SELECT 1 FROM excluded_ratings WHERE rating_id = OLD.rating_id)
BEGIN
    UPDATE station_days SET
        n1 = n1 + (score = 1), n2 = n2 + (score = 2), n3 = n3 + (score = 3),
        n4 = n4 + (score = 4), n5 = n5 + (score = 5)
    FROM (SELECT station_id AS sid, day AS d, score FROM ratings WHERE id = OLD.rating_id)
    WHERE station_id = sid AND day = d;
    UPDATE station_totals SET
        n1 = n1 + (score = 1), n2 = n2 + (score = 2), n3 = n3 + (score = 3),
        n4 = n4 + (score = 4), n5 = n5 + (score = 5), held = held - 1,
        last_rated_at = max(coalesce(last_rated_at, ''), r_at)
    FROM (SELECT station_id AS sid, score,
                 strftime('%Y-%m-%dT%H:%M:%SZ', rated_at, 'unixepoch') AS r_at
          FROM ratings WHERE id = OLD.rating_id)
    WHERE station_id = sid;
END;

CREATE INDEX cases_opened_on ON cases (opened_on);

CREATE INDEX visits_at ON visits (at);

CREATE INDEX station_history_action_at ON station_history (action, at);

CREATE INDEX cases_station ON cases (station_id, opened_on);

CREATE INDEX cases_resolved_on ON cases (resolved_on) WHERE resolved_on IS NOT NULL;

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

CREATE TABLE once_keys (
    key        BLOB PRIMARY KEY,  -- feedback.db.once_key
    rating_id  INTEGER NOT NULL,
    at         INTEGER NOT NULL   -- when it came (seconds since 1970, UTC), to let it go by
) WITHOUT ROWID;

CREATE INDEX ratings_day_number ON ratings (CAST(julianday(day) - 2440587.5 AS INTEGER), rated_at);

CREATE INDEX stations_unlisted ON stations (status) WHERE status != 'listed';

CREATE TABLE device_days (
    station_id  INTEGER NOT NULL,
    day         INTEGER NOT NULL,             -- days since 1970 (schema.DAY_NUMBER)
    device_id   INTEGER NOT NULL,
    PRIMARY KEY (station_id, day, device_id)
) WITHOUT ROWID;

CREATE TABLE network_days (
    station_id  INTEGER NOT NULL,
    day         INTEGER NOT NULL,
    network     BLOB NOT NULL,                -- keyed hash of the address and the browser
    device_id   INTEGER NOT NULL,             -- the device of the counted rating that came first
    PRIMARY KEY (station_id, day, network)
) WITHOUT ROWID;

CREATE TABLE staff_networks (
    network  BLOB NOT NULL,
    user_id  INTEGER NOT NULL REFERENCES users (id),
    seen_at  TEXT NOT NULL,
    PRIMARY KEY (network, user_id)
) WITHOUT ROWID;

CREATE TABLE stations_version (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  INTEGER NOT NULL
);

CREATE TRIGGER stations_version_insert AFTER INSERT ON stations BEGIN
    UPDATE stations_version SET version = version + 1;
END;

CREATE TRIGGER stations_version_update AFTER UPDATE ON stations BEGIN
    UPDATE stations_version SET version = version + 1;
END;

CREATE TRIGGER stations_version_delete AFTER DELETE ON stations BEGIN
    UPDATE stations_version SET version = version + 1;
END;

CREATE INDEX deliveries_channel_messages_on ON deliveries (channel_id, messages_on)
    WHERE messages_on IS NOT NULL;

CREATE UNIQUE INDEX flags_one_open_a_station ON flags (station_id) WHERE status = 'open';

CREATE TABLE backup_generation (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    generation     INTEGER NOT NULL,     -- the one changes are noted in now
    verified       INTEGER NOT NULL,     -- every change up to this one is in a checked copy
    full_due       INTEGER NOT NULL,     -- 1: the next copy is recounted whole
    full_checked   TEXT                  -- when a copy was last recounted whole (UTC)
);

CREATE TABLE changed_days (
    generation  INTEGER NOT NULL,
    day         TEXT NOT NULL,
    PRIMARY KEY (generation, day)
) WITHOUT ROWID;

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

CREATE TRIGGER stations_added_forget_rankings AFTER INSERT ON stations BEGIN
    UPDATE window_ends SET ranking = NULL WHERE ranking IS NOT NULL;
END;

CREATE TRIGGER station_status_forget_rankings AFTER UPDATE OF status, opened_on ON stations
    WHEN OLD.status IS NOT NEW.status OR OLD.opened_on IS NOT NEW.opened_on BEGIN
    UPDATE window_ends SET ranking = NULL WHERE ranking IS NOT NULL;
END;

