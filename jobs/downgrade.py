"""The downgrade rule: three complete calendar months without a rating.

At date D, a listed station is flagged when the three complete calendar months before D's month
hold no rating of it, and it opened on or before the first day of the earliest of those months.
``flags`` is the rule; ``load`` and ``record`` read and write around it. A flag only proposes:
an inspector's decision changes the tier.
"""
from datetime import date

from feedback.clock import add_months, local_iso, month_start, to_utc_text

STEP_DOWN = {"national": "provincial", "provincial": "city", "city": "delisted"}
SILENT_MONTHS = 3


def window(as_of: date) -> tuple[date, date]:
    """The first day of the earliest silent month, and the first day of D's month (excluded)."""
    end = month_start(as_of)
    return add_months(end, -SILENT_MONTHS), end


def flags(stations: list[dict], monthly_counts: dict[str, dict[str, int]], as_of: date) -> list[dict]:
    """The stations to flag at ``as_of``.

    ``stations``: code, tier, status, opened_on (ISO date), last_rated_at.
    ``monthly_counts``: code → {'YYYY-MM': ratings} (months with no ratings may be absent).
    """
    start, end = window(as_of)
    months = {add_months(start, i).strftime("%Y-%m") for i in range(SILENT_MONTHS)}
    flagged = []
    for station in sorted(stations, key=lambda s: s["code"]):
        if station["status"] != "listed" or station["tier"] not in STEP_DOWN:
            continue
        if date.fromisoformat(station["opened_on"]) > start:
            continue  # not open for the whole window yet
        counts = monthly_counts.get(station["code"], {})
        if any(counts.get(month, 0) for month in months):
            continue
        flagged.append({"code": station["code"], "tier": station["tier"],
                        "proposed_tier": STEP_DOWN[station["tier"]],
                        "last_rated_at": station["last_rated_at"]})
    return flagged


def load(db, as_of: date, tz) -> tuple[list[dict], dict[str, dict[str, int]]]:
    """The listed stations and their ratings per month inside the window of ``as_of``."""
    start, end = window(as_of)
    stations = [
        {**row, "last_rated_at": local_iso(row["last_rated_at"], tz)}
        for row in db.query(
            # the last rating before D, so a scan of a past date says what was known then
            """SELECT code, tier, status, opened_on,
                      (SELECT max(rated_at) FROM ratings WHERE station_id = stations.id
                       AND day < ?) AS last_rated_at
               FROM stations WHERE status = 'listed'""", [as_of.isoformat()])
    ]
    monthly: dict[str, dict[str, int]] = {}
    for row in db.query(
            """SELECT code, substr(day, 1, 7) AS month, sum(n1 + n2 + n3 + n4 + n5) AS n
               FROM station_days JOIN stations ON stations.id = station_id
               WHERE day >= ? AND day < ? GROUP BY code, month""",
            [start.isoformat(), end.isoformat()]):
        monthly.setdefault(row["code"], {})[row["month"]] = row["n"]
    return stations, monthly


def record(db, found: list[dict], as_of: date, now) -> int:
    """Store new flags; a station already flagged for this window is left alone. Call in write()."""
    start, _ = window(as_of)
    added = 0
    for flag in found:
        cursor = db.execute(
            """INSERT INTO flags (station_id, window_start, flagged_on, tier, proposed_tier)
               SELECT id, ?, ?, ?, ? FROM stations WHERE code = ?
               ON CONFLICT (station_id, window_start) DO NOTHING""",
            [start.isoformat(), as_of.isoformat(), flag["tier"], flag["proposed_tier"], flag["code"]])
        if cursor.rowcount:
            added += 1
            db.execute(
                """INSERT INTO station_history (station_id, at, by, action, from_tier, to_tier, reason)
                   SELECT id, ?, 'downgrade scan', 'flagged', ?, ?, ? FROM stations WHERE code = ?""",
                [to_utc_text(now), flag["tier"], flag["proposed_tier"],
                 f"no rating from {start.isoformat()} to the end of "
                 f"{add_months(start, SILENT_MONTHS - 1).strftime('%Y-%m')}", flag["code"]])
    return added
