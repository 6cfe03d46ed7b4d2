"""The rollups against the ratings: a recount to check them by, and a rebuild from the ratings.

Triggers keep the rollups (feedback/schema.py) in each rating's own transaction. This is for
what triggers cannot answer: a database restored, migrated or mended by hand.
"""
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
        JOIN window_ends ON ratings.day BETWEEN first_day AND end_day
        WHERE {COUNTED} GROUP BY end_day, station_id"""),
    "station_totals": ("station_id", f"""
        SELECT station_id, {", ".join(f"sum(score = {n} AND {COUNTED}) AS n{n}" for n in range(1, 6))},
               sum(NOT ({COUNTED})) AS held,
               max(CASE WHEN {COUNTED} THEN rated_at END) AS last_rated_at
        FROM ratings GROUP BY station_id"""),
}
NOT_EMPTY = {"station_totals": "n1 + n2 + n3 + n4 + n5 + held > 0 OR last_rated_at IS NOT NULL"}
MORE_COLUMNS = {"station_totals": ", held, last_rated_at", "group_months": ", rated"}
SHOWN = 20  # differences listed per rollup


def differences(db) -> list[str]:
    """What the rollups hold that a recount from the ratings does not, one line per row, at
    most SHOWN per rollup; empty when they agree."""
    found = []
    for table, (key, recount) in RECOUNTS.items():
        columns = f"{key}, {COUNTS}" + MORE_COLUMNS.get(table, "")
        stored = (f"SELECT {columns} FROM {table} WHERE "
                  + NOT_EMPTY.get(table, "n1 + n2 + n3 + n4 + n5 > 0"))
        counted = f"SELECT {columns} FROM ({recount})"
        wrong = list(db.execute(
            f"""SELECT 'stored', * FROM ({stored} EXCEPT {counted})
                UNION ALL SELECT 'counted', * FROM ({counted} EXCEPT {stored})
                ORDER BY 2, 3 LIMIT {SHOWN * 2}"""))
        for side, *values in wrong[:SHOWN]:
            found.append(f"{table}: {'holds' if side == 'stored' else 'misses'} "
                         f"{dict(zip([c.strip() for c in columns.split(',')], values))}")
    return found


def rebuild(db) -> None:
    """Every rollup recounted from the ratings. Call inside write().

    Set-based: the days are counted from the ratings, then every other rollup from the days
    (a nation's 50 million station-days would take the better part of an hour through the
    triggers, one by one); the triggers that keep them are set aside meanwhile and put back in
    the same transaction. The digests' windows are dropped rather than refilled: the next
    digest makes its own."""
    triggers = db.execute("""SELECT name, sql FROM sqlite_master WHERE type = 'trigger'
                             AND tbl_name IN ('station_days', 'station_months')""").fetchall()
    for name, _ in triggers:
        db.execute(f"DROP TRIGGER {name}")
    for table in (*RECOUNTS, "window_ends"):
        db.execute(f"DELETE FROM {table}")
    sums = ", ".join(f"sum(n{n})" for n in range(1, 6))
    # a day whose ratings are all excluded keeps its (empty) row: lifting an exclusion puts its
    # ratings back into the row that is there
    counted_sums = ", ".join(f"sum(score = {n} AND {COUNTED})" for n in range(1, 6))
    db.execute(f"""INSERT INTO station_days (station_id, day, {COUNTS})
                   SELECT station_id, day, {counted_sums} FROM ratings WHERE held_reason IS NULL
                   GROUP BY station_id, day""")
    for statement in (
            f"""INSERT INTO station_months SELECT station_id, substr(day, 1, 7), {sums}
                FROM station_days GROUP BY 1, 2""",
            f"""INSERT INTO station_weeks SELECT station_id, date(day, 'weekday 0', '-6 days'),
                {sums} FROM station_days GROUP BY 1, 2""",
            f"INSERT INTO city_days SELECT day, {sums} FROM station_days GROUP BY day",
            f"""INSERT INTO district_days SELECT district, day, {sums} FROM station_days
                JOIN stations ON stations.id = station_id GROUP BY 1, 2""",
            f"""INSERT INTO district_months SELECT district, month, {sums} FROM station_months
                JOIN stations ON stations.id = station_id GROUP BY 1, 2""",
            f"""INSERT INTO group_months SELECT month, district, tier,
                sum(n1 + n2 + n3 + n4 + n5 > 0), {sums} FROM station_months
                JOIN stations ON stations.id = station_id GROUP BY 1, 2, 3""",
            f"""INSERT INTO station_totals (station_id, {COUNTS}, held, last_rated_at)
                {RECOUNTS['station_totals'][1]}"""):
        db.execute(statement)
    for _, sql in triggers:
        db.execute(sql)
