"""Staff sign-in: hashed passwords, roles, CSRF on staff forms, bearer tokens for the JSON API.

Who may see what: admins and inspectors every station; a district account its district's
stations; a manager account its own station.
"""
import functools
import hashlib
import hmac
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (Blueprint, abort, g, redirect, render_template, request, session,
                   url_for)
from werkzeug.security import check_password_hash, generate_password_hash

from feedback import clock, stations
from feedback.clock import to_utc_text
from feedback.db import get_db, write

bp = Blueprint("auth", __name__)

ROLES = ("admin", "inspector", "district", "manager")
SEES_EVERY_STATION = ("admin", "inspector")


def create_user(db, username: str, password: str, role: str, district: str | None,
                station_code: str | None) -> None:
    """Add a staff account; the password is stored only as a salted hash. Call inside write()."""
    db.execute(
        "INSERT INTO users (username, password_hash, role, district, station_code, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [username, generate_password_hash(password), role, district, station_code,
         to_utc_text(clock.now())])


def create_token(db, user_id: int) -> str:
    """A new API token for the user, returned once; only its hash is kept. Call inside write()."""
    token = secrets.token_urlsafe(32)
    db.execute("INSERT INTO api_tokens (user_id, token_hash, created_at) VALUES (?, ?, ?)",
               [user_id, hash_token(token), to_utc_text(clock.now())])
    return token


@functools.cache
def unknown_user_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_by(column: str, value) -> dict | None:
    rows = list(get_db().query(f"SELECT * FROM users WHERE {column} = ?", [value]))
    return rows[0] if rows else None


def current_user() -> dict | None:
    """The signed-in staff member, by bearer token or session, or None."""
    if "user" not in g:
        g.user = None
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            rows = list(get_db().query(
                "SELECT users.* FROM api_tokens JOIN users ON users.id = user_id "
                "WHERE token_hash = ?", [hash_token(header.removeprefix("Bearer ").strip())]))
            g.user = rows[0] if rows else None
        elif "user_id" in session:
            g.user = user_by("id", session["user_id"])
    return g.user


def can_see(user: dict, station: dict) -> bool:
    """Whether this staff member may see this station's codes, ratings and history."""
    if user["role"] in SEES_EVERY_STATION:
        return True
    if user["role"] == "district":
        return station["district"] == user["district"]
    return station["code"] == user["station_code"]


def visible_station(code: str) -> dict:
    """The station, if the signed-in staff member may see it; 404 whether it is missing or
    someone else's, so codes cannot be probed."""
    station = stations.get(get_db(), code)
    if station is None or not can_see(current_user(), station):
        abort(404, f"no station with code {code} that you may see")
    return station


def visible_stations_sql(user: dict) -> tuple[str, list]:
    """A WHERE clause (on table ``stations``) for the stations this user may see."""
    if user["role"] in SEES_EVERY_STATION:
        return "1", []
    if user["role"] == "district":
        return "stations.district = ?", [user["district"]]
    return "stations.code = ?", [user["station_code"]]


def staff_required(*roles: str):
    """Only signed-in staff (of ``roles``, when given): JSON asks for 401/403, pages go to sign-in."""
    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            user = current_user()
            if user is None:
                if request.path.startswith("/api/"):
                    abort(401, "sign in, or send Authorization: Bearer TOKEN")
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if roles and user["role"] not in roles:
                abort(403, f"this needs the role {' or '.join(roles)}")
            return view(*args, **kwargs)
        return wrapped
    return decorate


def csrf_token() -> str:
    """This session's CSRF token, for the hidden field of every staff form."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


@bp.before_app_request
def check_csrf():
    """Every staff form POST carries the session's token; the worker's rating form does not need
    one (it changes nothing a signed-in person owns) and bearer-token API calls cannot be forged
    by a browser."""
    if request.method != "POST" or request.path.startswith("/s/"):
        return
    if request.routing_exception is not None:
        return  # no such route or method: let that 404 or 405 answer, not a CSRF complaint
    if request.headers.get("Authorization", "").startswith("Bearer "):
        return
    if request.path.startswith("/api/") and request.is_json and "user_id" not in session:
        return  # no session: nothing for a forged request to ride on; staff_required refuses it
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token", "")
    if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
        abort(400, "the form has expired: reload the page and try again")


def safe_next(target: str | None) -> str:
    """Only a path on this site, so sign-in cannot bounce to another one."""
    # browsers read a backslash as a slash: "/\\evil.example" would leave the site
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and target.isprintable() and not urlsplit(target).netloc):
        return target
    return url_for("staff.stations")


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        user = user_by("username", request.form.get("username", "").strip())
        password = request.form.get("password", "")
        # hash even for an unknown name, so the answer's timing does not say which names exist
        matches = check_password_hash(user["password_hash"] if user else unknown_user_hash(),
                                      password)
        if user and matches:
            session.clear()
            session["user_id"] = user["id"]
            return redirect(safe_next(request.args.get("next")), 303)
        error = "用户名或密码不正确 / Wrong username or password"
    status = 401 if error else 200
    return render_template("login.html", error=error), status


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("auth.login"), 303)


def configure(app) -> None:
    """Session cookie settings and the CSRF token in templates."""
    app.config["SESSION_COOKIE_SECURE"] = app.config["BASE_URL"].startswith("https://")
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["current_user"] = current_user
    app.jinja_env.globals["yesterday"] = lambda: clock.today() - timedelta(days=1)
