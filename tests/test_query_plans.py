"""The hot reads' cost follows the day, week, month or window asked for, not the history: every
statement they run is planned without scanning the ratings or the daily rollups whole, and
planned the same whether or not ``ANALYZE`` has run (a database made by `stations import` has no
statistics; one an operator analysed has them).

The statements are those a real request or command runs, traced; their plans are asked of three
copies of a city made the way users make one (`stations import`, `ratings import`): without
statistics, analysed, and analysed with every count scaled to a nation's."""
import random
import re
import shutil
import sqlite3
from datetime import date, timedelta

import pytest

from app import create_app
from feedback.counts import windows
from feedback.counts.counting import exclude_device
from feedback.storage.db import write
from support import STATIONS_CSV, once_key, sign_in

# Tables whose rows grow with the history: a plan may search them by an index, never scan them.
HISTORY = ("ratings", "station_days", "rating_details", "excluded_ratings", "station_weeks",
           "station_months", "station_windows", "district_days", "district_months", "cases",
           "case_steps", "visits", "station_history", "signals")
# "SCAN t" reads t whole, by its rows or along an index; "SEARCH t USING INDEX" reads a range,
# which for the ratings must be narrower than one station's (its whole history). The stations
# are read whole only for a list of them all, never to answer a question about a place.
WHOLE_SCAN = re.compile(rf"\bSCAN ({'|'.join(HISTORY)})\b"
                        r"|\bSEARCH ratings USING (COVERING )?INDEX \S+ \(station_id=\?\)")
# what a plan may start with: a statement about the data, not a pragma or a write of one row
PLANNED = ("SELECT", "WITH", "INSERT INTO EXCLUDED_RATINGS", "INSERT INTO STATION_WINDOWS",
           "INSERT INTO STATION_TOTALS", "INSERT INTO SIGNALS")
CITY_STATIONS, CITY_RATINGS = 1_500, 30_000
NATION = 200  # the analysed city's counts times this: 300,000 stations, 6 M ratings


@pytest.fixture(scope="session")
def city_file(tmp_path_factory):
    """A city's database made as users make one: the test stations and 1,500 more around
    Shanghai through `stations import`, a year of 30,000 ratings through `ratings import`."""
    folder = tmp_path_factory.mktemp("city")
    source = random.Random(7)
    hours = ("24h", "08:00-20:00", "07:00-11:30;13:30-21:00", "")
    stations = "code,name,district,address,latitude,longitude,tier,kind,amenities,hours\n" + "".join(
        f"C-{n:04d},驿站{n},区{n % 16},,{31.0 + source.random() * 0.5:.5f},"
        f"{121.2 + source.random() * 0.5:.5f},city,fixed,water,{source.choice(hours)}\n"
        for n in range(CITY_STATIONS))
    ratings = "station_code,rated_at,score,comment\n" + "".join(
        f"C-{source.randrange(CITY_STATIONS):04d},2026-{source.randint(1, 11):02d}-"
        f"{source.randint(1, 27):02d}T{source.randint(7, 21):02d}:00:00,{source.randint(1, 5)},\n"
        for _ in range(CITY_RATINGS))
    (folder / "test.csv").write_text(STATIONS_CSV, encoding="utf-8")
    (folder / "stations.csv").write_text(stations, encoding="utf-8")
    (folder / "ratings.csv").write_text(ratings, encoding="utf-8")
    path = folder / "city.db"
    app = create_app({"DATABASE": str(path), "TESTING": True, "SECRET_KEY": "city"})
    runner = app.test_cli_runner()
    for command in (["stations", "import", str(folder / "test.csv")],
                    ["stations", "import", str(folder / "stations.csv")],
                    ["ratings", "import", str(folder / "ratings.csv")]):
        result = runner.invoke(args=command)
        assert result.exit_code == 0, result.output
    app.extensions["feedback.db"].close()
    return path


