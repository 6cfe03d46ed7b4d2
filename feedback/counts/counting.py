"""One phone, one counted vote: which ratings count, and inspectors' exclusions.

``held_reason`` is the rule at the moment a rating is made. Exclusions hold ratings later; the
rollups follow by trigger (feedback/storage/schema.py), so every figure reads counted ratings only.
"""
from datetime import date, datetime

from feedback.clock import to_utc_text
from feedback.counts import devices
from feedback.counts.ratings import between_days

REPEAT, STAFF_DEVICE, EXCLUDED = "repeat", "staff_device", "excluded"
MAX_REASON = 1000


class BadExclusion(ValueError):
    """An exclusion or a lift that cannot be made, with the reason."""


class NotFound(LookupError):
    """No such rating, device or exclusion."""


def held_reason(staff_device: bool, rated_here_today: bool) -> str | None:
    """Why a new rating is kept but not counted, or None when it counts.

    Per station and local day a device's first rating counts and its later ones are repeats;
    a browser that has signed in as staff never counts. Without a device cookie, it counts.
    """
    if staff_device:
        return STAFF_DEVICE
    if rated_here_today:
        return REPEAT
    return None


def device_and_hold(db, hashed: str | None, station_id: int, day: date,
                    now: datetime) -> tuple[int | None, str | None]:
    """(device id, held_reason) for a rating the browser with device hash ``hashed`` (None: no
    cookie) is making now at this station; a device seen for the first time is added. One
    query in the common case. Call inside write()."""
    if hashed is None:
        return None, None
    that_day, values = between_days(day, day)
    row = db.execute(
        f"""SELECT id, staff_since IS NOT NULL,
                   EXISTS (SELECT 1 FROM ratings WHERE station_id = ? AND {that_day}
                           AND device_id = devices.id)
            FROM devices WHERE key_hash = ?""", [station_id, *values, hashed]).fetchone()
    if row is None:
        return devices.find_or_add(db, hashed, now)["id"], None
    return row[0], held_reason(bool(row[1]), bool(row[2]))


def check_reason(reason) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise BadExclusion("give a reason")
    if len(reason) > MAX_REASON:
        raise BadExclusion(f"the reason is longer than {MAX_REASON} characters")
    return reason.strip()


def _history(db, station_id: int, action: str, reason: str, by: str, now: datetime) -> None:
    db.execute("INSERT INTO station_history (station_id, at, by, action, reason) VALUES (?, ?, ?, ?, ?)",
               [station_id, to_utc_text(now), by, action, reason])


def exclude_rating(db, rating_id: int, reason: str, by: str, now: datetime) -> dict:
    """Hold one rating out of every figure. Call inside write()."""
    reason = check_reason(reason)
    row = db.execute("SELECT station_id FROM ratings WHERE id = ?", [rating_id]).fetchone()
    if row is None:
        raise NotFound(f"no rating {rating_id}")
    cursor = db.execute(
        "INSERT INTO exclusions (station_id, rating_id, reason, by, at) VALUES (?, ?, ?, ?, ?)",
        [row[0], rating_id, reason, by, to_utc_text(now)])
    db.execute("INSERT INTO excluded_ratings (rating_id, exclusion_id) VALUES (?, ?)",
               [rating_id, cursor.lastrowid])
    _history(db, row[0], "excluded", f"rating {rating_id}: {reason}", by, now)
    return {"id": cursor.lastrowid, "ratings": 1}


def exclude_device(db, station_id: int, device_label: str, first: date, last: date, reason: str,
                   by: str, now: datetime) -> dict:
    """Hold every rating of one device at one station between two local days. Call inside write()."""
    reason = check_reason(reason)
    if first > last:
        raise BadExclusion("from must not be after to")
    device = db.execute("SELECT id FROM devices WHERE label = ?", [device_label]).fetchone()
    if device is None:
        raise NotFound(f"no device {device_label}")
    cursor = db.execute(
        """INSERT INTO exclusions (station_id, device_id, from_day, to_day, reason, by, at)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        [station_id, device[0], first.isoformat(), last.isoformat(), reason, by, to_utc_text(now)])
    days, values = between_days(first, last)
    covered = db.execute(
        f"""INSERT INTO excluded_ratings (rating_id, exclusion_id)
            SELECT id, ? FROM ratings WHERE station_id = ? AND {days} AND device_id = ?""",
        [cursor.lastrowid, station_id, *values, device[0]]).rowcount
    _history(db, station_id, "excluded",
             f"device {device_label}, {first}–{last}, {covered} rating(s): {reason}", by, now)
    return {"id": cursor.lastrowid, "ratings": covered}


def lift(db, exclusion_id: int, reason: str, by: str, now: datetime) -> dict:
    """End an exclusion: its ratings count again unless something else holds them. Call inside write()."""
    reason = check_reason(reason)
    row = db.execute("SELECT station_id, lifted_at FROM exclusions WHERE id = ?",
                     [exclusion_id]).fetchone()
    if row is None:
        raise NotFound(f"no exclusion {exclusion_id}")
    if row[1] is not None:
        raise BadExclusion(f"exclusion {exclusion_id} was lifted already")
    db.execute("UPDATE exclusions SET lifted_at = ?, lifted_by = ?, lift_reason = ? WHERE id = ?",
               [to_utc_text(now), by, reason, exclusion_id])
    released = db.execute("DELETE FROM excluded_ratings WHERE exclusion_id = ?",
                          [exclusion_id]).rowcount
    _history(db, row[0], "exclusion_lifted", f"exclusion {exclusion_id}: {reason}", by, now)
    return {"id": exclusion_id, "ratings": released}
