"""A phone is known by a random cookie: an anonymous device id, never tied to a person and never
a fingerprint. The cookie carries a random id and its signature (a forged cookie counts as no
cookie); the database keeps only a keyed hash of the id."""
import base64
import hashlib
import hmac
import secrets
from datetime import datetime

from feedback.clock import to_utc_text


def mac(secret: str, purpose: str, value: str) -> bytes:
    """A keyed hash of ``value`` for one ``purpose``: a cookie's signature, a device's key."""
    return hmac.new(secret.encode(), f"{purpose}\x1f{value}".encode(), hashlib.sha256).digest()


def new_cookie_value(secret: str) -> str:
    """A fresh device id with its signature, for the cookie."""
    random_id = secrets.token_urlsafe(16)
    signature = base64.urlsafe_b64encode(mac(secret, "device-cookie", random_id)[:12]).decode()
    return f"{random_id}.{signature}"


def id_from_cookie(secret: str, value: str | None) -> str | None:
    """The random id in a genuine cookie; None for a missing or forged one."""
    if not value or value.count(".") != 1:
        return None
    random_id, signature = value.split(".")
    expected = base64.urlsafe_b64encode(mac(secret, "device-cookie", random_id)[:12]).decode()
    return random_id if hmac.compare_digest(signature.encode(), expected.encode()) else None


def key_hash(secret: str, random_id: str) -> str:
    """What the database keeps of a device id: a keyed hash, useless without the secret key."""
    return mac(secret, "device", random_id).hex()[:32]


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
