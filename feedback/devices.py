"""A phone is known by a random cookie: an anonymous device id, never tied to a person and never
a fingerprint. The cookie carries a random id and its signature (a forged cookie counts as no
cookie); the database keeps only a keyed hash of the id."""
import base64
import hashlib
import hmac
import secrets
from datetime import datetime

from flask import current_app, request

from feedback.clock import to_utc_text

COOKIE = "device"
COOKIE_AGE = 2 * 365 * 24 * 3600


def _mac(secret: str, purpose: str, value: str) -> bytes:
    return hmac.new(secret.encode(), f"{purpose}\x1f{value}".encode(), hashlib.sha256).digest()


def address_key() -> str:
    """The client's address as a keyed hash: enough to throttle and to log by, never the
    address itself."""
    return _mac(current_app.config["SECRET_KEY"], "address", request.remote_addr or "").hex()[:20]


def new_cookie_value(secret: str) -> str:
    """A fresh device id with its signature, for the cookie."""
    random_id = secrets.token_urlsafe(16)
    signature = base64.urlsafe_b64encode(_mac(secret, "device-cookie", random_id)[:12]).decode()
    return f"{random_id}.{signature}"


def id_from_cookie(secret: str, value: str | None) -> str | None:
    """The random id in a genuine cookie; None for a missing or forged one."""
    if not value or value.count(".") != 1:
        return None
    random_id, signature = value.split(".")
    expected = base64.urlsafe_b64encode(_mac(secret, "device-cookie", random_id)[:12]).decode()
    return random_id if hmac.compare_digest(signature.encode(), expected.encode()) else None


def key_hash(secret: str, random_id: str) -> str:
    """What the database keeps of a device id: a keyed hash, useless without the secret key."""
    return _mac(secret, "device", random_id).hex()[:32]


def this_browser() -> str | None:
    """The keyed hash of this request's device, or None when it brought no genuine cookie."""
    secret = current_app.config["SECRET_KEY"]
    random_id = id_from_cookie(secret, request.cookies.get(COOKIE))
    return key_hash(secret, random_id) if random_id else None


def remember(response) -> str:
    """Give a browser without a genuine device cookie a new one (first-party, HttpOnly,
    SameSite=Lax, Secure on https); the keyed hash of this browser's device, old or new."""
    hashed = this_browser()
    if hashed is None:
        secret = current_app.config["SECRET_KEY"]
        value = new_cookie_value(secret)
        response.set_cookie(COOKIE, value, max_age=COOKIE_AGE, httponly=True, samesite="Lax",
                            secure=current_app.config["BASE_URL"].startswith("https://"))
        hashed = key_hash(secret, id_from_cookie(secret, value))
    return hashed


def find_or_add(db, hashed: str, now: datetime) -> dict:
    """The device row for a keyed hash, added on first sight. Call inside write()."""
    found = next(db.query("SELECT * FROM devices WHERE key_hash = ?", [hashed]), None)
    if found is not None:
        return found
    db.execute("INSERT INTO devices (key_hash, label, created_at) VALUES (?, ?, ?)",
               [hashed, secrets.token_hex(5), to_utc_text(now)])
    return next(db.query("SELECT * FROM devices WHERE key_hash = ?", [hashed]))


def mark_staff(db, hashed: str, now: datetime) -> None:
    """A staff member signed in on this browser: its ratings are kept, not counted. Call inside write()."""
    device = find_or_add(db, hashed, now)
    if device["staff_since"] is None:
        db.execute("UPDATE devices SET staff_since = ? WHERE id = ?", [to_utc_text(now), device["id"]])
