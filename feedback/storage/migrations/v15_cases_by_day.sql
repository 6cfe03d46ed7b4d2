-- Cases pile up year after year: the reports read a month's openings, and a week's cases (open,
-- or resolved since it began), and a station's page its own cases, by index rather than every
-- case there ever was. So do its month's visits and decisions, and its "delisted after the
-- month": each by its action and time, not the stations' whole history.
CREATE INDEX cases_opened_on ON cases (opened_on);
CREATE INDEX visits_at ON visits (at);
CREATE INDEX station_history_action_at ON station_history (action, at);
CREATE INDEX cases_station ON cases (station_id, opened_on);
CREATE INDEX cases_resolved_on ON cases (resolved_on) WHERE resolved_on IS NOT NULL;
