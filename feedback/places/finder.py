"""The station finder: the nearest listed stations to a phone, a district's stations, and the
GeoJSON feed a city's app polls.

A finder's question is checked once (``read_question``) for the page and the JSON alike.
``nearest`` asks the R*Tree (``station_places``, kept by triggers) for the stations in a box
around the phone, growing the box until it holds enough, and measures true distances between
WGS-84 points (feedback/places/geo.py); the box itself is drawn in the stations' GCJ-02.
"""
import fcntl
import hashlib
import json
import math
import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote

from feedback import i18n
from feedback.clock import from_utc_text
from feedback.places import geo, hours, stations

MAX_RADIUS_M = 50_000
DEFAULT_LIMIT = 10
MAX_LIMIT = 50
FIRST_BOX_M = 2_000
PAGE_SIZE = 10  # stations on a page of /near: it stays under 16 KB

# Two points' distance in GCJ-02 differs from their true distance by at most this share of it
# plus these metres (the offset drifts fastest in the far north-east: 680 m over 30 km).
MARGIN_SHARE = 1.1
MARGIN_M = 300

# Metres in a degree of latitude, at its smallest (the equator): boxes err on the large side.
METRES_PER_DEGREE = 110_574


class BadQuestion(ValueError):
    """A finder question that cannot be answered; ``key`` names the worker's-language text."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class Question:
    latitude: float | None   # WGS-84, as a phone reports it
    longitude: float | None
    radius_m: int = MAX_RADIUS_M
    amenity: str | None = None
    open_now: bool = False
    kind: str | None = None
    limit: int = DEFAULT_LIMIT

    @property
    def has_position(self) -> bool:
        return self.latitude is not None


QUESTION_PARAMETERS = ("lat", "lon", "radius_m", "amenity", "kind", "open_now", "limit")


def read_question(args, known_amenities: set[str], need_position: bool,
                  empty_is_absent: bool = True) -> Question:
    """The finder's query string as a Question; BadQuestion says what is wrong with it. A form
    sends what was left blank as empty (the page reads that as not asked); the JSON asks for a
    value or none (``empty_is_absent`` False)."""
    if not empty_is_absent:
        for name in QUESTION_PARAMETERS:
            if name in args and not args.get(name, "").strip():
                raise BadQuestion("bad_filter", f"{name} is empty: give a value or leave it out")
    position = {}
    for name in ("lat", "lon"):
        text = (args.get(name) or "").strip()
        if text:
            try:
                position[name] = stations.parse_coordinate(name, text)
            except ValueError as bad:
                raise BadQuestion("bad_position", str(bad)) from None
    if len(position) == 1:
        raise BadQuestion("bad_position", "lat and lon go together: give both or neither")
    if need_position and not position:
        raise BadQuestion("bad_position", "lat and lon are required")

    radius_m = whole_number(args, "radius_m", MAX_RADIUS_M, 1, MAX_RADIUS_M, "bad_radius")
    limit = whole_number(args, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT, "bad_filter")
    amenity = args.get("amenity") or None
    if amenity is not None and amenity not in known_amenities:
        raise BadQuestion("unknown_amenity", f"unknown amenity {amenity[:40]!r}; known: "
                                             f"{', '.join(sorted(known_amenities))}")
    kind = args.get("kind") or None
    if kind is not None and kind not in stations.KINDS:
        raise BadQuestion("bad_filter", f"kind must be one of {', '.join(stations.KINDS)}")
    open_now = args.get("open_now") or "0"
    if open_now not in ("0", "1"):
        raise BadQuestion("bad_filter", "open_now must be 1 or 0")
    return Question(position.get("lat"), position.get("lon"), radius_m, amenity,
                    open_now == "1", kind, limit)


def whole_number(args, name: str, default: int, lowest: int, highest: int, key: str) -> int:
    """A bounded whole number from the query string, or its default when absent."""
    text = (args.get(name) or "").strip()
    if not text:
        return default
    if not (text.isascii() and text.isdigit()) or not lowest <= int(text) <= highest:
        raise BadQuestion(key, f"{name} must be a whole number from {lowest} to {highest}")
    return int(text)


def per_version(db, name: str, read):
    """``read()``, remembered until the stations change (stations.remembered)."""
    return stations.remembered(db, ("finder", name), read)


def known_amenities(db) -> set[str]:
    """The amenities a finder may ask for: those the page has words for and any a listed
    station offers."""
    def read():
        return {item for (text,) in db.execute(
            "SELECT DISTINCT amenities FROM stations WHERE status = 'listed'")
            for item in text.split(";")}
    return (per_version(db, "amenities", read) | i18n.AMENITIES) - {""}


def filters(question: Question) -> tuple[str, list]:
    """SQL conditions (on ``stations``) for the question's amenity and kind."""
    where, params = ["stations.status = 'listed'"], []
    if question.amenity:
        where.append("instr(';' || stations.amenities || ';', ?) > 0")
        params.append(f";{question.amenity};")
    if question.kind:
        where.append("stations.kind = ?")
        params.append(question.kind)
    return " AND ".join(where), params


