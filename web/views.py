"""The worker's pages: the rating form, its thank-you page, and errors in the worker's language."""
import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from functools import partial
from urllib.parse import urlencode

from flask import (Blueprint, Response, current_app, make_response, redirect, render_template,
                   request, url_for)
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from feedback import clock, events, i18n
from feedback.clock import local_day
from feedback.counts import counting, scale
from feedback.counts.ratings import MAX_COMMENT, REASONS, add_details, rating_of_once_key, record
from feedback.counts.scale import LABELS, SCORES, is_bad
from feedback.followup import cases
from feedback.places import finder, geo, stations
from feedback.storage.db import get_db, once_key, write, write_together
from feedback.typed import has_control_characters, normalise_newlines
from qr import links
from web import browser, metrics

bp = Blueprint("feedback", __name__)

# A rating form is a score, up to 7 reasons and 500 characters: 16 KB is generous, and a
# bigger body is refused before it is read.
WORKER_FORM_LIMIT = 16 * 1024


@bp.before_app_request
def limit_worker_forms():
    if request.path.startswith("/s/"):
        request.max_content_length = WORKER_FORM_LIMIT


# Pages for workers, which speak the worker's language even when they fail.
WORKER_PATHS = ("/s/", "/near")

ONCE_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
RESENT = "resent"  # a form sent again after a lost answer: the rating it made the first time


class WorkerError(HTTPException):
    """An error shown to a worker as a page in their language; with the ``station`` it is about
    (closed, its poster replaced), the nearest other stations open now too."""

    def __init__(self, status: int, message_key: str, station: dict | None = None):
        super().__init__()
        self.code = status
        self.message_key = message_key
        self.station = station


def render_page(template: str, status: int = 200, **context):
    """Render a worker page in the chosen language, remembering an explicit choice."""
    return page_response(worker_html(template, browser.language(), **context), status)


def worker_html(template: str, lang: str, **context) -> str:
    return render_template(template, lang=lang, t=partial(i18n.translate, lang), **context)


def page_response(html: str, status: int = 200):
    """A worker page's response; an explicit choice of language is remembered."""
    response = make_response(html, status)
    if request.args.get("lang") in i18n.LANGUAGES:
        response.set_cookie("lang", browser.language(), max_age=365 * 24 * 3600, samesite="Lax")
    return response


def station_for_link(code: str, token: str) -> dict:
    """The station a signed link names, or a WorkerError saying why it cannot be rated."""
    station = stations.current(get_db(), code)
    if station is None:
        raise WorkerError(404, "not_found")
    verdict = links.check(current_app.config["SECRET_KEY"], code, token, station["link_version"])
    if verdict == links.REPLACED:
        raise WorkerError(404, "replaced", station)
    if verdict != links.VALID:
        raise WorkerError(404, "not_found")
    if station["status"] != "listed":
        raise WorkerError(410, "closed", station)
    return station


@bp.route("/s/<code>/<token>", methods=["GET", "POST"])
def rate(code: str, token: str):
    """The rating page: five faces, each a submit button, so one tap records a rating."""
    station = station_for_link(code, token)
    if request.method != "POST":  # GET, and HEAD with it
        response = render_form(station, key=secrets.token_urlsafe(16))
        browser.remember(response)
        return response

    form = request.form
    score_text = form.get("score", "")
    key = form.get("key", "")
    comment, reasons, error = read_details(form)  # a form from before one tap may carry them
    if not ONCE_KEY.fullmatch(key):
        error = "form_expired"
        key = secrets.token_urlsafe(16)
    elif score_text not in {"1", "2", "3", "4", "5"}:
        error = "pick_score"
    if error:
        refused(station["code"], error)
        return render_form(station, key=key, error=error, status=400)

    score = int(score_text)
    db, now, tz = get_db(), clock.now(), current_app.config["TIMEZONE"]
    followup_days = current_app.config["FOLLOWUP_DAYS"]
    rater = browser.rater()
    # what can be known before the write lock is read now: every other rating waits on it
    known = counting.known_device(db, rater)
    sent_key, day, reasons = once_key(f"form:{key}"), local_day(now, tz), reasons if is_bad(score) else ()

    def rating(db) -> tuple[int, str | None]:
        """The rating this form made, recorded now or (a resent form) before; why it is held."""
        made = rating_of_once_key(db, sent_key)
        if made is not None:
            return made, RESENT
        device_id, held = counting.device_and_hold(db, rater, known, station["id"], day, now)
        made = record(db, station_id=station["id"], rated_at=now, score=score, comment=comment,
                      reasons=reasons, source="form", once_key=sent_key, tz=tz,
                      device_id=device_id, held_reason=held)
        if held is None and is_bad(score):  # a counted bad rating asks for a follow-up
            cases.open_or_join(db, station["id"], made, now, tz, followup_days)
        return made, held

    rating_id, held = write_together(db, rating)
    if held != RESENT:
        metrics.RATINGS_RECORDED.labels(counted="no" if held else "yes").inc()
    # 303 after POST: a reload shows the thanks page instead of offering to resend the form
    query = {"r": details_pass(rating_id, now)}
    if form.get("lang") in i18n.LANGUAGES:
        query["lang"] = form["lang"]
    response = Response(status=303, headers={"Location": f"{request.path}/thanks?{urlencode(query)}"})
    if rater.device is None:
        browser.remember(response)
    return response


