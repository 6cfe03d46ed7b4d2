"""Staff on the web: sign-in, server-side sessions, bearer tokens, CSRF on staff forms, and
the role check every staff page and API calls (the accounts themselves: feedback/accounts.py).

Sessions live on the server (the cookie holds only a random id), so signing out, a new
password or a disabled account ends them. Sign-in is throttled per account and per address
before any password hash is computed.
"""
import functools
import hmac
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface

from feedback import clock, events
from feedback.accounts import (MIN_PASSWORD, PasswordRefused, can_see, hash_token, password_matches,
                               set_password, unknown_user_hash, user_by)
from feedback.clock import from_utc_text, to_utc_text
from feedback.counts import devices
from feedback.followup import cases
from feedback.places import stations
from feedback.storage.db import get_db, write
from web import browser
from web.views import WORKER_PATHS

bp = Blueprint("auth", __name__)

SESSION_LIFETIME = timedelta(days=14)

# Throttling: the first FREE_FAILURES failed sign-ins of an account or an address (in
# FAILURE_MEMORY, since its last success) cost nothing; after them each try waits, doubling
# from FIRST_WAIT up to LONGEST_WAIT. Never a permanent lock that a stranger could use.
FREE_FAILURES = 5
FAILURE_MEMORY = timedelta(hours=24)
FIRST_WAIT = timedelta(seconds=30)
LONGEST_WAIT = timedelta(minutes=15)


def current_user() -> dict | None:
    """The signed-in staff member, by bearer token or session, or None."""
    if "user" not in g:
        g.user = None
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            rows = list(get_db().query(
                """SELECT users.* FROM api_tokens JOIN users ON users.id = user_id
                   WHERE token_hash = ? AND revoked_at IS NULL AND disabled_at IS NULL""",
                [hash_token(header.removeprefix("Bearer ").strip())]))
            g.user = rows[0] if rows else None
        elif "sid" in session:
            rows = list(get_db().query(
                """SELECT users.* FROM staff_sessions JOIN users ON users.id = user_id
                   WHERE id_hash = ? AND ended_at IS NULL AND expires_at > ?
                     AND disabled_at IS NULL""",
                [hash_token(session["sid"]), to_utc_text(clock.now())]))
            g.user = rows[0] if rows else None
    return g.user


def start_session(db, user_id: int) -> None:
    """Sign this browser in as the user: a new server-side session. Call inside write()."""
    session.clear()
    sid = secrets.token_urlsafe(32)
    now = clock.now()
    db.execute("INSERT INTO staff_sessions (id_hash, user_id, created_at, expires_at) "
               "VALUES (?, ?, ?, ?)",
               [hash_token(sid), user_id, to_utc_text(now), to_utc_text(now + SESSION_LIFETIME)])
    session["sid"] = sid


def wait_after(failures: int) -> timedelta:
    """How long to wait after the last of ``failures`` failed sign-ins (the rule, pure)."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(FIRST_WAIT * 2 ** (failures - FREE_FAILURES), LONGEST_WAIT)


def throttle_keys(username: str) -> list[str]:
    return [f"user:{username.casefold()}", f"address:{browser.address_key()}"]


def sign_in_wait(db, keys: list[str], now: datetime) -> timedelta:
    """How long these keys must still wait before the next try; zero when they may try now."""
    longest = timedelta(0)
    for key in keys:
        count, last = db.execute(
            "SELECT count(*), max(at) FROM sign_in_failures WHERE key = ? AND at > ?",
            [key, to_utc_text(now - FAILURE_MEMORY)]).fetchone()
        if count:
            longest = max(longest, from_utc_text(last) + wait_after(count) - now)
    return longest


def begin_sign_in(db, keys: list[str], now: datetime) -> timedelta:
    """Take a try: how long these keys must still wait (zero when they may try now), and when they
    may, the try is counted as a failure until it succeeds, in the same write, so that tries made
    at once are counted one after another. Call inside write()."""
    wait = sign_in_wait(db, keys, now)
    if wait <= timedelta(0):
        db.conn.executemany("INSERT INTO sign_in_failures (key, at) VALUES (?, ?)",
                            [(key, to_utc_text(now)) for key in keys])
        db.execute("DELETE FROM sign_in_failures WHERE at < ?",
                   [to_utc_text(now - FAILURE_MEMORY)])
    return wait


def forget_failures(db, keys: list[str]) -> None:
    """A success forgets the keys' failures. Call inside write()."""
    db.execute(f"DELETE FROM sign_in_failures WHERE key IN ({', '.join('?' * len(keys))})", keys)


