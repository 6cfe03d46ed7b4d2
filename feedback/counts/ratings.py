"""Recording ratings, each exactly once, and what a worker's text may hold."""
from contextlib import contextmanager, nullcontext
from datetime import date, datetime, time, timedelta, timezone

from sqlite_utils import Database

from feedback.clock import local_day, local_iso, sql_utc_text, to_epoch, to_utc_text
from feedback.counts import rollups
from feedback.storage.schema import DAY_NUMBER

MAX_COMMENT = 500          # what the form accepts
MAX_IMPORTED_COMMENT = 2000  # an earlier system may have kept longer ones; refuse rather than cut
ONCE_KEY_DAYS = 7          # a form's once key is kept this long: a resent form comes in minutes

# One-tap reasons offered after a low score, in the order the form shows them.
REASONS = ("water", "charging", "toilet", "temperature", "microwave", "closed", "staff")


def between_days(first: date, last: date | None = None, table: str = "ratings") -> tuple[str, list]:
    """SQL (with its values) for the ratings of local days ``first`` to ``last`` (or to now).

    The condition bounds ``rated_at`` too, a day wider each side (a UTC instant is within a day
    of its local day in any zone), so the (station_id, rated_at) index reads only that range
    rather than the station's whole history."""
    where = f"{table}.rated_at >= ? AND {table}.day >= ?"
    values = [utc_midnight(first - timedelta(days=1)), first.isoformat()]
    if last is not None:
        where += f" AND {table}.rated_at < ? AND {table}.day <= ?"
        values += [utc_midnight(last + timedelta(days=2)), last.isoformat()]
    return where, values


def on_days(first: date, last: date) -> tuple[str, str, list]:
    """The ratings of local days ``first`` to ``last`` across stations, along the day index
    (V21): its key as SQL (to order by), the condition, and the condition's values. One day is
    asked for with ``=``: only then are its rows read in the index's order of ``rated_at`` (a
    digest's first fifty bad ratings, not a sort of the nation's day)."""
    number = DAY_NUMBER.format(day="ratings.day")
    if first == last:
        return number, f"{number} = ?", [day_number(first)]
    return number, f"{number} BETWEEN ? AND ?", [day_number(first), day_number(last)]


def day_number(day: date) -> int:
    """``day`` as the day index keys it: days since 1970-01-01."""
    return (day - date(1970, 1, 1)).days


def count_between(db, first: date, last: date, where: str, params: list) -> int:
    """How many ratings of local days ``first`` to ``last`` ``where`` picks (a condition on the
    ratings' own columns that an index of them with ``rated_at`` next serves, like
    ``station_id = ?``). An instant more than a day inside the range is on a local day inside it
    in any zone, so those are counted from the index alone; only the two days at each end are
    read row by row for their ``day`` (a busy station's month: 500 rows read, not 4,000)."""
    inside = [utc_midnight(first + timedelta(days=1)), utc_midnight(last)]
    if inside[0] >= inside[1]:
        days, values = between_days(first, last)
        return db.execute(f"SELECT count(*) FROM ratings WHERE {where} AND {days}",
                          [*params, *values]).fetchone()[0]
    days = "day BETWEEN ? AND ? AND rated_at >= ? AND rated_at < ?"
    span = [first.isoformat(), last.isoformat()]
    return db.execute(
        f"""SELECT (SELECT count(*) FROM ratings WHERE {where} AND rated_at >= ? AND rated_at < ?)
                 + (SELECT count(*) FROM ratings WHERE {where} AND {days})
                 + (SELECT count(*) FROM ratings WHERE {where} AND {days})""",
        [*params, *inside,
         *params, *span, utc_midnight(first - timedelta(days=1)), inside[0],
         *params, *span, inside[1], utc_midnight(last + timedelta(days=2))]).fetchone()[0]


def utc_midnight(day: date) -> int:
    """The stored instant (feedback.clock.to_epoch) of midnight UTC starting ``day``."""
    return to_epoch(datetime.combine(day, time(), timezone.utc))


