"""Operations: backups taken under load restore whole, the retention rule over sixty nights,
restore's refusals, `check`, and the deep health check."""
import http.client
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

from feedback.clock import FixedClock
from feedback.storage.db import once_key
from jobs import backups, scheduler
from qr import links
from support import NOON, TEST_SECRET, csrf_from, free_port


def flask_command(database: str, *args: str, **popen) -> subprocess.CompletedProcess:
    env = {**os.environ, "FEEDBACK_DATABASE": database, "FEEDBACK_SECRET_KEY": TEST_SECRET,
           "FEEDBACK_SCHEDULER": "off"}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], env=env,
                          capture_output=True, text=True, timeout=120, **popen)


@contextmanager
def served(database: str):
    """gunicorn with the repo's configuration (two workers) on the database; yields host:port."""
    port = free_port()
    env = {**os.environ, "FEEDBACK_DATABASE": database, "FEEDBACK_SECRET_KEY": TEST_SECRET,
           "FEEDBACK_SCHEDULER": "off", "FEEDBACK_BIND": f"127.0.0.1:{port}",
           "FEEDBACK_WORKERS": "2", "FEEDBACK_BASE_URL": f"http://127.0.0.1:{port}"}
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def count(database: str, sql: str = "SELECT count(*) FROM ratings") -> int:
    connection = sqlite3.connect(database)
    try:
        return connection.execute(sql).fetchone()[0]
    finally:
        connection.close()


