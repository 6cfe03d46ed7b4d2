"""The rollups against the ratings: a recount to check them by, and a rebuild from the ratings.

Triggers keep the rollups (feedback/storage/schema.py) in each rating's own transaction. This is for
what triggers cannot answer (a database restored, migrated or mended by hand), and add_up() does
their work set-based for many ratings at once (an import, a rebuild): a nation's tens of millions
of station-days would take the better part of an hour through the triggers one by one.
"""
import json
from contextlib import contextmanager
from datetime import timedelta

from feedback.clock import EARLIEST_DAY, LATEST_DAY, sql_utc_text
from feedback.storage.schema import DAY_NUMBER

COUNTS = "n1, n2, n3, n4, n5"
COUNTED = ("held_reason IS NULL AND NOT EXISTS "
           "(SELECT 1 FROM excluded_ratings WHERE rating_id = ratings.id)")
SUMS = ", ".join(f"sum(score = {n}) AS n{n}" for n in range(1, 6))

# Each rollup: its key columns, and the recount of its rows from the ratings. Stored rows with
# nothing in them (left by exclusions) mean the same as no row.
RECOUNTS = {
    "station_days": ("station_id, day", f"""
        SELECT station_id, day, {SUMS} FROM ratings WHERE {COUNTED} GROUP BY station_id, day"""),
    "station_months": ("station_id, month", f"""
        SELECT station_id, substr(day, 1, 7) AS month, {SUMS} FROM ratings WHERE {COUNTED}
        GROUP BY station_id, month"""),
    "city_days": ("day", f"SELECT day, {SUMS} FROM ratings WHERE {COUNTED} GROUP BY day"),
    "station_weeks": ("station_id, monday", f"""
        SELECT station_id, date(day, 'weekday 0', '-6 days') AS monday, {SUMS} FROM ratings
        WHERE {COUNTED} GROUP BY station_id, monday"""),
    "group_months": ("month, district, tier", f"""
        SELECT substr(day, 1, 7) AS month, district, tier, count(DISTINCT station_id) AS rated,
               {SUMS} FROM ratings JOIN stations ON stations.id = station_id WHERE {COUNTED}
        GROUP BY month, district, tier"""),
    "district_days": ("district, day", f"""
        SELECT district, day, {SUMS} FROM ratings JOIN stations ON stations.id = station_id
        WHERE {COUNTED} GROUP BY district, day"""),
    "district_months": ("district, month", f"""
        SELECT district, substr(day, 1, 7) AS month, {SUMS} FROM ratings
        JOIN stations ON stations.id = station_id WHERE {COUNTED} GROUP BY district, month"""),
    "station_windows": ("end_day, station_id", f"""
        SELECT end_day, station_id, {SUMS} FROM ratings
        JOIN window_ends ON {DAY_NUMBER.format(day="ratings.day")}
            BETWEEN {DAY_NUMBER.format(day="first_day")} AND {DAY_NUMBER.format(day="end_day")}
        WHERE {COUNTED} GROUP BY end_day, station_id"""),
    "station_totals": ("station_id", f"""
        SELECT station_id, {", ".join(f"sum(score = {n} AND {COUNTED}) AS n{n}" for n in range(1, 6))},
               sum(NOT ({COUNTED})) AS held,
               {sql_utc_text(f"max(CASE WHEN {COUNTED} THEN rated_at END)")} AS last_rated_at
        FROM ratings GROUP BY station_id"""),
}
NOT_EMPTY = {"station_totals": "n1 + n2 + n3 + n4 + n5 + held > 0 OR last_rated_at IS NOT NULL"}
MORE_COLUMNS = {"station_totals": ", held, last_rated_at", "group_months": ", rated"}
SHOWN = 20  # differences listed per rollup


# The same recounts for some days only (differences(days=…)), each as (stored, recount) read by
# key, never a rollup whole: the days' rows from their ratings, along the day index; the months,
# weeks and windows that hold them, of the stations rated on them, from the daily rollup just
# checked (the other days of a month were checked when they changed); the districts' and groups'
# months from the stations' months. ``:days`` is a JSON list of days. station_totals spans whole
# histories: the full recount checks it.
ASKED = "json_each(:days) AS asked"
ON_ASKED_DAYS = (f"{DAY_NUMBER.format(day='ratings.day')} IN "
                 f"(SELECT {DAY_NUMBER.format(day='value')} FROM json_each(:days))")
TOUCHED = f"""SELECT DISTINCT stations.id FROM stations CROSS JOIN {ASKED}
              CROSS JOIN station_days ON station_days.station_id = stations.id
                                     AND station_days.day = asked.value"""
