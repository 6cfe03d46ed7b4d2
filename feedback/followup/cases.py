"""Follow-up cases: a counted bad rating opens a case for its station or joins its open case;
the station's manager resolves it with what was done; a district account or an inspector may
reopen it within REOPEN_DAYS. A case is due FEEDBACK_FOLLOWUP_DAYS working days after the local
day it opened (or was reopened), and overdue once that day has passed unresolved.

``is_overdue`` and ``check_*`` are the rules; the rest reads and writes around them.
"""
from datetime import date, datetime, timedelta

from feedback import typed
from feedback.clock import from_utc_text, local_day, to_utc_text
from feedback.followup.workdays import add_working_days

REOPEN_DAYS = 14
STATUSES = ("open", "overdue", "resolved")


class BadStep(ValueError):
    """A resolve or a reopen that cannot be made, with the reason."""


class CannotStep(BadStep):
    """A step the case's state does not allow: resolved already, open already, too late."""


def is_overdue(case: dict, today: date) -> bool:
    """Open and past its due day."""
    return case["status"] == "open" and date.fromisoformat(case["due_on"]) < today


def check_text(text, what: str) -> str:
    try:
        return typed.given(text, what)
    except typed.NotGiven as missing:
        raise BadStep(str(missing)) from None


def check_reopen(case: dict, now: datetime) -> None:
    if case["status"] != "resolved":
        raise CannotStep(f"case {case['id']} is open already")
    if now - from_utc_text(case["resolved_at"]) > timedelta(days=REOPEN_DAYS):
        raise CannotStep(f"case {case['id']} was resolved more than {REOPEN_DAYS} days ago")


def _step(db, case_id: int, action: str, by: str, now: datetime, tz, due_on: date | None = None,
          note: str = "") -> None:
    db.execute("""INSERT INTO case_steps (case_id, at, day, by, action, due_on, note)
                  VALUES (?, ?, ?, ?, ?, ?, ?)""",
               [case_id, to_utc_text(now), local_day(now, tz).isoformat(), by, action,
                due_on.isoformat() if due_on else None, note])


def open_or_join(db, station_id: int, rating_id: int, now: datetime, tz, days: int) -> int:
    """File a counted bad rating under its station's open case, opening one if there is none;
    the case's id. Call inside write()."""
    found = db.execute("SELECT id FROM cases WHERE station_id = ? AND status = 'open'",
                       [station_id]).fetchone()
    if found:
        case_id = found[0]
        _step(db, case_id, "joined", "rating", now, tz)
    else:
        opened = local_day(now, tz)
        due = add_working_days(opened, days)
        case_id = db.execute("INSERT INTO cases (station_id, opened_on, due_on) VALUES (?, ?, ?)",
                             [station_id, opened.isoformat(), due.isoformat()]).lastrowid
        _step(db, case_id, "opened", "rating", now, tz, due_on=due)
    db.execute("INSERT INTO case_ratings (case_id, rating_id) VALUES (?, ?)", [case_id, rating_id])
    return case_id


def get(db, case_id: int) -> dict | None:
    rows = list(db.query("""SELECT cases.*, code AS station_code, name AS station_name, district
                            FROM cases JOIN stations ON stations.id = station_id
                            WHERE cases.id = ?""", [case_id]))
    return rows[0] if rows else None


def resolve(db, case: dict, note, by: str, now: datetime, tz) -> None:
    """The manager's account of what was done closes the case. Call inside write()."""
    note = check_text(note, "what was done")
    if case["status"] != "open":
        raise CannotStep(f"case {case['id']} is resolved already")
    db.execute("""UPDATE cases SET status = 'resolved', resolved_at = ?, resolved_on = ?,
                  resolved_by = ?, note = ? WHERE id = ?""",
               [to_utc_text(now), local_day(now, tz).isoformat(), by, note, case["id"]])
    _step(db, case["id"], "resolved", by, now, tz, note=note)


def reopen(db, case: dict, reason, by: str, now: datetime, tz, days: int) -> date:
    """Open a resolved case again with a reason; it is due ``days`` working days from today.
    Call inside write()."""
    reason = check_text(reason, "a reason")
    check_reopen(case, now)
    if db.execute("SELECT 1 FROM cases WHERE station_id = ? AND status = 'open'",
                  [case["station_id"]]).fetchone():
        raise CannotStep(f"station {case['station_code']} has an open case already")
    due = add_working_days(local_day(now, tz), days)
    db.execute("""UPDATE cases SET status = 'open', due_on = ?, resolved_at = NULL,
                  resolved_on = NULL, resolved_by = NULL, note = NULL WHERE id = ?""",
               [due.isoformat(), case["id"]])
    _step(db, case["id"], "reopened", by, now, tz, due_on=due, note=reason)
    return due


def listing(db, where: str, params: list, today: date, status: str | None = None) -> list[dict]:
    """Cases of the stations matching ``where`` (SQL on ``stations``), overdue first, then by
    due day; each with its counted bad ratings and their reasons counted."""
    rows = db.query(
        f"""SELECT cases.*, code AS station_code, name AS station_name, district
            FROM cases JOIN stations ON stations.id = station_id WHERE {where}""", list(params))
    out = []
    for row in rows:
        case = dict(row)
        case["overdue"] = is_overdue(case, today)
        shown = "overdue" if case["overdue"] else case["status"]
        if status and shown != status and not (status == "open" and shown == "overdue"):
            continue
        case.update(ratings_reasons(db, case["id"]))
        out.append(case)
    out.sort(key=lambda c: (not c["overdue"], c["status"] != "open", c["due_on"], c["id"]))
    return out


def ratings_reasons(db, case_id: int) -> dict:
    """How many counted bad ratings a case holds, and how often each reason was given."""
    reasons: dict[str, int] = {}
    total = 0
    for (given,) in db.execute(
            """SELECT coalesce(nullif(rating_details.reasons, ''), counted_ratings.reasons)
               FROM case_ratings JOIN counted_ratings ON counted_ratings.id = case_ratings.rating_id
               LEFT JOIN rating_details ON rating_details.rating_id = counted_ratings.id
               WHERE case_id = ?""", [case_id]):
        total += 1
        for reason in filter(None, given.split(";")):
            reasons[reason] = reasons.get(reason, 0) + 1
    return {"ratings_total": total, "reasons": reasons}


def as_json(case: dict) -> dict:
    """A case as the API and `cases list --json` give it."""
    return {"id": case["id"], "station_code": case["station_code"],
            "status": "overdue" if case["overdue"] else case["status"],
            "opened_on": case["opened_on"], "due_on": case["due_on"],
            "ratings_total": case["ratings_total"], "reasons": case["reasons"],
            "resolved_at": case["resolved_at"], "note": case["note"]}


def recently_resolved(db, station_id: int, limit: int = 3) -> list[dict]:
    """A station's latest resolved cases, for workers to see what changed."""
    rows = list(db.query("""SELECT id, resolved_on, note FROM cases
                            WHERE station_id = ? AND status = 'resolved'
                            ORDER BY resolved_at DESC LIMIT ?""", [station_id, limit]))
    return [{**row, **ratings_reasons(db, row["id"])} for row in rows]
