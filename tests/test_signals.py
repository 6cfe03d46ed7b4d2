"""Signals for inspectors, on hand-made data with known answers, and through the API and page."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from feedback.followup import signals
from feedback.followup.signals import Rating
from support import csrf_from, phone_with, sign_in

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


def test_the_nights_scan_brings_signals_to_the_api_and_the_page_with_an_exclude_action(
        app, inspector, runner, station_url, clock, db):
    """One phone taps ST-001 twelve times in six minutes: a burst, and a station kept alive by
    one phone. The night's scan finds both; the inspector excludes that phone's ratings."""
    from urllib.parse import urlsplit

    phone = phone_with(app, "Mozilla/5.0 (Linux; Android 14) a worker's phone")
    path = urlsplit(station_url("ST-001")).path
    for n in range(12):
        key = phone.get(path).get_data(as_text=True).split('name="key" value="')[1].split('"')[0]
        phone.post(path, data={"score": "5", "key": key})
        clock.advance(seconds=30)
    assert inspector.get("/api/v1/signals").get_json()["items"] == []
    assert "尚未检查" in inspector.get("/signals").get_data(as_text=True)
    clock.advance(days=1)
    result = runner.invoke(args=["signals", "scan"])  # yesterday, as the scheduler does
    assert result.exit_code == 0 and "2 signal(s) found" in result.output, result.output
    items = inspector.get("/api/v1/signals").get_json()["items"]
    assert {(s["kind"], s["station_code"], s["found_on"]) for s in items} == {
        ("burst", "ST-001", "2026-11-28"), ("single_device", "ST-001", "2026-11-28")}
    [burst] = [s for s in items if s["kind"] == "burst"]
    assert burst["ratings"] == 12 and burst["from"].startswith("2026-11-28T12:00")  # local time
    page = inspector.get("/signals").get_data(as_text=True)
    assert "10分钟内集中评价" in page and 'action="/signals/exclude"' in page and "截至 2026-11-28" in page
    label = db.execute("SELECT label FROM devices WHERE staff_since IS NULL").fetchone()[0]
    response = inspector.post("/signals/exclude", data={
        "csrf_token": csrf_from(page), "station": "ST-001", "device": label,
        "from": "2026-11-28", "to": "2026-11-28", "reason": "一部手机连续刷分"})
    assert response.status_code == 303
    assert "已排除 12 条评价" in inspector.get("/signals").get_data(as_text=True)
    found = inspector.get("/api/v1/stations/ST-001").get_json()
    assert (found["ratings_total"], found["held_total"]) == (0, 12)
    runner.invoke(args=["signals", "scan"])  # the excluded ratings keep no station alive
    assert [s["kind"] for s in inspector.get("/api/v1/signals").get_json()["items"]] == ["burst"]


def test_a_burst_across_midnight_is_kept_once_on_the_day_it_ended(app, runner, db, stations_loaded):
    """Ten ratings from 23:55 to 00:04 local time: the scan of the first day does not see a
    burst end on it; the scan of the second does; scanning a day again replaces what it kept."""
    from feedback.counts import ratings
    from feedback.storage.db import write

    tz = app.config["TIMEZONE"]
    start = datetime(2026, 11, 26, 23, 55, tzinfo=tz)
    with write(db):
        for n in range(10):
            at = start + timedelta(minutes=n)
            ratings.record(db, station_id=1, rated_at=at.astimezone(timezone.utc), score=5,
                           source="form", once_key=None, tz=tz)
    for day in ("2026-11-26", "2026-11-27", "2026-11-27"):
        assert runner.invoke(args=["signals", "scan", "--date", day]).exit_code == 0
    kept = db.execute("SELECT day, kind FROM signals WHERE kind = 'burst'").fetchall()
    assert kept == [("2026-11-27", "burst")]


def test_a_station_is_kept_alive_by_two_phones_but_not_by_three_or_one_without_a_cookie(
        app, runner, db, write_file):
    """The scan's single_device rule reads each station only as far as a third device; what it
    finds is the rule over all of the station's counted ratings of the 90 days."""
    from feedback.counts import devices, ratings
    from feedback.counts.counting import exclude_rating
    from feedback.storage.db import write

    tz, now = app.config["TIMEZONE"], datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)
    csv = "code,name,district,tier,kind\n" + "".join(
        f"ST-00{n},驿站{n},黄浦区,city,fixed\n" for n in range(1, 7))
    assert runner.invoke(args=["stations", "import", write_file("six.csv", csv)]).exit_code == 0
    with write(db):
        phones = [devices.find_or_add(db, f"phone{n}", now)["id"] for n in range(3)]
        ids = dict(db.execute("SELECT code, id FROM stations"))

        def rate(code, device, days_back=0):
            return ratings.record(db, station_id=ids[code], rated_at=now - timedelta(days=days_back),
                                  score=4, source="form", once_key=None,
                                  tz=tz, device_id=device)
        for n in range(6):
            rate("ST-001", phones[n % 2], n)           # two phones, six ratings
            rate("ST-002", phones[n % 3], n)           # three phones
        rate("ST-003", phones[0])                      # one phone, and one rating without a cookie
        rate("ST-003", None, 1)
        rate("ST-004", phones[0])                      # one phone, and a third, excluded
        rate("ST-004", phones[1])
        exclude_rating(db, rate("ST-004", phones[2], 2), "一部借来的手机", "li", now)
        rate("ST-005", phones[0], 89)                  # one phone, 89 days back: inside
        rate("ST-006", phones[0], 91)                  # outside the 90 days
    result = runner.invoke(args=["signals", "scan", "--date", "2026-11-27", "--json"])
    found = {s["station_code"]: s for s in json.loads(result.output) if s["kind"] == "single_device"}
    assert sorted(found) == ["ST-001", "ST-004", "ST-005"]
    assert (found["ST-001"]["ratings"], found["ST-001"]["devices"]) == (6, 2)
    assert found["ST-004"]["ratings"] == 2


