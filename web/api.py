"""The JSON API under /api/v1, and the health check."""
import re
import sqlite3
from datetime import date, timedelta

from flask import Blueprint, abort, current_app, jsonify, request, url_for

from feedback import clock
from feedback.accounts import visible_stations_sql
from feedback.clock import local_iso, parse_day
from feedback.counts import counting
from feedback.counts.ratings import between_days, count_between
from feedback.followup import cases, signals, visits
from feedback.places import finder, stations
from feedback.storage.db import get_db, write
from jobs import downgrade
from jobs import health as service_health
from web.auth import current_user, staff_required, visible_case, visible_station
from web.openapi import document

bp = Blueprint("api", __name__, url_prefix="/api/v1")
health = Blueprint("health", __name__)

ID = "int(max=9223372036854775807)"  # a row id in a path: past SQLite's range is a 404
MAX_RATINGS = 10_000
MAX_LIST = 1_000_000  # a list (stations, flags) asked without a limit: all of it (the contract)
MAX_OFFSET = 1_000_000_000


def tz():
    return current_app.config["TIMEZONE"]


def day_arg(name: str, default: date) -> date:
    text = request.args.get(name)
    if not text:
        return default
    try:
        return parse_day(text)
    except ValueError as bad:
        abort(400, f"{name}: {bad}")


def whole_number(name: str, default: int, lowest: int, highest: int) -> int:
    """A query parameter that must be a whole number within bounds; 400 saying so otherwise."""
    text = request.args.get(name)
    if text is None:
        return default
    if not re.fullmatch(r"[0-9]{1,10}", text) or not lowest <= int(text) <= highest:
        abort(400, f"{name} must be a whole number from {lowest} to {highest}")
    return int(text)


@bp.get("/stations/<code>")
def station(code: str):
    """A station's public summary."""
    found = stations.summary(get_db(), code, tz())
    if found is None:
        abort(404, f"no station with code {code}")
    return found


@bp.get("/stations")
@staff_required()
def station_list():
    """Every listed station this staff member may see, by code; ``q``, ``district``, ``tier`` and
    ``status`` search, ``limit`` and ``offset`` page (a Link header names the next page)."""
    where, params = visible_stations_sql(current_user())
    for key, allowed in (("tier", stations.TIERS), ("status", ("listed", "closed"))):
        if key in request.args and request.args[key] not in allowed:
            abort(400, f"{key} must be one of {', '.join(allowed)}")
    searched, values = stations.matching(
        **{key: request.args.get(key, "").strip()[:100] for key in ("q", "district", "tier", "status")})
    where, params = f"{where} AND status != 'delisted' AND {searched}", [*params, *values]
    limit = whole_number("limit", MAX_LIST, 1, MAX_LIST)
    offset = whole_number("offset", 0, 0, MAX_OFFSET)
    db = get_db()
    response = jsonify(stations.summaries(db, tz(), where, params, limit, offset))
    total = db.execute(f"SELECT count(*) FROM stations WHERE {where}", params).fetchone()[0]
    searched = {key: request.args[key] for key in ("q", "district", "tier", "status")
                if key in request.args}
    paged(response, total, offset, limit,
          url_for(".station_list", **searched, offset=offset + limit, limit=limit))
    return response


@bp.get("/stations/<code>/ratings")
@staff_required()
def ratings(code: str):
    """A station's ratings between two local days (inclusive); default the last 30 days."""
    station = visible_station(code)
    last = day_arg("to", clock.today())
    first = day_arg("from", last - timedelta(days=29))
    if first > last:
        abort(422, "from must not be after to")
    limit = whole_number("limit", 1000, 1, MAX_RATINGS)
    offset = whole_number("offset", 0, 0, MAX_OFFSET)
    db = get_db()
    days, values = between_days(first, last)
    where, params = f"station_id = ? AND {days}", [station["id"], *values]
    total = count_between(db, first, last, "station_id = ?", [station["id"]])
    rows = db.execute(  # tuples, not dicts: a busy station's page is a thousand rows
        f"""SELECT ratings.id, rated_at, score, label AS device, held_reason,
                   coalesce(rating_details.comment, ratings.comment) AS comment,
                   coalesce(nullif(rating_details.reasons, ''), ratings.reasons) AS reasons,
                   EXISTS (SELECT 1 FROM excluded_ratings WHERE rating_id = ratings.id) AS excluded
            FROM ratings LEFT JOIN devices ON devices.id = device_id
            LEFT JOIN rating_details ON rating_details.rating_id = ratings.id
            WHERE {where} ORDER BY rated_at, ratings.id LIMIT ? OFFSET ?""",
        [*params, limit, offset])
    items, local = [], tz()
    for id_, rated_at, score, device, held_reason, comment, reasons, excluded in rows:
        held = held_reason or (counting.EXCLUDED if excluded else None)
        items.append({"id": id_, "rated_at": local_iso(rated_at, local), "score": score,
                      "comment": comment,
                      "reasons": [reason for reason in reasons.split(";") if reason],
                      "device": device, "counted": held is None, "held_reason": held})
    return {"code": code, "from": first.isoformat(), "to": last.isoformat(), "total": total,
            "offset": offset, "limit": limit, "items": items}


