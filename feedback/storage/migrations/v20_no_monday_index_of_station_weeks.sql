-- V20: no index of station_weeks by Monday either (about 2 bytes a rating at national scale, 12
-- at a tenth of it). The weekly report reads a week across stations station by station.
DROP INDEX station_weeks_monday;
