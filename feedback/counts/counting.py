"""One phone, one counted vote: which ratings count, and inspectors' exclusions.

``held_reason`` is the rule at the moment a rating is made. Exclusions hold ratings later; the
rollups follow by trigger (feedback/storage/migrations), so every figure reads counted ratings
only.

A phone is known by its device cookie once that cookie has counted a rating on an earlier day.
Until then, and for a rating without a genuine cookie (none, cleared, forged), the rating is
*anonymous*: its phone cannot be told from another by the cookie, so it is known by its address
and browser instead (a keyed hash of the address, the User-Agent and Accept-Language), and counts
only if no counted rating came from that address and browser at that station that day. Ten
workers on a station's Wi-Fi count as ten; a phone that drops its cookie, or gathers new ones,
counts once; two phones new that day and alike in model, browser and language behind one address
may count once, and the second is kept, shown and held as ``same_network``.
"""
from dataclasses import dataclass
from datetime import date, datetime

from feedback import typed
from feedback.clock import to_utc_text
from feedback.counts import devices
from feedback.counts.ratings import between_days, day_number

REPEAT, STAFF_DEVICE, SAME_NETWORK, EXCLUDED = "repeat", "staff_device", "same_network", "excluded"
KEPT_DAYS = 2  # device_days and network_days: today's, and yesterday's for the night's signals


class BadExclusion(ValueError):
    """An exclusion or a lift that cannot be made, with the reason."""


class LiftedAlready(BadExclusion):
    """A lift of an exclusion that was lifted before."""


class NotFound(LookupError):
    """No such rating, device or exclusion."""


@dataclass(frozen=True)
class Rater:
    """What the counting rule knows of the browser making a rating."""
    device: str | None  # the keyed hash of its genuine device cookie; None without one
    network: bytes      # the keyed hash of its address and browser
    staff: bool = False  # it carries a staff member's sign-in

    @property
    def key_hash(self) -> str:
        """Its device's key: the cookie's, or without one its address and browser's."""
        return self.device or self.network.hex()


def held_reason(*, staff: bool, repeat: bool, anonymous: bool,
                network_counted: bool) -> str | None:
    """Why a new rating is kept but not counted, or None when it counts.

    A browser that has signed in as staff never counts. Per station and local day a device's
    first rating counts and its later ones are repeats. An anonymous rating (no genuine cookie,
    or a cookie not yet trusted) counts only if no counted rating from its address and browser
    came at that station that day.
    """
    if staff:
        return STAFF_DEVICE
    if repeat:
        return REPEAT
    if anonymous and network_counted:
        return SAME_NETWORK
    return None


def known_device(db, rater: Rater) -> dict | None:
    """The rater's device row, if it has one: read before the write lock, as it seldom changes."""
    return next(db.query("SELECT id, staff_since, trusted_from FROM devices WHERE key_hash = ?",
                         [rater.key_hash]), None)


def device_and_hold(db, rater: Rater, known: dict | None, station_id: int, day: date,
                    now: datetime) -> tuple[int, str | None]:
    """(device id, held_reason) for a rating ``rater`` is making ``now`` at this station on local
    ``day``; ``known`` is known_device()'s answer. A device seen for the first time is added;
    the devices and the addresses with browsers that rated here today are noted, each by one
    insert that also says whether it was there already; a cookie's first counted rating makes it
    trusted from the next day. Call inside write()."""
    cookie = rater.device is not None
    device = known or devices.find_or_add(db, rater.key_hash, now,
                                          "cookie" if cookie else "network")
    today = day_number(day)
    staff = rater.staff or device["staff_since"] is not None
    trusted = cookie and device["trusted_from"] is not None and device["trusted_from"] <= today
    repeat = network_counted = False
    if cookie and not staff:
        repeat = db.execute("INSERT INTO device_days (station_id, day, device_id) VALUES (?, ?, ?) "
                            "ON CONFLICT DO NOTHING", [station_id, today, device["id"]]).rowcount == 0
    if not staff and not repeat:
        network_counted = db.execute(
            "INSERT INTO network_days (station_id, day, network, device_id) VALUES (?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING", [station_id, today, rater.network, device["id"]]).rowcount == 0
    held = held_reason(staff=staff, repeat=repeat, anonymous=not trusted,
                       network_counted=network_counted)
    if held is None and cookie and device["trusted_from"] is None:
        db.execute("UPDATE devices SET trusted_from = ? WHERE id = ?", [today + 1, device["id"]])
    return device["id"], held


def forget_raters(db, today: date) -> int:
    """Let go of the devices and addresses noted before yesterday; how many rows. Call inside
    write()."""
    oldest = day_number(today) - (KEPT_DAYS - 1)
    return sum(db.execute(f"DELETE FROM {table} WHERE day < ?", [oldest]).rowcount
               for table in ("device_days", "network_days"))


def check_reason(reason) -> str:
    try:
        return typed.given(reason)
    except typed.NotGiven as missing:
        raise BadExclusion(str(missing)) from None


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
        raise LiftedAlready(f"exclusion {exclusion_id} was lifted already")
    db.execute("UPDATE exclusions SET lifted_at = ?, lifted_by = ?, lift_reason = ? WHERE id = ?",
               [to_utc_text(now), by, reason, exclusion_id])
    released = db.execute("DELETE FROM excluded_ratings WHERE exclusion_id = ?",
                          [exclusion_id]).rowcount
    _history(db, row[0], "exclusion_lifted", f"exclusion {exclusion_id}: {reason}", by, now)
    return {"id": exclusion_id, "ratings": released}
