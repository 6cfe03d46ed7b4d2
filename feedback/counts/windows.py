"""The digests' ranking windows: each station's counted ratings over the days up to a digest's day.

Summing a month of station-days for 200,000 stations takes seconds. A window is made once per
digest day instead, with a row for every station, kept in station_windows for the latest KEPT
days and read in one pass; the triggers of schema V13 keep it exact when ratings change inside
it afterwards. Making yesterday's window moves the day before's on by a day (add the day that
came in, take away the day that fell out) rather than summing the whole month again. A day
older than every kept window is summed into a temporary table of this connection instead.
"""
import json
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, timedelta

from feedback.storage.db import write

KEPT = 8  # windows kept: the latest end days, yesterday's digest and the week before it
COUNTED = "n1 + n2 + n3 + n4 + n5"


@dataclass
class Window:
    """Where a window's counts are: ``rows`` selects (station_id, n1..n5), a row for each
    station with a rating in it at least; ``unrated`` is a condition on ``stations.id`` for the
    stations without one (for a kept window, a list of ids to look the stations up by). Each
    comes with its parameters. ``kept``: the end day of a kept window, whose nation-wide ranking
    may be remembered (see ranking()); None for a summed one."""
    rows: str
    rows_params: list
    unrated: str
    unrated_params: list
    kept: str | None = None


def window(db, first: date, last: date) -> Window:
    """The window from ``first`` to ``last``: kept (made now if need be), or summed."""
    end = last.isoformat()
    if ensure(db, first, last):
        upto = db.execute("SELECT stations_upto FROM window_ends WHERE end_day = ?", [end]).fetchone()[0]
        return Window(
            "SELECT station_id, n1, n2, n3, n4, n5 FROM station_windows WHERE end_day = ?", [end],
            # the empty rows by their partial index (the planner, knowing no sizes, would read
            # the whole window by its key), and the stations added since the window was made
            f"""stations.id IN (SELECT station_id FROM station_windows INDEXED BY station_windows_empty
                                WHERE end_day = ? AND {COUNTED} = 0
                                UNION ALL SELECT id FROM stations AS added WHERE added.id > ?
                                AND NOT EXISTS (SELECT 1 FROM station_windows
                                                WHERE end_day = ? AND station_id = added.id))""",
            [end, upto, end], kept=end)
    summed(db, first, last)
    return Window("SELECT * FROM temp.past_window", [],
                  f"stations.id NOT IN (SELECT station_id FROM temp.past_window WHERE {COUNTED} > 0)", [])


# Each station's counts from day ? to day ?: read station by station along station_days' key, a
# short run of days for each, grouped as read (V19 dropped the index of days: 19 bytes a
# station-day, and read through it every station-day was a lookup of its own, then sorted).
STATION_SUMS = f"""
    SELECT stations.id AS station_id, {", ".join(f"sum(n{n}) AS n{n}" for n in range(1, 6))}
    FROM stations NOT INDEXED  -- in the order of ids
    CROSS JOIN station_days ON station_days.station_id = stations.id AND day BETWEEN ? AND ?
    GROUP BY stations.id"""


def summed(db, first: date, last: date) -> None:
    """The window from ``first`` to ``last`` summed into temp.past_window (station_id, n1..n5)."""
    db.execute("DROP TABLE IF EXISTS temp.past_window")
    db.execute(f"CREATE TEMP TABLE past_window AS {STATION_SUMS}", [first.isoformat(), last.isoformat()])


def ranking(db, kept: Window, rank) -> dict:
    """The nation's ranking (and quiet stations) in a kept window: remembered in window_ends
    until a rating inside the window or a station it names changes (the triggers forget it),
    else ``rank()`` (a JSON-ready dict) is worked out and remembered, under the write lock so
    that no change slips in between."""
    remembered = db.execute("SELECT ranking FROM window_ends WHERE end_day = ?", [kept.kept]).fetchone()
    if remembered and remembered[0]:
        return json.loads(remembered[0])
    with nullcontext() if db.conn.in_transaction else write(db):
        found = rank()
        db.execute("UPDATE window_ends SET ranking = ? WHERE end_day = ?",
                   [json.dumps(found), kept.kept])
    return found


