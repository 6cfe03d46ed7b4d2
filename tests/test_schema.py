"""Schema migrations: older database files upgrade in place without loss."""
import multiprocessing
import sqlite3
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import create_app
from feedback.counts.ratings import day_number
from feedback.storage import schema
from feedback.storage.db import connect
from support import examples


def test_a_first_version_database_opens_under_the_current_code_with_its_data(db_path, clock):
    old = connect(db_path)
    assert schema.migrate(old, upto=1) == 1
    old.execute("""INSERT INTO stations (code, name, district, tier, kind, opened_on,
                   created_at, updated_at) VALUES ('OLD-1', '老驿站', '黄浦区', 'city', 'fixed',
                   '2020-01-01', '2020-01-01T00:00:00Z', '2020-01-01T00:00:00Z')""")
    old.execute("""INSERT INTO ratings (station_id, rated_at, day, score, source)
                   VALUES (1, '2024-01-01T02:00:00Z', '2024-01-01', 2, 'form')""")
    old.close()

    app = create_app({"DATABASE": db_path, "CLOCK": clock})
    with app.app_context():
        from feedback.storage.db import get_db

        assert schema.version(get_db()) == len(schema.MIGRATIONS)
    body = app.test_client().get("/api/v1/stations/OLD-1").get_json()
    assert (body["name"], body["ratings_total"], body["satisfaction_rate"]) == ("老驿站", 1, 0.0)
    assert body["last_rated_at"] == "2024-01-01T10:00:00+08:00"
    app.extensions["feedback.db"].close()


def test_the_monthly_and_city_rollups_are_built_in_place_from_a_database_of_the_last_layout(
        db_path):
    from feedback.counts import rollups
    from feedback.storage.db import write

    old = connect(db_path)
    schema.migrate(old, upto=11)  # the layout before the monthly and city rollups
    with write(old):
        old.execute("""INSERT INTO stations (code, name, district, tier, kind, opened_on,
                       created_at, updated_at) VALUES ('OLD-1', '老驿站', '黄浦区', 'city', 'fixed',
                       '2020-01-01', '2020-01-01T00:00:00Z', '2020-01-01T00:00:00Z')""")
        for n, (day, score) in enumerate([("2024-01-01", 2), ("2024-01-20", 5), ("2024-02-03", 4)]):
            old.execute("INSERT INTO ratings (station_id, rated_at, day, score, source) "
                        "VALUES (1, ?, ?, ?, 'import')", [f"{day}T02:00:00Z", day, score])
        # an inspector's exclusion of the February rating, under the old layout
        old.execute("""INSERT INTO exclusions (station_id, rating_id, reason, by, at)
                       VALUES (1, 3, 'a test', 'li', '2024-02-04T00:00:00Z')""")
        old.execute("INSERT INTO excluded_ratings VALUES (3, 1)")
    old.close()

    migrated = connect(db_path)
    schema.migrate(migrated)
    assert list(migrated.execute("SELECT month, n2, n4, n5 FROM station_months ORDER BY month")) == [
        ("2024-01", 1, 0, 1), ("2024-02", 0, 0, 0)]
    assert list(migrated.execute("SELECT day, n2 + n5 FROM city_days WHERE n1+n2+n3+n4+n5 > 0")) == [
        ("2024-01-01", 1), ("2024-01-20", 1)]
    # and the national ones (V13): districts' days and months, weeks, groups with rated stations
    assert list(migrated.execute("SELECT month, district, tier, rated, n2, n5 FROM group_months")) == [
        ("2024-01", "黄浦区", "city", 1, 1, 1), ("2024-02", "黄浦区", "city", 0, 0, 0)]
    assert list(migrated.execute("SELECT monday, n2 + n5 FROM station_weeks WHERE n1+n2+n3+n4+n5 > 0")) == [
        ("2024-01-01", 1), ("2024-01-15", 1)]
    assert rollups.differences(migrated) == []
    migrated.close()


def test_a_database_newer_than_the_code_is_refused(db_path):
    newer = connect(db_path)
    schema.migrate(newer)
    newer.execute(f"PRAGMA user_version = {len(schema.MIGRATIONS) + 1}")
    try:
        schema.migrate(newer)
    except RuntimeError as error:
        assert "newer than this code" in str(error)
    else:
        raise AssertionError("migrate() accepted a database from the future")
    finally:
        newer.close()


def rate_many(db_path: str, station_id: int, count: int, worker: int) -> None:
    """One process recording ratings as a web worker would, each in its own transaction."""
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    from feedback.counts.ratings import record
    from feedback.storage.db import once_key, write

    db = connect(db_path)
    schema.migrate(db)
    for i in range(count):
        with write(db):
            record(db, station_id=station_id, rated_at=datetime(2026, 11, 1, 4, tzinfo=timezone.utc),
                   score=1 + (i % 5), source="form", once_key=once_key(f"form:w{worker}-{i}"),
                   tz=ZoneInfo("Asia/Shanghai"))
    db.close()