@bp.get("/stations/<code>/history")
@staff_required()
def history(code: str):
    """Tier changes and decisions about a station."""
    station = visible_station(code)
    return {"code": code, "items": downgrade.history(get_db(), station["id"], tz())}


@bp.get("/flags")
@staff_required("inspector", "admin")
def flags():
    """The open downgrade flags by station code, shaped as `downgrade scan --json`: all of them,
    or ``limit`` from ``offset`` (a sparse national rollout flags a hundred thousand stations)."""
    db = get_db()
    total, dense = downgrade.open_flag_count(db)
    limit = whole_number("limit", MAX_LIST, 1, MAX_LIST)
    offset = whole_number("offset", 0, 0, MAX_OFFSET)
    response = jsonify(downgrade.open_flags(db, tz(), limit=limit, offset=offset, dense=dense))
    paged(response, total, offset, limit, url_for(".flags", offset=offset + limit, limit=limit))
    return response


def paged(response, total: int, offset: int, limit: int, following: str) -> None:
    """A list's headers: how many there are in all (X-Total-Count), and a Link to the next page
    (``following``) when this one ends before them."""
    response.headers["X-Total-Count"] = str(total)
    if offset + limit < total:
        response.headers["Link"] = f'<{following}>; rel="next"'


def json_body(shape: str) -> dict:
    """The request's JSON object, or a 400 that shows the shape expected."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, f"send JSON: {shape}")
    return body


@bp.post("/flags/<code>/decision")
@staff_required("inspector", "admin")
def decide(code: str):
    """Confirm (the tier steps down) or dismiss a station's open flag, with a reason."""
    body = json_body('{"decision": "confirm" or "dismiss", "reason": "…"}')
    db = get_db()
    try:
        with write(db):
            return downgrade.decide(db, code, body.get("decision"), body.get("reason"),
                                    current_user()["username"], clock.now())
    except downgrade.BadDecision as error:
        abort(400, str(error))
    except downgrade.NoOpenFlag:
        abort(404, f"station {code} has no open flag")


@bp.post("/stations/<code>/reinstate")
@staff_required("inspector", "admin")
def reinstate(code: str):
    """One step up, with a reason: a delisted station is relisted as city."""
    body = json_body('{"reason": "…"}')
    db = get_db()
    try:
        with write(db):
            return downgrade.reinstate(db, code, body.get("reason"), current_user()["username"],
                                       clock.now())
    except downgrade.BadDecision as error:
        abort(400, str(error))
    except downgrade.NoTierAbove as error:
        abort(409, str(error))
    except downgrade.NoStation:
        abort(404, f"no station with code {code}")


VISIT_SHAPE = ('{"kind": "unannounced" or "assessment", "items": {KEY: "pass", "fail" or "na", …}, '
               '"notes": "…"}')


@bp.post("/stations/<code>/visits")
@staff_required("inspector", "admin")
def record_visit(code: str):
    """An inspection visit against the city's checklist."""
    station = visible_station(code)
    body = json_body(VISIT_SHAPE)
    db = get_db()
    try:
        with write(db):
            visit = visits.record(db, station["id"], body.get("kind"), body.get("items"),
                                  body.get("notes"), current_user()["username"], clock.now())
    except visits.BadVisit as error:
        abort(400, f"{error}; send {VISIT_SHAPE}")
    return visit, 201


@bp.get("/stations/<code>/visits")
@staff_required()
def visit_list(code: str):
    """A station's inspection visits, newest first."""
    station = visible_station(code)
    return {"code": code, "items": visits.listing(get_db(), station["id"], tz())}


EXCLUSION_SHAPE = ('{"rating_id": N, "reason": "…"} or {"station": CODE, "device": LABEL, '
                   '"from": "YYYY-MM-DD", "to": "YYYY-MM-DD", "reason": "…"}')


