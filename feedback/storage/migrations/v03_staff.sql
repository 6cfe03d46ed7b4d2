-- Staff accounts (a password hash, a role, what they look after) and their API tokens.
CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'inspector', 'district', 'manager')),
    district       TEXT,                  -- for role 'district'
    station_code   TEXT,                  -- for role 'manager'
    created_at     TEXT NOT NULL
);
CREATE TABLE api_tokens (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    token_hash  TEXT NOT NULL UNIQUE,     -- sha256 of the token; the token itself is shown once
    created_at  TEXT NOT NULL
);