def test_several_processes_writing_at_once_lose_nothing(db_path, db, stations_loaded):
    processes = [multiprocessing.get_context("spawn").Process(target=rate_many,
                                                               args=(db_path, 1, 200, n))
                 for n in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    assert db.execute("SELECT count(*) FROM ratings").fetchone()[0] == 800
    totals = db.execute("SELECT n1 + n2 + n3 + n4 + n5, n1, n5 FROM station_totals").fetchone()
    assert totals == (800, 160, 160)


def test_ratings_made_compact_in_place_keep_their_instants_keys_and_references(db_path, clock):
    """V14 rebuilds the ratings (instants as seconds, a form's once key as 12 bytes, none for an
    imported rating): a file imported before it and a form sent before it still count once
    after it, and every table that refers to a rating still does."""
    from datetime import datetime, timezone
    from urllib.parse import urlsplit

    from feedback.counts import rollups
    from feedback.storage.db import once_key, write
    old = connect(db_path)
    schema.migrate(old, upto=13)
    rated = datetime(2024, 1, 1, 2, 0, tzinfo=timezone.utc)
    imported = "import:" + "5e" * 16 + ":1"  # V13's key: a digest of what the row says
    with write(old):
        old.execute("""INSERT INTO stations (code, name, district, tier, kind, opened_on,
                       created_at, updated_at) VALUES ('ST-001', '老驿站', '黄浦区', 'city', 'fixed',
                       '2020-01-01', '2020-01-01T00:00:00Z', '2020-01-01T00:00:00Z')""")
        old.execute("INSERT INTO devices (key_hash, label, created_at) VALUES ('h', 'D-1', '2024-01-01T00:00:00Z')")
        old.execute("""INSERT INTO ratings (station_id, rated_at, day, score, comment, source, once_key)
                       VALUES (1, '2024-01-01T02:00:00Z', '2024-01-01', 2, '旧', 'import', ?)""", [imported])
        old.execute("""INSERT INTO ratings (station_id, rated_at, day, score, source, once_key, device_id)
                       VALUES (1, '2024-01-02T03:04:05Z', '2024-01-02', 5, 'form',
                               'form:sent-before-the-change', 1)""")
        old.execute("INSERT INTO rating_details VALUES (2, '很好', '', '2024-01-02T03:05:00Z')")
        old.execute("""INSERT INTO exclusions (station_id, rating_id, reason, by, at)
                       VALUES (1, 2, 'a test', 'li', '2024-01-03T00:00:00Z')""")
        old.execute("INSERT INTO excluded_ratings VALUES (2, 1)")
    old.close()

    app = create_app({"DATABASE": db_path, "CLOCK": clock, "TESTING": True})
    db = app.extensions["feedback.db"].get()
    assert schema.version(db) == len(schema.MIGRATIONS)
    assert list(db.execute("SELECT id, rated_at, once_key FROM ratings ORDER BY id")) == [
        (1, int(rated.timestamp()), None),
        (2, int(datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc).timestamp()),
         once_key("form:sent-before-the-change"))]
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    for table in ("rating_details", "exclusions", "excluded_ratings", "case_ratings"):
        assert "REFERENCES ratings (id)" in db.execute(
            "SELECT sql FROM sqlite_master WHERE name = ?", [table]).fetchone()[0]
    assert db.execute("SELECT n2, n5, last_rated_at FROM station_totals").fetchone() == (
        1, 0, "2024-01-01T02:00:00Z")  # the excluded rating stays out
    assert rollups.differences(db) == []

    runner = app.test_cli_runner()
    path = f"{db_path}.csv"
    with open(path, "w", encoding="utf-8") as out:
        out.write("station_code,rated_at,score,comment\nST-001,2024-01-01T10:00:00,2,旧\n")
    assert runner.invoke(args=["ratings", "import", path]).exit_code == 0
    form = urlsplit(runner.invoke(args=["stations", "url", "ST-001"]).output.strip()).path
    resent = app.test_client().post(form, data={"score": "5", "key": "sent-before-the-change"})
    assert resent.status_code == 303
    assert db.execute("SELECT count(*) FROM ratings").fetchone()[0] == 2  # both counted once
    app.extensions["feedback.db"].close()


def database_at(db_path, version: int, codes=("ST-001",)):
    """A database file at schema ``version`` holding a city station of each of ``codes``."""
    from feedback.storage.db import write
    old = connect(db_path)
    schema.migrate(old, upto=version)
    with write(old):
        for code in codes:
            old.execute("""INSERT INTO stations (code, name, district, tier, kind, opened_on,
                           created_at, updated_at) VALUES (?, '驿站', '黄浦区', 'city', 'fixed',
                           '2020-01-01', '2020-01-01T00:00:00Z', '2020-01-01T00:00:00Z')""", [code])
    return old