@bp.post("/exclusions")
@staff_required("inspector", "admin")
def exclude():
    """Keep one rating, or one device's ratings at a station over days, out of every figure."""
    body = json_body(EXCLUSION_SHAPE)
    db, by, now = get_db(), current_user()["username"], clock.now()
    try:
        if "rating_id" in body:
            rating_id = body["rating_id"]
            if not isinstance(rating_id, int) or isinstance(rating_id, bool) or \
                    not 0 < rating_id < 2 ** 63:
                abort(400, f"rating_id must be a rating's number; send {EXCLUSION_SHAPE}")
            row = db.execute("SELECT code FROM ratings JOIN stations ON stations.id = station_id "
                             "WHERE ratings.id = ?", [rating_id]).fetchone()
            if row is None:
                abort(404, f"no rating {rating_id}")
            visible_station(row[0])
            with write(db):
                result = counting.exclude_rating(db, rating_id, body.get("reason"), by, now)
        else:
            station = visible_station(str(body.get("station", "")))
            days = []
            for name in ("from", "to"):
                try:
                    days.append(parse_day(str(body.get(name, ""))))
                except ValueError as bad:
                    abort(400, f"{name}: {bad}")
            if days[0] > days[1]:
                abort(422, "from must not be after to")
            with write(db):
                result = counting.exclude_device(db, station["id"], str(body.get("device", "")),
                                                 *days, body.get("reason"), by, now)
    except counting.BadExclusion as error:
        abort(400, str(error))
    except counting.NotFound as error:
        abort(404, str(error))
    return result, 201


@bp.post(f"/exclusions/<{ID}:exclusion_id>/lift")
@staff_required("inspector", "admin")
def lift(exclusion_id: int):
    """End an exclusion, with a reason: its ratings count again."""
    body = json_body('{"reason": "…"}')
    db = get_db()
    try:
        with write(db):
            return counting.lift(db, exclusion_id, body.get("reason"), current_user()["username"],
                                 clock.now())
    except counting.LiftedAlready as error:
        abort(409, str(error))
    except counting.BadExclusion as error:
        abort(400, str(error))
    except counting.NotFound as error:
        abort(404, str(error))


@bp.get("/signals")
@staff_required("inspector", "admin")
def signal_list():
    """What the nightly scans found that may be gaming the counts, for inspectors to look into."""
    return {"items": signals.kept(get_db(), tz())}


@bp.get("/cases")
@staff_required()
def case_list():
    """The follow-up cases of the stations this account may see, overdue first."""
    status = request.args.get("status")
    if status is not None and status not in cases.STATUSES:
        abort(400, f"status must be one of {', '.join(cases.STATUSES)}")
    where, params = visible_stations_sql(current_user())
    found = cases.listing(get_db(), where, params, clock.today(), status)
    return {"items": [cases.as_json(case) for case in found]}


def case_step(case_id: int, step) -> dict:
    """Run ``step(db, case)`` on a case this account may see, in one write: 409 with the reason
    when the case's state does not allow it, 400 when the request lacks what it needs."""
    case = visible_case(case_id)
    db = get_db()
    try:
        with write(db):
            step(db, case)
    except cases.CannotStep as error:
        abort(409, str(error))
    except cases.BadStep as error:
        abort(400, str(error))
    return cases.as_json(cases.listing(db, "cases.id = ?", [case_id], clock.today())[0])


@bp.post(f"/cases/<{ID}:case_id>/resolve")
@staff_required("manager", "admin")
def resolve_case(case_id: int):
    """The station's manager says what was done; the case is resolved."""
    note = json_body('{"note": "what was done"}').get("note")
    return case_step(case_id, lambda db, case: cases.resolve(
        db, case, note, current_user()["username"], clock.now(), tz()))


@bp.post(f"/cases/<{ID}:case_id>/reopen")
@staff_required("district", "inspector", "admin")
def reopen_case(case_id: int):
    """Open a resolved case again, with a reason: it gets a new due day."""
    reason = json_body('{"reason": "…"}').get("reason")
    return case_step(case_id, lambda db, case: cases.reopen(
        db, case, reason, current_user()["username"], clock.now(), tz(),
        current_app.config["FOLLOWUP_DAYS"]))


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 description of /api/v1."""
    return document(current_app.config["BASE_URL"], sorted(finder.known_amenities(get_db())))


@health.get("/healthz")
def healthz():
    """200 when the database answers; with ?deep=1 also the scheduler's last runs and the
    outbox, and what needs looking at (still cheap: no history is read)."""
    try:
        db = get_db()
        db.execute("SELECT 1 FROM stations LIMIT 1").fetchone()  # not count(*): every page of a nation
        if request.args.get("deep") != "1":
            return {"status": "ok"}
        found = service_health.state(db)
    except sqlite3.Error as error:
        return {"status": "unavailable", "message": str(error)}, 503
    problems = service_health.problems(found, clock.now(), current_app.config)
    return {"status": "attention" if problems else "ok", "problems": problems, **found}
