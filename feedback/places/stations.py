"""Stations: the rules a station record must meet (pure), and the queries about them."""
import re
import threading
from collections import OrderedDict
from datetime import date, datetime

from sqlite_utils import Database

from feedback.clock import local_iso, parse_day, to_utc_text
from feedback.counts import scale
from feedback.places import hours as opening_hours
from feedback.typed import has_control_characters

TIERS = ("city", "provincial", "national")
KINDS = ("fixed", "mobile", "partner")
CODE_PATTERN = re.compile(r"[A-Za-z0-9-]{1,32}")
COLUMNS = ("code", "name", "district", "address", "latitude", "longitude",
           "tier", "kind", "opened_on", "amenities", "hours")
REQUIRED_COLUMNS = ("code", "name", "district", "tier", "kind")
MAX_TEXT = 200


def validate(record: dict[str, str]) -> tuple[dict, list[str]]:
    """Check one station record (CSV strings) and return (clean row, reasons it is bad).

    ``opened_on`` stays None when not given: a new station then opens on the import day,
    an existing one keeps its date.
    """
    errors = []
    value = {key: (record.get(key) or "").strip() for key in COLUMNS}

    if not CODE_PATTERN.fullmatch(value["code"]):
        errors.append(f"code {value['code']!r} must be 1 to 32 of A-Z a-z 0-9 -")
    for key in ("name", "district"):
        if not value[key]:
            errors.append(f"{key} is required")
    for key in ("name", "district", "address"):
        if len(value[key]) > MAX_TEXT:
            errors.append(f"{key} is longer than {MAX_TEXT} characters")
        if has_control_characters(value[key]):
            errors.append(f"{key} holds a control character")
    if value["tier"] not in TIERS:
        errors.append(f"tier {value['tier']!r} must be one of {', '.join(TIERS)}")
    if value["kind"] not in KINDS:
        errors.append(f"kind {value['kind']!r} must be one of {', '.join(KINDS)}")

    coordinates = {}
    for key in ("latitude", "longitude"):
        try:
            coordinates[key] = parse_coordinate(key, value[key]) if value[key] else None
        except ValueError as bad:
            errors.append(str(bad))
    if len(coordinates) == 2 and (coordinates["latitude"] is None) != (coordinates["longitude"] is None):
        errors.append("latitude and longitude go together: give both or neither")

    opened_on = None
    if value["opened_on"]:
        try:
            opened_on = parse_day(value["opened_on"])
        except ValueError as bad:
            errors.append(f"opened_on {bad}")

    amenities = [item.strip() for item in value["amenities"].split(";") if item.strip()]
    try:
        opening_hours.parse(value["hours"])
    except ValueError as bad:
        errors.append(str(bad))
    row = {
        "code": value["code"], "name": value["name"], "district": value["district"],
        "address": value["address"], "latitude": coordinates.get("latitude"),
        "longitude": coordinates.get("longitude"), "tier": value["tier"], "kind": value["kind"],
        "opened_on": opened_on.isoformat() if opened_on else None,
        "amenities": ";".join(amenities), "hours": value["hours"],
    }
    return row, errors


def parse_coordinate(key: str, text: str) -> float:
    """A latitude or longitude in degrees; ValueError with the reason for anything else."""
    limit = 90 if key in ("latitude", "lat") else 180
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{key} {text[:40]!r} is not a number") from None
    if not -limit <= number <= limit:  # also refuses nan and inf
        raise ValueError(f"{key} {text[:40]} is outside -{limit} to {limit}")
    return number


def move(db: Database, code: str, latitude: float, longitude: float, now: datetime,
         by: str) -> str:
    """New coordinates for a station (a mobile cabin follows its building site), kept in its
    history; its link and poster stay valid. Returns the move as the history says it. Call
    inside write()."""
    old = db.execute("SELECT latitude, longitude FROM stations WHERE code = ?", [code]).fetchone()
    stamp = to_utc_text(now)
    db.execute("UPDATE stations SET latitude = ?, longitude = ?, updated_at = ? WHERE code = ?",
               [latitude, longitude, stamp, code])
    where_from = "no coordinates" if old[0] is None else f"{old[0]},{old[1]}"
    what = f"{where_from} → {latitude},{longitude}"
    db.execute("""INSERT INTO station_history (station_id, at, by, action, reason)
                  SELECT id, ?, ?, 'moved', ? FROM stations WHERE code = ?""",
               [stamp, by, what, code])
    return what


