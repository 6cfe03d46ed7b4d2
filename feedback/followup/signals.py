"""Signals for inspectors: what still gets past the counting rule and may be gaming the figures.

The five rules are plain functions of ratings and stations. Every night ``scan`` runs them over
the day before (``load_day`` reads what they look at) and keeps what they find in ``signals``;
the page and the API read ``kept``. A signal proposes nothing: an inspector looks, visits, and may
exclude ratings.

A device here is a phone's cookie, or for ratings made without one their address and browser
(feedback.counts.counting): one phone that drops its cookie is still one device.
"""
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from feedback.accounts import can_see
from feedback.clock import from_epoch, local_day, local_iso, to_utc_text
from feedback.counts.ratings import between_days, day_number, on_days
from feedback.places import stations
from feedback.places.geo import distance_m
from feedback.storage.db import write

SINGLE_DEVICE_DAYS = 90   # a station kept alive by one phone: counted ratings over 90 days
SINGLE_DEVICE_MAX = 2     # ...that come from at most two devices
BURST_RATINGS = 10        # ten or more ratings at one station...
BURST_WINDOW = timedelta(minutes=10)  # ...within ten minutes
TRAVEL_KMH = 60           # one device at two stations faster than this
MANY_STATIONS = 15        # one device rating more than this many stations in a day
RECENT_DAYS = 30          # bursts, travel and many stations found over these days are listed


@dataclass(frozen=True)
class Rating:
    id: int
    code: str
    at: datetime      # UTC
    day: str          # local day
    device: str | None  # the device's label


def single_device(per_station: dict[str, dict]) -> list[dict]:
    """Stations whose counted ratings over SINGLE_DEVICE_DAYS all come from at most two devices.

    ``per_station``: code → {ratings, devices (distinct), without_device (ratings whose phone is
    unknown: imported from an earlier system)}."""
    out = []
    for code, seen in sorted(per_station.items()):
        if seen["ratings"] and not seen["without_device"] and seen["devices"] <= SINGLE_DEVICE_MAX:
            out.append({"kind": "single_device", "station_code": code, "ratings": seen["ratings"],
                        "devices": seen["devices"], "device_labels": seen.get("labels", [])})
    return out


def bursts(ratings: list[Rating]) -> list[dict]:
    """Runs of BURST_RATINGS or more ratings at one station, each within BURST_WINDOW of the
    run's first; overlapping runs are reported once."""
    by_station: dict[str, list[Rating]] = defaultdict(list)
    for rating in ratings:
        by_station[rating.code].append(rating)
    out = []
    for code, rows in sorted(by_station.items()):
        rows.sort(key=lambda r: (r.at, r.id))
        start = 0
        while start + BURST_RATINGS <= len(rows):
            end = start + BURST_RATINGS - 1
            if rows[end].at - rows[start].at > BURST_WINDOW:
                start += 1
                continue
            while end + 1 < len(rows) and rows[end + 1].at - rows[end].at <= BURST_WINDOW:
                end += 1  # a burst goes on while ratings keep coming
            run = rows[start:end + 1]
            devices = {r.device for r in run}
            out.append({"kind": "burst", "station_code": code, "from": run[0].at,
                        "to": run[-1].at, "ratings": len(run),
                        "device": run[0].device if len(devices) == 1 else None,
                        "rating_ids": [r.id for r in run]})
            start = end + 1
    return out


def impossible_travel(ratings: list[Rating], positions: dict[str, tuple[float, float]]) -> list[dict]:
    """One device rating two stations further apart than TRAVEL_KMH allows in the time between."""
    by_device: dict[str, list[Rating]] = defaultdict(list)
    for rating in ratings:
        if rating.device is not None:
            by_device[rating.device].append(rating)
    out = []
    for device, rows in sorted(by_device.items()):
        rows.sort(key=lambda r: (r.at, r.id))
        for before, after in zip(rows, rows[1:]):
            if before.code == after.code or before.code not in positions or after.code not in positions:
                continue
            km = distance_m(positions[before.code], positions[after.code]) / 1000
            hours = (after.at - before.at).total_seconds() / 3600
            if km > TRAVEL_KMH * hours:
                out.append({"kind": "impossible_travel", "station_code": after.code,
                            "device": device, "from_station": before.code, "from": before.at,
                            "to": after.at, "km": round(km, 1),
                            "minutes": round(hours * 60, 1), "rating_ids": [before.id, after.id]})
    return out