MONTHS = "SELECT DISTINCT substr(value, 1, 7) AS month FROM json_each(:days)"
MONDAYS = "SELECT DISTINCT date(value, 'weekday 0', '-6 days') AS monday FROM json_each(:days)"
WINDOWS = """SELECT DISTINCT end_day, first_day FROM window_ends CROSS JOIN json_each(:days)
             WHERE value BETWEEN first_day AND end_day"""
DAY_SUMS = ", ".join(f"sum(n{n}) AS n{n}" for n in range(1, 6))
RECOUNTS_OF_DAYS = {
    "station_days": (
        f"""SELECT station_days.* FROM stations CROSS JOIN {ASKED} CROSS JOIN station_days
            ON station_days.station_id = stations.id AND station_days.day = asked.value""",
        f"""SELECT station_id, day, {SUMS} FROM ratings WHERE {ON_ASKED_DAYS} AND {COUNTED}
            GROUP BY station_id, day"""),
    "city_days": (
        f"SELECT city_days.* FROM {ASKED} CROSS JOIN city_days ON day = asked.value",
        f"SELECT day, {SUMS} FROM ratings WHERE {ON_ASKED_DAYS} AND {COUNTED} GROUP BY day"),
    "district_days": (
        f"""SELECT district_days.* FROM (SELECT DISTINCT district FROM stations) AS named
            CROSS JOIN {ASKED} CROSS JOIN district_days
            ON district_days.district = named.district AND day = asked.value""",
        f"""SELECT district, day, {SUMS} FROM ratings JOIN stations ON stations.id = station_id
            WHERE {ON_ASKED_DAYS} AND {COUNTED} GROUP BY district, day"""),
    "station_months": (
        f"""SELECT station_months.* FROM ({TOUCHED}) AS touched CROSS JOIN ({MONTHS}) AS asked
            CROSS JOIN station_months
            ON station_id = touched.id AND station_months.month = asked.month""",
        f"""SELECT station_id, asked.month, {DAY_SUMS} FROM ({TOUCHED}) AS touched
            CROSS JOIN ({MONTHS}) AS asked CROSS JOIN station_days
            ON station_id = touched.id
               AND day >= asked.month || '-01' AND day < asked.month || '-32'
            GROUP BY station_id, asked.month"""),
    "station_weeks": (
        f"""SELECT station_weeks.* FROM ({TOUCHED}) AS touched CROSS JOIN ({MONDAYS}) AS asked
            CROSS JOIN station_weeks
            ON station_id = touched.id AND station_weeks.monday = asked.monday""",
        f"""SELECT station_id, asked.monday, {DAY_SUMS} FROM ({TOUCHED}) AS touched
            CROSS JOIN ({MONDAYS}) AS asked CROSS JOIN station_days ON station_id = touched.id
                AND day BETWEEN asked.monday AND date(asked.monday, '+6 days')
            GROUP BY station_id, asked.monday"""),
    "district_months": (
        f"""SELECT district_months.* FROM ({MONTHS}) AS asked
            CROSS JOIN district_months ON district_months.month = asked.month""",
        f"""SELECT district, station_months.month, {DAY_SUMS} FROM ({MONTHS}) AS asked
            CROSS JOIN station_months ON station_months.month = asked.month
            JOIN stations ON stations.id = station_id GROUP BY district, station_months.month"""),
    "group_months": (
        f"""SELECT group_months.* FROM ({MONTHS}) AS asked
            CROSS JOIN group_months ON group_months.month = asked.month""",
        f"""SELECT station_months.month, district, tier, sum(n1 + n2 + n3 + n4 + n5 > 0) AS rated,
                   {DAY_SUMS} FROM ({MONTHS}) AS asked
            CROSS JOIN station_months ON station_months.month = asked.month
            JOIN stations ON stations.id = station_id
            GROUP BY station_months.month, district, tier"""),
    "station_windows": (
        f"""SELECT station_windows.* FROM ({TOUCHED}) AS touched CROSS JOIN ({WINDOWS}) AS asked
            CROSS JOIN station_windows
            ON station_id = touched.id AND station_windows.end_day = asked.end_day""",
        f"""SELECT asked.end_day, station_id, {DAY_SUMS} FROM ({TOUCHED}) AS touched
            CROSS JOIN ({WINDOWS}) AS asked CROSS JOIN station_days ON station_id = touched.id
                AND day BETWEEN asked.first_day AND asked.end_day
            GROUP BY asked.end_day, station_id"""),
}


