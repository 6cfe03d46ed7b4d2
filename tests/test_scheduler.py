"""The scheduler: leases between processes, catch-up from the database, triggers in the local
zone, retries. The clock is injected; no test waits for a trigger."""
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from app import create_app
from jobs import scheduler
from support import STATIONS_CSV, TEST_SECRET

TZ = ZoneInfo("Asia/Shanghai")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def local(*args):
    return datetime(*args, tzinfo=TZ)


@pytest.mark.parametrize("now, started, days", [
    # before 08:00 the day before yesterday is the latest owed; after, yesterday
    (local(2026, 11, 28, 7, 59), local(2026, 11, 1, 9), ["2026-11-20", "2026-11-26"]),
    (local(2026, 11, 28, 8, 0), local(2026, 11, 1, 9), ["2026-11-21", "2026-11-27"]),
    # nothing from before scheduling began, except the day before the first start
    (local(2026, 11, 28, 9, 0), local(2026, 11, 28, 8, 30), ["2026-11-27", "2026-11-27"]),
    (local(2026, 11, 28, 9, 0), local(2026, 11, 26, 23, 0), ["2026-11-25", "2026-11-27"]),
])
def test_owed_digest_days_go_back_at_most_seven_oldest_first(now, started, days):
    owed = scheduler.due_days(now, started, (8, 0), TZ)
    assert [owed[0].isoformat(), owed[-1].isoformat()] == days
    assert owed == sorted(owed) and len(owed) <= 7


def test_a_lease_is_taken_once_and_taken_over_only_when_it_lapses(db):
    now = datetime(2026, 11, 28, tzinfo=timezone.utc)
    assert scheduler.take_lease(db, "digest", "2026-11-27", now)
    assert not scheduler.take_lease(db, "digest", "2026-11-27", now + timedelta(minutes=29))
    # the holder died: its lease lapses and another process takes the job over
    assert scheduler.take_lease(db, "digest", "2026-11-27", now + timedelta(minutes=31))
    scheduler.finish(db, "digest", "2026-11-27", now)
    assert not scheduler.take_lease(db, "digest", "2026-11-27", now + timedelta(days=1))


@pytest.fixture
def webhook(runner, chat, stations_loaded):
    result = runner.invoke(args=["channels", "add", "--kind", "webhook", "--target", chat.url()])
    assert result.exit_code == 0
    return chat


def posted_days(chat):
    return [body["date"] for body in chat.json_bodies()]


def test_scheduler_catches_up_missed_days_from_the_database(app, clock, webhook):
    clock.instant = local(2026, 11, 20, 9, 0).astimezone(timezone.utc)
    with app.app_context():
        scheduler.run_digests()
        scheduler.run_digests()  # a second worker firing at the same time finds nothing to do
        assert posted_days(webhook) == ["2026-11-19"]
        # down from the 20th at 09:00 to the 24th at 10:00: three digests were missed
        clock.instant = local(2026, 11, 24, 10, 0).astimezone(timezone.utc)
        scheduler.run_digests()
        assert posted_days(webhook) == ["2026-11-19", "2026-11-20", "2026-11-21", "2026-11-22",
                                        "2026-11-23"]
        # down for twelve days: only the last seven are caught up, oldest first, five a day
        clock.instant = local(2026, 12, 6, 8, 1).astimezone(timezone.utc)
        scheduler.run_digests()
        assert posted_days(webhook)[5:] == ["2026-11-29", "2026-11-30", "2026-12-01",
                                            "2026-12-02", "2026-12-03"]
        clock.instant = local(2026, 12, 7, 8, 1).astimezone(timezone.utc)
        scheduler.run_retries()
        scheduler.run_digests()
    assert posted_days(webhook)[10:] == ["2026-12-04", "2026-12-05", "2026-12-06"]


def test_failed_delivery_is_retried_after_its_backoff(app, clock, webhook):
    webhook.stop()
    clock.instant = local(2026, 11, 28, 8, 0).astimezone(timezone.utc)
    with app.app_context():
        scheduler.run_digests()
        webhook.start()
        clock.advance(minutes=4)
        assert scheduler.run_retries() == 0 and webhook.requests == []
        clock.advance(minutes=1)
        assert scheduler.run_retries() == 1
        assert scheduler.run_retries() == 0
    assert posted_days(webhook) == ["2026-11-27"]


