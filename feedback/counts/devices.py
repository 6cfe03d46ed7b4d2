"""A phone is known by a random cookie: an anonymous device id, never tied to a person and never
a fingerprint. The cookie carries a random id and its signature (a forged cookie counts as no
cookie); the database keeps only a keyed hash of the id."""
import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

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


def find_or_add(db, hashed: str, now: datetime, kind: str = "cookie") -> dict:
    """The device row for a keyed hash (of a cookie, or for ``kind`` 'network' of an address and
    browser), added on first sight. Call inside write()."""
    db.execute("INSERT INTO devices (key_hash, label, created_at, kind) VALUES (?, ?, ?, ?) "
               "ON CONFLICT (key_hash) DO NOTHING",
               [hashed, secrets.token_hex(5), to_utc_text(now), kind])
    return next(db.query("SELECT * FROM devices WHERE key_hash = ?", [hashed]))


def mark_staff(db, hashed: str, now: datetime) -> None:
    """A staff member signed in on this browser: its ratings are kept, not counted. Call inside write()."""
    device = find_or_add(db, hashed, now)
    if device["staff_since"] is None:
        db.execute("UPDATE devices SET staff_since = ? WHERE id = ?", [to_utc_text(now), device["id"]])


def note_staff_network(db, network: bytes, user_id: int, now: datetime) -> None:
    """A staff account signed in from this address and browser (a keyed hash): ratings made from
    them at that account's stations are signalled (staff_network). Call inside write()."""
    db.execute("""INSERT INTO staff_networks (network, user_id, seen_at) VALUES (?, ?, ?)
                  ON CONFLICT (network, user_id) DO UPDATE SET seen_at = excluded.seen_at""",
               [network, user_id, to_utc_text(now)])


STAFF_NETWORK_DAYS = 90  # as far back as the signals look (single_device)


def forget_staff_networks(db, now: datetime) -> int:
    """Let go of the staff sign-ins' addresses and browsers not seen for STAFF_NETWORK_DAYS. Call
    inside write()."""
    return db.execute("DELETE FROM staff_networks WHERE seen_at < ?",
                      [to_utc_text(now - timedelta(days=STAFF_NETWORK_DAYS))]).rowcount
