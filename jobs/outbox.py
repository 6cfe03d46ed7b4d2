"""Deliveries of digests and reports: exactly once per period and channel.

A delivery row is unique per (channel, period): its ``day`` column holds the period, a day
(2026-11-27) for a digest, a week (2026-W48) or a month (2026-11) for a report. A sender claims a row before posting, so racing
processes never post the same digest twice; a ClaimKeeper renews the claim while the sender
works, however long a platform takes, and every write is fenced by the claim's token. A split
digest records each part it sent, so a retry resumes after the last part that got through. A
failure stays pending with a backoff.

What cannot be promised: when a platform takes a message but its answer is lost (a timeout),
the sender cannot know, so the retry sends that part again. Each part of a split digest
carries its number, "(2/3)", so such a repeat is plain to see.
"""
import json
import os
import secrets
import socket
import threading
from collections import deque
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta

from feedback import events
from feedback.clock import local_day, to_utc_text
from feedback.storage.db import connect, write
from jobs import channels as channel_kinds
from jobs.channels import DeliveryError, SendContext

MESSAGES_A_DAY = 5  # a channel's digests and reports together, per local day
CLAIM_FOR = timedelta(minutes=10)
RENEW_EVERY_SECONDS = 60.0  # real time between renewals: far inside CLAIM_FOR
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
    status: str  # sent, already sent, failed, busy (another process holds it), postponed
    detail: str = ""


@dataclass
class Days:
    """Where a channel's day begins and when its next morning's posts go (FEEDBACK_TIMEZONE,
    FEEDBACK_DIGEST_AT)."""
    tz: object
    morning: time

    def today(self, now: datetime) -> str:
        return local_day(now, self.tz).isoformat()

    def next_morning(self, now: datetime) -> datetime:
        tomorrow = local_day(now, self.tz) + timedelta(days=1)
        return datetime.combine(tomorrow, self.morning, self.tz)


def messages_left(db, channel_id: int, day: str, delivery_id: int) -> int:
    """How many of its MESSAGES_A_DAY a channel has left on ``day``, besides this delivery's."""
    taken = db.execute(
        """SELECT coalesce(sum(json_array_length(parts)), 0) FROM deliveries
           WHERE channel_id = ? AND messages_on = ? AND id != ?""",
        [channel_id, day, delivery_id]).fetchone()[0]
    return MESSAGES_A_DAY - taken


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


def open_deliveries(db, period: str, now: datetime) -> None:
    """A pending delivery of ``period`` for every channel that has none. Call in write()."""
    db.execute(
        """INSERT INTO deliveries (channel_id, day, next_attempt_at)
           SELECT id, ?, ? FROM channels WHERE true  -- WHERE: so ON is not read as a join
           ON CONFLICT (channel_id, day) DO NOTHING""",
        [period, to_utc_text(now)])


def claim(db, delivery_id: int, now: datetime, due_only: bool) -> dict | None:
    """Hold a pending delivery for CLAIM_FOR and return it as it is now, with the claim's
    token; None if it is sent, held by another process, or (due_only) not yet due."""
    token = secrets.token_hex(8)
    with write(db):
        cursor = db.execute(
            f"""UPDATE deliveries SET claimed_until = ?, claim_token = ?
                WHERE id = ? AND status = 'pending'
                  AND (claimed_until IS NULL OR claimed_until < ?)
                  {"AND next_attempt_at <= ?" if due_only else ""}""",
            [to_utc_text(now + CLAIM_FOR), token, delivery_id, to_utc_text(now)]
            + ([to_utc_text(now)] if due_only else []))
        if cursor.rowcount != 1:
            return None
        # read after the claim: another process may have sent parts since we listed the row
        return next(db.query("""SELECT parts_sent, attempts, parts, claim_token FROM deliveries
                                WHERE id = ?""", [delivery_id]))


def renew(db, delivery_id: int, token: str, now: datetime) -> bool:
    """Extend our claim from ``now``; False if the claim is no longer ours."""
    with write(db):
        return db.execute(
            "UPDATE deliveries SET claimed_until = ? WHERE id = ? AND claim_token = ?",
            [to_utc_text(now + CLAIM_FOR), delivery_id, token]).rowcount == 1


class ClaimKeeper:
    """Renews a claim every RENEW_EVERY_SECONDS from its own thread and connection while the
    sender works, so a slow platform or a long paced digest never lets the claim lapse and a
    second process post the same messages."""

    def __init__(self, path: str, delivery_id: int, token: str, clock):
        self.path, self.delivery_id, self.token, self.clock = path, delivery_id, token, clock
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"claim-{delivery_id}", daemon=True)

    def _run(self) -> None:
        db = connect(self.path)
        try:
            while not self.stopped.wait(RENEW_EVERY_SECONDS):
                if not renew(db, self.delivery_id, self.token, self.clock.now()):
                    return
        finally:
            db.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join()


