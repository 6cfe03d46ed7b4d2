"""Is the service doing its work? The scheduler's last runs and the outbox, read cheaply for
/healthz?deep=1, and ``problems``, the rule that turns them into lines for `check`."""
from datetime import datetime, timedelta

from feedback.clock import from_utc_text, local_day
from feedback.config import DEVELOPMENT_SECRET, is_local
from feedback.storage import schema
from jobs import backups
from jobs.scheduler import SCAN_AT, SIGNALS_AT, due_days

GRACE = timedelta(hours=1)  # a job still running, or the scheduler waking late, is not a problem


def state(db) -> dict:
    """What `check` and the deep health check look at, read from the database (no history)."""
    last = {job: key for job, key in db.execute(
        "SELECT job, max(key) FROM job_runs WHERE status = 'done' GROUP BY job")}
    first = db.execute("SELECT finished_at FROM job_runs "
                       "WHERE job = 'scheduler' AND key = 'first-start'").fetchone()
    pending, failing, oldest, error = db.execute(
        """SELECT count(*), sum(attempts > 0), min(CASE WHEN attempts > 0 THEN day END),
                  (SELECT last_error FROM deliveries WHERE status = 'pending' AND attempts > 0
                   ORDER BY day LIMIT 1)
           FROM deliveries WHERE status = 'pending'""").fetchone()
    failing_kinds = sorted(kind for (kind,) in db.execute(
        """SELECT DISTINCT kind FROM deliveries JOIN channels ON channels.id = channel_id
           WHERE status = 'pending' AND attempts > 0"""))
    return {
        "schema_version": schema.version(db), "schema_expected": len(schema.MIGRATIONS),
        "scheduler_first_started": first[0] if first else None,
        "last_done": {job: last.get(job) for job in ("digest", "signals", "downgrade", "report",
                                                     "backup")},
        "outbox": {"pending": pending, "failing": failing or 0, "failing_since": oldest,
                   "failing_kinds": failing_kinds, "last_error": error},
    }


def problems(found: dict, now: datetime, config: dict) -> list[str]:
    """One line per thing an operator must look at (the rule: plain data and a time)."""
    tz, lines = config["TIMEZONE"], []
    if found["schema_version"] != found["schema_expected"]:
        lines.append(f"schema version {found['schema_version']}, this code expects "
                     f"{found['schema_expected']}: start the service once to migrate")
    if config["SECRET_KEY"] == DEVELOPMENT_SECRET and not is_local(config["BASE_URL"]):
        lines.append("FEEDBACK_SECRET_KEY is not set: the development key signs the links")
    started = found["scheduler_first_started"]
    if started is None:
        lines.append("the scheduler has never run on this database: run `flask --app app "
                     "scheduler run` (or FEEDBACK_SCHEDULER=on on the web)")
    else:
        first_runs = from_utc_text(started) > now - GRACE  # the scheduler's first runs are under way
        for job, at, what in (("digest", config["DIGEST_AT"], "the digest of {} has not gone out"),
                              ("signals", SIGNALS_AT, "the signals of {} have not been looked for")):
            owed = [] if first_runs else due_days(now - GRACE, from_utc_text(started), at, tz)
            last_day = found["last_done"][job]
            if owed and (last_day is None or last_day < owed[-1].isoformat()):
                lines.append(f"{what.format(owed[-1].isoformat())} (the last was {last_day or 'never'})")
        scan_day = local_day(now - GRACE - timedelta(hours=SCAN_AT[0], minutes=SCAN_AT[1]), tz)
        last_scan = found["last_done"]["downgrade"]
        if local_day(from_utc_text(started), tz) < scan_day and (
                last_scan is None or last_scan < scan_day.isoformat()):
            lines.append(f"the downgrade scan has not run since {last_scan or 'never'}")
        if config.get("BACKUP_DIR"):
            backup_day = local_day(now - GRACE - timedelta(hours=backups.BACKUP_AT[0],
                                                           minutes=backups.BACKUP_AT[1]), tz)
            last_backup = found["last_done"]["backup"]
            if local_day(from_utc_text(started), tz) < backup_day and (
                    last_backup is None or last_backup < backup_day.isoformat()):
                lines.append(f"no nightly backup since {last_backup or 'ever'} "
                             f"(FEEDBACK_BACKUP_DIR={config['BACKUP_DIR']})")
    outbox = found["outbox"]
    if outbox["failing"]:
        lines.append(f"{outbox['failing']} deliveries failing ({', '.join(outbox['failing_kinds'])}), "
                     f"the oldest for {outbox['failing_since']}: {outbox['last_error']}")
    return lines