@pytest.fixture(scope="session")
def statistics(city_file, tmp_path_factory):
    """Read-only connections to copies of the city: without statistics (as every import leaves
    a database), analysed, and analysed with its counts scaled to a nation's."""
    folder = tmp_path_factory.mktemp("statistics")
    copies = {}
    for name in ("none", "analysed", "national"):
        copy = folder / f"{name}.db"
        shutil.copy(city_file, copy)
        if name != "none":
            with sqlite3.connect(copy) as conn:
                conn.execute("ANALYZE")
                if name == "national":
                    for table, index, stat in conn.execute("SELECT * FROM sqlite_stat1").fetchall():
                        first, *rest = stat.split(" ")
                        conn.execute("UPDATE sqlite_stat1 SET stat = ? WHERE tbl = ? AND idx IS ?",
                                     [" ".join([str(int(first) * NATION), *rest]), table, index])
        copies[name] = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    assert copies["none"].execute("SELECT count(*) FROM sqlite_master "
                                  "WHERE name = 'sqlite_stat1'").fetchone()[0] == 0
    yield copies
    for conn in copies.values():
        conn.close()


@pytest.fixture
def db_path(tmp_path, city_file):
    """Each test starts from its own copy of the city."""
    path = tmp_path / "feedback.db"
    shutil.copy(city_file, path)
    return str(path)


@pytest.fixture
def traced(app, db, monkeypatch, stations_loaded):
    """The SQL every connection of the app runs from now on, with its values."""
    statements = []
    connections = app.extensions["feedback.db"]
    original = connections.get

    def get():
        found = original()
        found.conn.set_trace_callback(statements.append)
        return found
    monkeypatch.setattr(connections, "get", get)
    return statements


def assert_planned_well(statistics, statements: list[str]) -> None:
    found = badly_planned(statistics, statements)
    assert not found, "\n\n".join(found)


def plan(conn, sql: str) -> str:
    """The statement's plan; a Bloom filter SQLite adds to a lookup with statistics is left out:
    it changes no order and no index."""
    return "\n".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")
                     if not row[3].startswith("BLOOM FILTER"))


def badly_planned(statistics, statements: list[str]) -> list[str]:
    """The statements among these whose plan reads a history table from end to end, or whose
    plan changes with the statistics SQLite has."""
    found = []
    for sql in statements:
        if not sql.lstrip().upper().startswith(PLANNED) or re.search(r"\btemp\.|past_window", sql):
            continue  # a temporary table lives on its own connection
        plans = {name: plan(conn, sql) for name, conn in statistics.items()}
        shown = f"{' '.join(sql.split())[:300]}"
        if len(set(plans.values())) > 1:
            found.append(f"{shown}\n    planned differently: " + "\n    ".join(
                f"{name}: {text}" for name, text in plans.items()))
        elif WHOLE_SCAN.search(plans["none"]):
            found.append(f"{shown}\n    {plans['none']}")
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
def test_the_commands_hot_reads_scan_no_history(statistics, runner, db, traced, command):
    result = runner.invoke(args=command)
    assert result.exit_code == 0, result.output
    assert traced, "nothing was traced"
    assert_planned_well(statistics, traced)


@pytest.mark.parametrize("path", [
    "/digests/2026-11-27", "/stations", "/stations/ST-001", "/reports/weeks/2026-W47",
    "/reports/months/2026-10", "/api/v1/stations?limit=50",
    "/api/v1/stations/ST-001/ratings?from=2026-10-01&to=2026-10-30", "/signals", "/api/v1/signals",
])
def test_the_staff_pages_hot_reads_scan_no_history(statistics, client, db, traced, make_user, path):
    make_user("wang", "admin")
    sign_in(client, "wang")
    traced.clear()
    assert client.get(path).status_code == 200
    assert_planned_well(statistics, traced)


# Around People's Square (WGS-84, as a phone reports it), among the city's stations.
HERE = "lat=31.2285&lon=121.469"


@pytest.mark.parametrize("path", [
    f"/api/v1/public/stations?{HERE}",
    f"/api/v1/public/stations?{HERE}&open_now=1&amenity=water&kind=fixed&limit=50",
    f"/api/v1/public/stations?{HERE}&radius_m=300",
    f"/near?{HERE}", f"/near?{HERE}&open_now=1", "/near?district=区3&open_now=1", "/near",
    "/api/v1/public/stations.geojson",
])
def test_the_finder_starts_from_the_place_whatever_the_statistics(statistics, client, traced,
                                                                   path):
    """The nearest stations are found through the R*Tree of places, then looked up one by one:
    never every listed station probed against the R*Tree (a second at 200,000 stations)."""
    traced.clear()
    assert client.get(path).status_code == 200
    assert_planned_well(statistics, traced)
    near = [sql for sql in traced if "station_places" in sql]
    for sql in near:
        first = plan(statistics["none"], sql).splitlines()[0]
        assert first.startswith("SCAN station_places VIRTUAL TABLE"), (sql, first)
    assert near or "geojson" in path or "district" in path or path == "/near"