def test_the_last_weeks_once_keys_move_to_their_own_table_and_the_older_are_let_go(db_path, clock):
    """V18: a form's once key is kept a week in once_keys; the keys of the week up to the latest
    form rating move over, older ones go, and so does the unique index over the ratings."""
    from urllib.parse import urlsplit

    from feedback.storage.db import once_key, write
    old = database_at(db_path, 17)
    with write(old):
        for key, at in (("form:old", 1_763_900_000), ("form:recent-key-of-the-week", 1_764_400_000),
                        ("form:latest", 1_764_600_000)):  # the first more than a week before
            old.execute("""INSERT INTO ratings (station_id, rated_at, day, score, source, once_key)
                           VALUES (1, ?, date(?, 'unixepoch'), 5, 'form', ?)""",
                        [at, at, once_key(key)])
    old.close()

    app = create_app({"DATABASE": db_path, "CLOCK": clock, "TESTING": True})
    db = app.extensions["feedback.db"].get()
    assert sorted(db.execute("SELECT rating_id, at FROM once_keys")) == [
        (2, 1_764_400_000), (3, 1_764_600_000)]
    assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'ratings_once_key'"
                      ).fetchone()[0] == 0
    form = urlsplit(app.test_cli_runner().invoke(args=["stations", "url", "ST-001"]).output.strip()).path
    assert app.test_client().post(form, data={"score": "5", "key": "recent-key-of-the-week"}).status_code == 303
    assert db.execute("SELECT count(*) FROM ratings").fetchone()[0] == 3  # it counted once
    app.extensions["feedback.db"].close()


def test_the_rollups_indexes_of_days_and_mondays_go_and_their_readers_go_by_station(db_path):
    """V19 and V20: station_days loses its index of days and station_weeks its index of
    Mondays (12 bytes a rating at national scale); a digest's window and a week's lists of
    stations read each station's days and weeks along the key instead."""
    from feedback.counts import windows
    from feedback.storage.db import write
    from jobs import reports
    old = database_at(db_path, 18, codes=("ST-001", "ST-002"))
    with write(old):
        for station, day, score in ((1, "2026-10-31", 1), (1, "2026-11-01", 5), (2, "2026-11-23", 1),
                                    (2, "2026-11-30", 2)):  # ST-002 bad two weeks running
            old.execute("""INSERT INTO ratings (station_id, rated_at, day, score, source)
                           VALUES (?, unixepoch(?), ?, ?, 'import')""", [station, day, day, score])
    old.close()

    migrated = connect(db_path)
    schema.migrate(migrated)
    assert migrated.execute("""SELECT count(*) FROM sqlite_master
                               WHERE name IN ('station_days_day', 'station_weeks_monday')""").fetchone()[0] == 0
    windows.summed(migrated, date(2026, 11, 1), date(2026, 11, 30))
    assert list(migrated.execute("SELECT * FROM temp.past_window")) == [(1, 0, 0, 0, 0, 1),
                                                                       (2, 1, 1, 0, 0, 0)]
    lists = reports.station_lists(migrated, date(2026, 11, 30), *reports.scope_sql(None))
    assert [(s["code"], s["weeks"]) for s in lists["repeat_bad"]] == [("ST-002", 2)]
    migrated.close()