def read_details(form) -> tuple[str, tuple[str, ...], str | None]:
    """(comment, reasons, error key or None) from a form; reasons are known keys, each once."""
    comment = normalise_newlines(form.get("comment", "")).strip()
    chosen = set(form.getlist("reason"))
    reasons = tuple(reason for reason in REASONS if reason in chosen)
    if len(comment) > MAX_COMMENT:
        return comment[:MAX_COMMENT], reasons, "comment_too_long"
    if has_control_characters(comment):
        return "", reasons, "bad_text"
    if not chosen <= set(REASONS):
        return comment, reasons, "bad_reason"
    return comment, reasons, None


# Where a form's one-time key goes in a form drawn once for every worker: text that a station's
# name or any other value drawn into the page cannot hold (theirs are escaped).
KEY_SLOT = Markup("<one-time-key>")


def render_form(station: dict, key: str, error: str | None = None, status: int = 200):
    """The rating form. Without an error it is drawn once per station and language, until the
    station changes, and each worker's one-time key is put into its copy."""
    lang = browser.language()

    def drawn(slot) -> str:
        return worker_html("rate.html", lang, station=station, key=slot, error=error,
                           scores=SCORES, labels=LABELS[lang], faces=scale.FACES,
                           face_eyes=scale.FACE_EYES, face_eye_radius=scale.FACE_EYE_RADIUS,
                           mouth_path=scale.mouth_path)
    if error is None:
        html = stations.remembered(get_db(), ("rating form", station["code"], lang),
                                   lambda: drawn(KEY_SLOT)).replace(KEY_SLOT, key, 1)
    else:
        html = drawn(key)
    response = page_response(html, status)
    # the one-time key is this page's alone: a shared cache must never hand it to another worker
    response.headers["Cache-Control"] = "private, no-store"
    return response


# Details (a comment, reasons) may follow a rating from the browser that made it, once, within
# DETAILS_WINDOW. The thank-you page's link carries a signed pass naming the rating, given only
# to that browser, which must also be the rating's device: its cookie, or for a rating made
# without one its address and browser.
DETAILS_WINDOW = timedelta(minutes=30)