def listing(row: dict, local_now: datetime, distance_m: float | None = None) -> dict:
    """A station as the finder shows it (the public JSON's shape)."""
    item = {
        "code": row["code"], "name": row["name"], "district": row["district"],
        "address": row["address"], "kind": row["kind"],
        "latitude": row["latitude"], "longitude": row["longitude"],
        "hours": row["hours"] or None, "amenities": stations.amenity_list(row),
        "open_now": hours.is_open(row["hours"], local_now),
    }
    if distance_m is not None:
        item["distance_m"] = round(distance_m)
    return item


def nearest(db, question: Question, local_now: datetime, exclude_code: str | None = None) -> list[dict]:
    """The listed stations nearest the question's position, nearest first, each with its true
    distance; at most ``limit``, none beyond ``radius_m``, open ones only when asked."""
    here = (question.latitude, question.longitude)
    gcj_lat, gcj_lon = geo.to_gcj02(*here)
    where, params = filters(question)
    box = min(FIRST_BOX_M, question.radius_m)
    while True:
        # the box is in GCJ-02, distances in WGS-84: the margin covers how far the offset
        # drifts between two points (the test of MARGIN measures it across China)
        margin = box * MARGIN_SHARE + MARGIN_M
        reach = margin / METRES_PER_DEGREE
        reach_lon = reach / max(0.01, math.cos(math.radians(min(89.0, abs(gcj_lat) + reach))))
        # CROSS JOIN: the box's places first, then each station by id, whatever the statistics
        rows = db.execute(
            f"""SELECT stations.id, code, latitude, longitude, hours
                FROM station_places CROSS JOIN stations ON stations.id = station_places.id
                WHERE station_places.min_lat <= ? AND station_places.max_lat >= ?
                  AND station_places.min_lon <= ? AND station_places.max_lon >= ? AND {where}""",
            [gcj_lat + reach, gcj_lat - reach, gcj_lon + reach_lon, gcj_lon - reach_lon, *params])
        found = []
        for station_id, code, lat, lon, opening in rows:
            # the box's corners lie beyond the circle: a cheap look in GCJ-02 drops them before
            # the conversion, which costs more than the rest of the loop together
            if code == exclude_code or geo.distance_m((gcj_lat, gcj_lon), (lat, lon)) > margin:
                continue
            distance = geo.distance_m(here, geo.to_wgs84(lat, lon))
            if distance <= box and (hours.is_open(opening, local_now) or not question.open_now):
                found.append((round(distance), code, station_id))
        if len(found) >= question.limit or box >= question.radius_m:
            chosen = sorted(found)[:question.limit]
            by_id = {row["id"]: row for row in db.query(
                f"SELECT * FROM stations WHERE id IN ({', '.join('?' * len(chosen))})",
                [station_id for _, _, station_id in chosen])}
            return [listing(by_id[station_id], local_now, distance)
                    for distance, _, station_id in chosen]
        box = min(box * 4, question.radius_m)


def in_district(db, district: str, question: Question, local_now: datetime,
                page: int = 1) -> tuple[list[dict], bool]:
    """A district's listed stations, one page of them, and whether there are more: nearest
    first when the question has a position, by name when not."""
    where, params = filters(question)
    rows = db.query(f"SELECT * FROM stations WHERE district = ? AND {where} ORDER BY name, code",
                    [district, *params])
    here = (question.latitude, question.longitude) if question.has_position else None
    found = []
    for row in rows:
        distance = None
        if here and row["latitude"] is not None:
            distance = geo.distance_m(here, geo.to_wgs84(row["latitude"], row["longitude"]))
        item = listing(row, local_now, distance)
        if item["open_now"] or not question.open_now:
            found.append(item)
    if here:
        found.sort(key=lambda item: item.get("distance_m", math.inf))
    start = (page - 1) * PAGE_SIZE
    return found[start:start + PAGE_SIZE], len(found) > start + PAGE_SIZE