def test_a_backup_taken_under_a_burst_of_ratings_restores_every_acknowledged_one(
        db_path, stations_loaded, app, tmp_path):
    app.extensions["feedback.db"].close()
    form = links.path(TEST_SECRET, "ST-001", 1)
    acknowledged: list[tuple[str, float]] = []
    stop = threading.Event()

    def phone(address: str, number: int):
        host, port = address.split(":")
        sent = 0
        while not stop.is_set():
            key = f"burst-{number}-{sent:06d}-padding"
            sent += 1
            connection = http.client.HTTPConnection(host, int(port), timeout=10)
            connection.request("POST", form, body=f"score=4&key={key}",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
            if connection.getresponse().status == 303:
                acknowledged.append((key, time.monotonic()))
            connection.close()

    backup = str(tmp_path / "nightly.db")
    with served(db_path) as address:
        phones = [threading.Thread(target=phone, args=(address, n)) for n in range(4)]
        for thread in phones:
            thread.start()
        while len(acknowledged) < 100:
            time.sleep(0.05)
        began = time.monotonic()
        taken = flask_command(db_path, "backup", backup)
        while len(acknowledged) < len([a for a in acknowledged if a[1] < began]) + 100:
            time.sleep(0.05)  # the burst goes on after the copy
        stop.set()
        for thread in phones:
            thread.join()
        assert taken.returncode == 0, taken.stderr
        assert "backed up and checked" in taken.stdout

        refused = flask_command(db_path, "restore", backup)  # the service still holds it
        assert refused.returncode != 0 and "in use by a running service" in refused.stderr
        assert count(db_path) == len(acknowledged)  # nothing changed

    before = {once_key(f"form:{key}") for key, at in acknowledged if at < began}
    assert backups.problems_of_copy(backup) == []
    connection = sqlite3.connect(backup)
    kept = {key for (key,) in connection.execute("SELECT key FROM once_keys")}
    connection.close()
    assert before <= kept and len(before) >= 100
    assert len(kept) < len(acknowledged)  # the copy is of its moment, not of the end

    restored = flask_command(db_path, "restore", backup)
    assert restored.returncode == 0, restored.stderr
    assert count(db_path) == len(kept)
    assert flask_command(db_path, "rollups", "check").returncode == 0


def test_sixty_nights_keep_exactly_seven_daily_and_eight_weekly_copies(db_path, stations_loaded,
                                                                      tmp_path):
    from app import create_app

    folder = tmp_path / "backups"
    clock = FixedClock(NOON.replace(hour=18, minute=40))  # 02:40 in Shanghai, after BACKUP_AT
    app = create_app({"DATABASE": db_path, "CLOCK": clock, "TESTING": True,
                      "BACKUP_DIR": str(folder)})
    with app.app_context():
        for night in range(60):
            assert scheduler.run_backup() is not None
            assert scheduler.run_backup() is None  # once a night, however often it is asked
            clock.advance(days=1)
    app.extensions["feedback.db"].close()
    names = sorted(os.listdir(folder))
    days = [name[len("feedback-"):-len(".db")] for name in names]
    last = (NOON + timedelta(days=59)).date()
    daily = [(last - timedelta(days=n)).isoformat() for n in range(7)]
    assert set(daily) <= set(days)
    weekly = sorted(set(days) - set(daily))
    assert len(names) == 15 and len(weekly) == 8
    # each weekly copy is the newest of its ISO week, and the weeks are the eight before the dailies
    weeks = [__import__("datetime").date.fromisoformat(day).isocalendar()[:2] for day in weekly]
    assert len(set(weeks)) == 8


def test_the_retention_rule_keeps_the_newest_of_each_week():
    from datetime import date

    copies = {date(2026, 11, 1) + timedelta(days=n): f"copy-{n}" for n in range(60)}
    kept = backups.keep(copies)
    assert len(kept) == 15
    assert {f"copy-{n}" for n in range(53, 60)} <= kept
    assert "copy-52" in kept  # Sunday 2026-12-20... the newest left of its week
    assert "copy-51" not in kept


def test_a_backup_that_cannot_be_written_fails_and_keeps_the_old_copies(db_path, stations_loaded,
                                                                       app, tmp_path):
    app.extensions["feedback.db"].close()
    folder = tmp_path / "backups"
    folder.mkdir()
    old = folder / "feedback-2026-11-27.db"
    assert flask_command(db_path, "backup", str(old)).returncode == 0
    before = old.read_bytes()

    blocked = flask_command(db_path, "backup", str(tmp_path / "stations.csv" / "copy.db"))
    assert blocked.returncode != 0 and "no backup made" in blocked.stderr

    def full_disk():  # the file may not grow past 64 KB: what a full disk looks like to SQLite
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    full = flask_command(db_path, "backup", str(folder / "feedback-2026-11-28.db"),
                         preexec_fn=full_disk)
    assert full.returncode != 0 and "no backup made" in full.stderr
    assert sorted(os.listdir(folder)) == ["feedback-2026-11-27.db"]  # no partial copy left
    assert old.read_bytes() == before


def test_restore_refuses_what_is_not_our_database_and_changes_nothing(db_path, stations_loaded, app,
                                                                      tmp_path):
    app.extensions["feedback.db"].close()
    stranger = tmp_path / "photo.db"
    stranger.write_bytes(b"\x89PNG not a database at all" * 100)
    other = tmp_path / "other.db"
    connection = sqlite3.connect(other)
    connection.execute("CREATE TABLE notes (text)")
    connection.commit()
    connection.close()
    newer = tmp_path / "newer.db"
    assert flask_command(db_path, "backup", str(newer)).returncode == 0
    connection = sqlite3.connect(newer)
    connection.execute("PRAGMA user_version = 99")
    connection.commit()
    connection.close()
    stations = count(db_path, "SELECT count(*) FROM stations")
    for path, reason in ((stranger, "not a database"), (other, "not a station feedback database"),
                         (newer, "schema version 99 is newer than this code"),
                         (tmp_path / "missing.db", "no such file")):
        refused = flask_command(db_path, "restore", str(path))
        assert refused.returncode != 0 and reason in refused.stderr, refused.stderr
    assert count(db_path, "SELECT count(*) FROM stations") == stations


def test_check_finds_a_corrupted_rollup_and_a_failing_channel(db_path, stations_loaded, app, runner):
    assert runner.invoke(args=["scheduler", "run", "--once"]).exit_code == 0
    assert runner.invoke(args=["check"]).exit_code == 0
    db = app.extensions["feedback.db"].get()
    db.execute("INSERT INTO station_totals (station_id, n5) VALUES (1, 3)")  # no such ratings
    db.execute("INSERT INTO channels (kind, target, created_at) VALUES ('wecom', 'http://127.0.0.1:9/x', 'now')")
    db.execute("""INSERT INTO deliveries (channel_id, day, attempts, last_error, next_attempt_at)
                  VALUES (1, '2026-11-20', 12, 'connection refused', '2026-11-28T00:00:00Z')""")
    db.conn.commit()
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1
    assert "station_totals: holds {'station_id': 1" in result.output
    assert "1 deliveries failing (wecom), the oldest for 2026-11-20: connection refused" in result.output


def test_the_deep_health_check_reports_the_scheduler_and_the_outbox(client, runner, stations_loaded):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    before = client.get("/healthz?deep=1").get_json()
    assert before["status"] == "attention"
    assert before["problems"] == ["the scheduler has never run on this database: run `flask --app "
                                  "app scheduler run` (or FEEDBACK_SCHEDULER=on on the web)"]
    assert runner.invoke(args=["scheduler", "run", "--once"]).exit_code == 0
    after = client.get("/healthz?deep=1").get_json()
    assert after["status"] == "ok" and after["problems"] == []
    assert after["last_done"]["downgrade"] == "2026-11-28" and after["outbox"]["pending"] == 0


def scrape(address: str) -> dict:
    """/metrics from the server, parsed by prometheus-client's own parser: name → samples."""
    from prometheus_client.parser import text_string_to_metric_families

    host, port = address.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("GET", "/metrics")
    response = connection.getresponse()
    assert response.status == 200, response.status
    return {family.name: family.samples
            for family in text_string_to_metric_families(response.read().decode())}


def test_metrics_from_two_workers_parse_and_add_up(db_path, stations_loaded, app):
    app.extensions["feedback.db"].close()
    form = links.path(TEST_SECRET, "ST-001", 1)
    with served(db_path) as address:
        host, port = address.split(":")
        for n in range(12):  # twelve phones on new connections: both workers take some
            connection = http.client.HTTPConnection(host, int(port), timeout=10)
            connection.request("POST", form, body=f"score={1 + n % 5}&key=metrics-key-{n:04d}-pad",
                               headers={"Content-Type": "application/x-www-form-urlencoded",
                                        "User-Agent": f"phone {n}"})
            assert connection.getresponse().status == 303
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("POST", form, body="score=9&key=metrics-key-bad-0000",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert connection.getresponse().status == 400
        families = scrape(address)
    recorded = {s.labels["counted"]: s.value for s in families["feedback_ratings_recorded"]
                if s.name.endswith("_total")}
    assert recorded == {"yes": 12.0}  # twelve phones without a cookie, each its own browser
    refused = {s.labels["reason"]: s.value for s in families["feedback_ratings_refused"]
               if s.name.endswith("_total")}
    assert refused == {"pick_score": 1.0}
    pids = {s.labels.get("pid") for s in families["feedback_request_seconds"]}
    rate_count = sum(s.value for s in families["feedback_request_seconds"]
                     if s.name.endswith("_count") and s.labels["route"] == "/s/<code>/<token>")
    assert rate_count == 13 and pids == {None}  # summed across the workers
    assert families["feedback_database_bytes"][0].value > 0


def test_metrics_are_refused_to_addresses_not_allowed(app, client, monkeypatch):
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    app.config["METRICS_ALLOW"] = [__import__("ipaddress").ip_network("10.0.0.0/8")]
    refused = client.get("/metrics")
    assert refused.status_code == 403 and b"feedback_" not in refused.data


def test_events_are_json_lines_without_comments_passwords_or_addresses(db_path, clock, capsys,
                                                                       monkeypatch, runner,
                                                                       write_file):
    import json

    from app import create_app

    monkeypatch.setenv("FEEDBACK_LOG_FORMAT", "json")
    app = create_app({"DATABASE": db_path, "CLOCK": clock, "TESTING": True})
    stations = "code,name,district,tier,kind\nST-001,驿站,城区,city,fixed\n"
    app.test_cli_runner().invoke(args=["stations", "import", write_file("s.csv", stations)])
    client = app.test_client()
    form = links.path(TEST_SECRET, "ST-001", 1)
    client.post(form, data={"score": "9", "key": "events-key-000000", "comment": "厕所坏了 13800138000"})
    token = csrf_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "nobody", "password": "hunter2-secret",
                                "csrf_token": token})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    by_event = {line.get("event"): line for line in lines}
    assert by_event["rating_refused"]["reason"] == "pick_score"
    assert by_event["rating_refused"]["station"] == "ST-001"
    assert len(by_event["rating_refused"]["client"]) == 20
    assert by_event["sign_in_failed"]["username"] == "nobody"
    text = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    assert "厕所" not in text and "hunter2" not in text and "127.0.0.1" not in text
    app.extensions["feedback.db"].close()


