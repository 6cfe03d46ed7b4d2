-- Plans that do not depend on ANALYZE. Nearly every station is listed, so an index of status
-- narrows nothing, yet without statistics SQLite takes it as it would any equality: it drove the
-- finder's join from the stations and probed the R*Tree once for each of 200,000 (a second
-- where the R*Tree first takes milliseconds). Only the few stations not listed are indexed now.
DROP INDEX stations_status;
CREATE INDEX stations_unlisted ON stations (status) WHERE status != 'listed';
