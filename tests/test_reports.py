"""Weekly and monthly reports: ISO weeks and months in FEEDBACK_TIMEZONE, their figures on an
imported history, their pages and CSV, and posting each once to every channel."""
import csv
import io
import json
from datetime import datetime, timedelta, timezone

import pytest

from feedback import charts
from jobs import reports, scheduler
from support import ChatServer, sign_in

HISTORY = """station_code,rated_at,score,comment
ST-001,2026-10-31T23:30:00,5,local 23:30 on the last day of October
ST-001,2026-10-31T16:30:00Z,1,00:30 on 1 November in Shanghai
ST-001,2026-11-16T10:00:00,2,week 47
ST-002,2026-11-17T10:00:00,4,week 47
ST-001,2026-11-23T10:00:00,1,week 48: ST-001 bad two weeks running
ST-002,2026-11-24T10:00:00,5,week 48
ST-003,2026-11-25T10:00:00,3,week 48
ST-001,2027-01-03T23:30:00,4,Sunday of 2026-W53
ST-001,2027-01-04T00:30:00,4,Monday of 2027-W01
"""


@pytest.fixture
def history(runner, write_file, stations_loaded, clock):
    clock.instant = datetime(2027, 1, 10, 4, tzinfo=timezone.utc)
    result = runner.invoke(args=["ratings", "import", write_file("h.csv", HISTORY)])
    assert result.exit_code == 0, result.output