def upsert(db: Database, rows: list[dict], today: date, now: datetime,
           by: str = "stations import") -> tuple[int, int]:
    """Insert or update stations by code; returns (inserted, changed): a row the same as its
    station is left alone, ``updated_at`` and all. A changed tier is kept in the station's history
    as done ``by``. Call inside write()."""
    existing = dict(db.execute("SELECT code, tier FROM stations").fetchall())
    stamp = to_utc_text(now)
    changed = 0
    for row in rows:
        written = db.execute(
            f"""
            INSERT INTO stations (code, name, district, address, latitude, longitude, tier, kind,
                                  opened_on, amenities, hours, created_at, updated_at)
            VALUES (:code, :name, :district, :address, :latitude, :longitude, :tier, :kind,
                    coalesce(:opened_on, :today), :amenities, :hours, :stamp, :stamp)
            ON CONFLICT (code) DO UPDATE SET
                name = excluded.name, district = excluded.district, address = excluded.address,
                latitude = excluded.latitude, longitude = excluded.longitude,
                tier = excluded.tier, kind = excluded.kind,
                opened_on = coalesce(:opened_on, stations.opened_on),
                amenities = excluded.amenities, hours = excluded.hours,
                updated_at = excluded.updated_at
            WHERE {" OR ".join(f"stations.{column} IS NOT excluded.{column}" for column in
                              ("name", "district", "address", "latitude", "longitude", "tier",
                               "kind", "amenities", "hours"))}
               OR stations.opened_on IS NOT coalesce(:opened_on, stations.opened_on)
            """,
            {**row, "today": today.isoformat(), "stamp": stamp}).rowcount
        if row["code"] not in existing:
            continue
        changed += written
        if existing[row["code"]] != row["tier"]:
            db.execute(
                """INSERT INTO station_history (station_id, at, by, action, from_tier, to_tier, reason)
                   SELECT id, ?, ?, 'tier_changed', ?, ?, '由驿站导入设定 set by a stations import'
                   FROM stations WHERE code = ?""",
                [stamp, by, existing[row["code"]], row["tier"], row["code"]])
    inserted = sum(1 for row in rows if row["code"] not in existing)
    return inserted, changed


def ids_by_code(db: Database) -> dict[str, int]:
    """Every station's id by its code."""
    return dict(db.execute("SELECT code, id FROM stations"))


def get(db: Database, code: str) -> dict | None:
    """The station with this code, whatever its status, or None."""
    rows = list(db.query("SELECT * FROM stations WHERE code = ?", [code]))
    return rows[0] if rows else None


def current(db: Database, code: str) -> dict | None:
    """get(), kept in this process until any station changes: for the rating page, which reads
    its station at every tap. The row is shared: read it, never change it."""
    return remembered(db, ("station", code), lambda: get(db, code), keep_none=False)


# What is read of the stations, kept per process while their version (stations_version, bumped
# by a trigger at any change) stays: the most recent REMEMBERED keys.
REMEMBERED = 4096
_remembered: OrderedDict = OrderedDict()
_remembered_lock = threading.Lock()


def remembered(db: Database, key: tuple, read, keep_none: bool = True):
    """``read()``, remembered under ``key`` until any station changes; one small read of the
    stations' version each time. ``keep_none``: whether an answer of None is kept too."""
    version = db.execute("SELECT version FROM stations_version").fetchone()[0]
    full = (db.file_path, version, *key)
    with _remembered_lock:
        if full in _remembered:
            _remembered.move_to_end(full)
            return _remembered[full]
    value = read()
    if value is not None or keep_none:
        with _remembered_lock:
            _remembered[full] = value
            while len(_remembered) > REMEMBERED:
                _remembered.popitem(last=False)
    return value


def all_for_export(db: Database) -> list[dict]:
    """Every station, in code order, as the import format's columns."""
    return [
        {key: row[key] for key in COLUMNS}
        for row in db.query(f"SELECT {', '.join(COLUMNS)} FROM stations ORDER BY code")
    ]


def amenity_list(station: dict) -> list[str]:
    """A station's amenities as a list."""
    return [item for item in station["amenities"].split(";") if item]


def matching(q: str = "", district: str = "", tier: str = "", status: str = "") -> tuple[str, list]:
    """SQL (on ``stations``) for a staff search: ``q`` in the code or name, and the district,
    tier and status given; empty values ask nothing."""
    where, params = ["1"], []
    if q:
        where.append("(stations.code LIKE ? ESCAPE '\\' OR stations.name LIKE ? ESCAPE '\\')")
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params += [pattern, pattern]
    for column, value in (("district", district), ("tier", tier), ("status", status)):
        if value:
            where.append(f"stations.{column} = ?")
            params.append(value)
    return " AND ".join(where), params


def summaries(db: Database, tz, where: str = "1", params=(), limit: int = -1,
              offset: int = 0) -> list[dict]:
    """Public JSON summaries of the stations matching ``where`` (SQL on ``stations``), by code;
    ``limit`` and ``offset`` page them."""
    rows = db.query(
        f"""SELECT stations.*, n1, n2, n3, n4, n5, held, last_rated_at FROM stations
            LEFT JOIN station_totals ON station_totals.station_id = stations.id
            WHERE {where} ORDER BY code LIMIT ? OFFSET ?""", [*params, limit, offset])
    out = []
    for row in rows:
        counts = scale.counts_from_row(row)
        out.append({
            "code": row["code"], "name": row["name"], "district": row["district"],
            "address": row["address"], "latitude": row["latitude"], "longitude": row["longitude"],
            "tier": row["tier"], "kind": row["kind"], "status": row["status"],
            "opened_on": row["opened_on"], "amenities": amenity_list(row),
            "hours": row["hours"] or None,
            "ratings_total": sum(counts.values()),
            "held_total": row["held"] or 0,
            "satisfaction_rate": scale.satisfaction_rate(counts),
            "last_rated_at": local_iso(row["last_rated_at"], tz),
        })
    return out


def summary(db: Database, code: str, tz) -> dict | None:
    """The public JSON summary of one station, or None."""
    found = summaries(db, tz, "stations.code = ?", [code])
    return found[0] if found else None
