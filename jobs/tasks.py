"""The scheduled work as the app runs it: digests built and delivered, the downgrade scan.

The rules (jobs.digest.build, jobs.downgrade.flags) are pure; these functions read the database
and the clock around them and hand the results to the outbox.
"""
import time
from datetime import date

from flask import current_app

from feedback import clock
from feedback.clock import to_utc_text
from feedback.db import get_db, write
from jobs import digest as digests
from jobs import downgrade, outbox


def build_digest(day: date, district: str | None = None, codes: list[str] | None = None) -> dict:
    """The digest of ``day``: everywhere, for one district, or for the stations in ``codes``."""
    data = digests.load(get_db(), day, district=district, codes=codes)
    return digests.build(data, current_app.config["BASE_URL"], current_app.config["TIMEZONE"])


def send_digest(day: date, sleep=time.sleep) -> list[outbox.Outcome]:
    """Deliver the digest of ``day`` to every channel that has not had it."""
    db = get_db()
    with write(db):
        outbox.open_deliveries(db, day, clock.now())
    return _deliver(outbox.deliveries(db, day=day), due_only=False, sleep=sleep)


def retry_due(sleep=time.sleep) -> list[outbox.Outcome]:
    """Try again every pending delivery whose backoff has passed."""
    return _deliver(outbox.deliveries(get_db(), due_by=clock.now()), due_only=True, sleep=sleep)


def _deliver(pairs, due_only: bool, sleep) -> list[outbox.Outcome]:
    built = {}

    def digest_for(day_text: str, district: str | None) -> dict:
        key = (day_text, district)
        if key not in built:
            built[key] = build_digest(date.fromisoformat(day_text), district)
        return built[key]

    pacer = outbox.Pacer(clock.current(), sleep)
    return [outbox.deliver(get_db(), delivery, channel, digest_for, clock.current(),
                           current_app.config["SMTP"], pacer, due_only)
            for delivery, channel in pairs]


def scan(as_of: date) -> tuple[list[dict], int]:
    """Flag the stations the downgrade rule finds at ``as_of``; returns (found, newly added)."""
    db = get_db()
    stations, monthly = downgrade.load(db, as_of, current_app.config["TIMEZONE"])
    found = downgrade.flags(stations, monthly, as_of)
    with write(db):
        added = downgrade.record(db, found, as_of, clock.now())
    return found, added


def add_channel(kind: str, target: str, district: str | None, secret: str | None) -> int:
    db = get_db()
    with write(db):
        cursor = db.execute(
            "INSERT INTO channels (kind, target, district, secret, created_at) VALUES (?, ?, ?, ?, ?)",
            [kind, target, district, secret, to_utc_text(clock.now())])
    return cursor.lastrowid


def remove_channel(channel_id: int) -> bool:
    db = get_db()
    with write(db):
        db.execute("DELETE FROM deliveries WHERE channel_id = ?", [channel_id])
        return db.execute("DELETE FROM channels WHERE id = ?", [channel_id]).rowcount == 1
