-- A station's QR links carry this version; `stations reissue` bumps it to retire old posters.
ALTER TABLE stations ADD COLUMN link_version INTEGER NOT NULL DEFAULT 1;
