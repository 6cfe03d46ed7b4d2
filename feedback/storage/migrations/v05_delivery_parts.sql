-- The digest as first rendered for a delivery, so every retry sends the same messages.
ALTER TABLE deliveries ADD COLUMN parts TEXT;  -- JSON list of the messages