def test_nightly_scan_runs_once_a_day(app, clock, runner, write_file, db):
    text = "code,name,district,tier,kind,opened_on\nQ-1,静,黄浦区,city,fixed,2020-01-01\n"
    runner.invoke(args=["stations", "import", write_file("q.csv", text)])
    clock.instant = local(2026, 12, 1, 0, 30).astimezone(timezone.utc)
    with app.app_context():
        assert scheduler.run_scan()
        assert not scheduler.run_scan()
    assert db.execute("SELECT proposed_tier FROM flags").fetchall() == [("delisted",)]


def test_yesterdays_digest_window_is_made_after_midnight_once(app, clock, runner, write_file, db):
    """Whoever opens the digest in the morning finds its window and the nation's ranking kept."""
    rows = "station_code,rated_at,score,comment\nST-001,2026-11-30T10:00:00,5,\nST-002,2026-11-20T10:00:00,2,\n"
    runner.invoke(args=["stations", "import", write_file("s.csv", STATIONS_CSV)])
    clock.instant = local(2026, 12, 1, 0, 5).astimezone(timezone.utc)
    assert runner.invoke(args=["ratings", "import", write_file("r.csv", rows)]).exit_code == 0
    with app.app_context():
        assert scheduler.run_window()
        assert not scheduler.run_window()
    [(first_day, ranking)] = db.execute("SELECT first_day, ranking FROM window_ends "
                                        "WHERE end_day = '2026-11-30'").fetchall()
    assert first_day == "2026-11-01"
    assert [s["code"] for s in json.loads(ranking)["best"]] == ["ST-001", "ST-002"]


def test_on_a_monday_the_window_job_also_keeps_last_weeks_lists_of_stations(app, clock, runner,
                                                                            write_file, db):
    runner.invoke(args=["stations", "import", write_file("s.csv", STATIONS_CSV)])
    clock.instant = local(2026, 11, 29, 0, 5).astimezone(timezone.utc)  # a Sunday
    with app.app_context():
        assert scheduler.run_window()
        assert db.execute("SELECT count(*) FROM week_lists").fetchone()[0] == 0
        clock.advance(days=1)
        assert scheduler.run_window()
    [(monday, district, lists)] = db.execute("SELECT * FROM week_lists").fetchall()
    assert (monday, district, json.loads(lists)["quiet_total"]) == ("2026-11-23", "", 3)


def test_each_nights_signal_scan_runs_once_and_catches_up_the_nights_missed(app, clock, runner,
                                                                             write_file, db):
    runner.invoke(args=["stations", "import", write_file("s.csv", STATIONS_CSV)])
    clock.instant = local(2026, 11, 28, 0, 15).astimezone(timezone.utc)
    with app.app_context():
        assert scheduler.run_signals() == ["2026-11-27"]  # the first night: yesterday only
        clock.instant = local(2026, 12, 1, 0, 14).astimezone(timezone.utc)
        assert scheduler.run_signals() == ["2026-11-28", "2026-11-29"]  # down for two nights
        clock.advance(minutes=1)
        assert scheduler.run_signals() == ["2026-11-30"]
        assert scheduler.run_signals() == []
    assert [row[0] for row in db.execute("SELECT day FROM signal_scans ORDER BY day")] == [
        "2026-11-27", "2026-11-28", "2026-11-29", "2026-11-30"]


def test_triggers_fire_in_the_configured_zone(db_path, clock, monkeypatch):
    monkeypatch.setenv("FEEDBACK_DIGEST_AT", "07:30")
    monkeypatch.setenv("FEEDBACK_TIMEZONE", "Asia/Urumqi")  # UTC+6, for a zone that is not +8
    app = create_app({"DATABASE": db_path, "CLOCK": clock, "TESTING": True})
    jobs = {job.id: job for job in scheduler.build(app).get_jobs()}
    assert set(jobs) == {"digest", "reports", "window", "signals", "downgrade", "backup", "retry"}
    now = datetime(2026, 11, 28, 4, 0, tzinfo=timezone.utc)  # 10:00 in Urumqi
    digest_at = jobs["digest"].trigger.get_next_fire_time(None, now)
    assert digest_at == datetime(2026, 11, 29, 7, 30, tzinfo=ZoneInfo("Asia/Urumqi"))
    assert jobs["reports"].trigger.get_next_fire_time(None, now) == digest_at
    assert jobs["window"].trigger.get_next_fire_time(None, now) == datetime(
        2026, 11, 29, 0, 5, tzinfo=ZoneInfo("Asia/Urumqi"))
    assert jobs["signals"].trigger.get_next_fire_time(None, now) == datetime(
        2026, 11, 29, 0, 15, tzinfo=ZoneInfo("Asia/Urumqi"))
    scan_at = jobs["downgrade"].trigger.get_next_fire_time(None, now)
    assert scan_at == datetime(2026, 11, 29, 0, 30, tzinfo=ZoneInfo("Asia/Urumqi"))
    backup_at = jobs["backup"].trigger.get_next_fire_time(None, now)
    assert backup_at == datetime(2026, 11, 29, 2, 30, tzinfo=ZoneInfo("Asia/Urumqi"))
    app.extensions["feedback.db"].close()