def _pass_mac(rating_id: int, issued: int) -> str:
    mac = hmac.new(current_app.config["SECRET_KEY"].encode(),
                   f"details\x1f{rating_id}\x1f{issued}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:12]).decode()


def details_pass(rating_id: int, issued: datetime) -> str:
    stamp = int(issued.timestamp())
    return f"{rating_id}.{stamp}.{_pass_mac(rating_id, stamp)}"


def rating_for_details(station: dict, pass_text: str | None) -> dict:
    """The rating a details pass names, if this browser may still add details to it; else a
    WorkerError saying why."""
    parts = (pass_text or "").split(".")
    if len(parts) != 3 or not all(re.fullmatch(r"[0-9]{1,19}", part) for part in parts[:2]) \
            or not hmac.compare_digest(parts[2].encode(),
                                       _pass_mac(int(parts[0]), int(parts[1])).encode()):
        raise WorkerError(403, "not_yours")
    rating_id, issued = int(parts[0]), int(parts[1])
    db = get_db()
    rating = next(db.query("""SELECT ratings.id, station_id, score, device_id, key_hash, kind,
                                     rating_details.rating_id IS NOT NULL AS detailed
                              FROM ratings LEFT JOIN devices ON devices.id = device_id
                              LEFT JOIN rating_details ON rating_details.rating_id = ratings.id
                              WHERE ratings.id = ?""", [rating_id]), None)
    if rating is None or rating["station_id"] != station["id"]:
        raise WorkerError(403, "not_yours")
    # the browser that made it: by its cookie, or without one by its address and browser
    made_by = browser.this_browser() if rating["kind"] == "cookie" else browser.network_key().hex()
    if rating["key_hash"] is not None and rating["key_hash"] != made_by:
        raise WorkerError(403, "not_yours")
    if clock.now().timestamp() - issued > DETAILS_WINDOW.total_seconds():
        raise WorkerError(410, "too_late")
    if rating["detailed"]:
        raise WorkerError(409, "already_detailed")
    return rating


@bp.route("/s/<code>/<token>/thanks")
def thanks(code: str, token: str):
    station = station_for_link(code, token)
    try:
        rating = rating_for_details(station, request.args.get("r"))
    except WorkerError:
        rating = None  # no details form: thanks all the same
    return render_page("thanks.html", station=station, amenities=stations.amenity_list(station),
                       resolved=cases.recently_resolved(get_db(), station["id"]),
                       rating=rating, details_pass=request.args.get("r"), reasons=REASONS,
                       bad=rating is not None and is_bad(rating["score"]),
                       max_comment=MAX_COMMENT, received=request.args.get("sent") == "1",
                       nearby=open_nearby(station), amap_url=finder.amap_url,
                       geo_uri=finder.geo_uri)


def open_nearby(station: dict) -> list[dict]:
    """The three nearest other stations open now: where to go when this one is not enough."""
    if station["latitude"] is None:
        return []
    here = geo.to_wgs84(station["latitude"], station["longitude"])
    return finder.nearest(get_db(), finder.Question(*here, open_now=True, limit=3),
                          clock.local_now(), exclude_code=station["code"])


@bp.post("/s/<code>/<token>/details")
def details(code: str, token: str):
    """A comment, and for a bad rating its reasons, added to the rating just made."""
    station = station_for_link(code, token)
    rating = rating_for_details(station, request.form.get("r"))
    comment, reasons, error = read_details(request.form)
    if error:
        raise WorkerError(400, error)
    if not comment and not (reasons and is_bad(rating["score"])):
        raise WorkerError(400, "nothing_to_add")
    db = get_db()
    with write(db):
        if not add_details(db, rating["id"], comment, reasons if is_bad(rating["score"]) else (),
                           clock.now()):
            raise WorkerError(409, "already_detailed")
    return redirect(url_for(".thanks", code=code, token=token, lang=request.form.get("lang"),
                            sent=1), 303)


@bp.route("/favicon.ico")
def favicon():
    return current_app.send_static_file("favicon.ico")


def refused(code: str, reason: str) -> None:
    """A rating post refused: counted in /metrics and logged, with why (never what it said)."""
    metrics.RATINGS_REFUSED.labels(reason=reason).inc()
    events.record("rating_refused", station=code, reason=reason, client=browser.address_key())


@bp.app_errorhandler(WorkerError)
def worker_error(error: WorkerError):
    if request.endpoint == "feedback.rate" and request.method == "POST":
        refused(request.view_args.get("code", ""), error.message_key)
    return render_page("error.html", error.code,
                       message=i18n.translate(browser.language(), error.message_key),
                       nearby=open_nearby(error.station) if error.station else [],
                       amap_url=finder.amap_url, geo_uri=finder.geo_uri)


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException):
    # keep what the error says about itself, such as Allow on a 405
    headers = [(name, value) for name, value in error.get_headers()
               if name.lower() != "content-type"]
    if request.path.startswith("/api/"):
        return {"error": error.name, "message": error.description}, error.code, headers
    if not request.path.startswith(WORKER_PATHS) and error.code != 405:
        # a staff page's error is a staff page, saying what happened in its words
        response = make_response(render_template("staff_error.html", error=error), error.code)
        response.headers.extend(headers)
        return response
    if error.code in (404, 405):
        message = i18n.translate(browser.language(), "page_not_found")
    elif error.code == 413:
        message = i18n.translate(browser.language(), "too_large")
        if request.endpoint == "feedback.rate":
            refused(request.view_args.get("code", ""), "too_large")
    else:
        message = error.description  # staff-facing: what to do about it
    response = render_page("error.html", error.code, message=message)
    response.headers.extend(headers)
    return response


@bp.app_errorhandler(500)
def server_error(error):
    if request.path.startswith("/api/"):
        return {"error": "Internal Server Error"}, 500
    return render_page("error.html", 500, message=i18n.translate(browser.language(), "server_error"))