def test_check_names_each_nights_work_that_is_owed(runner, clock, stations_loaded):
    assert runner.invoke(args=["scheduler", "run", "--once"]).exit_code == 0
    assert runner.invoke(args=["check"]).exit_code == 0
    clock.advance(days=1)  # a day on which the scheduler did not run
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1
    assert "the digest of 2026-11-28 has not gone out (the last was 2026-11-27)" in result.output
    assert ("the signals of 2026-11-28 have not been looked for (the last was 2026-11-27)"
            in result.output)
    assert "the downgrade scan has not run since 2026-11-28" in result.output


def test_check_owes_nothing_while_the_schedulers_first_runs_are_under_way(app):
    """Started ten minutes ago, in the morning: yesterday's signals are owed at once, but their
    first run may still be going; an hour later they are a problem."""
    from datetime import datetime, timedelta, timezone

    from jobs import health

    started = datetime(2026, 11, 28, 23, 38, tzinfo=timezone.utc)  # 07:38 on the 29th, local
    found = {"schema_version": 1, "schema_expected": 1, "outbox": {"failing": 0},
             "scheduler_first_started": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
             "last_done": {"digest": None, "signals": None, "downgrade": None, "report": None,
                           "backup": None}}
    assert health.problems(found, started + timedelta(minutes=10), app.config) == []
    assert health.problems(found, started + timedelta(hours=1, minutes=10), app.config) == [
        "the signals of 2026-11-28 have not been looked for (the last was never)"]