def differences(db, days: list[str] | None = None) -> list[str]:
    """What the rollups hold that a recount from the ratings does not, one line per row, at
    most SHOWN per rollup; empty when they agree. With ``days`` (ISO days), only what those
    days' ratings go into (RECOUNTS_OF_DAYS): a cost that follows the days, not the history."""
    found = []
    for table, (key, recount) in RECOUNTS.items():
        columns = f"{key}, {COUNTS}" + MORE_COLUMNS.get(table, "")
        rows = table
        if days is not None:
            if table not in RECOUNTS_OF_DAYS:
                continue
            rows, recount = RECOUNTS_OF_DAYS[table]
            rows = f"({rows})"
        stored = (f"SELECT {columns} FROM {rows} WHERE "
                  + NOT_EMPTY.get(table, "n1 + n2 + n3 + n4 + n5 > 0"))
        counted = f"SELECT {columns} FROM ({recount})"
        wrong = list(db.execute(
            f"""SELECT 'stored', * FROM ({stored} EXCEPT {counted})
                UNION ALL SELECT 'counted', * FROM ({counted} EXCEPT {stored})
                ORDER BY 2, 3 LIMIT {SHOWN * 2}""", {"days": json.dumps(days or [])}))
        for side, *values in wrong[:SHOWN]:
            found.append(f"{table}: {'holds' if side == 'stored' else 'misses'} "
                         f"{dict(zip([c.strip() for c in columns.split(',')], values))}")
    return found


def rebuild(db) -> None:
    """Every rollup recounted from the ratings, set-based (add_up()). Call inside write().
    The digests' windows are dropped rather than refilled: the next digest makes its own."""
    db.execute("UPDATE backup_generation SET full_due = 1")  # every row of every rollup moved
    with triggers_aside(db):
        for table in (*RECOUNTS, "window_ends", "week_lists"):
            db.execute(f"DELETE FROM {table}")
        # a day whose ratings are all excluded keeps its (empty) row: lifting an exclusion puts
        # its ratings back into the row that is there
        add_up(db, f"""SELECT station_id, day, {", ".join(f"sum(score = {n} AND {COUNTED}) AS n{n}"
                                                            for n in range(1, 6))}
                       FROM ratings WHERE held_reason IS NULL GROUP BY station_id, day""")
        db.execute(f"INSERT INTO station_totals (station_id, {COUNTS}, held, last_rated_at) "
                   f"{RECOUNTS['station_totals'][1]}")


@contextmanager
def triggers_aside(db):
    """The triggers that keep the rollups of station_days (and forget what was worked out from
    them) set aside, and put back in the same transaction, while add_up() does their work for
    many rows at once."""
    triggers = db.execute("""SELECT name, sql FROM sqlite_master WHERE type = 'trigger'
                             AND tbl_name IN ('station_days', 'station_months', 'station_weeks')""").fetchall()
    for name, _ in triggers:
        db.execute(f"DROP TRIGGER {name}")
    yield
    for _, sql in triggers:
        db.execute(sql)