def visible_station(code: str) -> dict:
    """The station, if the signed-in staff member may see it; 404 whether it is missing or
    someone else's, so codes cannot be probed."""
    station = stations.get(get_db(), code)
    if station is None or not can_see(current_user(), station):
        abort(404, f"no station with code {code} that you may see")
    return station


def visible_case(case_id: int) -> dict:
    """The case, if the signed-in staff member may see its station; 404 otherwise."""
    case = cases.get(get_db(), case_id)
    if case is None or not can_see(current_user(), {"code": case["station_code"],
                                                    "district": case["district"]}):
        abort(404, f"no case {case_id} that you may see")
    return case


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
    if request.path.startswith("/api/") and request.is_json and "sid" not in session:
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


def wait_text(wait: timedelta) -> tuple[str, str]:
    """How long to wait, in Chinese and in English."""
    seconds = max(1, round(wait.total_seconds()))
    if seconds < 60:
        return f"{seconds} 秒", f"{seconds} s"
    minutes = -(-seconds // 60)
    return f"{minutes} 分钟", f"{minutes} min"


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method != "POST":  # GET, and HEAD with it
        return render_template("login.html", error=None, username="")
    db = get_db()
    username = request.form.get("username", "").strip()[:100]
    password = request.form.get("password", "")
    keys = throttle_keys(username)
    now = clock.now()
    with write(db):  # the wait read and the try counted at once: concurrent tries queue here
        wait = begin_sign_in(db, keys, now)
    if wait > timedelta(0):  # refused before any hash is computed
        chinese, english = wait_text(wait)
        error = (f"登录失败次数过多,请 {chinese}后再试 / "
                 f"Too many failed sign-ins: try again in {english}")
        return render_template("login.html", error=error, username=username), 429, {
            "Retry-After": str(max(1, round(wait.total_seconds())))}
    user = user_by(db, "username", username)
    # hash even for an unknown name, so the answer's timing does not say which names exist
    matches = password_matches(user["password_hash"] if user else unknown_user_hash(), password)
    succeeded = bool(user and matches and not user["disabled_at"])
    if succeeded:
        with write(db):
            forget_failures(db, keys)
            start_session(db, user["id"])
    if succeeded:
        response = redirect(safe_next(request.args.get("next")), 303)
        # this browser's ratings are a staff member's from now on: kept, never counted
        hashed = browser.remember(response)
        with write(db):
            devices.mark_staff(db, hashed, now)
            devices.note_staff_network(db, browser.network_key(), user["id"], now)
        return response
    events.record("sign_in_failed", username=username[:40], client=browser.address_key(),
                  known=user is not None)
    error = "用户名或密码不正确 / Wrong username or password"
    return render_template("login.html", error=error, username=username), 401


@bp.post("/logout")
def logout():
    if "sid" in session:
        db = get_db()
        with write(db):
            db.execute("UPDATE staff_sessions SET ended_at = ? WHERE id_hash = ? AND ended_at IS NULL",
                       [to_utc_text(clock.now()), hash_token(session["sid"])])
    session.clear()
    return redirect(url_for("auth.login"), 303)


@bp.route("/account/password", methods=["GET", "POST"])
@staff_required()
def change_password():
    """A new password: every other session of the account ends; this browser stays signed in."""
    error = None
    if request.method == "POST":
        user = current_user()
        new = request.form.get("new_password", "")
        if not password_matches(user["password_hash"], request.form.get("current_password", "")):
            error = "当前密码不正确 / The current password is wrong"
        elif new != request.form.get("confirm_password", ""):
            error = "两次输入的新密码不一致 / The new passwords differ"
        else:
            db = get_db()
            try:
                with write(db):
                    set_password(db, user["id"], new, clock.now())
                    start_session(db, user["id"])
            except PasswordRefused as refused:
                error = f"新密码至少 {MIN_PASSWORD} 个字符 / {refused}"
            else:
                flash("密码已更改,其他设备已退出登录 / Password changed; other devices are signed out")
                return redirect(url_for("staff.stations"), 303)
    return render_template("password.html", error=error), 400 if error else 200


class StaffSessions(SecureCookieSessionInterface):
    """Sessions are for staff: a worker's page (/s/…, /near) never reads or writes one, which spares
    every rating the cost of a signed cookie."""

    def open_session(self, app, request):
        if request.path.startswith(WORKER_PATHS):
            return self.null_session_class()
        return super().open_session(app, request)


def configure(app) -> None:
    """Session cookie settings and the CSRF token in templates."""
    app.session_interface = StaffSessions()
    app.config["SESSION_COOKIE_SECURE"] = app.config["BASE_URL"].startswith("https://")
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["current_user"] = current_user
    app.jinja_env.globals["yesterday"] = lambda: clock.today() - timedelta(days=1)