def test_the_ratings_day_index_keys_the_day_number_and_a_days_readers_reach_it(db_path):
    """V21: the ratings' index of days keys each day as a number, not its text; a V20 database
    migrates in place, and the readers of a day across stations find its ratings through it."""
    from zoneinfo import ZoneInfo

    from feedback.counts.ratings import for_export, on_days
    from feedback.storage.db import write
    old = database_at(db_path, 20)
    with write(old):
        for day, score in (("2026-10-31", 1), ("2026-11-01", 5), ("2026-11-01", 2), ("2026-11-02", 3)):
            old.execute("""INSERT INTO ratings (station_id, rated_at, day, score, source)
                           VALUES (1, unixepoch(?) + 3600, ?, ?, 'import')""", [day, day, score])
    old.close()

    migrated = connect(db_path)
    schema.migrate(migrated)
    indexes = {row[0] for row in migrated.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ratings'")}
    assert "ratings_day" not in indexes and "ratings_day_number" in indexes
    _, days, values = on_days(date(2026, 11, 1), date(2026, 11, 1))
    plan = " ".join(row[3] for row in migrated.execute(
        f"EXPLAIN QUERY PLAN SELECT score FROM ratings WHERE {days}", values))
    assert "USING INDEX ratings_day_number" in plan
    assert sorted(row[0] for row in migrated.execute(
        f"SELECT score FROM ratings WHERE {days}", values)) == [2, 5]
    exported = for_export(migrated, date(2026, 11, 1), date(2026, 11, 2), ZoneInfo("Asia/Shanghai"))
    assert [row["score"] for row in exported] == [5, 2, 3]
    migrated.close()


def test_references_are_checked_after_a_table_is_rebuilt_only(db_path):
    """The foreign key check after a migration reads every row that refers to another: at
    national scale minutes, so only a migration that rebuilds a table runs it, and a start with
    nothing to migrate never does."""
    db = connect(db_path)
    statements = []
    db.conn.set_trace_callback(statements.append)
    schema.migrate(db, upto=13)
    assert statements and not any("foreign_key_check" in sql for sql in statements)
    schema.migrate(db, upto=14)  # the ratings rebuilt
    assert any("foreign_key_check" in sql for sql in statements)
    statements.clear()
    schema.migrate(db)
    schema.migrate(db)
    assert statements and not any("foreign_key_check" in sql for sql in statements)
    db.close()


@pytest.mark.fuzz
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
@settings(max_examples=examples(100))
def test_a_days_number_is_the_one_its_index_keys(day):
    """The day index is reached with values worked out in Python (feedback.counts.ratings.day_number):
    they must be the numbers SQLite's expression gives the stored text."""
    stored = sqlite3.connect(":memory:").execute(
        f"SELECT {schema.DAY_NUMBER.format(day='?')}", [day.isoformat()]).fetchone()[0]
    assert stored == day_number(day)


def test_schema_sql_is_what_the_migrations_make(db_path):
    """schema.sql is how a reader sees the schema at once: `make schema` writes it afresh after a
    migration is added, and this fails until it has."""
    fresh = connect(db_path)
    schema.migrate(fresh)
    written = schema.CURRENT.read_text(encoding="utf-8")
    assert written.split("\n", 2)[2] == schema.dump(fresh), "run `make schema`"
    assert f"(version {len(schema.MIGRATIONS)})" in written.splitlines()[0]


def test_the_migrations_run_in_the_order_of_their_numbers():
    numbers = [int(path.name[1:3]) for path in sorted(schema.MIGRATIONS_DIR.glob("v*.sql"))]
    assert numbers == list(range(1, len(schema.MIGRATIONS) + 1))


def test_the_day_index_is_keyed_by_the_day_number_queries_name_it_by():
    """A query reaches the ratings' day index only through the very expression that keys it."""
    index = f"CREATE INDEX ratings_day_number ON ratings ({schema.DAY_NUMBER.format(day='day')}, rated_at)"
    assert index in schema.MIGRATIONS[20]


def test_the_widened_held_reason_keeps_the_ratings_and_trusts_the_phones_known(db_path):
    """V23 edits the ratings' CHECK in place (no copy of the table): the rows stay, the new reason
    is accepted, every connection sees the new schema, and the phones counted so far stay
    trusted by their cookies."""
    old = connect(db_path)
    schema.migrate(old, upto=22)
    old.execute("""INSERT INTO stations (code, name, district, tier, kind, opened_on, created_at,
                   updated_at) VALUES ('S', 's', 'd', 'city', 'fixed', '2024-01-01', '', '')""")
    old.execute("INSERT INTO devices (key_hash, label, created_at) VALUES ('h', 'l', '')")
    old.execute("""INSERT INTO ratings (station_id, rated_at, day, score, source, device_id,
                   held_reason) VALUES (1, 1764300000, '2025-11-28', 4, 'form', 1, 'repeat')""")
    other = connect(db_path)  # a process that read the schema before
    other.execute("SELECT count(*) FROM ratings").fetchone()
    before = old.execute("PRAGMA schema_version").fetchone()[0]
    schema.migrate(old)
    assert old.execute("PRAGMA schema_version").fetchone()[0] > before + 1
    assert old.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert old.execute("SELECT held_reason FROM ratings").fetchall() == [("repeat",)]
    assert old.execute("SELECT kind, trusted_from FROM devices").fetchall() == [("cookie", 0)]
    other.execute("""INSERT INTO ratings (station_id, rated_at, day, score, source, held_reason)
                     VALUES (1, 1764300001, '2025-11-28', 4, 'form', 'same_network')""")
    try:
        other.execute("""INSERT INTO ratings (station_id, rated_at, day, score, source, held_reason)
                         VALUES (1, 1764300002, '2025-11-28', 4, 'form', 'anything')""")
    except sqlite3.IntegrityError:
        pass
    else:
        raise AssertionError("the CHECK let an unknown reason in")
    old.close()
    other.close()
