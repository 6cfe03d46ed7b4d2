"""The hot reads' cost follows the day, week, month or window asked for, not the history: every
statement they run is planned without scanning the ratings or the daily rollups whole."""
import re
from datetime import date, timedelta

import pytest

from feedback.counts import windows
from feedback.counts.counting import exclude_device
from feedback.storage.db import write
from support import once_key, sign_in

# Tables whose rows grow with the history: a plan may search them by an index, never scan them.
HISTORY = ("ratings", "station_days", "rating_details", "excluded_ratings", "station_weeks",
           "station_months", "station_windows", "district_days", "district_months", "cases",
           "case_steps", "visits", "station_history", "signals")
# "SCAN t" reads t whole, by its rows or along an index; "SEARCH t USING INDEX" reads a range,
# which for the ratings must be narrower than one station's (its whole history).
WHOLE_SCAN = re.compile(rf"\bSCAN ({'|'.join(HISTORY)})\b"
                        r"|\bSEARCH ratings USING (COVERING )?INDEX \S+ \(station_id=\?\)")


@pytest.fixture
def traced(app, db, monkeypatch, runner, write_file, stations_loaded):
    """The SQL every connection of the app runs from now on, with its values."""
    history = "station_code,rated_at,score,comment\n" + "".join(
        f"ST-00{1 + n % 2},2026-{1 + n % 11:02d}-{1 + n % 27:02d}T10:00:00,{1 + n % 5},评论{n}\n"
        for n in range(200))
    assert runner.invoke(args=["ratings", "import", write_file("h.csv", history)]).exit_code == 0
    statements = []
    connections = app.extensions["feedback.db"]
    original = connections.get

    def get():
        found = original()
        found.conn.set_trace_callback(statements.append)
        return found
    monkeypatch.setattr(connections, "get", get)
    return statements


def whole_scans(db, statements: list[str]) -> list[str]:
    """The statements among these whose plan reads a history table from end to end."""
    found = []
    for sql in statements:
        if not sql.lstrip().upper().startswith(("SELECT", "WITH", "INSERT INTO EXCLUDED_RATINGS",
                                                 "INSERT INTO STATION_WINDOWS",
                                                 "INSERT INTO STATION_TOTALS")):
            continue
        plan = "\n".join(row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}"))
        if WHOLE_SCAN.search(plan):
            found.append(f"{' '.join(sql.split())[:300]}\n    {plan}")
    return found


@pytest.mark.parametrize("command", [
    ["digest", "show", "--date", "2026-11-27", "--json"],
    ["digest", "show", "--date", "2026-11-27", "--district", "黄浦区"],
    ["downgrade", "scan", "--json"],
    ["downgrade", "scan", "--as-of", "2025-11-28", "--json"],
    ["report", "week", "--week", "2026-W47", "--json"],
    ["report", "month", "--month", "2026-10", "--json"],
    ["ratings", "export", "-", "--from", "2026-10-01", "--to", "2026-10-31"],
    ["signals", "scan", "--date", "2026-10-27", "--json"],
])
def test_the_commands_hot_reads_scan_no_history(runner, db, traced, command):
    result = runner.invoke(args=command)
    assert result.exit_code == 0, result.output
    assert traced, "nothing was traced"
    assert whole_scans(db, traced) == []


@pytest.mark.parametrize("path", [
    "/digests/2026-11-27", "/stations", "/stations/ST-001", "/reports/weeks/2026-W47",
    "/reports/months/2026-10", "/api/v1/stations?limit=50",
    "/api/v1/stations/ST-001/ratings?from=2026-10-01&to=2026-10-30", "/signals", "/api/v1/signals",
])
def test_the_staff_pages_hot_reads_scan_no_history(client, db, traced, make_user, path):
    make_user("wang", "admin")
    sign_in(client, "wang")
    traced.clear()
    assert client.get(path).status_code == 200
    assert whole_scans(db, traced) == []


