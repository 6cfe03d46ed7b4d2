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

