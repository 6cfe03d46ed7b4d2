-- A channel gets at most five messages a day, digests and reports together (a Monday that is
-- the 1st brought fifteen): the local day a delivery's messages were made for.
ALTER TABLE deliveries ADD COLUMN messages_on TEXT;
CREATE INDEX deliveries_channel_messages_on ON deliveries (channel_id, messages_on)
    WHERE messages_on IS NOT NULL;