def record(db: Database, *, station_id: int, rated_at: datetime, score: int, comment: str = "",
           reasons: tuple[str, ...] = (), source: str, once_key: bytes | None, tz,
           device_id: int | None = None, held_reason: str | None = None) -> int:
    """Insert one rating (the rollups follow by trigger) and keep its ``once_key`` (as stored:
    feedback.storage.db.once_key) for ONCE_KEY_DAYS; its id. The caller has looked the key up
    (rating_of_once_key) in the same transaction. ``held_reason`` (feedback.counts.counting)
    keeps it out of the counts.

    Call inside write().
    """
    rating_id = db.execute(
        """INSERT INTO ratings (station_id, rated_at, day, score, comment, reasons, source,
                                device_id, held_reason)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [station_id, to_epoch(rated_at), local_day(rated_at, tz).isoformat(), score,
         comment, ";".join(reasons), source, device_id, held_reason]).lastrowid
    if once_key is not None:
        db.execute("INSERT INTO once_keys (key, rating_id, at) VALUES (?, ?, ?)",
                   [once_key, rating_id, to_epoch(rated_at)])
    return rating_id


def rating_of_once_key(db: Database, key: bytes) -> int | None:
    """The rating a once key (as stored) brought, while it is kept."""
    found = db.execute("SELECT rating_id FROM once_keys WHERE key = ?", [key]).fetchone()
    return found[0] if found else None


def forget_once_keys(db: Database, now: datetime) -> int:
    """Let go of the once keys older than ONCE_KEY_DAYS; how many. Call inside write()."""
    return db.execute("DELETE FROM once_keys WHERE at < ?",
                      [to_epoch(now - timedelta(days=ONCE_KEY_DAYS))]).rowcount


def add_details(db: Database, rating_id: int, comment: str, reasons: tuple[str, ...],
                now: datetime) -> bool:
    """Attach a comment and reasons to a rating, once; False if it has them already.

    Call inside write()."""
    cursor = db.execute(
        """INSERT INTO rating_details (rating_id, comment, reasons, added_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (rating_id) DO NOTHING""",
        [rating_id, comment, ";".join(reasons), to_utc_text(now)])
    return cursor.rowcount == 1


def insert_staged(db: Database, staged: int) -> int:
    """Move the staged import into the ratings, each row once, and return how many were new.

    An imported rating is what it says: its station, instant, score and comment, and the row id
    its earlier system gave it, if the file has one (``import_row``). The n-th of identical rows
    in a file is new only if fewer than n such ratings were imported before, so a file imported
    twice adds nothing twice while real repeats in one file all count; two ratings alike but for
    their row ids are two. That is looked up through the (station_id, rated_at) index, which
    every rating needs anyway, rather than through a key of its own: no key to store, no random
    index to write. A row whose station has no rating at its instant is new without counting
    its repeats (most rows of most files). Among ratings of one station and instant, ids follow
    score, comment, row id and line. Rolled up in bulk(). ``staged``: how many
    staging.stage_imported() held. Call inside write()."""
    held = db.execute(  # ratings are never deleted: the last id counts them without a scan
        "SELECT coalesce(max(id), 0) FROM ratings").fetchone()[0]
    large = staged >= held * REBUILT_DAY_INDEX_SHARE
    # the staged rows in the order they go in, each rating's repeats together: one sort, from
    # which both the repeats are counted and the ratings are inserted in the order of their
    # (station_id, rated_at) index (walked once, not leapt about in)
    db.execute("CREATE INDEX temp.imported_in_order "
               "ON imported (station_id, rated_at, score, comment, row_id, line, day)")
    with bulk(db), (day_index_rebuilt(db) if large else nullcontext()):
        added = db.execute(
            """INSERT INTO ratings (station_id, rated_at, day, score, comment, source, import_row)
               SELECT station_id, rated_at, day, score, comment, 'import', row_id
               FROM temp.imported AS staged INDEXED BY imported_in_order
               WHERE NOT EXISTS (SELECT 1 FROM ratings
                                 WHERE station_id = staged.station_id AND rated_at = staged.rated_at)
                  OR (SELECT count(*) FROM temp.imported AS same
                      WHERE same.station_id = staged.station_id AND same.rated_at = staged.rated_at
                        AND same.score = staged.score AND same.comment = staged.comment
                        AND same.row_id IS staged.row_id AND same.line <= staged.line)
                   > (SELECT count(*) FROM ratings
                      WHERE station_id = staged.station_id AND rated_at = staged.rated_at
                        AND score = staged.score AND comment = staged.comment AND source = 'import'
                        AND import_row IS staged.row_id)
               ORDER BY station_id, rated_at, score, comment, row_id, line""").rowcount
    db.execute("DROP TABLE temp.imported")
    return added


# An import of at least this share of the ratings already held builds the day index afresh
# rather than inserting into it: once that index outgrows the page cache a random insert costs
# about five times a row of a sorted build (10 M ratings into a new national database: 86 s of
# inserts against a 14 s build; 1 M into 100 M would rebuild 101 M entries for 2 minutes and more).
REBUILT_DAY_INDEX_SHARE = 0.25


@contextmanager
def day_index_rebuilt(db: Database):
    """The ratings' day index dropped, and built again from every rating when the block ends, in
    the same transaction: readers see the old index until it commits. Call inside write()."""
    sql = db.execute("SELECT sql FROM sqlite_master WHERE type = 'index' "
                     "AND name = 'ratings_day_number'").fetchone()[0]
    db.execute("DROP INDEX ratings_day_number")
    yield
    db.execute(sql)


@contextmanager
def bulk(db: Database):
    """Ratings inserted inside are rolled up when it ends, set-based (rollups.add_up()), rather
    than one by one by the per-rating trigger, which is set aside meanwhile and put back in the
    same transaction (the IMMEDIATE lock keeps every other writer out). For counted ratings only
    (none held): an import's. Call inside write()."""
    before = db.execute("SELECT coalesce(max(id), 0) FROM ratings").fetchone()[0]
    trigger = db.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' "
                         "AND name = 'ratings_roll_up'").fetchone()[0]
    db.execute("DROP TRIGGER ratings_roll_up")
    yield
    scores = ", ".join(f"score = {n} AS n{n}" for n in range(1, 6))
    counts = ", ".join(f"sum(score = {n}) AS n{n}" for n in range(1, 6))
    added_up = ", ".join(f"n{n} = n{n} + excluded.n{n}" for n in range(1, 6))
    with rollups.triggers_aside(db):
        # a row a rating, in the order an import inserts them (by station and time)
        rollups.add_up(db, f"SELECT station_id, day, {scores} FROM ratings WHERE id > ?", [before])
    # the added ratings by their ids, then sorted: grouped along the (station_id, rated_at)
    # index instead, the planner's choice, it would read all 100 M to add up 1 M (16 s, not 2)
    db.execute(f"""INSERT INTO station_totals (station_id, n1, n2, n3, n4, n5, last_rated_at)
                   SELECT station_id, {counts}, {sql_utc_text('max(rated_at)')}
                   FROM ratings NOT INDEXED WHERE id > ? GROUP BY station_id
                   ON CONFLICT (station_id) DO UPDATE SET {added_up},
                       last_rated_at = max(coalesce(last_rated_at, ''), excluded.last_rated_at)""",
               [before])
    db.execute(trigger)


EXPORT_COLUMNS = ("station_code", "rated_at", "score", "comment", "reasons", "counted", "held_reason")


def for_export(db: Database, first: date, last: date, tz, where: str = "1", params=()):
    """The ratings of local days ``first`` to ``last`` (of the stations ``where`` picks), day by
    day, as export rows; read as they are written, so a year costs no more memory than a day."""
    day, days, values = on_days(first, last)
    rows = db.execute(
        f"""SELECT code, rated_at, score, coalesce(rating_details.comment, ratings.comment),
                   coalesce(nullif(rating_details.reasons, ''), ratings.reasons), held_reason,
                   EXISTS (SELECT 1 FROM excluded_ratings WHERE rating_id = ratings.id)
            FROM ratings JOIN stations ON stations.id = ratings.station_id
            LEFT JOIN rating_details ON rating_details.rating_id = ratings.id
            WHERE {days} AND {where}
            ORDER BY {day}, ratings.rated_at, ratings.id""",
        [*values, *params])
    for code, rated_at, score, comment, reasons, held, excluded in rows:
        held = held or ("excluded" if excluded else "")
        yield {"station_code": code, "rated_at": local_iso(rated_at, tz), "score": score,
               "comment": comment, "reasons": reasons, "counted": "no" if held else "yes",
               "held_reason": held}