def add_up(db, days_sql: str, params=()) -> None:
    """Add station-days, ``days_sql`` selecting (station_id, day, n1..n5), to station_days and to
    every rollup kept from it, set-based: what the triggers do row by row, for a whole import or
    rebuild. Rows of the same station and day are added together, so ``days_sql`` may give one
    per rating. Call inside triggers_aside().

    The station-days are held in the order (station, month, day), which is day order for each
    station: the months are then read off in that order rather than sorted, and ratings that
    arrive by station and time (an import's) go in without a sort either. The weeks take the
    station-days one by one, each added to its week's row: a GROUP BY's key comparisons and
    sums cost twice what the upserts do (12 s against 5 s for 9 M station-days)."""
    added_up = ", ".join(f"n{n} = n{n} + excluded.n{n}" for n in range(1, 6))
    sums = ", ".join(f"sum(n{n}) AS n{n}" for n in range(1, 6))
    total = "n1 + n2 + n3 + n4 + n5"
    for table in ("calendar", "added_days", "added_months", "added_district_days"):
        db.execute(f"DROP TABLE IF EXISTS temp.{table}")
    # each day's month and week worked out once, not once for each of millions of rows
    db.execute("""CREATE TEMP TABLE calendar (day TEXT PRIMARY KEY, month TEXT, monday TEXT)
                  WITHOUT ROWID""")
    db.execute("""INSERT INTO temp.calendar
                  WITH RECURSIVE days (day) AS (
                      SELECT ? UNION ALL SELECT date(day, '+1 day') FROM days WHERE day < ?)
                  SELECT day, substr(day, 1, 7), date(day, 'weekday 0', '-6 days') FROM days""",
               # a local day may fall a day either side of the years an instant is checked against
               [(EARLIEST_DAY - timedelta(days=1)).isoformat(),
                (LATEST_DAY + timedelta(days=1)).isoformat()])
    db.execute("""CREATE TEMP TABLE added_days (
                      station_id INTEGER, month TEXT, monday TEXT, day TEXT,
                      n1 INTEGER, n2 INTEGER, n3 INTEGER, n4 INTEGER, n5 INTEGER,
                      PRIMARY KEY (station_id, month, day)) WITHOUT ROWID""")
    db.execute(f"""INSERT INTO temp.added_days
                   SELECT station_id, month, monday, added.day, {COUNTS}
                   FROM ({days_sql}) AS added CROSS JOIN temp.calendar ON calendar.day = added.day
                   WHERE true ON CONFLICT DO UPDATE SET {added_up}""", params)
    # each station's month with what it held before: a month that held nothing makes the
    # station one more rated in its group
    db.execute(f"""CREATE TEMP TABLE added_months AS
                   SELECT added.station_id, month, {sums},
                          coalesce((SELECT {total} FROM station_months AS held
                                    WHERE held.station_id = added.station_id
                                      AND held.month = added.month), 0) AS before
                   FROM temp.added_days AS added GROUP BY station_id, month""")
    db.execute(f"""CREATE TEMP TABLE added_district_days AS
                   SELECT district, day, {sums}
                   FROM temp.added_days JOIN stations ON stations.id = station_id GROUP BY 1, 2""")
    for statement in (
            f"""INSERT INTO station_days SELECT station_id, day, {COUNTS} FROM temp.added_days
                WHERE true ON CONFLICT (station_id, day) DO UPDATE SET {added_up}""",
            f"""INSERT INTO station_months SELECT station_id, month, {COUNTS} FROM temp.added_months
                WHERE true ON CONFLICT (station_id, month) DO UPDATE SET {added_up}""",
            f"""INSERT INTO group_months
                SELECT month, district, tier, sum(before = 0 AND {total} > 0), {sums}
                FROM temp.added_months JOIN stations ON stations.id = station_id GROUP BY 1, 2, 3
                ON CONFLICT (month, district, tier) DO UPDATE SET
                    rated = rated + excluded.rated, {added_up}""",
            f"""INSERT INTO station_weeks SELECT station_id, monday, {COUNTS}
                FROM temp.added_days WHERE true
                ON CONFLICT (station_id, monday) DO UPDATE SET {added_up}""",
            f"""INSERT INTO district_days SELECT district, day, {COUNTS}
                FROM temp.added_district_days WHERE true
                ON CONFLICT (district, day) DO UPDATE SET {added_up}""",
            # the city's days from the districts', far fewer rows than the stations'
            f"""INSERT INTO city_days SELECT day, {sums} FROM temp.added_district_days GROUP BY day
                ON CONFLICT (day) DO UPDATE SET {added_up}""",
            f"""INSERT INTO district_months SELECT district, month, {sums} FROM temp.added_months
                JOIN stations ON stations.id = station_id GROUP BY 1, 2
                ON CONFLICT (district, month) DO UPDATE SET {added_up}""",
            f"""INSERT INTO station_windows SELECT end_day, station_id, {sums}
                FROM temp.added_days JOIN window_ends ON day BETWEEN first_day AND end_day
                GROUP BY 1, 2 ON CONFLICT (end_day, station_id) DO UPDATE SET {added_up}""",
            """UPDATE window_ends SET ranking = NULL WHERE ranking IS NOT NULL AND EXISTS (
                   SELECT 1 FROM temp.added_days WHERE day BETWEEN first_day AND end_day)""",
            # the weeks' lists from the first week added to on (a little more than the
            # triggers would forget, in one statement)
            """DELETE FROM week_lists WHERE monday >= (SELECT min(monday) FROM temp.added_days)""",
            # the days changed, for the next backup's check (the triggers that note them are aside)
            """INSERT INTO changed_days
               SELECT (SELECT generation FROM backup_generation), day FROM temp.added_days
               GROUP BY day ON CONFLICT DO NOTHING"""):
        db.execute(statement)
    for table in ("calendar", "added_days", "added_months", "added_district_days"):
        db.execute(f"DROP TABLE temp.{table}")
