"""`digest show` and `downgrade scan` on an imported history, at day and month edges."""
import json
from datetime import datetime, timezone

import pytest

from feedback.counts.counting import exclude_rating
from feedback.storage.db import write
from support import NOON

# Instants around local (Shanghai) day and month edges, in several notations.
HISTORY = """station_code,rated_at,score,comment
ST-001,2026-11-26T15:59:59Z,5,23:59:59 on the 26th local
ST-001,2026-11-26T16:00:00Z,4,midnight: the 27th local
ST-001,2026-11-27 23:59:59,2,last second of the 27th
ST-002,2026-11-28T00:00:00+08:00,1,the 28th
ST-002,2026-11-27T09:30:00+09:00,3,08:30 on the 27th local
ST-003,2026-08-31T23:59:59+08:00,5,last second of August
ST-002,2026-08-31T16:00:00Z,5,first instant of September local
"""


@pytest.fixture
def history(runner, write_file, stations_loaded):
    opened = "code,name,district,tier,kind,opened_on\nST-003,银行网点驿站,静安区,provincial,partner,2023-05-01\n"
    assert runner.invoke(args=["stations", "import", write_file("o.csv", opened)]).exit_code == 0
    result = runner.invoke(args=["ratings", "import", write_file("h.csv", HISTORY)])
    assert result.exit_code == 0, result.output