def many_stations(ratings: list[Rating]) -> list[dict]:
    """One device rating more than MANY_STATIONS stations in one local day."""
    seen: dict[tuple[str, str], list[Rating]] = defaultdict(list)
    for rating in ratings:
        if rating.device is not None:
            seen[(rating.device, rating.day)].append(rating)
    out = []
    for (device, day), rows in sorted(seen.items()):
        codes = sorted({r.code for r in rows})
        if len(codes) > MANY_STATIONS:
            rows.sort(key=lambda r: (r.at, r.id))
            out.append({"kind": "many_stations", "station_code": rows[0].code, "device": device,
                        "day": day, "stations": codes, "ratings": len(rows),
                        "from": rows[0].at, "to": rows[-1].at})
    return out


def staff_network(rated: list[dict], can_see) -> list[dict]:
    """Counted ratings from the address and browser a staff account signed in from, at a station
    that account looks after: a manager rating his own station from a private window, or after
    clearing his cookies, where the cookie cannot tell. ``rated``: for each address and browser
    that counted at a station on a day and that a staff account signed in from, {station (code,
    district), device, rating_ids, staff: [accounts]}; ``can_see(account, station)``: the
    accounts' rule."""
    out = []
    for seen in sorted(rated, key=lambda seen: (seen["station"]["code"], seen["device"])):
        staff = sorted(user["username"] for user in seen["staff"] if can_see(user, seen["station"]))
        if staff and seen["rating_ids"]:
            out.append({"kind": "staff_network", "station_code": seen["station"]["code"],
                        "device": seen["device"], "staff": staff, "day": seen["day"],
                        "ratings": len(seen["rating_ids"]), "rating_ids": seen["rating_ids"]})
    return out


def find(per_station: dict[str, dict], recent: list[Rating],
         positions: dict[str, tuple[float, float]], staff_rated: list[dict],
         can_see) -> list[dict]:
    """Every signal, in the order of the rules."""
    return (single_device(per_station) + bursts(recent) + impossible_travel(recent, positions)
            + many_stations(recent) + staff_network(staff_rated, can_see))


def ending_on(found: list[dict], day: date, tz) -> list[dict]:
    """The signals of ``day``: single_device as found, the others whose last rating fell on it
    (a burst or a journey that crosses midnight belongs to the day it ended)."""
    def last_day(signal):
        if signal["kind"] == "single_device":
            return day
        return date.fromisoformat(signal["day"]) if "day" in signal else local_day(signal["to"], tz)
    return [signal for signal in found if last_day(signal) == day]


# A listed station's counted ratings over the 90 days, as far as a third device: most stations
# are settled in a few rows, only the ones kept alive read them all. A station whose first rating
# of the 90 days is imported (its phone unknown) is settled by that one row: an imported history
# has no devices at all, and read to its end it made the scan grow with the ratings.
FEW_DEVICES = f"""
SELECT id FROM stations WHERE status = 'listed'
  AND (SELECT device_id FROM counted_ratings
       WHERE counted_ratings.station_id = stations.id AND {{days}} LIMIT 1) IS NOT NULL
  AND (SELECT count(*) BETWEEN 1 AND {SINGLE_DEVICE_MAX} AND count(*) = count(device_id) FROM (
          SELECT DISTINCT device_id FROM counted_ratings
          WHERE counted_ratings.station_id = stations.id AND {{days}} LIMIT {SINGLE_DEVICE_MAX + 1}))
"""


def load_day(db, day: date) -> tuple[dict[str, dict], list[Rating], dict]:
    """What the rules look at for ``day``: the counted ratings of the 90 days ending on it at
    the stations with at most two devices among them; every rating of the day and of the day
    before; the positions of the stations."""
    days, values = between_days(day - timedelta(days=SINGLE_DEVICE_DAYS - 1), day, "counted_ratings")
    few = [row[0] for row in db.execute(FEW_DEVICES.format(days=days), values * 2)]
    per_station = {}
    for row in db.query(
            f"""SELECT code, count(*) AS ratings, count(DISTINCT device_id) AS devices,
                       sum(device_id IS NULL) AS without_device,
                       group_concat(DISTINCT label) AS labels
                FROM stations CROSS JOIN counted_ratings ON counted_ratings.station_id = stations.id
                LEFT JOIN devices ON devices.id = device_id
                WHERE stations.id IN (SELECT value FROM json_each(?)) AND {days}
                GROUP BY code""", [json.dumps(few), *values]):
        per_station[row["code"]] = {**row, "labels": sorted(filter(None, (row["labels"] or "").split(",")))}
    _, two_days, two_days_values = on_days(day - timedelta(days=1), day)
    recent = [Rating(row["id"], row["code"], from_epoch(row["rated_at"]), row["day"], row["label"])
              for row in db.query(
                  f"""SELECT ratings.id, code, rated_at, day, label FROM ratings
                      JOIN stations ON stations.id = station_id
                      LEFT JOIN devices ON devices.id = device_id
                      WHERE {two_days}""", two_days_values)]
    positions = {row["code"]: (row["latitude"], row["longitude"]) for row in db.query(
        "SELECT code, latitude, longitude FROM stations WHERE latitude IS NOT NULL")}
    return per_station, recent, positions, load_staff_rated(db, day)