def test_a_workers_rating_and_its_repeat_rule_scan_no_history(client, db, traced, form_path):
    traced.clear()
    for _ in range(2):  # the second is this phone's repeat today, found by the repeat rule
        key = once_key(client.get(form_path).get_data(as_text=True))
        assert client.post(form_path, data={"score": "4", "key": key}).status_code == 303
    assert whole_scans(db, traced) == []
    assert [row[0] for row in db.execute(
        "SELECT held_reason FROM ratings WHERE source = 'form' ORDER BY id")] == [None, "repeat"]


def test_an_exclusion_of_a_devices_ratings_scans_no_history(db, traced, clock, form_path, client):
    key = once_key(client.get(form_path).get_data(as_text=True))
    client.post(form_path, data={"score": "2", "key": key})
    label = db.execute("SELECT label FROM devices").fetchone()[0]
    traced.clear()
    with write(db):
        taken = exclude_device(db, 1, label, clock.now().date(), clock.now().date(), "a test",
                               "li", clock.now())
    assert taken["ratings"] == 1
    assert any(sql.startswith("INSERT INTO excluded_ratings") for sql in traced)
    assert whole_scans(db, traced) == []


def test_a_window_made_moved_or_summed_scans_no_history(db, traced):
    """A digest's window: made whole, moved on a day, or summed for a day older than the kept."""
    statements = []
    db.conn.set_trace_callback(statements.append)
    first, last = date(2026, 10, 1), date(2026, 10, 30)
    with write(db):
        windows.ensure(db, first, last)
        windows.ensure(db, first + timedelta(days=1), last + timedelta(days=1))
    windows.summed(db, first, last)
    db.conn.set_trace_callback(None)
    statements = [sql.replace("CREATE TEMP TABLE past_window AS", "") for sql in statements
                  if "station_days" in sql]
    assert len(statements) == 4  # made, moved (a day in, a day out), summed
    assert whole_scans(db, statements) == []


def test_a_rebuild_recounts_the_windows_along_the_day_index(db):
    """`rollups rebuild` recounts each kept window's thirty days, not every rating once a window."""
    from feedback.counts import rollups
    plan = "\n".join(row[3] for row in db.execute(
        f"EXPLAIN QUERY PLAN {rollups.RECOUNTS['station_windows'][1]}"))
    assert "SEARCH ratings USING INDEX ratings_day_number" in plan
    assert whole_scans(db, [rollups.RECOUNTS["station_windows"][1]]) == []


@pytest.mark.parametrize("command", [
    ["digest", "show", "--date", "2026-10-27", "--json"],
    ["ratings", "export", "-", "--from", "2026-10-01", "--to", "2026-10-31"],
])
def test_a_days_ratings_across_stations_are_read_in_the_day_index_order_not_sorted(
        runner, db, traced, command):
    """The nation's first fifty bad ratings of a day, and an export's days, are read along the
    day index in its order: a sort would read the nation's whole day (270,000 ratings) first."""
    assert runner.invoke(args=command).exit_code == 0
    plans = {sql: "\n".join(row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}"))
             for sql in traced if sql.lstrip().startswith("SELECT") and "ORDER BY" in sql}
    along_days = [plan for plan in plans.values() if "ratings_day_number" in plan]
    assert along_days
    assert not [plan for plan in along_days if "TEMP B-TREE FOR ORDER BY" in plan]


def test_an_import_adds_up_only_the_ratings_it_added(runner, db, traced, write_file):
    more = "station_code,rated_at,score,comment\nST-001,2026-11-20T10:00:00,5,\n"
    assert runner.invoke(args=["ratings", "import", write_file("more.csv", more)]).exit_code == 0
    added_up = [sql for sql in traced if sql.startswith("INSERT INTO station_totals")]
    assert len(added_up) == 1
    assert whole_scans(db, added_up) == []
