-- Staff accounts that hold: sessions kept on the server (so logout and a new password end them),
-- disabled users, revoked tokens, sign-in failures for throttling; and delivery claims with a
-- token, so only the claim's holder writes to a delivery.
ALTER TABLE users ADD COLUMN disabled_at TEXT;
ALTER TABLE api_tokens ADD COLUMN revoked_at TEXT;
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
ALTER TABLE deliveries ADD COLUMN claim_token TEXT;
