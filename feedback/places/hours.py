"""Opening hours as the stations CSV gives them: `24h`, or `HH:MM-HH:MM` ranges separated by `;`
(a range may pass midnight, `22:00-06:00`; `24:00` ends a day); empty means unknown.

``parse`` is the rule for a cell, ``is_open`` and ``last_change`` the rules for a moment; all pure."""
import re
from datetime import datetime, timedelta

RANGE = re.compile(r"([0-9]{2}):([0-9]{2})-([0-9]{2}):([0-9]{2})")
ALL_DAY = "24h"


def parse(text: str) -> list[tuple[int, int]] | None:
    """The ranges of a cell as (start, end) minutes after midnight; [(0, 1440)] for 24h, None
    for unknown. ValueError with the reason for a cell that is neither."""
    text = text.strip()
    if not text:
        return None
    if text.lower() == ALL_DAY:
        return [(0, 24 * 60)]
    ranges = []
    for part in text.split(";"):
        found = RANGE.fullmatch(part.strip())
        if not found:
            raise ValueError(f"hours {text!r} must be 24h or ranges like 08:00-20:00 "
                             "separated by ;")
        start_h, start_m, end_h, end_m = map(int, found.groups())
        if start_h > 23 or start_m > 59 or end_m > 59 or end_h > 24 or (end_h == 24 and end_m):
            raise ValueError(f"hours {part.strip()!r} is not a time of day")
        start, end = start_h * 60 + start_m, end_h * 60 + end_m
        if start == end:
            raise ValueError(f"hours {part.strip()!r} opens and closes at the same time; "
                             "write 24h for a station that never closes")
        ranges.append((start, end))
    return ranges


def is_open(text: str, local: datetime) -> bool | None:
    """Whether a station with these hours is open at a local time; None when unknown."""
    ranges = parse(text)
    if ranges is None:
        return None
    minute = local.hour * 60 + local.minute
    for start, end in ranges:
        if start < end and start <= minute < end:
            return True
        if start > end and (minute >= start or minute < end):  # the range passes midnight
            return True
    return False


def last_change(text: str, local: datetime) -> datetime | None:
    """The latest moment at or before ``local`` when a station with these hours opened or
    closed; None for 24h and unknown hours, which never change."""
    ranges = parse(text)
    if ranges is None or ranges == [(0, 24 * 60)]:
        return None
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    moments = [midnight + timedelta(days=days, minutes=minute)
               for days in (-1, 0) for start, end in ranges for minute in (start, end)]
    return max(moment for moment in moments if moment <= local)
