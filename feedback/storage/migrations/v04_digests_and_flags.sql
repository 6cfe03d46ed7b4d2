-- The daily digest's channels and deliveries, the scheduler's leases, the downgrade flags and the
-- stations' history.
CREATE TABLE channels (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('wecom', 'dingtalk', 'feishu', 'slack', 'webhook', 'email')),
    target      TEXT NOT NULL,              -- a webhook URL, or an e-mail address
    district    TEXT,                       -- only this district's stations; NULL for all
    secret      TEXT,                       -- for signed DingTalk, Feishu and webhook posts
    created_at  TEXT NOT NULL
);

-- One row per digest day and channel: the unique key is what makes delivery happen once.
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
    sent_at          TEXT,
    UNIQUE (channel_id, day)
);
CREATE INDEX deliveries_pending ON deliveries (status, next_attempt_at);

-- Scheduled runs: one row per job and key (a day), taken as a lease by whichever process
-- gets there first, so several web workers and a scheduler process run each job once.
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
    status         TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'confirmed', 'dismissed')),
    UNIQUE (station_id, window_start)
);
CREATE INDEX flags_status ON flags (status);

-- Who changed what about a station, when and why; never updated, never deleted.
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
