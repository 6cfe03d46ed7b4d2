"""Signals for inspectors, on hand-made data with known answers, and through the API and page."""
from datetime import datetime, timedelta, timezone

import pytest

from feedback import signals
from feedback.signals import Rating
from test_staff import csrf_from, make_user, sign_in  # noqa: F401 (fixture)

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)


def rating(n, code="A", minutes=0, device=None, day="2026-11-20"):
    return Rating(n, code, T0 + timedelta(minutes=minutes), day, device)


def test_ten_ratings_in_ten_minutes_are_a_burst_and_nine_are_not():
    nine = [rating(n, minutes=n) for n in range(9)]
    assert signals.bursts(nine) == []
    ten = nine + [rating(9, minutes=10)]
    [burst] = signals.bursts(ten)
    assert (burst["station_code"], burst["ratings"], burst["rating_ids"]) == ("A", 10, list(range(10)))
    spread = [rating(n, minutes=n * 2) for n in range(10)]  # ten ratings over 18 minutes
    assert signals.bursts(spread) == []


def test_a_burst_that_goes_on_is_reported_once_with_all_its_ratings():
    long_run = [rating(n, minutes=n * 0.5, device="d1") for n in range(30)]
    [burst] = signals.bursts(long_run + [rating(99, code="B", minutes=1)])
    assert burst["ratings"] == 30 and burst["device"] == "d1"


def test_travel_faster_than_60_kmh_between_stations_is_impossible():
    positions = {"A": (31.2304, 121.4737), "B": (31.3304, 121.4737)}  # 11.1 km apart
    slow = [rating(1, "A", 0, "d1"), rating(2, "B", 12, "d1")]   # 11.1 km in 12 min: 56 km/h
    assert signals.impossible_travel(slow, positions) == []
    fast = [rating(1, "A", 0, "d1"), rating(2, "B", 10, "d1")]   # 11.1 km in 10 min: 67 km/h
    [found] = signals.impossible_travel(fast, positions)
    assert (found["station_code"], found["from_station"], found["km"]) == ("B", "A", 11.1)
    other_phones = [rating(1, "A", 0, "d1"), rating(2, "B", 1, "d2")]
    assert signals.impossible_travel(other_phones, positions) == []
    unplaced = [rating(1, "A", 0, "d1"), rating(2, "C", 1, "d1")]  # C has no coordinates
    assert signals.impossible_travel(unplaced, positions) == []


def test_sixteen_stations_in_a_day_from_one_phone_are_too_many_and_fifteen_are_not():
    fifteen = [rating(n, f"S{n}", n * 30, "d1") for n in range(15)]
    assert signals.many_stations(fifteen) == []
    [found] = signals.many_stations(fifteen + [rating(15, "S15", 600, "d1")])
    assert found["device"] == "d1" and len(found["stations"]) == 16
    next_day = fifteen + [rating(15, "S15", 2000, "d1", day="2026-11-21")]
    assert signals.many_stations(next_day) == []


def test_a_station_rated_only_by_one_or_two_phones_is_kept_alive_by_them():
    seen = {"ONE": {"ratings": 3, "devices": 1, "without_device": 0},
            "TWO": {"ratings": 5, "devices": 2, "without_device": 0},
            "THREE": {"ratings": 3, "devices": 3, "without_device": 0},
            "ANON": {"ratings": 4, "devices": 1, "without_device": 1},
            "NONE": {"ratings": 0, "devices": 0, "without_device": 0}}
    assert [s["station_code"] for s in signals.single_device(seen)] == ["ONE", "TWO"]


@pytest.fixture
def inspector(client, make_user):
    make_user("ins", "inspector")
    sign_in(client, "ins")
    return client


def test_signals_reach_the_api_and_the_page_with_an_exclude_action(app, inspector, runner,
                                                                   station_url, clock, db):
    """One phone taps ST-001 twelve times in six minutes: a burst, and a station kept alive by
    one phone. The inspector excludes that phone's ratings from the page."""
    from urllib.parse import urlsplit

    phone = app.test_client()
    path = urlsplit(station_url("ST-001")).path
    for n in range(12):
        key = phone.get(path).get_data(as_text=True).split('name="key" value="')[1].split('"')[0]
        phone.post(path, data={"score": "5", "key": key})
        clock.advance(seconds=30)
    items = inspector.get("/api/v1/signals").get_json()["items"]
    assert {(s["kind"], s["station_code"]) for s in items} == {("burst", "ST-001"),
                                                               ("single_device", "ST-001")}
    page = inspector.get("/signals").get_data(as_text=True)
    assert "10分钟内集中评价" in page and 'action="/signals/exclude"' in page
    label = db.execute("SELECT label FROM devices WHERE staff_since IS NULL").fetchone()[0]
    response = inspector.post("/signals/exclude", data={
        "csrf_token": csrf_from(page), "station": "ST-001", "device": label,
        "from": "2026-11-28", "to": "2026-11-28", "reason": "一部手机连续刷分"})
    assert response.status_code == 303
    assert "已排除 12 条评价" in inspector.get("/signals").get_data(as_text=True)
    found = inspector.get("/api/v1/stations/ST-001").get_json()
    assert (found["ratings_total"], found["held_total"]) == (0, 12)


def test_signals_are_for_inspectors_and_admins(client, runner, make_user):
    make_user("mgr", "manager", "--station", "ST-001")
    sign_in(client, "mgr")
    assert client.get("/signals").status_code == 403
    assert client.get("/api/v1/signals").status_code == 403