def show(runner, *args):
    result = runner.invoke(args=["digest", "show", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def scan(runner, as_of):
    result = runner.invoke(args=["downgrade", "scan", "--as-of", as_of, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_digest_counts_the_local_day(runner, history):
    digest = show(runner, "--date", "2026-11-27")
    assert digest["date"] == "2026-11-27"
    assert digest["ratings_total"] == 3
    assert digest["satisfaction_rate"] == pytest.approx(2 / 3)
    assert [b["comment"] for b in digest["bad_ratings"]] == ["last second of the 27th"]
    assert digest["districts"] == [
        {"district": "浦东新区", "ratings_total": 1, "satisfaction_rate": 1.0, "mean_score": 3.0,
         "distribution": {"5": 0, "4": 0, "3": 1, "2": 0, "1": 0}, "bad_ratings_total": 0},
        {"district": "静安区", "ratings_total": 0, "satisfaction_rate": None, "mean_score": None,
         "distribution": {"5": 0, "4": 0, "3": 0, "2": 0, "1": 0}, "bad_ratings_total": 0},
        {"district": "黄浦区", "ratings_total": 2, "satisfaction_rate": 0.5, "mean_score": 3.0,
         "distribution": {"5": 0, "4": 1, "3": 0, "2": 1, "1": 0}, "bad_ratings_total": 1},
    ]
    assert show(runner, "--date", "2026-11-26")["ratings_total"] == 1


def test_digest_defaults_to_yesterday_by_the_local_clock(runner, history, clock):
    clock.instant = datetime(2026, 11, 27, 16, 30, tzinfo=timezone.utc)  # 00:30 on the 28th
    assert show(runner)["date"] == "2026-11-27"


def test_digest_of_one_district(runner, history):
    digest = show(runner, "--date", "2026-11-27", "--district", "黄浦区")
    assert (digest["scope"], digest["ratings_total"]) == ("黄浦区", 2)


def test_digest_text_is_readable(runner, history):
    result = runner.invoke(args=["digest", "show", "--date", "2026-11-27"])
    assert "驿站服务日报 2026-11-27" in result.output
    assert "差评 1 条" in result.output


def test_digest_lists_quiet_stations_and_open_flags(runner, history):
    assert show(runner, "--date", "2026-11-27")["flagged_total"] == 0
    assert {f["code"] for f in scan(runner, "2026-12-01")} == {"ST-003"}
    digest = show(runner, "--date", "2026-12-31")
    assert digest["flagged_total"] == 1
    assert [(s["code"], s["days"]) for s in digest["quiet_60"]] == [("ST-003", 122)]
    assert [s["code"] for s in digest["quiet_30"]] == ["ST-001", "ST-002"]


def test_scan_at_the_month_edges(runner, write_file):
    stations = ("code,name,district,tier,kind,opened_on\n"
                "AUG,八月底,黄浦区,provincial,fixed,2020-01-01\n"
                "SEP,九月初,黄浦区,national,fixed,2020-01-01\n")
    ratings = ("station_code,rated_at,score\n"
               "AUG,2026-08-31T15:59:59Z,5\n"        # 23:59:59 on 31 August, local
               "SEP,2026-09-01T00:00:00+08:00,5\n")  # the first instant of September
    runner.invoke(args=["stations", "import", write_file("s.csv", stations)])
    runner.invoke(args=["ratings", "import", write_file("r.csv", ratings)])
    # At 2026-12-01 the window is September to November: August does not count.
    found = scan(runner, "2026-12-01")
    assert found == [{"code": "AUG", "tier": "provincial", "proposed_tier": "city",
                      "last_rated_at": "2026-08-31T23:59:59+08:00"}]
    assert scan(runner, "2026-12-31") == found  # the same window all month
    assert scan(runner, "2026-11-30") == []     # window August to October holds both
    assert [f["code"] for f in scan(runner, "2027-01-01")] == ["AUG", "SEP"]


def test_scan_twice_adds_no_duplicate_flag_and_changes_no_tier(runner, history, db, client):
    scan(runner, "2026-12-01")
    scan(runner, "2026-12-01")
    scan(runner, "2026-12-15")
    assert db.execute("SELECT count(*) FROM flags").fetchone()[0] == 1
    assert client.get("/api/v1/stations/ST-003").get_json()["tier"] == "provincial"
    history_rows = list(db.query("SELECT by, action, from_tier, to_tier FROM station_history"))
    assert history_rows == [{"by": "downgrade scan", "action": "flagged", "from_tier": "provincial",
                             "to_tier": "city"}]


def test_stations_opened_inside_the_window_are_not_flagged(runner, write_file, db):
    text = ("code,name,district,tier,kind,opened_on\n"
            "OLD,甲,黄浦区,national,fixed,2026-09-01\n"
            "NEW,乙,黄浦区,city,fixed,2026-09-02\n")
    runner.invoke(args=["stations", "import", write_file("s.csv", text)])
    assert [(f["code"], f["proposed_tier"], f["last_rated_at"]) for f in scan(runner, "2026-12-01")] == [
        ("OLD", "provincial", None)]


def test_scan_rejects_a_bad_date(runner):
    result = runner.invoke(args=["downgrade", "scan", "--as-of", "2026-02-30"])
    assert result.exit_code != 0 and "is not a date like" in result.output


def test_a_station_whose_recent_ratings_are_all_excluded_is_quiet_since_its_last_counted_one(
        runner, write_file, stations_loaded, db):
    history = ("station_code,rated_at,score,comment\n"
               "ST-001,2026-10-10T10:00:00,5,\n"    # 48 days before the 27th: counted
               "ST-001,2026-11-20T10:00:00,5,\n"    # in the window, then excluded
               "ST-002,2026-11-25T10:00:00,4,\n")   # in the window: not quiet
    assert runner.invoke(args=["ratings", "import", write_file("h.csv", history)]).exit_code == 0
    excluded = db.execute("SELECT id FROM ratings WHERE day = '2026-11-20'").fetchone()[0]
    with write(db):
        exclude_rating(db, excluded, "a test", "li", NOON)
    digest = json.loads(runner.invoke(args=["digest", "show", "--date", "2026-11-27", "--json"]).output)
    quiet = {s["code"]: (s["last_rated_on"], s["days"]) for s in digest["quiet_30"] + digest["quiet_60"]}
    assert quiet["ST-001"] == ("2026-10-10", 48)
    assert "ST-002" not in quiet


def test_ranking_shrinks_towards_the_mean_so_one_rating_does_not_top_the_list(runner, write_file):
    stations = "code,name,district,tier,kind,opened_on\n" + "".join(
        f"R-{code},驿站{code},城区,city,fixed,2025-01-01\n" for code in "ABCD")
    assert runner.invoke(args=["stations", "import", write_file("r.csv", stations)]).exit_code == 0
    scores = {"A": [5], "B": [4] * 100, "C": [2] * 60 + [3] * 40, "D": [1]}
    rows = "".join(f"R-{code},2026-11-{10 + n % 15:02d}T1{n % 10}:00:{n % 60:02d}+08:00,{score},\n"
                   for code, list_ in scores.items() for n, score in enumerate(list_))
    result = runner.invoke(args=["ratings", "import", write_file(
        "s.csv", "station_code,rated_at,score,comment\n" + rows)])
    assert result.exit_code == 0, result.output
    for day in ("2026-11-26", "2026-11-27"):  # made afresh, then moved on by a day
        digest = show(runner, "--date", day)
        assert [s["code"] for s in digest["best"]] == ["R-B", "R-A"]
        assert [s["code"] for s in digest["worst"]] == ["R-C", "R-D"]
        assert digest["best"][1]["mean_score"] == 5.0  # the raw mean is still shown
    # the nation's ranking is remembered with its window, and forgotten when it changes: by a
    # rating inside the window, or by a station's new name
    more = "".join(f"R-D,2026-11-20T10:00:{n:02d}+08:00,5,\n" for n in range(50))
    assert runner.invoke(args=["ratings", "import", write_file(
        "t.csv", "station_code,rated_at,score,comment\n" + more)]).exit_code == 0
    assert show(runner, "--date", "2026-11-27")["best"][0]["code"] == "R-D"
    renamed = "code,name,district,tier,kind,opened_on\nR-D,新名字,城区,city,fixed,2025-01-01\n"
    assert runner.invoke(args=["stations", "import", write_file("n.csv", renamed)]).exit_code == 0
    assert show(runner, "--date", "2026-11-27")["best"][0]["name"] == "新名字"
    # moved on 23 days: only B's and C's ratings of 21 to 24 November are left in it (6 a day)
    later = show(runner, "--date", "2026-12-20")
    assert [(s["code"], s["ratings_total"]) for s in later["best"] + later["worst"]] == [
        ("R-B", 24), ("R-C", 24)]
    assert [s["code"] for s in later["quiet_30"]] == ["R-A", "R-D"]
    assert show(runner, "--date", "2026-12-30")["quiet_30_total"] == 4  # nothing left in it


def test_a_station_added_after_a_digests_window_was_kept_is_quiet_in_it(runner, history, write_file,
                                                                       db):
    before = show(runner, "--date", "2026-12-31")
    assert db.execute("SELECT count(*) FROM window_ends WHERE end_day = '2026-12-31'").fetchone()[0]
    text = "code,name,district,tier,kind,opened_on\nLATE,迟来的驿站,黄浦区,city,fixed,2026-01-01\n"
    assert runner.invoke(args=["stations", "import", write_file("late.csv", text)]).exit_code == 0
    after = show(runner, "--date", "2026-12-31")
    assert [s["code"] for s in after["quiet_60"]] == ["LATE"] + [s["code"] for s in before["quiet_60"]]
    assert after["quiet_30"] == before["quiet_30"]


def test_quiet_stations_for_30_and_60_days_count_from_the_last_rating_up_to_the_day_or_opening(
        runner, write_file):
    stations = ("code,name,district,tier,kind,opened_on\n"
                "A,甲,黄浦区,city,fixed,2020-01-01\n"   # last rated 30 days before
                "B,乙,黄浦区,city,fixed,2020-01-01\n"   # 60 days before
                "C,丙,黄浦区,city,fixed,2026-10-28\n"   # opened 30 days before, never rated
                "D,丁,黄浦区,city,fixed,2026-10-29\n"   # opened 29 days before
                "E,戊,黄浦区,city,fixed,2020-01-01\n"   # rated inside the window: not quiet
                "G,己,黄浦区,city,fixed,2020-01-01\n")  # 59 days before, and again after the day
    ratings = ("station_code,rated_at,score\nA,2026-10-28T10:00:00,5\nB,2026-09-28T10:00:00,5\n"
               "E,2026-10-29T10:00:00,5\nG,2026-09-29T10:00:00,5\nG,2026-11-28T10:00:00,5\n")
    assert runner.invoke(args=["stations", "import", write_file("s.csv", stations)]).exit_code == 0
    assert runner.invoke(args=["ratings", "import", write_file("r.csv", ratings)]).exit_code == 0
    digest = show(runner, "--date", "2026-11-27")
    assert [(s["code"], s["days"], s["last_rated_on"]) for s in digest["quiet_30"]] == [
        ("G", 59, "2026-09-29"), ("A", 30, "2026-10-28"), ("C", 30, None)]
    assert [(s["code"], s["days"]) for s in digest["quiet_60"]] == [("B", 60)]
    assert (digest["quiet_30_total"], digest["quiet_60_total"]) == (3, 1)


def test_long_quiet_lists_are_cut_and_their_totals_say_how_long(runner, write_file, monkeypatch):
    from jobs import digest as digests

    monkeypatch.setattr(digests, "LIST_LIMIT", 2)
    stations = "code,name,district,tier,kind,opened_on\n" + "".join(
        f"S{n},站{n},黄浦区,city,fixed,2026-01-01\n" for n in range(5))
    assert runner.invoke(args=["stations", "import", write_file("s.csv", stations)]).exit_code == 0
    digest = show(runner, "--date", "2026-11-27")
    assert [s["code"] for s in digest["quiet_60"]] == ["S0", "S1"]
    assert digest["quiet_60_total"] == 5


def test_the_live_list_holds_one_open_flag_a_station_whatever_date_a_scan_was_run_for(
        runner, history, db, client, make_user):
    """ST-003 is silent from September: flagged in December, the flag dismissed; a scan run
    again for November, or for a later month while a flag is open, opens no second flag."""
    scan(runner, "2027-01-01")                     # window October to December
    make_user("ins", "inspector")
    token = runner.invoke(args=["users", "token", "--username", "ins"]).output.strip()
    decided = client.post("/api/v1/flags/ST-003/decision", headers={"Authorization": f"Bearer {token}"},
                          json={"decision": "dismiss", "reason": "季节性驿站"})
    assert decided.status_code == 200
    assert [f["code"] for f in scan(runner, "2026-12-01")] == ["ST-003"]  # found then, and
    scan(runner, "2026-12-15")                                          # answered since
    open_flags = """SELECT window_start FROM flags JOIN stations ON stations.id = station_id
                    WHERE code = 'ST-003' AND flags.status = 'open'"""
    assert db.execute(open_flags).fetchall() == []
    scan(runner, "2027-02-01")                     # a later window, silent too: flagged again
    scan(runner, "2027-03-01")                     # while that one is open: nothing more
    assert db.execute(open_flags).fetchall() == [("2026-11-01",)]


def test_a_database_with_two_open_flags_for_a_station_keeps_the_latest_open(db_path):
    from feedback.storage import schema
    from feedback.storage.db import connect
    old = connect(db_path)
    schema.migrate(old, upto=25)
    old.execute("""INSERT INTO stations (code, name, district, tier, kind, opened_on, created_at,
                   updated_at) VALUES ('S', 's', 'd', 'city', 'fixed', '2024-01-01', '', '')""")
    for window_start in ("2026-08-01", "2026-09-01"):
        old.execute("INSERT INTO flags (station_id, window_start, flagged_on, tier, proposed_tier) "
                    "VALUES (1, ?, ?, 'city', 'delisted')", [window_start, window_start])
    schema.migrate(old)
    assert old.execute("SELECT window_start, status FROM flags ORDER BY id").fetchall() == [
        ("2026-08-01", "superseded"), ("2026-09-01", "open")]
    old.close()


def test_the_nations_quiet_stations_are_remembered_with_the_window_until_a_station_changes(
        runner, history, db):
    """A sparse rollout's digest page listed every quiet station afresh at each view: the
    nation's lists are kept with the window's ranking, and forgotten when they would change."""
    before = show(runner, "--date", "2026-12-31")
    assert "ST-003" in [s["code"] for s in before["quiet_60"]]
    assert json.loads(db.execute("SELECT ranking FROM window_ends WHERE end_day = '2026-12-31'")
                      .fetchone()[0])["quiet"]["quiet_60_total"] == before["quiet_60_total"]
    assert runner.invoke(args=["stations", "close", "ST-003"]).exit_code == 0
    closed = show(runner, "--date", "2026-12-31")
    assert "ST-003" not in [s["code"] for s in closed["quiet_60"]]
    assert closed["quiet_60_total"] == before["quiet_60_total"] - 1
    assert runner.invoke(args=["stations", "reopen", "ST-003"]).exit_code == 0
    assert show(runner, "--date", "2026-12-31")["quiet_60"] == before["quiet_60"]
