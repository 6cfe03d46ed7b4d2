"""When the scheduled work runs, and the database leases that make it run once.

APScheduler fires the jobs (cron triggers in FEEDBACK_TIMEZONE), but it has no locking between
processes and forgets what it missed while down. So every job takes a lease row in ``job_runs``
before it runs (any number of web workers and a `scheduler run` process may fire together), and
the digest job works out from the database which days still need a digest, up to 7 days back.
"""
import logging
import os
import threading
from datetime import date, datetime, time, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask, current_app

from feedback import clock
from feedback.clock import add_months, from_utc_text, local_day, month_start, to_utc_text
from feedback.counts import counting, devices, ratings
from feedback.storage.db import get_db, write
from jobs import backups, outbox, reports, tasks

log = logging.getLogger("feedback.scheduler")

CATCH_UP_DAYS = 7
LEASE = timedelta(minutes=30)
WINDOW_AT = (0, 5)  # yesterday's digest window, just after midnight (jobs.tasks.prepare_digest)
SIGNALS_AT = (0, 15)  # yesterday's ratings looked through for signals (feedback.followup.signals.scan)
SCAN_AT = (0, 30)  # the downgrade scan, every night
RETRY_EVERY = timedelta(minutes=5)


def take_lease(db, job: str, key: str, now: datetime) -> bool:
    """True if this process may run ``job`` for ``key``: nobody has, nor holds a live lease."""
    with write(db):
        row = db.execute("SELECT status, lease_until FROM job_runs WHERE job = ? AND key = ?",
                         [job, key]).fetchone()
        if row and (row[0] == "done" or from_utc_text(row[1]) > now):
            return False
        db.execute(
            """INSERT INTO job_runs (job, key, status, holder, lease_until) VALUES (?, ?, 'running', ?, ?)
               ON CONFLICT (job, key) DO UPDATE SET holder = excluded.holder,
               lease_until = excluded.lease_until""",
            [job, key, outbox.holder_name(), to_utc_text(now + LEASE)])
        return True


def finish(db, job: str, key: str, now: datetime) -> None:
    with write(db):
        db.execute("UPDATE job_runs SET status = 'done', finished_at = ? WHERE job = ? AND key = ?",
                   [to_utc_text(now), job, key])


def first_started(db, now: datetime) -> datetime:
    """When scheduling began on this database; digests before it are not caught up."""
    with write(db):
        db.execute("""INSERT INTO job_runs (job, key, status, holder, lease_until, finished_at)
                      VALUES ('scheduler', 'first-start', 'done', ?, ?, ?)
                      ON CONFLICT (job, key) DO NOTHING""",
                   [outbox.holder_name(), to_utc_text(now), to_utc_text(now)])
    return from_utc_text(db.execute(
        "SELECT finished_at FROM job_runs WHERE job = 'scheduler' AND key = 'first-start'").fetchone()[0])


def due_days(now: datetime, started: datetime, digest_at: tuple[int, int], tz) -> list:
    """The days whose work done the day after at ``digest_at`` (a digest, a signal scan) is due
    by ``now``, oldest first: at most 7 back, none from before scheduling began (the day before
    the first start is the first one owed)."""
    today = local_day(now, tz)
    send_time = datetime.combine(today, time(*digest_at), tzinfo=tz)
    latest = today - timedelta(days=1) if now >= send_time else today - timedelta(days=2)
    earliest = max(latest - timedelta(days=CATCH_UP_DAYS - 1),
                   local_day(started, tz) - timedelta(days=1))
    return [earliest + timedelta(days=i) for i in range((latest - earliest).days + 1)]


def run_digests() -> list[str]:
    """Send every owed digest, oldest first, each day under its own lease."""
    db, now = get_db(), clock.now()
    config = current_app.config
    done = []
    for day in due_days(now, first_started(db, now), config["DIGEST_AT"], config["TIMEZONE"]):
        if take_lease(db, "digest", day.isoformat(), now):
            outcomes = tasks.send_digest(day)
            finish(db, "digest", day.isoformat(), clock.now())
            failed = [o for o in outcomes if o.status == "failed"]
            log.info("digest %s: %d delivered, %d failed", day, len(outcomes) - len(failed), len(failed))
            done.append(day.isoformat())
    return done


def due_reports(now: datetime, digest_at: tuple[int, int], tz) -> list[tuple[str, date]]:
    """The week and the month whose reports are most recently due by ``now``, each with its
    last day: a week's report is due on the Monday after it at FEEDBACK_DIGEST_AT, a month's on
    the 1st after it."""
    local = now.astimezone(tz)
    today = local.date()
    before_send_time = local.time() < time(*digest_at)
    monday = today - timedelta(days=today.weekday())
    week_due = monday - timedelta(days=14 if today.weekday() == 0 and before_send_time else 7)
    first = month_start(today)
    month_due = add_months(first, -2 if today.day == 1 and before_send_time else -1)
    return [(reports.week_name(week_due), week_due + timedelta(days=6)),
            (month_due.strftime("%Y-%m"), add_months(month_due, 1) - timedelta(days=1))]


def run_reports() -> list[str]:
    """Send the last week's and the last month's report once each, under their own leases;
    never a report of a period that ended before the day before scheduling began."""
    db, now = get_db(), clock.now()
    config = current_app.config
    owed_from = local_day(first_started(db, now), config["TIMEZONE"]) - timedelta(days=1)
    done = []
    for period, last_day in due_reports(now, config["DIGEST_AT"], config["TIMEZONE"]):
        if last_day < owed_from or not take_lease(db, "report", period, now):
            continue
        outcomes = tasks.send(period)
        finish(db, "report", period, clock.now())
        log.info("report %s: %d delivered", period, sum(o.status == "sent" for o in outcomes))
        done.append(period)
    return done