def districts(db) -> list[str]:
    """The districts with listed stations, for the finder's list, in the order of their pinyin:
    GB18030 keeps GB2312's first level of characters (the 3,755 in most use) in pinyin order."""
    return per_version(db, "districts", lambda: sorted(
        (district for (district,) in db.execute(
            "SELECT DISTINCT district FROM stations WHERE status = 'listed'")),
        key=lambda name: name.encode("gb18030", errors="replace")))


DISTRICTS_LISTED = 60  # more than this, and the worker types part of a name instead
DISTRICTS_FOUND = 20


def districts_named(known: list[str], text: str) -> list[str]:
    """The districts whose names hold ``text``, at most DISTRICTS_FOUND: those that begin with it
    first, and the shortest (the closest to what was typed) first among them."""
    named = [district for district in known if text in district]  # ``known`` in pinyin order
    return sorted(named, key=lambda name: (not name.startswith(text), len(name)))[:DISTRICTS_FOUND]


def amap_url(item: dict) -> str:
    """Amap's URI API: opens the Amap app (or its web page) with a walking route to the station."""
    name = quote(item["name"].replace(",", " "))
    return (f"https://uri.amap.com/navigation?to={item['longitude']},{item['latitude']},{name}"
            "&mode=walk&coordinate=gaode&callnative=1")


def geo_uri(item: dict) -> str:
    """A geo: URI (RFC 5870, WGS-84) that any map app on the phone may open."""
    lat, lon = geo.to_wgs84(item["latitude"], item["longitude"])
    return f"geo:{lat:.6f},{lon:.6f}?q={lat:.6f},{lon:.6f}"


def feed_validators(db, local_now: datetime) -> tuple[str, datetime]:
    """The GeoJSON feed's ETag and Last-Modified, without building it: the feed changes with the
    stations (``station_feed``) and when any station opens or closes (``open_now``)."""
    version, changed_at = db.execute("SELECT version, changed_at FROM station_feed").fetchone()
    every_hours = per_version(db, "hours", lambda: [text for (text,) in db.execute(
        "SELECT DISTINCT hours FROM stations WHERE status = 'listed' ORDER BY hours")])
    open_state = "".join("1" if hours.is_open(text, local_now) else "0" for text in every_hours)
    tag = hashlib.sha256(f"{version}:{open_state}".encode()).hexdigest()[:20]
    moments = [from_utc_text(changed_at)]
    moments += [moment.astimezone(timezone.utc) for moment in
                (hours.last_change(text, local_now) for text in every_hours) if moment]
    return tag, max(moments).replace(microsecond=0)


def feed_file(db, tag: str, local_now: datetime) -> str:
    """The GeoJSON feed of ``tag`` (feed_validators) as a file in a folder beside the database:
    built by the first request to want it while the others wait for it (building takes
    seconds at national scale, and sixteen at once stalled the service), then read by every
    process until the feed changes; older ones are removed."""
    folder = f"{db.file_path}.feed"
    path = os.path.join(folder, f"{tag}.geojson")
    if os.path.exists(path):
        return path
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "building"), "a") as building:
        fcntl.flock(building, fcntl.LOCK_EX)  # released when the file closes
        if not os.path.exists(path):
            partial = f"{path}.{os.getpid()}.part"
            with open(partial, "w", encoding="utf-8") as out:
                out.writelines(feature_collection(db, local_now))
            os.replace(partial, path)
            for name in os.listdir(folder):
                if name.endswith(".geojson") and name != os.path.basename(path):
                    os.remove(os.path.join(folder, name))
    return path


def forget_feed(database_path: str) -> None:
    """Remove the built feeds of a database (a restored one starts afresh)."""
    shutil.rmtree(f"{database_path}.feed", ignore_errors=True)


def feature_collection(db, local_now: datetime):
    """The GeoJSON (RFC 7946) FeatureCollection of every listed station, as text in pieces:
    geometry in WGS-84; the properties' latitude and longitude are the stations' GCJ-02."""
    yield '{"type":"FeatureCollection","features":['
    rows = db.query("SELECT * FROM stations WHERE status = 'listed' "
                    "AND latitude IS NOT NULL AND longitude IS NOT NULL ORDER BY code")
    for number, row in enumerate(rows):
        lat, lon = geo.to_wgs84(row["latitude"], row["longitude"])
        feature = {"type": "Feature", "id": row["code"],
                   "geometry": {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]},
                   "properties": listing(row, local_now)}
        yield ("," if number else "") + json.dumps(feature, ensure_ascii=False, separators=(",", ":"))
    yield "]}"