def report(runner, *args):
    result = runner.invoke(args=["report", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.parametrize("text, monday", [("2026-W53", "2026-12-28"), ("2027-W01", "2027-01-04"),
                                          ("2026-W01", "2025-12-29"), ("2020-W53", "2020-12-28")])
def test_iso_weeks_across_a_year_end(text, monday):
    assert reports.parse_week(text).isoformat() == monday


@pytest.mark.parametrize("text", ["2025-W53", "2026-W54", "2026-W00", "2026W48", "１２３４-W01",
                                  "1999-W10"])
def test_a_week_that_is_not_one_is_refused(runner, text):
    result = runner.invoke(args=["report", "week", "--week", text])
    assert result.exit_code == 2 and "is not a week like 2026-W48" in result.output


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-1", "26-11", "2026-11-01"])
def test_a_month_that_is_not_one_is_refused(runner, text):
    result = runner.invoke(args=["report", "month", "--month", text])
    assert result.exit_code == 2 and "is not a month like 2026-11" in result.output


def test_a_week_holds_its_local_days_across_the_year_end(runner, history):
    assert report(runner, "week", "--week", "2026-W53")["ratings_total"] == 1
    found = report(runner, "week", "--week", "2027-W01")
    assert (found["from"], found["to"], found["ratings_total"]) == ("2027-01-04", "2027-01-10", 1)


def test_months_are_local_a_rating_at_2330_on_the_last_day_belongs_to_it(runner, history):
    october = report(runner, "month", "--month", "2026-10")
    november = report(runner, "month", "--month", "2026-11")
    assert (october["ratings_total"], october["satisfaction_rate"]) == (1, 1.0)
    assert november["ratings_total"] == 6


def test_the_weekly_report_on_an_imported_history(runner, history):
    found = report(runner, "week", "--week", "2026-W48")
    assert found["week"] == "2026-W48" and (found["from"], found["to"]) == ("2026-11-23", "2026-11-29")
    assert found["ratings_total"] == 3 and found["satisfaction_rate"] == pytest.approx(2 / 3)
    assert found["previous"] == {"ratings_total": 2, "satisfaction_rate": 0.5}
    assert [(d["district"], d["ratings_total"]) for d in found["districts"]] == [
        ("浦东新区", 1), ("静安区", 1), ("黄浦区", 1)]
    assert found["cases"] == {"opened": 0, "resolved_on_time": 0, "resolved_late": 0, "open": 0,
                              "overdue": 0, "median_working_days": None}  # imports open no cases
    assert [s["code"] for s in found["repeat_bad_stations"]] == ["ST-001"]
    assert found["url"].endswith("/reports/weeks/2026-W48")
    district = report(runner, "week", "--week", "2026-W48", "--district", "黄浦区")
    assert district["ratings_total"] == 1 and len(district["districts"]) == 1


def test_the_monthly_report_on_an_imported_history(runner, history):
    found = report(runner, "month", "--month", "2026-11")
    assert (found["month"], found["from"], found["to"]) == ("2026-11", "2026-11-01", "2026-11-30")
    assert (found["stations_listed"], found["stations_rated"], found["stations_quiet"]) == (3, 3, 0)
    assert found["mean_score"] == pytest.approx((1 + 2 + 4 + 1 + 5 + 3) / 6)
    assert found["decisions"] == {"confirmed": 0, "dismissed": 0, "reinstated": 0}
    assert found["visits"] == {"total": 0, "unannounced": 0, "assessment": 0, "items_failed": 0}
    rows = {row["district"]: row for row in found["by_district"]}
    assert rows["黄浦区"]["ratings_total"] == 3 and rows["黄浦区"]["satisfaction_rate"] == 0.0
    assert {row["tier"] for row in found["by_tier"]} == {"national", "provincial", "city"}
    csv_out = runner.invoke(args=["report", "month", "--month", "2026-11", "--csv"]).output
    assert csv_out.splitlines()[0].startswith("district,stations_listed,stations_rated")
    assert len(csv_out.splitlines()) == 4


def test_the_monthly_trend_comes_when_asked(runner, history):
    assert "trend" not in report(runner, "month", "--month", "2026-11")
    months = report(runner, "month", "--month", "2026-11", "--trend")["trend"]["黄浦区"]
    assert [m["month"] for m in months] == [f"2025-{n:02}" for n in range(12, 13)] + [
        f"2026-{n:02}" for n in range(1, 12)]
    assert [(m["ratings_total"], m["satisfaction_rate"]) for m in months[-2:]] == [(1, 1.0), (3, 0.0)]
    assert months[0]["ratings_total"] == 0
    alone = runner.invoke(args=["report", "month", "--month", "2026-11", "--trend"])
    assert alone.exit_code == 2 and "--trend adds to the JSON: give --json too" in alone.output


def test_the_report_pages_and_the_csv(client, history, make_user):
    make_user("ins", "inspector")
    sign_in(client, "ins")
    week = client.get("/reports/weeks/2026-W48").get_data(as_text=True)
    assert "驿站服务周报" in week and "连续两周以上有差评" in week
    one = client.get("/reports/weeks/2026-W48?district=黄浦区").get_data(as_text=True)
    assert "Weekly report 2026-W48(黄浦区)" in one and "浦东新区" not in one
    assert client.get("/reports/weeks/2026-W48?district=火星区").status_code == 404
    month = client.get("/reports/months/2026-11")
    assert month.status_code == 200 and "<svg" in month.get_data(as_text=True)
    download = client.get("/reports/months/2026-11.csv")
    assert download.mimetype == "text/csv" and "district,stations_listed" in download.get_data(as_text=True)
    for path in ("/reports/weeks/2027-W02", "/reports/weeks/2025-W53", "/reports/months/2027-01",
                 "/reports/months/2026-13"):
        assert client.get(path).status_code == 404, path  # not over yet, or not a period


def test_a_nation_of_districts_is_paged_fifty_at_a_time_with_their_charts(
        client, runner, write_file, history, make_user):
    many = "code,name,district,tier,kind,opened_on\n" + "".join(
        f"D-{n:03d},驿站{n:03d},第{n:03d}区,city,fixed,2025-01-01\n" for n in range(60))
    assert runner.invoke(args=["stations", "import", write_file("d.csv", many)]).exit_code == 0
    rated = "station_code,rated_at,score,comment\n" + "".join(
        f"D-{n:03d},2026-11-10T10:00:00,4,\n" for n in range(60))
    assert runner.invoke(args=["ratings", "import", write_file("r.csv", rated)]).exit_code == 0
    make_user("ins", "inspector")
    sign_in(client, "ins")
    first = client.get("/reports/months/2026-11").get_data(as_text=True)
    assert first.count("<svg") == 50 and "第 1 / 2 页" in first and 'href="?page=2"' in first
    second = client.get("/reports/months/2026-11?page=2").get_data(as_text=True)
    assert "第059区" in second and "第000区" not in second  # 60 new districts and 3 more
    assert second.count("<svg") == 13
    assert client.get("/reports/months/2026-11?page=9").get_data(as_text=True) == first


def test_a_month_counts_the_stations_listed_in_it_only(runner, write_file, history, db):
    more = ("code,name,district,tier,kind,opened_on\n"
            "X-CLOSED,已关闭驿站,黄浦区,city,fixed,2025-01-01\n"
            "X-LATER,新开驿站,黄浦区,city,fixed,2026-12-05\n"
            "X-DELISTED,后来摘牌驿站,黄浦区,city,fixed,2025-01-01\n")
    assert runner.invoke(args=["stations", "import", write_file("x.csv", more)]).exit_code == 0
    rated = ("station_code,rated_at,score,comment\nX-CLOSED,2026-11-20T10:00:00,5,\n"
             "X-DELISTED,2026-11-21T10:00:00,5,\n")
    assert runner.invoke(args=["ratings", "import", write_file("y.csv", rated)]).exit_code == 0
    assert runner.invoke(args=["stations", "close", "X-CLOSED"]).exit_code == 0
    db.execute("UPDATE stations SET status = 'delisted' WHERE code = 'X-DELISTED'")
    db.execute("""INSERT INTO station_history (station_id, at, by, action, from_tier, to_tier, reason)
                  SELECT id, '2026-12-03T02:00:00Z', 'ins', 'confirmed', 'city', 'delisted', 'quiet'
                  FROM stations WHERE code = 'X-DELISTED'""")
    db.conn.commit()
    found = report(runner, "month", "--month", "2026-11")
    # listed in November: the three stations before and the one delisted in December; not the
    # closed one (nor its rating) nor the one opened in December
    assert (found["stations_listed"], found["stations_rated"], found["ratings_total"]) == (4, 4, 7)
    huangpu = {row["district"]: row for row in found["by_district"]}["黄浦区"]
    assert (huangpu["stations_listed"], huangpu["stations_rated"], huangpu["ratings_total"]) == (2, 2, 4)


def test_the_chart_leaves_a_gap_for_a_month_without_ratings():
    points = [{"month": m, "ratings_total": n, "satisfaction_rate": r} for m, n, r in (
        ("2026-08", 4, 0.5), ("2026-09", 2, 1.0), ("2026-10", 0, None), ("2026-11", 3, 0.0),
        ("2026-12", 1, 1.0))]
    geometry = charts.rate_and_count(points, "month")
    assert len(geometry["lines"]) == 2  # broken at October, never drawn down to zero
    assert len(geometry["dots"]) == 4
    assert [b["h"] == 0 for b in geometry["bars"]] == [False, False, True, False, False]


def test_reports_are_posted_once_each_with_a_channel_down_then_up(app, runner, history, clock):
    up, down = ChatServer().start(), ChatServer().start()
    try:
        for chat in (up, down):
            runner.invoke(args=["channels", "add", "--kind", "wecom", "--target", chat.url()])
        down.stop()
        with app.app_context():
            clock.instant = datetime(2026, 11, 1, 4, tzinfo=timezone.utc)
            from feedback.storage.db import get_db
            scheduler.first_started(get_db(), clock.now())   # scheduling began in November
            clock.instant = datetime(2026, 12, 7, 1, tzinfo=timezone.utc)  # Mon 7 Dec, 09:00
            assert scheduler.run_reports() == ["2026-W49", "2026-11"]
            assert scheduler.run_reports() == []             # each under its own lease, once
            titles = sorted(body["markdown"]["content"].split("\n")[0] for body in up.json_bodies())
            assert titles == ["**驿站服务周报 2026-W49**", "**驿站服务月报 2026-11**"]
            down.start()
            clock.advance(minutes=10)
            scheduler.run_retries()
            scheduler.run_retries()
            assert len(down.requests) == 2 and len(up.requests) == 2
            clock.instant = datetime(2026, 12, 8, 1, tzinfo=timezone.utc)  # Tuesday: nothing new
            assert scheduler.run_reports() == []
    finally:
        up.stop()
        down.stop()


@pytest.mark.parametrize("now, week, month", [
    ("2026-12-06T23:59:00Z", "2026-W48", "2026-11"),   # Monday 07:59 local, before the send time
    ("2026-11-30T23:00:00Z", "2026-W48", "2026-10"),   # Tuesday 1 Dec 07:00: November not yet
    ("2026-12-07T01:00:00Z", "2026-W49", "2026-11"),   # Monday 09:00, after 08:00
    ("2026-12-08T00:00:00Z", "2026-W49", "2026-11"),   # Tuesday 08:00
    ("2026-12-01T00:30:00Z", "2026-W48", "2026-11"),   # Tuesday 1 Dec, 08:30: November is due
    ("2027-01-04T01:00:00Z", "2026-W53", "2026-12"),
])
def test_which_report_is_due(now, week, month, app):
    instant = datetime.fromisoformat(now.replace("Z", "+00:00"))
    due = scheduler.due_reports(instant, (8, 0), app.config["TIMEZONE"])
    assert [period for period, _ in due] == [week, month]


def test_a_run_of_bad_weeks_counts_back_to_its_first_gap(runner, write_file, stations_loaded, clock):
    clock.instant = datetime(2026, 12, 1, 4, tzinfo=timezone.utc)
    rows = ["station_code,rated_at,score,comment",
            "ST-001,2026-10-27T10:00:00,1,W44",               # before the gap: not in the run
            "ST-001,2026-11-10T10:00:00,2,W46",
            "ST-001,2026-11-17T10:00:00,1,W47",
            "ST-001,2026-11-23T10:00:00,1,W48",
            "ST-002,2026-11-16T10:00:00,2,W47",
            "ST-002,2026-11-29T23:00:00,1,W48 (its Sunday)",
            "ST-003,2026-11-24T10:00:00,1,W48 only"]
    assert runner.invoke(args=["ratings", "import", write_file("r.csv", "\n".join(rows))]).exit_code == 0
    found = report(runner, "week", "--week", "2026-W48")
    assert [(s["code"], s["weeks"]) for s in found["repeat_bad_stations"]] == [("ST-001", 3), ("ST-002", 2)]
    assert found["repeat_bad_stations_total"] == 2
    inner = report(runner, "week", "--week", "2026-W48", "--district", "黄浦区")
    assert [s["code"] for s in inner["repeat_bad_stations"]] == ["ST-001"]


def test_a_run_of_bad_weeks_is_counted_up_to_thirteen(runner, write_file, stations_loaded, clock):
    """Thirteen weeks are looked back on: a longer run shows as 13, one just inside it in full."""
    clock.instant = datetime(2026, 12, 1, 4, tzinfo=timezone.utc)
    tuesday = datetime(2026, 11, 24, 10)  # in week 48
    rows = ["station_code,rated_at,score,comment"]
    rows += [f"ST-001,{(tuesday - timedelta(weeks=n)).isoformat()},1," for n in range(15)]
    rows += [f"ST-002,{(tuesday - timedelta(weeks=n)).isoformat()},2," for n in range(12)]
    assert runner.invoke(args=["ratings", "import", write_file("r.csv", "\n".join(rows))]).exit_code == 0
    found = report(runner, "week", "--week", "2026-W48")
    assert [(s["code"], s["weeks"]) for s in found["repeat_bad_stations"]] == [("ST-001", 13), ("ST-002", 12)]


def test_the_monthly_csv_quotes_a_formula_in_a_name_and_keeps_numbers_numbers(
        client, runner, history, make_user, write_file):
    """A district named like a formula is quoted the OWASP way in both the command's and the
    page's CSV, so opening it in Excel or WPS runs nothing; the figures stay numbers."""
    moved = "code,name,district,tier,kind\nST-001,人民广场驿站,=1+1,national,fixed\n"
    assert runner.invoke(args=["stations", "import", write_file("m.csv", moved)]).exit_code == 0
    make_user("ins", "inspector")
    sign_in(client, "ins")
    printed = runner.invoke(args=["report", "month", "--month", "2026-11", "--csv"]).output
    downloaded = client.get("/reports/months/2026-11.csv").get_data(as_text=True).lstrip("\ufeff")
    for text in (printed, downloaded):
        rows = list(csv.reader(io.StringIO(text)))
        formula = next(row for row in rows if "1+1" in row[0])
        assert formula[0] == "'=1+1" and formula[1] == "1"
        assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row)