def database_path(db) -> str:
    return db.execute("PRAGMA database_list").fetchone()[2]


def deliver(db, delivery: dict, channel: dict, post_for, clock, smtp: dict, pacer: Pacer,
            days: Days, due_only: bool = False) -> Outcome:
    """Send one delivery's remaining parts; record what got through and why it stopped. Its
    messages are made the first time, in no more than what is left of the channel's
    MESSAGES_A_DAY; with none left it waits for the next morning."""
    if delivery["status"] == "sent":
        return Outcome(channel, delivery["day"], "already sent")
    held = claim(db, delivery["id"], clock.now(), due_only)
    if held is None:
        return Outcome(channel, delivery["day"], "busy", "sent or held by another process")
    kind = channel_kinds.module(channel["kind"])
    token = held["claim_token"]
    ours = "id = ? AND claim_token = ?"  # every write is fenced by the claim
    if held["parts"] is None:
        today = days.today(clock.now())
        left = messages_left(db, channel["id"], today, delivery["id"])
        if left < 1:
            with write(db):
                db.execute(f"""UPDATE deliveries SET next_attempt_at = ?, claimed_until = NULL,
                               claim_token = NULL WHERE {ours}""",
                           [to_utc_text(days.next_morning(clock.now())), delivery["id"], token])
            return Outcome(channel, delivery["day"], "postponed",
                           f"the channel had its {MESSAGES_A_DAY} messages today")
        post = replace(post_for(delivery["day"], channel["district"]), max_parts=left)
        parts = kind.render(post, channel)
        with write(db):
            db.execute(f"UPDATE deliveries SET parts = ?, messages_on = ? WHERE {ours}",
                       [json.dumps(parts, ensure_ascii=False), today, delivery["id"], token])
    else:
        parts = json.loads(held["parts"])
    sent = held["parts_sent"]
    try:
        with ClaimKeeper(database_path(db), delivery["id"], token, clock):
            for number, part in enumerate(parts[sent:], start=sent + 1):
                pacer.wait_turn(channel)
                if not renew(db, delivery["id"], token, clock.now()):
                    return Outcome(channel, delivery["day"], "busy", "the claim was lost")
                try:
                    kind.send(part, channel, SendContext(now=clock.now(), smtp=smtp))
                except DeliveryError as error:
                    raise DeliveryError(f"part {number} of {len(parts)}: {error}"
                                        if len(parts) > 1 else str(error)) from None
                sent += 1
                with write(db):
                    db.execute(f"UPDATE deliveries SET parts_sent = ? WHERE {ours}",
                               [sent, delivery["id"], token])
    except DeliveryError as error:
        now = clock.now()
        attempts = held["attempts"] + 1
        with write(db):
            db.execute(
                f"""UPDATE deliveries SET attempts = ?, last_error = ?, next_attempt_at = ?,
                    claimed_until = NULL, claim_token = NULL WHERE {ours}""",
                [attempts, str(error), to_utc_text(now + backoff(attempts)), delivery["id"], token])
        events.record("delivery_failed", channel=channel["id"], kind=channel["kind"],
                      period=delivery["day"], attempts=attempts, error=str(error)[:300])
        return Outcome(channel, delivery["day"], "failed", str(error))
    with write(db):
        db.execute(
            f"""UPDATE deliveries SET status = 'sent', attempts = attempts + 1, last_error = NULL,
                sent_at = ?, claimed_until = NULL, claim_token = NULL WHERE {ours}""",
            [to_utc_text(clock.now()), delivery["id"], token])
    return Outcome(channel, delivery["day"], "sent", f"{len(parts)} message(s)")


def deliveries(db, period: str | None = None,
               due_by: datetime | None = None) -> list[tuple[dict, dict]]:
    """(delivery, channel) pairs: all of one period, or every pending one due by ``due_by``."""
    if period is not None:
        where, params = "deliveries.day = ?", [period]
    else:
        where, params = "deliveries.status = 'pending' AND next_attempt_at <= ?", [to_utc_text(due_by)]
    rows = list(db.query(
        f"""SELECT deliveries.*, channels.kind, channels.target, channels.district, channels.secret
            FROM deliveries JOIN channels ON channels.id = channel_id
            WHERE {where} ORDER BY deliveries.day, channels.id""", params))
    return [({k: row[k] for k in ("id", "day", "status")},
             {"id": row["channel_id"], "kind": row["kind"], "target": row["target"],
              "district": row["district"], "secret": row["secret"]}) for row in rows]

