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
    "station_totals": ("station_id", f"""
        SELECT station_id, {", ".join(f"sum(score = {n} AND {COUNTED}) AS n{n}" for n in range(1, 6))},
               sum(NOT ({COUNTED})) AS held,
               max(CASE WHEN {COUNTED} THEN rated_at END) AS last_rated_at
        FROM ratings GROUP BY station_id"""),
}
NOT_EMPTY = {"station_totals": "n1 + n2 + n3 + n4 + n5 + held > 0 OR last_rated_at IS NOT NULL"}
SHOWN = 20  # differences listed per rollup


def differences(db) -> list[str]:
    """What the rollups hold that a recount from the ratings does not, one line per row, at
    most SHOWN per rollup; empty when they agree."""
    found = []
    for table, (key, recount) in RECOUNTS.items():
        columns = f"{key}, {COUNTS}" + (", held, last_rated_at" if table == "station_totals" else "")
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
    """Every rollup recounted from the ratings. Call inside write()."""
    # months and city days first: emptying the days afterwards finds nothing left to subtract
    for table in ("station_months", "city_days", "station_days", "station_totals"):
        db.execute(f"DELETE FROM {table}")
    # the daily rows are inserted one by one through their trigger: months and city days follow.
    # A day whose ratings are all excluded keeps its (empty) row: lifting an exclusion puts its
    # ratings back into the row that is there.
    counted_sums = ", ".join(f"sum(score = {n} AND {COUNTED})" for n in range(1, 6))
    db.execute(f"""INSERT INTO station_days (station_id, day, {COUNTS})
                   SELECT station_id, day, {counted_sums} FROM ratings WHERE held_reason IS NULL
                   GROUP BY station_id, day""")
    db.execute(f"INSERT INTO station_totals (station_id, {COUNTS}, held, last_rated_at) "
               f"{RECOUNTS['station_totals'][1]}")
