-- V19: no index of station_days by day. At national scale it took 19 bytes a station-day (about
-- 10 a rating), and the windows, its only readers of a day across stations, read station by
-- station along the key in a third of the time (feedback.counts.windows.STATION_SUMS).
DROP INDEX station_days_day;
