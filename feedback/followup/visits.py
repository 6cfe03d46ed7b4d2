"""Inspection visits: an inspector's check of a station against the city's standard checklist,
unannounced (暗访) or by a third-party assessment. ``check`` is the rule for a visit record and
``disagrees`` the rule that marks a station whose ratings and last visit do not agree."""
import json
from datetime import datetime

from feedback.clock import local_iso, to_utc_text

KINDS = ("unannounced", "assessment")
RESULTS = ("pass", "fail", "na")
CHECKLIST = {  # key: (Chinese, English), in the order of the form
    "open_as_posted": ("按公示时间开放", "Open as posted"),
    "drinking_water": ("饮用水", "Drinking water"),
    "hot_water": ("热水或微波炉", "Hot water or microwave"),
    "fridge": ("冰箱", "Fridge"),
    "seats": ("座椅", "Seats"),
    "clean": ("干净整洁", "Clean"),
    "toilet": ("厕所或指引", "Toilet access or directions"),
    "charging": ("手机充电", "Phone charging"),
    "first_aid": ("急救药箱", "First-aid kit"),
    "heating_cooling": ("取暖或降温", "Heating or cooling"),
    "on_duty": ("有人值守", "Someone on duty"),
}
MAX_NOTES = 2000
HIGH_SATISFACTION = 0.95   # ratings this good over 90 days...
FAILED_ITEMS = 3           # ...beside a last visit that failed this many items: they disagree


class BadVisit(ValueError):
    """A visit record that cannot be kept, with the reason."""


def check(kind, items, notes) -> tuple[dict, int]:
    """(the checklist, how many items failed) of a visit; BadVisit when an item is missing, unknown
    or has an unknown value."""
    if kind not in KINDS:
        raise BadVisit(f"kind must be {' or '.join(KINDS)}")
    if not isinstance(items, dict):
        raise BadVisit("items must be an object of checklist key → pass, fail or na")
    missing = [key for key in CHECKLIST if key not in items]
    unknown = [key for key in items if key not in CHECKLIST]
    if missing or unknown:
        raise BadVisit("; ".join(filter(None, (
            missing and f"missing item {', '.join(missing)}",
            unknown and f"unknown item {', '.join(map(str, unknown))}"))))
    wrong = [key for key, value in items.items() if value not in RESULTS]
    if wrong:
        raise BadVisit(f"{', '.join(wrong)} must be pass, fail or na")
    if notes is not None and (not isinstance(notes, str) or len(notes) > MAX_NOTES):
        raise BadVisit(f"notes must be text of at most {MAX_NOTES} characters")
    ordered = {key: items[key] for key in CHECKLIST}
    return ordered, sum(value == "fail" for value in ordered.values())


def disagrees(satisfaction_90_days: float | None, last_visit_failed: int | None) -> bool:
    """Ratings of 95% or more beside a last visit that failed three items or more."""
    return (satisfaction_90_days is not None and satisfaction_90_days >= HIGH_SATISFACTION
            and last_visit_failed is not None and last_visit_failed >= FAILED_ITEMS)


def record(db, station_id: int, kind, items, notes, by: str, now: datetime) -> dict:
    """Keep a visit. Call inside write(); raises BadVisit."""
    checked, failed = check(kind, items, notes)
    db.execute("""INSERT INTO visits (station_id, at, by, kind, items, failed, notes)
                  VALUES (?, ?, ?, ?, ?, ?, ?)""",
               [station_id, to_utc_text(now), by, kind, json.dumps(checked), failed,
                (notes or "").strip()])
    return {"kind": kind, "items": checked, "failed": failed, "notes": (notes or "").strip()}


def listing(db, station_id: int, tz) -> list[dict]:
    """A station's visits, newest first."""
    return [{"at": local_iso(row["at"], tz), "by": row["by"], "kind": row["kind"],
             "items": json.loads(row["items"]), "failed": row["failed"], "notes": row["notes"]}
            for row in db.query("SELECT * FROM visits WHERE station_id = ? ORDER BY at DESC, id DESC",
                                [station_id])]