def test_the_geojson_feeds_304_and_the_thank_you_pages_nearby_read_no_more(
        statistics, client, traced, form_path):
    feed = client.get("/api/v1/public/stations.geojson", buffered=True)
    key = once_key(client.get(form_path).get_data(as_text=True))
    thanks = client.post(form_path, data={"score": "5", "key": key}).headers["Location"]
    traced.clear()
    assert client.get("/api/v1/public/stations.geojson",
                      headers={"If-None-Match": feed.headers["ETag"]}).status_code == 304
    page = client.get(thanks).get_data(as_text=True)
    assert "附近" in page  # the three nearest other open stations are listed
    assert any("station_places" in sql for sql in traced)
    assert_planned_well(statistics, traced)


def test_a_workers_rating_and_its_repeat_rule_scan_no_history(statistics, client, db, traced, form_path):
    traced.clear()
    for _ in range(2):  # the second is this phone's repeat today, found by the repeat rule
        key = once_key(client.get(form_path).get_data(as_text=True))
        assert client.post(form_path, data={"score": "4", "key": key}).status_code == 303
    assert_planned_well(statistics, traced)
    assert [row[0] for row in db.execute(
        "SELECT held_reason FROM ratings WHERE source = 'form' ORDER BY id")] == [None, "repeat"]


def test_an_exclusion_of_a_devices_ratings_scans_no_history(statistics, db, traced, clock, form_path, client):
    key = once_key(client.get(form_path).get_data(as_text=True))
    client.post(form_path, data={"score": "2", "key": key})
    label = db.execute("SELECT label FROM devices").fetchone()[0]
    traced.clear()
    with write(db):
        taken = exclude_device(db, 1, label, clock.now().date(), clock.now().date(), "a test",
                               "li", clock.now())
    assert taken["ratings"] == 1
    assert any(sql.startswith("INSERT INTO excluded_ratings") for sql in traced)
    assert_planned_well(statistics, traced)


def test_a_window_made_moved_or_summed_scans_no_history(statistics, db, traced):
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
    assert_planned_well(statistics, statements)


def test_a_rebuild_recounts_the_windows_along_the_day_index(statistics, db):
    """`rollups rebuild` recounts each kept window's thirty days, not every rating once a window."""
    from feedback.counts import rollups
    plan = "\n".join(row[3] for row in db.execute(
        f"EXPLAIN QUERY PLAN {rollups.RECOUNTS['station_windows'][1]}"))
    assert "SEARCH ratings USING INDEX ratings_day_number" in plan
    assert_planned_well(statistics, [rollups.RECOUNTS["station_windows"][1]])


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


def test_an_import_adds_up_only_the_ratings_it_added(statistics, runner, db, traced, write_file):
    more = "station_code,rated_at,score,comment\nST-001,2026-11-20T10:00:00,5,\n"
    assert runner.invoke(args=["ratings", "import", write_file("more.csv", more)]).exit_code == 0
    added_up = [sql for sql in traced if sql.startswith("INSERT INTO station_totals")]
    assert len(added_up) == 1
    assert_planned_well(statistics, added_up)


def test_a_recount_of_some_days_reads_those_days_not_the_history(statistics, db):
    """check --quick and a night's backup recount the days that changed: along the day index,
    the stations rated on them, and their months, weeks and windows, by key."""
    from feedback.counts import rollups
    statements = []
    db.conn.set_trace_callback(statements.append)
    assert rollups.differences(db, ["2026-11-27", "2026-10-03"]) == []
    db.conn.set_trace_callback(None)
    assert len(statements) == len(rollups.RECOUNTS_OF_DAYS)
    assert_planned_well(statistics, statements)
