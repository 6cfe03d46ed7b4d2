"""The worker's pages: the rating form, its thank-you page, and errors in the worker's language."""
import re
import secrets
from functools import partial

from flask import (Blueprint, current_app, make_response, redirect, render_template,
                   request, url_for)
from werkzeug.exceptions import HTTPException

from feedback import clock, i18n, scale, stations
from feedback.db import get_db, write
from feedback.ratings import (MAX_COMMENT, REASONS, has_control_characters,
                              normalise_newlines, record)
from feedback.scale import LABELS, SCORES, is_bad
from qr import links

bp = Blueprint("feedback", __name__)

# A rating form is a score, up to 7 reasons and 500 characters: 16 KB is generous, and a
# bigger body is refused before it is read.
WORKER_FORM_LIMIT = 16 * 1024


@bp.before_app_request
def limit_worker_forms():
    if request.path.startswith("/s/"):
        request.max_content_length = WORKER_FORM_LIMIT

ONCE_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


class WorkerError(HTTPException):
    """An error shown to a worker as a page in their language."""

    def __init__(self, status: int, message_key: str):
        super().__init__()
        self.code = status
        self.message_key = message_key


def render_page(template: str, status: int = 200, **context):
    """Render a worker page in the chosen language, remembering an explicit choice."""
    lang = i18n.choose()
    response = make_response(
        render_template(template, lang=lang, t=partial(i18n.translate, lang), **context), status)
    if request.args.get("lang") in i18n.LANGUAGES:
        response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="Lax")
    return response


def station_for_link(code: str, token: str) -> dict:
    """The station a signed link names, or a WorkerError saying why it cannot be rated."""
    station = stations.get(get_db(), code)
    if station is None:
        raise WorkerError(404, "not_found")
    verdict = links.check(current_app.config["SECRET_KEY"], code, token, station["link_version"])
    if verdict == links.REPLACED:
        raise WorkerError(404, "replaced")
    if verdict != links.VALID:
        raise WorkerError(404, "not_found")
    if station["status"] != "listed":
        raise WorkerError(410, "closed")
    return station


@bp.route("/s/<code>/<token>", methods=["GET", "POST"])
def rate(code: str, token: str):
    station = station_for_link(code, token)
    if request.method != "POST":  # GET, and HEAD with it
        return render_form(station, key=secrets.token_urlsafe(16))

    form = request.form
    score_text = form.get("score", "")
    comment = normalise_newlines(form.get("comment", "")).strip()
    chosen = set(form.getlist("reason"))
    reasons = tuple(reason for reason in REASONS if reason in chosen)  # repeats collapse
    key = form.get("key", "")
    error = None
    if not ONCE_KEY.fullmatch(key):
        error = "form_expired"
        key = secrets.token_urlsafe(16)
    elif score_text not in {"1", "2", "3", "4", "5"}:
        error = "pick_score"
    elif len(comment) > MAX_COMMENT:
        error = "comment_too_long"
    elif has_control_characters(comment):
        error = "bad_text"
        comment = ""
    elif not chosen <= set(REASONS):
        error = "bad_reason"
    if error:
        return render_form(station, key=key, error=error, status=400,
                           selected=score_text, comment=comment, reasons=reasons)

    score = int(score_text)
    db = get_db()
    with write(db):
        record(db, station_id=station["id"], rated_at=clock.now(), score=score, comment=comment,
               reasons=reasons if is_bad(score) else (), source="form",
               once_key=f"form:{key}", tz=current_app.config["TIMEZONE"])
    # 303 after POST: a reload shows the thanks page instead of offering to resend the form
    return redirect(url_for(".thanks", code=code, token=token, lang=form.get("lang")), 303)


def render_form(station: dict, key: str, error: str | None = None, status: int = 200,
                selected: str = "", comment: str = "", reasons: tuple = ()):
    lang = i18n.choose()
    response = render_page("rate.html", status, station=station, key=key, error=error,
                           selected=selected, comment=comment, chosen_reasons=reasons,
                           scores=SCORES, labels=LABELS[lang], reasons=REASONS,
                           max_comment=MAX_COMMENT, faces=scale.FACES, face_eyes=scale.FACE_EYES,
                           face_eye_radius=scale.FACE_EYE_RADIUS, mouth_path=scale.mouth_path)
    # the one-time key is this page's alone: a shared cache must never hand it to another worker
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/s/<code>/<token>/thanks")
def thanks(code: str, token: str):
    station = station_for_link(code, token)
    return render_page("thanks.html", station=station,
                       amenities=stations.amenity_list(station))


@bp.route("/favicon.ico")
def favicon():
    return current_app.send_static_file("favicon.ico")


@bp.app_errorhandler(WorkerError)
def worker_error(error: WorkerError):
    return render_page("error.html", error.code,
                       message=i18n.translate(i18n.choose(), error.message_key))


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException):
    # keep what the error says about itself, such as Allow on a 405
    headers = [(name, value) for name, value in error.get_headers()
               if name.lower() != "content-type"]
    if request.path.startswith("/api/"):
        return {"error": error.name, "message": error.description}, error.code, headers
    if error.code in (404, 405):
        message = i18n.translate(i18n.choose(), "page_not_found")
    elif error.code == 413:
        message = i18n.translate(i18n.choose(), "too_large")
    else:
        message = error.description  # staff-facing: what to do about it
    response = render_page("error.html", error.code, message=message)
    response.headers.extend(headers)
    return response


@bp.app_errorhandler(500)
def server_error(error):
    if request.path.startswith("/api/"):
        return {"error": "Internal Server Error"}, 500
    return render_page("error.html", 500, message=i18n.translate(i18n.choose(), "server_error"))
