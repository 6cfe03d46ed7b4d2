"""Staff accounts: roles, salted password hashes, API tokens, and who may see which station.

Admins and inspectors see every station; a district account its district's stations; a
manager account its own station. The web's sign-in and sessions (web/auth.py) use these.
"""
import functools
import hashlib
import secrets
import threading
from datetime import datetime

from werkzeug.security import check_password_hash, generate_password_hash

from feedback import clock
from feedback.clock import to_utc_text

ROLES = ("admin", "inspector", "district", "manager")
SEES_EVERY_STATION = ("admin", "inspector")
MIN_PASSWORD = 8

# scrypt is meant to be slow: one check at a time per process leaves the other threads to
# the workers' rating pages
PASSWORD_CHECKS = threading.BoundedSemaphore(1)


def user_by(db, column: str, value) -> dict | None:
    """The account whose ``column`` (id or username) is ``value``, or None."""
    rows = list(db.query(f"SELECT * FROM users WHERE {column} = ?", [value]))
    return rows[0] if rows else None


class PasswordRefused(ValueError):
    """A new password that may not be used, with the reason."""


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise PasswordRefused(f"the password must have at least {MIN_PASSWORD} characters")


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


def end_sessions(db, user_id: int, now: datetime) -> int:
    """End every session of the user (a new password, a disabled account). Call inside write()."""
    return db.execute("UPDATE staff_sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL",
                      [to_utc_text(now), user_id]).rowcount


def set_password(db, user_id: int, password: str, now: datetime) -> None:
    """A new password, which ends the user's sessions. Call inside write()."""
    check_new_password(password)
    db.execute("UPDATE users SET password_hash = ? WHERE id = ?",
               [generate_password_hash(password), user_id])
    end_sessions(db, user_id, now)


def set_disabled(db, user_id: int, disabled: bool, now: datetime) -> None:
    """Disable an account (its sessions end and its tokens are revoked: enabling it again brings
    back neither) or enable it. Call inside write()."""
    db.execute("UPDATE users SET disabled_at = ? WHERE id = ?",
               [to_utc_text(now) if disabled else None, user_id])
    if disabled:
        end_sessions(db, user_id, now)
        revoke_tokens(db, user_id, now)


def revoke_tokens(db, user_id: int, now: datetime) -> int:
    """Revoke every API token of the user; returns how many. Call inside write()."""
    return db.execute("UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                      [to_utc_text(now), user_id]).rowcount


def password_matches(password_hash: str, password: str) -> bool:
    with PASSWORD_CHECKS:
        return check_password_hash(password_hash, password)


def can_see(user: dict, station: dict) -> bool:
    """Whether this staff member may see this station's codes, ratings and history."""
    if user["role"] in SEES_EVERY_STATION:
        return True
    if user["role"] == "district":
        return station["district"] == user["district"]
    return station["code"] == user["station_code"]


def visible_stations_sql(user: dict) -> tuple[str, list]:
    """A WHERE clause (on table ``stations``) for the stations this user may see."""
    if user["role"] in SEES_EVERY_STATION:
        return "1", []
    if user["role"] == "district":
        return "stations.district = ?", [user["district"]]
    return "stations.code = ?", [user["station_code"]]