def test_signals_are_for_inspectors_and_admins(client, runner, make_user):
    make_user("mgr", "manager", "--station", "ST-001")
    sign_in(client, "mgr")
    assert client.get("/signals").status_code == 403
    assert client.get("/api/v1/signals").status_code == 403


def test_the_signals_page_shows_fifty_at_a_time(app, inspector, runner, db, write_file):
    """A rollout where sixty stations have each been rated once, by one phone: sixty stations
    kept alive by it, and one phone at many stations."""
    from feedback.counts import devices, ratings
    from feedback.storage.db import write

    csv = "code,name,district,tier,kind\n" + "".join(
        f"R-{n:02d},驿站{n},黄浦区,city,fixed\n" for n in range(60))
    assert runner.invoke(args=["stations", "import", write_file("sixty.csv", csv)]).exit_code == 0
    now = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)
    with write(db):
        phone = devices.find_or_add(db, "phone", now)["id"]
        for station_id, in db.execute("SELECT id FROM stations WHERE code LIKE 'R-%'").fetchall():
            ratings.record(db, station_id=station_id, rated_at=now, score=5, source="form",
                           once_key=None, tz=app.config["TIMEZONE"], device_id=phone)
    assert runner.invoke(args=["signals", "scan", "--date", "2026-11-27"]).exit_code == 0
    first = inspector.get("/signals").get_data(as_text=True)
    second = inspector.get("/signals?page=2").get_data(as_text=True)
    assert "Signals (61)" in first and "第 1 / 2 页" in first and 'href="?page=2"' in first
    assert (first.count('<section class="card">'), second.count('<section class="card">')) == (50, 11)
    assert "R-00" in first and "R-59" in second and "一天评价过多驿站" in second  # the rules' order
    for hostile in ("0", "-1", "abc", "3", "9" * 40, "２"):  # none of them a page: the first
        assert inspector.get(f"/signals?page={hostile}").get_data(as_text=True) == first


def test_a_signal_scan_of_a_day_that_is_not_one_is_refused(runner):
    for bad in ("2026-02-30", "2026-W01-1", "yesterday", "1999-12-31"):
        result = runner.invoke(args=["signals", "scan", "--date", bad])
        assert result.exit_code != 0 and "--date" in result.output, (bad, result.output)


def test_a_manager_rating_his_station_from_a_private_window_is_signalled(
        app, runner, client, make_user, inspector, station_url, clock):
    """A private window has no cookie and no sign-in, but the address and browser he signed in
    from: the next night's scan names it, at his station and not at another."""
    from urllib.parse import urlsplit

    make_user("mgr", "manager", "--station", "ST-001")
    his_phone = phone_with(app, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5) the manager's phone")
    sign_in(his_phone, "mgr")
    private = phone_with(app, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5) the manager's phone")
    for code in ("ST-001", "ST-002"):
        path = urlsplit(station_url(code)).path
        key = private.get(path).get_data(as_text=True).split('name="key" value="')[1].split('"')[0]
        assert private.post(path, data={"score": "5", "key": key}).status_code == 303
    clock.advance(days=1)
    found = json.loads(runner.invoke(args=["signals", "scan", "--json"]).output)
    assert [(s["kind"], s["station_code"], s["staff"]) for s in found
            if s["kind"] == "staff_network"] == [("staff_network", "ST-001", ["mgr"])]
    page = inspector.get("/signals").get_data(as_text=True)
    assert "工作人员登录过的网络和浏览器评价本站" in page and "mgr" in page


def test_a_station_kept_alive_by_one_phone_that_never_keeps_its_cookie_is_signalled(
        app, runner, stations_loaded, station_url, clock):
    from urllib.parse import urlsplit

    path = urlsplit(station_url("ST-002")).path
    for day in range(5):  # once every few days, cookies refused
        phone_with(app, "Mozilla/5.0 (Linux; Android 12) no cookies").post(
            path, data={"score": "5", "key": f"refuses-cookies-{day:04d}"})
        clock.advance(days=3)
    found = json.loads(runner.invoke(args=["signals", "scan", "--json"]).output)
    kept_alive = [s for s in found if s["kind"] == "single_device"]
    assert [(s["station_code"], s["ratings"], s["devices"]) for s in kept_alive] == [("ST-002", 5, 1)]
