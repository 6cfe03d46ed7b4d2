"""Opening hours: the CSV column, its checks, open-now at midnight and across it, and the JSON."""
from datetime import datetime

import pytest

from feedback.places import hours


@pytest.mark.parametrize("text, ranges", [
    ("", None), ("24h", [(0, 1440)]), ("08:00-20:00", [(480, 1200)]),
    ("07:00-11:30;13:30-21:00", [(420, 690), (810, 1260)]), ("22:00-06:00", [(1320, 360)]),
    ("18:00-24:00", [(1080, 1440)]),
])
def test_hours_cells_that_are_good(text, ranges):
    assert hours.parse(text) == ranges


@pytest.mark.parametrize("text", ["8:00-20:00", "08:00-25:00", "08:60-20:00", "08:00-08:00",
                                  "08:00", "always", "08:00-20:00;", "24:00-06:00"])
def test_hours_cells_that_are_not(text):
    with pytest.raises(ValueError):
        hours.parse(text)


@pytest.mark.parametrize("text, at, expected", [
    ("08:00-20:00", "07:59", False), ("08:00-20:00", "08:00", True), ("08:00-20:00", "20:00", False),
    ("22:00-06:00", "00:00", True), ("22:00-06:00", "05:59", True), ("22:00-06:00", "06:00", False),
    ("22:00-06:00", "21:59", False), ("18:00-24:00", "23:59", True), ("18:00-24:00", "00:00", False),
    ("24h", "00:00", True), ("07:00-11:30;13:30-21:00", "12:00", False), ("", "12:00", None),
])
def test_open_now_at_midnight_and_across_it(text, at, expected):
    assert hours.is_open(text, datetime.fromisoformat(f"2026-11-28T{at}")) is expected


def test_hours_are_imported_checked_shown_and_exported(runner, write_file, client, tmp_path,
                                                      station_url):
    good = ("code,name,district,tier,kind,hours\n"
            "H-1,夜班驿站,城区,city,fixed,22:00-06:00\nH-2,全天驿站,城区,city,fixed,24h\n")
    assert runner.invoke(args=["stations", "import", write_file("h.csv", good)]).exit_code == 0
    assert client.get("/api/v1/stations/H-1").get_json()["hours"] == "22:00-06:00"
    bad = "code,name,district,tier,kind,hours\nH-3,驿站,城区,city,fixed,9-5\n"
    result = runner.invoke(args=["stations", "import", write_file("bad.csv", bad)])
    assert result.exit_code == 1
    assert "line 2: hours '9-5' must be 24h or ranges like 08:00-20:00 separated by ;" in result.output
    assert client.get("/api/v1/stations/H-3").status_code == 404
    exported = tmp_path / "out.csv"
    runner.invoke(args=["stations", "export", str(exported)])
    assert "H-1,夜班驿站,城区,,,,city,fixed,2026-11-28,,22:00-06:00" in exported.read_text(encoding="utf-8")
    from urllib.parse import urlsplit
    thanks = client.get(urlsplit(station_url("H-2")).path + "/thanks").get_data(as_text=True)
    assert "开放时间:24小时" in thanks


@pytest.mark.parametrize("text, at, expected", [
    ("08:00-20:00", "2026-11-28T12:00", "2026-11-28T08:00"),
    ("08:00-20:00", "2026-11-28T07:00", "2026-11-27T20:00"),
    ("22:00-06:00", "2026-11-28T03:00", "2026-11-27T22:00"),
    ("22:00-06:00", "2026-11-28T06:00", "2026-11-28T06:00"),
    ("07:00-11:30;13:30-21:00", "2026-11-28T12:00", "2026-11-28T11:30"),
    ("18:00-24:00", "2026-11-28T00:30", "2026-11-28T00:00"),
    ("24h", "2026-11-28T12:00", None), ("", "2026-11-28T12:00", None),
])
def test_the_last_opening_or_closing_before_a_moment(text, at, expected):
    found = hours.last_change(text, datetime.fromisoformat(at))
    assert (found.isoformat(timespec="minutes") if found else None) == expected
