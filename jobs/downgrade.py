"""The downgrade rule: three complete calendar months without a rating.

At date D, a listed station is flagged when the three complete calendar months before D's month
hold no rating of it, and it opened on or before the first day of the earliest of those months.
``flags`` is the rule; ``load`` and ``record`` read and write around it. A flag only proposes:
an inspector's decision changes the tier.
"""
import json
from datetime import date

from feedback import events, typed
from feedback.clock import add_months, local_iso, month_start, to_utc_text

STEP_DOWN = {"national": "provincial", "provincial": "city", "city": "delisted"}
SILENT_MONTHS = 3


def window(as_of: date) -> tuple[date, date]:
    """The first day of the earliest silent month, and the first day of D's month (excluded)."""
    end = month_start(as_of)
    return add_months(end, -SILENT_MONTHS), end


def flags(stations: list[dict], monthly_counts: dict[str, dict[str, int]], as_of: date) -> list[dict]:
    """The stations to flag at ``as_of``.

    ``stations``: code, tier, status, opened_on (ISO date); each flag's ``last_rated_at`` is
    None here (``last_rated`` fills it in, for the stations flagged only).
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
                        "last_rated_at": station.get("last_rated_at")})
    return flagged


def load(db, as_of: date) -> tuple[list[dict], dict[str, dict[str, int]]]:
    """The listed stations that may be flagged at ``as_of`` and their counted ratings per month
    inside its window. A station with a counted rating in the window cannot be flagged, so only
    the others are read (a nation's 200,000 stations are mostly rated): their months are empty."""
    start, end = window(as_of)
    stations = list(db.query(
        """SELECT code, tier, status, opened_on FROM stations
           WHERE status = 'listed' AND NOT EXISTS (
               SELECT 1 FROM station_months WHERE station_id = stations.id
               AND month >= ? AND month < ? AND n1 + n2 + n3 + n4 + n5 > 0)""",
        [start.strftime("%Y-%m"), end.strftime("%Y-%m")]))
    return stations, {}


def last_rated(db, found: list[dict], as_of: date, tz) -> list[dict]:
    """The flags found, each with its station's last counted rating before ``as_of`` (so a scan
    of a past date says what was known then): the last day from the daily rollup, then that
    day's ratings only, both by index, for the flagged stations only."""
    last = dict(db.execute(
        """SELECT code, (SELECT max(rated_at) FROM counted_ratings
                         WHERE station_id = flagged.id AND day = last_day
                           AND rated_at >= CAST(strftime('%s', last_day, '-1 day') AS INTEGER)
                           AND rated_at < CAST(strftime('%s', last_day, '+2 days') AS INTEGER))
           FROM (SELECT id, code, (SELECT max(day) FROM station_days
                                   WHERE station_id = stations.id AND day < ?
                                     AND n1 + n2 + n3 + n4 + n5 > 0) AS last_day
                 FROM stations WHERE code IN (SELECT value FROM json_each(?))) AS flagged""",
        [as_of.isoformat(), json.dumps([flag["code"] for flag in found])]))
    return [{**flag, "last_rated_at": local_iso(last.get(flag["code"]), tz)} for flag in found]


def record(db, found: list[dict], as_of: date, now) -> int:
    """Store new flags. A station keeps at most one open flag, and a scan of a past date does not
    flag a window older than one a later scan flagged (open or answered). Call in write()."""
    start, _ = window(as_of)
    added = 0
    for flag in found:
        cursor = db.execute(
            """INSERT INTO flags (station_id, window_start, flagged_on, tier, proposed_tier)
               SELECT id, ?, ?, ?, ? FROM stations WHERE code = ? AND NOT EXISTS (
                   SELECT 1 FROM flags WHERE station_id = stations.id
                   AND (status = 'open' OR window_start > ?))
               ON CONFLICT (station_id, window_start) DO NOTHING""",
            [start.isoformat(), as_of.isoformat(), flag["tier"], flag["proposed_tier"], flag["code"],
             start.isoformat()])
        if cursor.rowcount:
            added += 1
            events.record("flagged", station=flag["code"], tier=flag["tier"],
                          proposed_tier=flag["proposed_tier"])
            db.execute(
                """INSERT INTO station_history (station_id, at, by, action, from_tier, to_tier, reason)
                   SELECT id, ?, 'downgrade scan', 'flagged', ?, ?, ? FROM stations WHERE code = ?""",
                [to_utc_text(now), flag["tier"], flag["proposed_tier"],
                 f"{start.isoformat()} 至 {add_months(start, SILENT_MONTHS - 1).strftime('%Y-%m')} "
                 f"月底无评价 no rating from {start.isoformat()} to the end of "
                 f"{add_months(start, SILENT_MONTHS - 1).strftime('%Y-%m')}", flag["code"]])
    return added


class NoOpenFlag(LookupError):
    """The station has no open flag to decide on."""


class BadDecision(ValueError):
    """A decision that is neither confirm nor dismiss, or has no reason."""


class NoTierAbove(ValueError):
    """A reinstatement of a national station: there is no tier above."""


def given_reason(reason) -> str:
    try:
        return typed.given(reason)
    except typed.NotGiven as missing:
        raise BadDecision(str(missing)) from None


def open_flag_count(db) -> tuple[int, bool]:
    """How many flags are open, and whether that is a quarter or more of the stations ever
    added (a sparse rollout): then open_flags() finds a page ``dense``."""
    total = db.execute("SELECT count(*) FROM flags WHERE status = 'open'").fetchone()[0]
    stations_ever = db.execute("SELECT max(id) FROM stations").fetchone()[0] or 0
    return total, total * 4 > stations_ever


def open_flags(db, tz, where: str = "1", params=(), limit: int = -1, offset: int = 0,
               dense: bool = False) -> list[dict]:
    """The open flags by station code (``limit`` of them from ``offset``: all by default),
    shaped as `downgrade scan --json` with the station's name and district. ``dense``: many
    stations are flagged (a sparse rollout), so a page is found walking the stations in code
    order, not by sorting every open flag."""
    order = ("stations CROSS JOIN flags INDEXED BY sqlite_autoindex_flags_1 "
             "ON flags.station_id = stations.id" if dense else
             "flags JOIN stations ON stations.id = flags.station_id")
    return [
        {"code": row["code"], "tier": row["tier"], "proposed_tier": row["proposed_tier"],
         "last_rated_at": local_iso(row["last_rated_at"], tz), "name": row["name"],
         "district": row["district"], "flagged_on": row["flagged_on"],
         "window_start": row["window_start"]}
        for row in db.query(
            f"""SELECT stations.code, stations.name, stations.district, flags.tier,
                       flags.proposed_tier, flags.flagged_on, flags.window_start,
                       station_totals.last_rated_at
                FROM {order}
                LEFT JOIN station_totals ON station_totals.station_id = stations.id
                WHERE flags.status = 'open' AND {where} ORDER BY stations.code LIMIT ? OFFSET ?""",
            [*params, limit, offset])
    ]


def decide(db, code: str, decision: str, reason: str, by: str, now) -> dict:
    """An inspector's decision on a station's open flag: confirm steps the tier down (city steps
    down to delisted), dismiss changes nothing; both are kept in the station's history.
    Call inside write(); raises BadDecision or NoOpenFlag."""
    if decision not in ("confirm", "dismiss"):
        raise BadDecision('decision must be "confirm" or "dismiss"')
    reason = given_reason(reason)
    row = db.execute(
        """SELECT flags.id, stations.id, stations.tier FROM flags
           JOIN stations ON stations.id = flags.station_id
           WHERE stations.code = ? AND flags.status = 'open'""", [code]).fetchone()
    if row is None:
        raise NoOpenFlag(code)
    flag_id, station_id, tier = row
    to_tier = STEP_DOWN[tier] if decision == "confirm" else None
    db.execute("UPDATE flags SET status = ? WHERE id = ?",
               ["confirmed" if decision == "confirm" else "dismissed", flag_id])
    if to_tier == "delisted":
        db.execute("UPDATE stations SET status = 'delisted' WHERE id = ?", [station_id])
    elif to_tier:
        db.execute("UPDATE stations SET tier = ? WHERE id = ?", [to_tier, station_id])
    db.execute(
        """INSERT INTO station_history (station_id, at, by, action, from_tier, to_tier, reason)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        [station_id, to_utc_text(now), by, "confirmed" if to_tier else "dismissed", tier, to_tier,
         reason])
    events.record("decision", station=code, decision=decision, by=by, tier=tier,
                  new_tier=to_tier or tier)
    return {"code": code, "decision": decision, "tier": tier, "new_tier": to_tier or tier}


STEP_UP = {"city": "provincial", "provincial": "national"}


class NoStation(LookupError):
    """No station with that code."""


def reinstate(db, code: str, reason, by: str, now) -> dict:
    """An inspector steps a station up, with a reason: a delisted station is relisted as a city
    station; city → provincial → national. Kept in its history. Call inside write(); raises
    BadDecision, NoTierAbove or NoStation."""
    reason = given_reason(reason)
    row = db.execute("SELECT id, tier, status FROM stations WHERE code = ?", [code]).fetchone()
    if row is None:
        raise NoStation(code)
    station_id, tier, status = row
    if status == "delisted":
        from_tier, to_tier = "delisted", "city"
        db.execute("UPDATE stations SET status = 'listed', tier = 'city' WHERE id = ?", [station_id])
    elif tier in STEP_UP:
        from_tier, to_tier = tier, STEP_UP[tier]
        db.execute("UPDATE stations SET tier = ? WHERE id = ?", [to_tier, station_id])
    else:
        raise NoTierAbove(f"{code} is a national station already: there is no tier above")
    db.execute(
        """INSERT INTO station_history (station_id, at, by, action, from_tier, to_tier, reason)
           VALUES (?, ?, ?, 'reinstated', ?, ?, ?)""",
        [station_id, to_utc_text(now), by, from_tier, to_tier, reason])
    return {"code": code, "tier": from_tier, "new_tier": to_tier}


def history(db, station_id: int, tz) -> list[dict]:
    """A station's tier changes and decisions, oldest first."""
    return [{**row, "at": local_iso(row["at"], tz)} for row in db.query(
        """SELECT at, by, action, from_tier, to_tier, reason FROM station_history
           WHERE station_id = ? ORDER BY at, id""", [station_id])]