def test_the_web_process_starts_its_scheduler_at_the_first_request_only_when_on(db_path, clock):
    app = create_app({"DATABASE": db_path, "CLOCK": clock, "SCHEDULER": True})
    assert "feedback.scheduler" not in app.extensions  # not at import, not in CLI commands
    app.test_client().get("/healthz")
    running = app.extensions["feedback.scheduler"]
    assert running.running
    app.test_client().get("/healthz")
    assert app.extensions["feedback.scheduler"] is running
    running.shutdown()
    app.extensions["feedback.db"].close()
    off = create_app({"DATABASE": db_path, "CLOCK": clock, "SCHEDULER": False})
    off.test_client().get("/healthz")
    assert "feedback.scheduler" not in off.extensions
    off.extensions["feedback.db"].close()


def environment(db_path, **more):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBACK_")}
    env.update({"FEEDBACK_DATABASE": db_path, "FEEDBACK_SECRET_KEY": TEST_SECRET,
                "FEEDBACK_SCHEDULER": "off", **more})
    return env


def flask_command(*args):
    return [sys.executable, "-m", "flask", "--app", "app", *args]


def test_racing_processes_deliver_each_day_once(db_path, webhook):
    """Three `digest send` and three `scheduler run --once` processes started together."""
    commands = [flask_command("digest", "send", "--date", "2026-11-20")] * 3 + \
               [flask_command("scheduler", "run", "--once")] * 3
    processes = [subprocess.Popen(command, cwd=ROOT, env=environment(db_path),
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                 for command in commands]
    outputs = [process.communicate(timeout=120)[0].decode() for process in processes]
    assert all(process.returncode == 0 for process in processes), outputs
    bodies = webhook.json_bodies()
    days = [body["date"] for body in bodies if "date" in body]
    # these processes run on the real clock, and scheduling begins with them: from 08:00 the
    # day before today is owed; before it, nothing is (the day before that is from before the
    # scheduling began). On a Monday, or the 1st, the report of the week or month that ended
    # yesterday is owed from 08:00 too, each once.
    now = datetime.now(TZ)
    owed = [] if now.hour < 8 else [(now.date() - timedelta(days=1)).isoformat()]
    assert sorted(days) == sorted(["2026-11-20", *owed])
    reports = [body.get("week") or body["month"] for body in bodies if "date" not in body]
    assert sorted(reports) == sorted(
        period for period, last_day in scheduler.due_reports(now, (8, 0), TZ)
        if last_day >= now.date() - timedelta(days=1))


def test_the_reloader_does_not_start_a_second_scheduler(db_path, tmp_path):
    """`flask run --debug` runs a watcher process and a serving child: one scheduler."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = open(tmp_path / "server.log", "w+b")
    server = subprocess.Popen(flask_command("run", "--debug", "--port", str(port)), cwd=ROOT,
                              env=environment(db_path, FEEDBACK_SCHEDULER="on"),
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:  # polling for the server to listen, not waiting for a trigger
            try:
                for _ in range(3):
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read()
                break
            except OSError:
                assert time.monotonic() < deadline, "the debug server did not start"
                time.sleep(0.2)  # waiting for a process to listen, not for the clock
    finally:
        server.terminate()
        server.wait(10)
    log.seek(0)
    output = log.read().decode()
    assert "Debugger is active" in output  # the reloader really was on
    assert len(re.findall(r"scheduler started in process \d+", output)) == 1, output