def load_staff_rated(db, day: date) -> list[dict]:
    """The addresses and browsers that counted at a station on ``day`` and that a staff account
    signed in from (network_days keeps today's and yesterday's), with their counted ratings."""
    found: dict[tuple, dict] = {}
    days, values = between_days(day, day, "counted_ratings")
    for row in db.query(
            """SELECT stations.id AS station_id, code, stations.district, network_days.device_id, label,
                      username, role, users.district AS user_district, station_code
               FROM network_days  -- two days' worth: read whole, each looked up in the rest
               CROSS JOIN staff_networks USING (network)
               CROSS JOIN users ON users.id = staff_networks.user_id
               CROSS JOIN stations ON stations.id = network_days.station_id
               CROSS JOIN devices ON devices.id = network_days.device_id
               WHERE network_days.day = ? AND users.disabled_at IS NULL""", [day_number(day)]):
        seen = found.setdefault((row["station_id"], row["device_id"]), {
            "station": {"code": row["code"], "district": row["district"]}, "device": row["label"],
            "day": day.isoformat(), "staff": [], "rating_ids": [
                rating_id for (rating_id,) in db.execute(
                    f"""SELECT id FROM counted_ratings WHERE station_id = ? AND {days}
                        AND device_id = ? ORDER BY id""",
                    [row["station_id"], *values, row["device_id"]])]})
        seen["staff"].append({"username": row["username"], "role": row["role"],
                              "district": row["user_district"], "station_code": row["station_code"]})
    return list(found.values())


def scan(db, day: date, tz, now: datetime) -> list[dict]:
    """Look through ``day`` and keep what is found in place of what an earlier scan of it kept
    (a station's single_device signal holds from the latest day scanned); returns it as shown."""
    found = [(signal["kind"], signal["station_code"], json.dumps(signal, default=to_utc_text,
                                                                 ensure_ascii=False))
             for signal in ending_on(find(*load_day(db, day), can_see), day, tz)]
    ids = stations.ids_by_code(db)
    with write(db):
        db.execute("DELETE FROM signals WHERE day = ? OR (kind = 'single_device' AND day < ?)",
                   [day.isoformat(), day.isoformat()])
        db.conn.executemany(
            "INSERT INTO signals (day, kind, station_id, found) VALUES (?, ?, ?, ?)",
            [(day.isoformat(), kind, ids[code], text) for kind, code, text in found])
        db.execute("""INSERT INTO signal_scans (day, scanned_at) VALUES (?, ?)
                      ON CONFLICT (day) DO UPDATE SET scanned_at = excluded.scanned_at""",
                   [day.isoformat(), to_utc_text(now)])
    return [shown(json.loads(text), day.isoformat(), tz) for _, _, text in found]


def shown(signal: dict, day: str, tz) -> dict:
    """A kept signal as the page and the API show it: its instants in the local zone, with the
    day it was found on."""
    for key in ("from", "to"):
        if key in signal:
            signal[key] = local_iso(signal[key], tz)
    return {**signal, "found_on": day}


def latest_scan(db) -> date | None:
    day = db.execute("SELECT max(day) FROM signal_scans").fetchone()[0]
    return date.fromisoformat(day) if day else None


KINDS = ("single_device", "burst", "impossible_travel", "many_stations",
         "staff_network")  # the rules' order
KEPT = """FROM signals JOIN stations ON stations.id = station_id
          WHERE signals.day > :since AND signals.day <= :latest
            AND (signals.kind != 'single_device' OR signals.day = :latest)"""


def kept_bounds(db) -> dict:
    """The days of the signals listed: the RECENT_DAYS up to the latest day scanned (none when
    no day was)."""
    latest = latest_scan(db)
    return {"latest": latest and latest.isoformat(),
            "since": latest and (latest - timedelta(days=RECENT_DAYS)).isoformat()}


def kept_total(db) -> int:
    return db.execute(f"SELECT count(*) {KEPT}", kept_bounds(db)).fetchone()[0]


def kept(db, tz, limit: int = -1, offset: int = 0) -> list[dict]:
    """The signals listed (a page of them), in the rules' order, the latest first; instants in
    the local zone, each with the day it was found on."""
    order = " ".join(f"WHEN '{kind}' THEN {n}" for n, kind in enumerate(KINDS))
    rows = db.execute(f"""SELECT signals.day, code, found {KEPT}
                          ORDER BY CASE signals.kind {order} END, signals.day DESC, signals.id
                          LIMIT :limit OFFSET :offset""",
                      {**kept_bounds(db), "limit": limit, "offset": offset})
    return [shown({**json.loads(found), "station_code": code}, day, tz) for day, code, found in rows]