def ensure(db, first: date, last: date) -> bool:
    """Make the window from ``first`` to ``last`` unless it is kept already; False when ``last``
    is older than the KEPT latest windows (it would be dropped at once)."""
    end, start = last.isoformat(), first.isoformat()
    if db.execute("SELECT 1 FROM window_ends WHERE end_day = ? AND first_day = ?",
                  [end, start]).fetchone():
        return True
    with nullcontext() if db.conn.in_transaction else write(db):
        kept = db.execute("SELECT first_day FROM window_ends WHERE end_day = ?", [end]).fetchone()
        if kept and kept[0] == start:
            return True  # made by another process meanwhile
        if kept:  # the same day with another length: make it again
            drop(db, end)
        if db.execute("SELECT count(*) FROM window_ends WHERE end_day > ?", [end]).fetchone()[0] >= KEPT:
            return False
        length = (last - first).days
        source = db.execute(
            """SELECT end_day, stations_upto FROM window_ends
               WHERE julianday(end_day) - julianday(first_day) = ?
                 AND abs(julianday(end_day) - julianday(?)) <= ?
               ORDER BY abs(julianday(end_day) - julianday(?)) LIMIT 1""",
            [length, end, length, end]).fetchone()
        db.execute("""INSERT INTO window_ends (end_day, first_day, stations_upto)
                      SELECT ?, ?, coalesce(max(id), 0) FROM stations""", [end, start])
        if source is None:
            db.execute("INSERT INTO station_windows (end_day, station_id) SELECT ?, id FROM stations",
                       [end])
            add_days(db, end, first, last, +1)
        else:
            moved_from = date.fromisoformat(source[0])
            was_first = moved_from - timedelta(days=length)
            db.execute("""INSERT INTO station_windows SELECT ?, station_id, n1, n2, n3, n4, n5
                          FROM station_windows WHERE end_day = ?""", [end, source[0]])
            db.execute("""INSERT OR IGNORE INTO station_windows (end_day, station_id)
                          SELECT ?, id FROM stations WHERE id > ?""", [end, source[1]])
            # the days of the new window that the old lacks, and the other way round
            add_days(db, end, max(first, moved_from + timedelta(days=1)), last, +1)
            add_days(db, end, first, min(last, was_first - timedelta(days=1)), +1)
            add_days(db, end, was_first, min(moved_from, first - timedelta(days=1)), -1)
            add_days(db, end, max(was_first, last + timedelta(days=1)), moved_from, -1)
        for old in db.execute("SELECT end_day FROM window_ends ORDER BY end_day DESC "
                              "LIMIT -1 OFFSET ?", [KEPT]).fetchall():
            drop(db, old[0])
    return True


def add_days(db, end: str, first: date, last: date, sign: int) -> None:
    """Add (or, with sign -1, take away) the station-days from ``first`` to ``last`` to the
    window ending ``end``; nothing when first is after last."""
    if first > last:
        return
    db.execute(
        f"""INSERT INTO station_windows
            SELECT ?, station_id, {", ".join(f"{sign} * n{n}" for n in range(1, 6))}
            FROM ({STATION_SUMS}) WHERE true
            ON CONFLICT (end_day, station_id) DO UPDATE SET
                n1 = n1 + excluded.n1, n2 = n2 + excluded.n2, n3 = n3 + excluded.n3,
                n4 = n4 + excluded.n4, n5 = n5 + excluded.n5""",
        [end, first.isoformat(), last.isoformat()])


def drop(db, end: str) -> None:
    db.execute("DELETE FROM station_windows WHERE end_day = ?", [end])
    db.execute("DELETE FROM window_ends WHERE end_day = ?", [end])
