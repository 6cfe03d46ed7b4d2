"""The scheduled work as the app runs it: digests and reports built and delivered, the
downgrade scan, the signal scan.

The rules (jobs.digest.build, jobs.reports.week and .month, jobs.downgrade.flags) are pure; these
functions read the database and the clock around them and hand the results to the outbox.
"""
import time
from datetime import date
from datetime import time as time_of_day
from functools import partial

from flask import current_app, render_template

from feedback import clock
from feedback.clock import to_utc_text
from feedback.followup import signals, workdays
from feedback.storage.db import get_db, write
from jobs import digest as digests
from jobs import downgrade, outbox, reports
from jobs.channels import Post, text

EMAIL_LIST_LIMIT = 100  # rows of each list in an e-mail; the web page has them all


def build_digest(day: date, district: str | None = None, codes: list[str] | None = None) -> dict:
    """The digest of ``day``: everywhere, for one district, or for the stations in ``codes``."""
    data = digests.load(get_db(), day, district=district, codes=codes)
    return digests.build(data, current_app.config["BASE_URL"], current_app.config["TIMEZONE"])


def prepare_digest(day: date) -> None:
    """Make the digest window of ``day`` and remember the nation's ranking in it (load() keeps
    both), so that the first to open that digest, the morning's delivery or a manager following
    a link, does not wait for them."""
    digests.load(get_db(), day)


def prepare_week(monday: date) -> None:
    """Work out and keep the nation's lists of stations of the week of ``monday`` (the quiet,
    the bad weeks running), so that nobody opening that weekly report waits for them."""
    reports.kept_station_lists(get_db(), monday, None)


def build_week(monday: date, district: str | None = None) -> dict:
    """The weekly report of the ISO week starting ``monday``: everywhere, or one district."""
    data = reports.load_week(get_db(), monday, district)
    return reports.week(data, current_app.config["BASE_URL"], workdays.working_days_between)


def build_month(first: date, with_trend: bool = False) -> dict:
    """The monthly report of the month starting ``first`` (see reports.month)."""
    data = reports.load_month(get_db(), first, current_app.config["TIMEZONE"],
                              with_chart=with_trend)
    return reports.month(data, current_app.config["BASE_URL"], with_trend)


def post_for(period: str, district: str | None) -> Post:
    """What a channel gets for a period: a day's digest, a week's or a month's report."""
    if reports.WEEK.fullmatch(period):
        report = build_week(reports.parse_week(period), district)
        return Post(f"驿站服务周报 {period}", report["url"], report,
                    partial(text.week_lines, report),
                    render_template("report_week_email.html", report=report,
                                    limit=EMAIL_LIST_LIMIT))
    if reports.MONTH.fullmatch(period):
        report = build_month(reports.parse_month(period))  # the whole city: a month is for all
        return Post(f"驿站服务月报 {period}", report["url"], report,
                    partial(text.month_lines, report),
                    render_template("report_month_email.html", report=report,
                                    limit=EMAIL_LIST_LIMIT))
    digest = build_digest(date.fromisoformat(period), district)
    return Post(f"驿站服务日报 {period}", digest["url"], digest, partial(text.lines, digest),
                render_template("digest_email.html", digest=digest, limit=EMAIL_LIST_LIMIT))


def send(period: str, sleep=time.sleep) -> list[outbox.Outcome]:
    """Deliver the digest or report of ``period`` to every channel that has not had it."""
    db = get_db()
    with write(db):
        outbox.open_deliveries(db, period, clock.now())
    return _deliver(outbox.deliveries(db, period=period), due_only=False, sleep=sleep)


def send_digest(day: date, sleep=time.sleep) -> list[outbox.Outcome]:
    """Deliver the digest of ``day`` to every channel that has not had it."""
    return send(day.isoformat(), sleep)


def retry_due(sleep=time.sleep) -> list[outbox.Outcome]:
    """Try again every pending delivery whose backoff has passed."""
    return _deliver(outbox.deliveries(get_db(), due_by=clock.now()), due_only=True, sleep=sleep)


def _deliver(pairs, due_only: bool, sleep) -> list[outbox.Outcome]:
    built = {}

    def cached_post(period: str, district: str | None) -> Post:
        if (period, district) not in built:
            built[(period, district)] = post_for(period, district)
        return built[(period, district)]

    pacer = outbox.Pacer(clock.current(), sleep)
    config = current_app.config
    days = outbox.Days(config["TIMEZONE"], time_of_day(*config["DIGEST_AT"]))
    return [outbox.deliver(get_db(), delivery, channel, cached_post, clock.current(),
                           config["SMTP"], pacer, days, due_only)
            for delivery, channel in pairs]


def scan(as_of: date) -> tuple[list[dict], int]:
    """Flag the stations the downgrade rule finds at ``as_of``; returns (found, newly added)."""
    db = get_db()
    stations, monthly = downgrade.load(db, as_of)
    found = downgrade.last_rated(db, downgrade.flags(stations, monthly, as_of), as_of,
                                 current_app.config["TIMEZONE"])
    with write(db):
        added = downgrade.record(db, found, as_of, clock.now())
    return found, added


def scan_signals(day: date) -> list[dict]:
    """Look through the ratings of ``day`` for signals and keep what is found."""
    return signals.scan(get_db(), day, current_app.config["TIMEZONE"], clock.now())


def add_channel(kind: str, target: str, district: str | None, secret: str | None) -> int:
    db = get_db()
    with write(db):
        cursor = db.execute(
            "INSERT INTO channels (kind, target, district, secret, created_at) VALUES (?, ?, ?, ?, ?)",
            [kind, target, district, secret, to_utc_text(clock.now())])
    return cursor.lastrowid


def remove_channel(channel_id: int) -> bool:
    db = get_db()
    with write(db):
        db.execute("DELETE FROM deliveries WHERE channel_id = ?", [channel_id])
        return db.execute("DELETE FROM channels WHERE id = ?", [channel_id]).rowcount == 1