def test_a_backup_recounts_what_changed_since_the_last_checked_copy_and_all_once_a_week(
        runner, write_file, stations_loaded, db, clock, tmp_path):
    history = ("station_code,rated_at,score\nST-001,2026-10-01T10:00:00,5\n"
               "ST-002,2026-11-27T10:00:00,2\n")
    assert runner.invoke(args=["ratings", "import", write_file("h.csv", history)]).exit_code == 0

    def backup(*extra):
        return runner.invoke(args=["backup", str(tmp_path / "copy.db"), *extra])
    assert "every rollup recounted" in backup().output  # the first copy: whole
    db.execute("UPDATE city_days SET n1 = 9 WHERE day = '2026-10-01'")  # a day not changed since
    db.conn.commit()
    assert "what changed recounted" in backup().output      # passes: October is not looked at
    late = "station_code,rated_at,score\nST-001,2026-11-27T12:00:00,4\n"  # a late arrival
    assert runner.invoke(args=["ratings", "import", write_file("l.csv", late)]).exit_code == 0
    db.execute("UPDATE city_days SET n2 = 9 WHERE day = '2026-11-27'")
    db.conn.commit()
    failed = backup()
    assert failed.exit_code != 0 and "city_days: holds {'day': '2026-11-27'" in failed.output
    db.execute("UPDATE city_days SET n2 = 1 WHERE day = '2026-11-27'")
    db.conn.commit()
    assert "what changed recounted" in backup().output      # the failed check is checked again
    refused = backup("--full")
    assert refused.exit_code != 0 and "city_days: holds {'day': '2026-10-01'" in refused.output
    db.execute("UPDATE city_days SET n1 = 0 WHERE day = '2026-10-01'")
    db.conn.commit()
    assert "every rollup recounted" in backup("--full").output
    clock.advance(days=6)
    assert "what changed recounted" in backup().output
    clock.advance(days=1)
    assert "every rollup recounted" in backup().output      # a week since the last whole one
