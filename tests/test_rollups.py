"""`rollups check` finds a rollup that disagrees with the ratings; `rollups rebuild` mends it."""

RATINGS = """station_code,rated_at,score,comment
ST-001,2026-10-01T10:00:00,5,
ST-001,2026-10-01T11:00:00,1,
ST-002,2026-11-02T10:00:00,3,
"""


def test_check_finds_a_corrupted_rollup_and_rebuild_mends_it(runner, write_file, stations_loaded, db):
    assert runner.invoke(args=["ratings", "import", write_file("r.csv", RATINGS)]).exit_code == 0
    assert runner.invoke(args=["rollups", "check"]).exit_code == 0
    db.execute("UPDATE station_months SET n5 = 7 WHERE month = '2026-10'")  # a mistaken hand
    db.execute("UPDATE station_totals SET last_rated_at = NULL WHERE station_id = 2")
    db.conn.commit()

    found = runner.invoke(args=["rollups", "check"])
    assert found.exit_code == 1
    assert "station_months: holds {'station_id': 1, 'month': '2026-10', 'n1': 1" in found.output
    assert "station_totals: misses {'station_id': 2" in found.output
    # the month's mistake reached the groups' months through their trigger
    assert "group_months: holds {'month': '2026-10'" in found.output

    rebuilt = runner.invoke(args=["rollups", "rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "6 difference(s) mended" in rebuilt.output
    assert runner.invoke(args=["rollups", "check"]).exit_code == 0
    assert db.execute("SELECT n1, n5 FROM station_months WHERE month = '2026-10'").fetchone() == (1, 1)



HISTORY = """station_code,rated_at,score,comment
ST-001,2026-10-01T10:00:00,5,
ST-002,2026-10-01T11:00:00,1,
ST-001,2026-11-27T10:00:00,4,
ST-002,2026-11-27T11:00:00,2,
"""
DAY_ROLLUPS = {  # a wrong row in each rollup a day's ratings go into
    "station_days": "UPDATE station_days SET n5 = n5 + 3 WHERE day = :day AND station_id = 1",
    "city_days": "UPDATE city_days SET n4 = n4 + 3 WHERE day = :day",
    "district_days": "UPDATE district_days SET n2 = n2 + 3 WHERE day = :day",
    "station_months": "UPDATE station_months SET n1 = n1 + 3 WHERE month = substr(:day, 1, 7)",
    "station_weeks": "UPDATE station_weeks SET n3 = n3 + 3 WHERE monday = date(:day, 'weekday 0', '-6 days')",
    "district_months": "UPDATE district_months SET n5 = n5 + 3 WHERE month = substr(:day, 1, 7)",
    "group_months": "UPDATE group_months SET n2 = n2 + 3 WHERE month = substr(:day, 1, 7)",
}


def test_a_recount_of_some_days_finds_what_is_wrong_in_every_rollup_they_go_into(
        runner, write_file, stations_loaded, db):
    from feedback.counts import rollups
    assert runner.invoke(args=["ratings", "import", write_file("h.csv", HISTORY)]).exit_code == 0
    assert rollups.differences(db, ["2026-11-27"]) == [] == rollups.differences(db)
    for table, wrong in DAY_ROLLUPS.items():
        with db.conn:
            db.execute("SAVEPOINT mistaken")
            db.execute("DROP TRIGGER IF EXISTS station_days_change")  # the mistake stays put
            db.execute("DROP TRIGGER IF EXISTS station_days_change_around")
            db.execute("DROP TRIGGER IF EXISTS station_months_change")
            db.execute(wrong, {"day": "2026-11-27"})
            assert any(line.startswith(f"{table}: ") for line in
                       rollups.differences(db, ["2026-11-27"])), table
            # the other day's rollups are not looked at: a recount that follows the days
            assert not any(line.startswith(f"{table}: ") for line in
                           rollups.differences(db, ["2026-10-01"])), table
            db.execute("ROLLBACK TO mistaken")
            db.execute("RELEASE mistaken")


def test_check_quick_recounts_today_only(runner, write_file, stations_loaded, db, client,
                                         station_url):
    from urllib.parse import urlsplit
    path = urlsplit(station_url("ST-001")).path
    key = client.get(path).get_data(as_text=True).split('name="key" value="')[1].split('"')[0]
    client.post(path, data={"score": "5", "key": key})  # today, 2026-11-28
    assert runner.invoke(args=["ratings", "import", write_file("h.csv", HISTORY)]).exit_code == 0
    db.execute("UPDATE city_days SET n1 = 9 WHERE day = '2026-10-01'")  # an old mistake
    db.conn.commit()
    quick = runner.invoke(args=["check", "--quick"])
    assert "city_days" not in quick.output and "integrity" not in quick.output
    assert "city_days: holds {'day': '2026-10-01'" in runner.invoke(args=["check"]).output
    db.execute("UPDATE city_days SET n5 = 9 WHERE day = '2026-11-28'")  # today's
    db.conn.commit()
    assert "city_days: holds {'day': '2026-11-28'" in runner.invoke(args=["check", "--quick"]).output
