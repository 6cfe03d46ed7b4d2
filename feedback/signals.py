"""Signals for inspectors: what still gets past the counting rule and may be gaming the figures.

The four rules are plain functions of ratings and stations; ``load`` reads them and ``find_now``
runs them. A signal proposes nothing: an inspector looks, visits, and may exclude ratings.
"""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from feedback.clock import from_epoch, local_iso, to_utc_text
from feedback.geo import distance_m

SINGLE_DEVICE_DAYS = 90   # a station kept alive by one phone: counted ratings over 90 days
SINGLE_DEVICE_MAX = 2     # ...that come from at most two devices
BURST_RATINGS = 10        # ten or more ratings at one station...
BURST_WINDOW = timedelta(minutes=10)  # ...within ten minutes
TRAVEL_KMH = 60           # one device at two stations faster than this
MANY_STATIONS = 15        # one device rating more than this many stations in a day
RECENT_DAYS = 30          # bursts, travel and many stations are looked for over these days


@dataclass(frozen=True)
class Rating:
    id: int
    code: str
    at: datetime      # UTC
    day: str          # local day
    device: str | None  # the device's label


def single_device(per_station: dict[str, dict]) -> list[dict]:
    """Stations whose counted ratings over SINGLE_DEVICE_DAYS all come from at most two devices.

    ``per_station``: code → {ratings, devices (distinct), without_device (ratings with no
    cookie, whose phones cannot be told apart)}."""
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


def find(per_station: dict[str, dict], recent: list[Rating],
         positions: dict[str, tuple[float, float]]) -> list[dict]:
    """Every signal, in the order of the rules."""
    return (single_device(per_station) + bursts(recent) + impossible_travel(recent, positions)
            + many_stations(recent))


def load(db, today: date, tz) -> tuple[dict[str, dict], list[Rating], dict]:
    """What the rules look at, for the listed stations, up to the end of ``today``."""
    since_90 = (today - timedelta(days=SINGLE_DEVICE_DAYS - 1)).isoformat()
    per_station = {}
    for row in db.query(
            """SELECT code, count(*) AS ratings, count(DISTINCT device_id) AS devices,
                      sum(device_id IS NULL) AS without_device,
                      group_concat(DISTINCT label) AS labels
               FROM counted_ratings JOIN stations ON stations.id = station_id
               LEFT JOIN devices ON devices.id = device_id
               WHERE day >= ? AND stations.status = 'listed' GROUP BY code""", [since_90]):
        per_station[row["code"]] = {**row, "labels": sorted(filter(None, (row["labels"] or "").split(",")))}
    since = (today - timedelta(days=RECENT_DAYS - 1)).isoformat()
    recent = [Rating(row["id"], row["code"], from_epoch(row["rated_at"]), row["day"], row["label"])
              for row in db.query(
                  """SELECT ratings.id, code, rated_at, day, label FROM ratings
                     JOIN stations ON stations.id = station_id
                     LEFT JOIN devices ON devices.id = device_id
                     WHERE day >= ?""", [since])]
    positions = {row["code"]: (row["latitude"], row["longitude"]) for row in db.query(
        "SELECT code, latitude, longitude FROM stations WHERE latitude IS NOT NULL")}
    return per_station, recent, positions


def find_now(db, today: date, tz) -> list[dict]:
    """The signals as JSON-ready data, times in the local zone."""
    found = find(*load(db, today, tz))
    for signal in found:
        for key in ("from", "to"):
            if key in signal:
                signal[key] = local_iso(to_utc_text(signal[key]), tz)
    return found
