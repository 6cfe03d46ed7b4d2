"""The one clock, and where days and months begin in FEEDBACK_TIMEZONE.

Instants are stored as UTC text (``2026-11-28T04:08:39Z``) so they sort and compare as
strings, except a rating's, which is whole seconds since 1970 (there are a hundred million of
them); days and months are always computed in the configured zone.
"""
import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

# Every day the service accepts from outside lies in these years: far enough from date.min and
# date.max that a window or a time zone around it never overflows.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)
DAY_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# ISO 8601 as people write it: no week dates, ordinal dates or digits of other scripts
INSTANT_PATTERN = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)?", re.ASCII | re.IGNORECASE)


class SystemClock:
    """Reads the real time."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FixedClock:
    """A clock that says what it is told, for tests and replays."""

    def __init__(self, instant: datetime):
        self.instant = instant

    def now(self) -> datetime:
        return self.instant

    def advance(self, **kwargs) -> None:
        self.instant += timedelta(**kwargs)


def to_utc_text(instant: datetime) -> str:
    """An aware datetime as the stored UTC text."""
    return instant.astimezone(timezone.utc).strftime(UTC_FORMAT)


def from_utc_text(text: str) -> datetime:
    """The stored UTC text back to an aware datetime."""
    # fromisoformat reads the stored form ("…Z") fifty times faster than strptime
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def to_epoch(instant: datetime) -> int:
    """An aware datetime as a rating stores it: whole seconds since 1970, UTC."""
    return int(instant.timestamp())


def from_epoch(seconds: int) -> datetime:
    """A rating's stored instant back to an aware datetime."""
    return datetime.fromtimestamp(seconds, timezone.utc)


def sql_utc_text(seconds: str) -> str:
    """SQL turning the expression ``seconds`` (a rating's instant) into the stored UTC text."""
    return f"strftime('{UTC_FORMAT}', {seconds}, 'unixepoch')"


def local_iso(stored: str | int | None, tz: ZoneInfo) -> str | None:
    """A stored instant (UTC text, or a rating's seconds) as ISO 8601 with the local offset, or
    None."""
    if stored is None:
        return None
    if isinstance(stored, int):
        return datetime.fromtimestamp(stored, tz).isoformat()
    return from_utc_text(stored).astimezone(tz).isoformat()


def local_day(instant: datetime, tz: ZoneInfo) -> date:
    """The calendar day an instant falls on in ``tz``."""
    return instant.astimezone(tz).date()


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The instant a local day begins."""
    return datetime.combine(day, time(0), tzinfo=tz)


def parse_instant(text: str, tz: ZoneInfo) -> datetime:
    """ISO 8601 date and time; with an offset it is that instant, without one it is local in ``tz``.

    Raises ValueError with a reason a person can act on.
    """
    text = text.strip()
    try:
        if not INSTANT_PATTERN.fullmatch(text):
            raise ValueError
        parsed = datetime.fromisoformat(text.replace(",", "."))
    except ValueError:
        if DAY_PATTERN.fullmatch(text):  # a bare date parses as midnight, which would invent a time
            raise ValueError(f"rated_at {text!r} needs a time of day as well as a date") from None
        raise ValueError(f"rated_at {text!r} is not an ISO 8601 date and time "
                         "like 2026-11-27T09:30:00") from None
    if not EARLIEST_DAY <= parsed.date() <= LATEST_DAY:
        raise ValueError(f"rated_at {text!r} is not between {EARLIEST_DAY.year} and {LATEST_DAY.year}")
    if parsed.tzinfo is None:
        # fold=0 picks the earlier of an ambiguous wall time; China has no DST, other zones rarely matter here
        parsed = parsed.replace(tzinfo=tz)
    return parsed


def parse_day(text: str) -> date:
    """A day written YYYY-MM-DD, between 2000 and 2099; ValueError with a reason otherwise.

    The one parser for days from outside (URLs, queries, options, CSV), so none of them can
    take a week date like 2024-W01-1 or a year that overflows a window.
    """
    text = text.strip()
    try:
        if not DAY_PATTERN.fullmatch(text):
            raise ValueError
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date like 2026-11-27") from None
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValueError(f"{text} is not between {EARLIEST_DAY.year} and {LATEST_DAY.year}")
    return day


def month_start(day: date) -> date:
    """The first day of the month ``day`` is in."""
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` away from ``day``'s month."""
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def current():
    """The current app's clock: real in service, fixed in tests."""
    from flask import current_app

    return current_app.extensions["feedback.clock"]


def now() -> datetime:
    """Now, by the current app's clock."""
    return current().now()


def local_now() -> datetime:
    """Now in FEEDBACK_TIMEZONE, by the current app's clock: what opening hours are read in."""
    from flask import current_app

    return now().astimezone(current_app.config["TIMEZONE"])


def today() -> date:
    """Today's local date in FEEDBACK_TIMEZONE, by the current app's clock."""
    from flask import current_app

    return local_day(now(), current_app.config["TIMEZONE"])
