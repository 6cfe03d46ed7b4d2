"""Deliveries of digests: exactly once per day and channel.

A delivery row is unique per (channel, day). A sender claims a row before posting, so racing
processes never post the same digest twice; a split digest records each part it sent, so a retry
resumes after the last part that got through. A failure stays pending with a backoff.
"""
import json
import os
import socket
from collections import deque
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from feedback.clock import to_utc_text
from feedback.db import write
from jobs import channels as channel_kinds
from jobs.channels import DeliveryError, SendContext

CLAIM_FOR = timedelta(minutes=10)
FIRST_RETRY = timedelta(minutes=5)
LONGEST_WAIT = timedelta(hours=6)
PACED_KINDS = {"wecom": (20, 60), "dingtalk": (20, 60)}  # messages per seconds, the robots' limit


def holder_name() -> str:
    """Who holds a claim: this host and process, for the record."""
    return f"{socket.gethostname()}:{os.getpid()}"


def backoff(attempts: int) -> timedelta:
    """Wait 5 minutes after the first failure, doubling, at most 6 hours."""
    return min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_WAIT)


@dataclass
class Outcome:
    channel: dict
    day: str
    status: str  # sent, already sent, failed, busy (another process holds it)
    detail: str = ""


class Pacer:
    """Keeps a channel under its platform's message rate, waiting with the injected sleep."""

    def __init__(self, clock, sleep):
        self.clock, self.sleep = clock, sleep
        self.sent: dict[int, deque] = {}

    def wait_turn(self, channel: dict) -> None:
        if channel["kind"] not in PACED_KINDS:
            return
        limit, seconds = PACED_KINDS[channel["kind"]]
        recent = self.sent.setdefault(channel["id"], deque())
        now = self.clock.now()
        while recent and (now - recent[0]).total_seconds() >= seconds:
            recent.popleft()
        if len(recent) >= limit:
            self.sleep(seconds - (now - recent[0]).total_seconds())
            recent.popleft()
        recent.append(self.clock.now())


def open_deliveries(db, day: date, now: datetime) -> None:
    """A pending delivery of ``day`` for every channel that has none. Call in write()."""
    db.execute(
        """INSERT INTO deliveries (channel_id, day, next_attempt_at)
           SELECT id, ?, ? FROM channels WHERE true  -- WHERE: so ON is not read as a join
           ON CONFLICT (channel_id, day) DO NOTHING""",
        [day.isoformat(), to_utc_text(now)])


def claim(db, delivery_id: int, now: datetime, due_only: bool) -> dict | None:
    """Hold a pending delivery for CLAIM_FOR and return it as it is now; None if it is sent,
    held by another process, or (due_only) not yet due."""
    with write(db):
        cursor = db.execute(
            f"""UPDATE deliveries SET claimed_until = ?
                WHERE id = ? AND status = 'pending'
                  AND (claimed_until IS NULL OR claimed_until < ?)
                  {"AND next_attempt_at <= ?" if due_only else ""}""",
            [to_utc_text(now + CLAIM_FOR), delivery_id, to_utc_text(now)]
            + ([to_utc_text(now)] if due_only else []))
        if cursor.rowcount != 1:
            return None
        # read after the claim: another process may have sent parts since we listed the row
        return next(db.query("SELECT parts_sent, attempts, parts FROM deliveries WHERE id = ?",
                             [delivery_id]))


def deliver(db, delivery: dict, channel: dict, digest_for, clock, smtp: dict, pacer: Pacer,
            due_only: bool = False) -> Outcome:
    """Send one delivery's remaining parts; record what got through and why it stopped."""
    if delivery["status"] == "sent":
        return Outcome(channel, delivery["day"], "already sent")
    held = claim(db, delivery["id"], clock.now(), due_only)
    if held is None:
        return Outcome(channel, delivery["day"], "busy", "sent or held by another process")
    kind = channel_kinds.module(channel["kind"])
    if held["parts"] is None:
        parts = kind.render(digest_for(delivery["day"], channel["district"]), channel)
        with write(db):
            db.execute("UPDATE deliveries SET parts = ? WHERE id = ?",
                       [json.dumps(parts, ensure_ascii=False), delivery["id"]])
    else:
        parts = json.loads(held["parts"])
    sent = held["parts_sent"]
    try:
        for part in parts[sent:]:
            pacer.wait_turn(channel)
            kind.send(part, channel, SendContext(now=clock.now(), smtp=smtp))
            sent += 1
            with write(db):
                db.execute("UPDATE deliveries SET parts_sent = ? WHERE id = ?", [sent, delivery["id"]])
    except DeliveryError as error:
        now = clock.now()
        attempts = held["attempts"] + 1
        with write(db):
            db.execute(
                """UPDATE deliveries SET attempts = ?, last_error = ?, next_attempt_at = ?,
                   claimed_until = NULL WHERE id = ?""",
                [attempts, str(error), to_utc_text(now + backoff(attempts)), delivery["id"]])
        return Outcome(channel, delivery["day"], "failed", str(error))
    with write(db):
        db.execute(
            """UPDATE deliveries SET status = 'sent', attempts = attempts + 1, last_error = NULL,
               sent_at = ?, claimed_until = NULL WHERE id = ?""",
            [to_utc_text(clock.now()), delivery["id"]])
    return Outcome(channel, delivery["day"], "sent", f"{len(parts)} message(s)")


def deliveries(db, day: date | None = None, due_by: datetime | None = None) -> list[tuple[dict, dict]]:
    """(delivery, channel) pairs: all of one day, or every pending one due by ``due_by``."""
    if day is not None:
        where, params = "deliveries.day = ?", [day.isoformat()]
    else:
        where, params = "deliveries.status = 'pending' AND next_attempt_at <= ?", [to_utc_text(due_by)]
    rows = list(db.query(
        f"""SELECT deliveries.*, channels.kind, channels.target, channels.district, channels.secret
            FROM deliveries JOIN channels ON channels.id = channel_id
            WHERE {where} ORDER BY deliveries.day, channels.id""", params))
    return [({k: row[k] for k in ("id", "day", "status")},
             {"id": row["channel_id"], "kind": row["kind"], "target": row["target"],
              "district": row["district"], "secret": row["secret"]}) for row in rows]

