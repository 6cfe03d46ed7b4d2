-- Weekly correction: a counted bad rating opens a follow-up case for its station, or joins the
-- station's open case; the case is due a number of working days after it opened. Every step of
-- a case is kept.
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