def run_window() -> bool:
    """Yesterday's digest window and ranking, and on a Monday the week's lists of stations,
    made once a day soon after midnight: at national scale seconds of work that no reader
    should wait for. What the counting rule kept for a few days (the forms' once keys, who rated
    where the day before yesterday) is let go at the same time."""
    db, now = get_db(), clock.now()
    yesterday = local_day(now, current_app.config["TIMEZONE"]) - timedelta(days=1)
    if not take_lease(db, "window", yesterday.isoformat(), now):
        return False
    with write(db):  # what the counting rule needs only for days, let go after them
        ratings.forget_once_keys(db, now)
        counting.forget_raters(db, yesterday + timedelta(days=1))
        devices.forget_staff_networks(db, now)
    tasks.prepare_digest(yesterday)
    if yesterday.weekday() == 6:  # a week just ended
        tasks.prepare_week(yesterday - timedelta(days=6))
    finish(db, "window", yesterday.isoformat(), clock.now())
    log.info("digest window %s made", yesterday)
    return True


def run_signals() -> list[str]:
    """Look through each owed day's ratings for signals, oldest first, each under its lease: a
    night the service was down is caught up as a digest is."""
    db, now = get_db(), clock.now()
    done = []
    for day in due_days(now, first_started(db, now), SIGNALS_AT, current_app.config["TIMEZONE"]):
        if take_lease(db, "signals", day.isoformat(), now):
            found = tasks.scan_signals(day)
            finish(db, "signals", day.isoformat(), clock.now())
            log.info("signals %s: %d found", day, len(found))
            done.append(day.isoformat())
    return done


def run_scan() -> bool:
    """The nightly downgrade scan, once a day."""
    db, now = get_db(), clock.now()
    today = local_day(now, current_app.config["TIMEZONE"])
    if not take_lease(db, "downgrade", today.isoformat(), now):
        return False
    found, added = tasks.scan(today)
    finish(db, "downgrade", today.isoformat(), clock.now())
    log.info("downgrade scan %s: %d flagged, %d new", today, len(found), added)
    return True


def run_backup() -> str | None:
    """The nightly backup into FEEDBACK_BACKUP_DIR (when set), once a day, and the pruning of
    the copies the retention rule does not keep."""
    folder = current_app.config["BACKUP_DIR"]
    db, now = get_db(), clock.now()
    today = local_day(now, current_app.config["TIMEZONE"])
    if not folder or not take_lease(db, "backup", today.isoformat(), now):
        return None
    path, removed = backups.nightly(db, folder, today, now)
    finish(db, "backup", today.isoformat(), clock.now())
    log.info("backup %s made and checked; %d old copies removed", path, len(removed))
    return path


def run_retries() -> int:
    """Retry failed deliveries whose backoff has passed; each claims its row, so no lease."""
    outcomes = tasks.retry_due()
    return sum(o.status == "sent" for o in outcomes)


def run_all_due() -> None:
    """Everything that is due now: what a start-up (or `scheduler run --once`) does."""
    run_window()
    run_digests()
    run_reports()
    run_signals()
    run_scan()
    run_backup()
    run_retries()


def in_app(app: Flask, work):
    def run():
        with app.app_context():
            try:
                work()
            except Exception:  # a failed run must not stop the scheduler; the next one retries
                log.exception("scheduled job %s failed", work.__name__)
    run.__name__ = work.__name__
    return run


def build(app: Flask, blocking: bool = False):
    """An APScheduler with its jobs, in FEEDBACK_TIMEZONE; each also runs once at start."""
    tz = app.config["TIMEZONE"]
    hour, minute = app.config["DIGEST_AT"]
    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(
        timezone=tz, job_defaults={"coalesce": True, "max_instances": 1,
                                   # what was missed is found in the database, not here
                                   "misfire_grace_time": 3600})
    at_start = datetime.now(tz)
    for job_id, work, trigger in (
            ("digest", run_digests, CronTrigger(hour=hour, minute=minute, timezone=tz)),
            ("reports", run_reports, CronTrigger(hour=hour, minute=minute, timezone=tz)),
            ("window", run_window, CronTrigger(hour=WINDOW_AT[0], minute=WINDOW_AT[1], timezone=tz)),
            ("signals", run_signals, CronTrigger(hour=SIGNALS_AT[0], minute=SIGNALS_AT[1], timezone=tz)),
            ("downgrade", run_scan, CronTrigger(hour=SCAN_AT[0], minute=SCAN_AT[1], timezone=tz)),
            ("backup", run_backup, CronTrigger(hour=backups.BACKUP_AT[0],
                                               minute=backups.BACKUP_AT[1], timezone=tz)),
            ("retry", run_retries, IntervalTrigger(seconds=RETRY_EVERY.total_seconds()))):
        scheduler.add_job(in_app(app, work), trigger, id=job_id, next_run_time=at_start)
    return scheduler


def start_with_web(app: Flask) -> None:
    """With FEEDBACK_SCHEDULER=on, start the scheduler in each serving process at its first request.

    Starting at a request, not at import or in create_app, keeps it out of the CLI commands and
    out of the Flask reloader's watcher process (which serves nothing), and starts it after a
    pre-forking server has forked.
    """
    started_in = {"pid": None}
    lock = threading.Lock()

    @app.before_request
    def start_once():
        if started_in["pid"] == os.getpid():
            return
        with lock:
            if started_in["pid"] != os.getpid():
                scheduler = build(app)
                scheduler.start()
                app.extensions["feedback.scheduler"] = scheduler
                started_in["pid"] = os.getpid()
                app.logger.info("scheduler started in process %s", os.getpid())

