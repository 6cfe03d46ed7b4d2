"""One phone, one counted vote: repeats, staff devices, exclusions, and rollups that stay exact."""
import json
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from feedback.counts import counting, devices
from feedback.counts import rollups as rollups_module
from feedback.counts import windows
from feedback.counts.ratings import insert_staged, record
from feedback.staging import stage_imported
from feedback.storage.db import write
from jobs import reports
from support import NOON, examples, phone_with, sign_in
from web import browser


@pytest.fixture
def rate(client, stations_loaded, station_url):
    """Rate a station from a client as a phone does: the form, then one tap."""
    paths = {}

    def tap(score=5, code="ST-001", phone=client):
        path = paths.setdefault(code, urlsplit(station_url(code)).path)
        html = phone.get(path).get_data(as_text=True)
        key = html.split('name="key" value="')[1].split('"')[0]
        response = phone.post(path, data={"score": str(score), "key": key})
        assert response.status_code == 303
        return response
    return tap


def summary(client, code="ST-001"):
    found = client.get(f"/api/v1/stations/{code}").get_json()
    return found["ratings_total"], found["held_total"]


def test_one_phone_rating_twenty_times_in_a_day_counts_once(client, rate, db):
    for _ in range(20):
        rate(5)
    assert summary(client) == (1, 19)
    held = [row[0] for row in db.execute("SELECT held_reason FROM ratings ORDER BY id")]
    assert held == [None] + ["repeat"] * 19


def test_ten_workers_phones_on_one_wifi_count_ten(app, client, rate, clock):
    """New phones of different models, and phones alike whose cookies counted on an earlier day."""
    for n in range(10):
        rate(4, phone=phone_with(app, f"Mozilla/5.0 (Linux; Android 13; V22{n:02d}A) WeChat/8.0"))
    assert summary(client) == (10, 0)
    alike = [phone_with(app, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5) WeChat/8.0.49") for _ in range(5)]
    for n, phone in enumerate(alike):  # each first counted on a day of its own, before today
        clock.instant = NOON - timedelta(days=n + 1)
        rate(5, code="ST-002", phone=phone)
    clock.instant = NOON + timedelta(hours=1)
    for phone in alike:
        rate(5, phone=phone)
    assert summary(client) == (15, 0)


def test_two_new_phones_alike_behind_one_address_may_count_once_and_the_second_is_kept(
        app, client, rate, db):
    """The accepted error of the rule: two phones new that day, of one model, browser and
    language, behind one address, cannot be told from one phone that gathered two cookies."""
    for _ in range(2):
        rate(5, phone=phone_with(app, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5) WeChat/8.0.49"))
    assert summary(client) == (1, 1)
    assert [row[0] for row in db.execute("SELECT held_reason FROM ratings ORDER BY id")] == [
        None, "same_network"]


def test_a_phone_that_clears_its_cookie_counts_once_a_day(app, client, rate, db, clock):
    phone = phone_with(app, "Mozilla/5.0 (Linux; Android 14; 23049RAD8C) WeChat/8.0.47")
    for _ in range(6):
        rate(5, phone=phone)
        phone.delete_cookie(browser.COOKIE)  # the form's next visit gives it a new one
    assert summary(client) == (1, 5)
    assert {row[0] for row in db.execute(
        "SELECT held_reason FROM ratings WHERE held_reason IS NOT NULL")} == {"same_network"}
    clock.instant = NOON + timedelta(days=1)  # a new day: once more
    rate(5, phone=phone)
    rate(5, phone=phone)
    assert summary(client) == (2, 6)


def test_a_phone_that_refuses_cookies_still_rates_and_counts_once_a_day(
        app, client, stations_loaded, station_url, db):
    path = urlsplit(station_url("ST-001")).path
    for n in range(3):
        response = app.test_client().post(path, data={"score": "3", "key": f"no-cookie-key-{n:04d}"})
        assert response.status_code == 303
    assert summary(client) == (1, 2)
    assert [row[0] for row in db.execute("SELECT held_reason FROM ratings ORDER BY id")] == [
        None, "same_network", "same_network"]
    # its device is its address and browser: one label for the three, for inspectors to exclude
    assert db.execute("SELECT count(DISTINCT device_id), min(kind) FROM ratings "
                      "JOIN devices ON devices.id = device_id").fetchone() == (1, "network")
    other = app.test_client()  # another station the same day: counted there
    other_path = urlsplit(station_url("ST-002")).path
    other.post(other_path, data={"score": "3", "key": "no-cookie-key-0009"})
    assert summary(client, "ST-002") == (1, 0)


def test_a_forged_device_cookie_counts_as_no_cookie(app, client, stations_loaded, station_url, db):
    path = urlsplit(station_url("ST-001")).path
    forged = app.test_client()
    for n in range(2):  # a script that sends the same made-up cookie each time
        forged.set_cookie(browser.COOKIE, "made-up-id.AAAAAAAAAAAAAAAA")
        forged.post(path, data={"score": "5", "key": f"forged-key-{n:06d}"})
    assert db.execute("SELECT kind FROM devices").fetchall() == [("network",)]
    assert summary(client) == (1, 1)


def test_twenty_ratings_sent_at_once_without_cookies_count_once(app, live_server, stations_loaded,
                                                                station_url, db):
    import threading
    import urllib.request
    path = urlsplit(station_url("ST-001")).path
    answers = []

    def post(n):
        request = urllib.request.Request(f"{live_server}{path}", method="POST",
                                         data=f"score=5&key=all-at-once-key-{n:04d}".encode())
        try:
            urllib.request.urlopen(request)
        except urllib.error.HTTPError as answer:  # the 303 is not followed without cookies...
            answers.append(answer.code)
        else:
            answers.append(200)  # ...or it is, to the thank-you page
    threads = [threading.Thread(target=post, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 20
    counted = db.execute("SELECT count(*) FROM ratings WHERE held_reason IS NULL").fetchone()[0]
    assert (counted, db.execute("SELECT count(*) FROM ratings").fetchone()[0]) == (1, 20)


def test_the_device_cookie_is_first_party_httponly_lax_and_only_a_hash_is_kept(client, rate, db):
    rate(5)
    cookie = client.get_cookie(browser.COOKIE)
    assert cookie.http_only and cookie.same_site == "Lax"
    random_id = cookie.value.split(".")[0]
    stored = db.execute("SELECT key_hash, label FROM devices").fetchall()
    assert len(stored) == 1 and random_id not in stored[0][0] and random_id not in stored[0][1]


@pytest.mark.parametrize("first, second, counted", [
    ("2026-11-28T15:59:59Z", "2026-11-28T16:00:00Z", 2),  # 23:59:59 and 00:00 in Shanghai
    ("2026-11-28T16:00:00Z", "2026-11-29T15:59:59Z", 1),  # 00:00 and 23:59:59: one local day
    ("2026-11-28T03:00:00Z", "2026-11-28T12:00:00Z", 1),  # 11:00 and 20:00
])
def test_the_repeat_rule_follows_local_days(client, rate, clock, first, second, counted):
    clock.instant = datetime.fromisoformat(first.replace("Z", "+00:00"))
    rate(5)
    clock.instant = datetime.fromisoformat(second.replace("Z", "+00:00"))
    rate(5)
    assert summary(client) == (counted, 2 - counted)


def test_the_day_edge_is_the_configured_zone(db_path, clock, monkeypatch, stations_loaded):
    """The same two instants, a day apart in Shanghai, are one day in London."""
    from app import create_app

    monkeypatch.setenv("FEEDBACK_TIMEZONE", "Europe/London")
    london = create_app({"DATABASE": db_path, "CLOCK": clock, "TESTING": True})
    phone = london.test_client()
    with london.app_context():
        from feedback.places import stations
        from feedback.storage.db import get_db
        from qr.links import station_url as url_of
        path = urlsplit(url_of(stations.get(get_db(), "ST-002"))).path
    for instant in ("2026-11-28T15:59:59Z", "2026-11-28T16:00:00Z"):
        clock.instant = datetime.fromisoformat(instant.replace("Z", "+00:00"))
        key = phone.get(path).get_data(as_text=True).split('name="key" value="')[1].split('"')[0]
        phone.post(path, data={"score": "5", "key": key})
    found = phone.get("/api/v1/stations/ST-002").get_json()
    assert (found["ratings_total"], found["held_total"]) == (1, 1)


def test_a_manager_who_signed_in_on_his_phone_cannot_keep_his_station_alive(
        app, client, runner, make_user, write_file, clock):
    old = "code,name,district,tier,kind,opened_on\nOLD-1,老驿站,城区,city,fixed,2024-01-01\n"
    runner.invoke(args=["stations", "import", write_file("old.csv", old)])
    make_user("mgr", "manager", "--station", "OLD-1")
    sign_in(client, "mgr")
    path = urlsplit(runner.invoke(args=["stations", "url", "OLD-1"]).output.strip()).path
    for month in (9, 10, 11):  # once a month, from the phone he signed in on
        clock.instant = datetime(2026, month, 15, 4, tzinfo=timezone.utc)
        key = client.get(path).get_data(as_text=True).split('name="key" value="')[1].split('"')[0]
        client.post(path, data={"score": "5", "key": key})
    assert summary(client, "OLD-1") == (0, 3)
    scan = runner.invoke(args=["downgrade", "scan", "--as-of", "2026-12-01", "--json"])
    assert '"code": "OLD-1"' in scan.output


def test_the_ratings_api_shows_devices_and_what_counts(client, runner, make_user, rate):
    rate(5)
    rate(4)
    make_user("ins", "inspector")
    token = runner.invoke(args=["users", "token", "--username", "ins"]).output.strip()
    items = client.get("/api/v1/stations/ST-001/ratings",
                       headers={"Authorization": f"Bearer {token}"}).get_json()["items"]
    assert [(i["score"], i["counted"], i["held_reason"]) for i in items] == [
        (5, True, None), (4, False, "repeat")]
    assert items[0]["device"] == items[1]["device"] and len(items[0]["device"]) == 10
    assert all(isinstance(i["id"], int) for i in items)


@pytest.fixture
def inspector(client, runner, make_user):
    make_user("ins", "inspector")
    token = runner.invoke(args=["users", "token", "--username", "ins"]).output.strip()
    return {"Authorization": f"Bearer {token}"}


def test_an_exclusion_changes_every_figure_and_stays_in_the_history(
        app, client, runner, rate, inspector, db, clock):
    rate(1)
    rate(5, phone=phone_with(app, "another phone"))
    rating_id = db.execute("SELECT id FROM ratings WHERE score = 1").fetchone()[0]
    digest = runner.invoke(args=["digest", "show", "--date", "2026-11-28", "--json"]).output
    assert '"ratings_total": 2' in digest and '"bad_ratings_total": 1' in digest
    made = client.post("/api/v1/exclusions", json={"rating_id": rating_id, "reason": "店长自评"},
                       headers=inspector)
    assert made.status_code == 201 and made.get_json()["ratings"] == 1
    assert summary(client) == (1, 1)
    digest = runner.invoke(args=["digest", "show", "--date", "2026-11-28", "--json"]).output
    assert '"ratings_total": 1' in digest and '"bad_ratings_total": 0' in digest
    history = client.get("/api/v1/stations/ST-001/history", headers=inspector).get_json()["items"]
    assert history[-1]["action"] == "excluded" and "店长自评" in history[-1]["reason"]
    assert history[-1]["by"] == "ins"
    lifted = client.post(f"/api/v1/exclusions/{made.get_json()['id']}/lift",
                         json={"reason": "核实为真实评价"}, headers=inspector)
    assert lifted.status_code == 200 and summary(client) == (2, 0)
    again = client.post(f"/api/v1/exclusions/{made.get_json()['id']}/lift",
                        json={"reason": "再撤销"}, headers=inspector)
    assert again.status_code == 409  # lifted already
    actions = [e["action"] for e in client.get("/api/v1/stations/ST-001/history",
                                               headers=inspector).get_json()["items"]]
    assert actions[-2:] == ["excluded", "exclusion_lifted"]


def test_a_device_exclusion_covers_its_ratings_over_the_days(app, client, rate, inspector, db, clock):
    for day in range(3):
        rate(5)
        clock.advance(days=1)
    label = db.execute("SELECT label FROM devices").fetchone()[0]
    made = client.post("/api/v1/exclusions", headers=inspector, json={
        "station": "ST-001", "device": label, "from": "2026-11-28", "to": "2026-11-29",
        "reason": "同一部手机反复刷分"})
    assert made.get_json()["ratings"] == 2 and summary(client) == (1, 2)


@pytest.mark.parametrize("body, status", [
    ({"rating_id": 999, "reason": "x"}, 404),
    ({"rating_id": "1", "reason": "x"}, 400),
    ({"rating_id": 1}, 400),
    ({"station": "NOPE", "device": "x", "from": "2026-11-01", "to": "2026-11-02", "reason": "x"}, 404),
    ({"station": "ST-001", "device": "nobody", "from": "2026-11-01", "to": "2026-11-02", "reason": "x"}, 404),
    ({"station": "ST-001", "device": "x", "from": "2026-11-05", "to": "2026-11-02", "reason": "x"}, 422),
    ({"station": "ST-001", "device": "x", "from": "2026-W01-1", "to": "2026-11-02", "reason": "x"}, 400),
])
def test_bad_exclusions_are_refused_and_change_nothing(client, rate, inspector, db, body, status):
    rate(5)
    assert client.post("/api/v1/exclusions", json=body, headers=inspector).status_code == status
    assert summary(client) == (1, 0)
    assert db.execute("SELECT count(*) FROM exclusions").fetchone()[0] == 0


def test_only_inspectors_and_admins_exclude_and_a_station_out_of_sight_is_404(
        client, runner, make_user, rate, db):
    rate(5)
    make_user("pd", "district", "--district", "浦东新区")
    token = runner.invoke(args=["users", "token", "--username", "pd"]).output.strip()
    response = client.post("/api/v1/exclusions", json={"rating_id": 1, "reason": "x"},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403


# The rollups are exact: after any mix of ratings, repeats, staff devices, exclusions and lifts,
# station_days, station_months, city_days and station_totals equal a recount of the counted
# ratings; and the service's own check (feedback.counts.rollups) agrees with this test's recount.

def recount(db):
    days = {(row[0], row[1]): tuple(row[2:]) for row in db.execute(
        """SELECT station_id, day, sum(score = 1), sum(score = 2), sum(score = 3), sum(score = 4),
                  sum(score = 5) FROM counted_ratings GROUP BY station_id, day""")}
    totals = {row[0]: tuple(row[1:]) for row in db.execute(
        """SELECT station_id, sum(score = 1), sum(score = 2), sum(score = 3), sum(score = 4),
                  sum(score = 5), strftime('%Y-%m-%dT%H:%M:%SZ', max(rated_at), 'unixepoch')
           FROM counted_ratings GROUP BY station_id""")}
    held = {row[0]: row[1] for row in db.execute(
        """SELECT station_id, count(*) FROM ratings WHERE id NOT IN (SELECT id FROM counted_ratings)
           GROUP BY station_id""")}
    months, city = {}, {}
    for (station, day), counts in days.items():
        month = months.setdefault((station, day[:7]), [0] * 5)
        city_day = city.setdefault(day, [0] * 5)
        for n in range(5):
            month[n] += counts[n]
            city_day[n] += counts[n]
    districts = {table: {(row[0], row[1]): tuple(row[2:]) for row in db.execute(
        f"""SELECT district, {period}, sum(score = 1), sum(score = 2), sum(score = 3),
                   sum(score = 4), sum(score = 5)
            FROM counted_ratings JOIN stations ON stations.id = station_id GROUP BY 1, 2""")}
        for table, period in (("district_days", "day"), ("district_months", "substr(day, 1, 7)"))}
    weeks = {(row[0], row[1]): tuple(row[2:]) for row in db.execute(
        """SELECT station_id, date(day, 'weekday 0', '-6 days'), sum(score = 1), sum(score = 2),
                  sum(score = 3), sum(score = 4), sum(score = 5) FROM counted_ratings GROUP BY 1, 2""")}
    groups = {tuple(row[:3]): tuple(row[3:]) for row in db.execute(
        """SELECT substr(day, 1, 7), district, tier, count(DISTINCT station_id), sum(score = 1),
                  sum(score = 2), sum(score = 3), sum(score = 4), sum(score = 5)
           FROM counted_ratings JOIN stations ON stations.id = station_id GROUP BY 1, 2, 3""")}
    windows = {(row[0], row[1]): tuple(row[2:]) for row in db.execute(
        """SELECT end_day, station_id, sum(score = 1), sum(score = 2), sum(score = 3),
                  sum(score = 4), sum(score = 5)
           FROM counted_ratings JOIN window_ends ON day BETWEEN first_day AND end_day GROUP BY 1, 2""")}
    return (days, totals, held, {key: tuple(v) for key, v in months.items()},
            {key: tuple(v) for key, v in city.items()}, districts, windows, weeks, groups)


def rollups(db):
    days = {(row[0], row[1]): tuple(row[2:]) for row in db.execute(
        "SELECT station_id, day, n1, n2, n3, n4, n5 FROM station_days") if any(row[2:])}
    totals = {row[0]: tuple(row[1:]) for row in db.execute(
        "SELECT station_id, n1, n2, n3, n4, n5, last_rated_at FROM station_totals") if any(row[1:6])}
    held = {row[0]: row[1] for row in db.execute(
        "SELECT station_id, held FROM station_totals") if row[1]}
    months = {(row[0], row[1]): tuple(row[2:]) for row in db.execute(
        "SELECT station_id, month, n1, n2, n3, n4, n5 FROM station_months") if any(row[2:])}
    city = {row[0]: tuple(row[1:]) for row in db.execute(
        "SELECT day, n1, n2, n3, n4, n5 FROM city_days") if any(row[1:])}
    districts = {table: {(row[0], row[1]): tuple(row[2:]) for row in db.execute(
        f"SELECT * FROM {table}") if any(row[2:])} for table in ("district_days", "district_months")}
    windows = {(row[0], row[1]): tuple(row[2:]) for row in db.execute(
        "SELECT end_day, station_id, n1, n2, n3, n4, n5 FROM station_windows") if any(row[2:])}
    weeks = {(row[0], row[1]): tuple(row[2:]) for row in db.execute(
        "SELECT * FROM station_weeks") if any(row[2:])}
    groups = {tuple(row[:3]): tuple(row[3:]) for row in db.execute(
        "SELECT * FROM group_months") if any(row[3:])}
    return days, totals, held, months, city, districts, windows, weeks, groups


operation = st.one_of(
    st.tuples(st.just("rate"), st.integers(1, 3), st.integers(0, 3), st.integers(1, 5),
              st.integers(0, 40)),                      # station, device (0: none), score, hours later
    st.tuples(st.just("exclude_rating"), st.integers(0, 60)),
    st.tuples(st.just("exclude_device"), st.integers(1, 3), st.integers(1, 3), st.integers(0, 3),
              st.integers(0, 3)),                       # station, device, from day, length
    st.tuples(st.just("lift"), st.integers(0, 20)),
    st.tuples(st.just("staff"), st.integers(1, 3)),     # a device signs in as staff
    st.tuples(st.just("import"), st.integers(1, 3), st.integers(1, 5), st.integers(-30, 60)),
    st.tuples(st.just("rebuild")),                      # `rollups rebuild`
    st.tuples(st.just("window"), st.integers(0, 20), st.integers(0, 20)),  # a digest's: end, length
    st.tuples(st.just("week"), st.integers(-1, 1), st.sampled_from([None, "黄浦区"])),  # a report's
    st.tuples(st.just("move"), st.integers(1, 3), st.sampled_from(["黄浦区", "静安区"])),
    st.tuples(st.just("tier"), st.integers(1, 3), st.sampled_from(["city", "national"])),
)


@pytest.mark.fuzz
def test_rollups_equal_a_recount_after_any_mix_of_operations(app, stations_loaded):
    from feedback.storage.db import get_db

    start = datetime(2026, 11, 1, 4, tzinfo=timezone.utc)
    tz = app.config["TIMEZONE"]

    @given(st.lists(operation, max_size=40))
    # a week's kept lists, then what changes them: a rating in the week, an exclusion, an
    # import, a station that moves district (a random mix seldom lines these up)
    @example([("week", 0, None), ("rate", 1, 0, 5, 1)])
    @example([("rate", 1, 0, 1, 1), ("week", 0, None), ("exclude_rating", 0)])
    @example([("week", 0, None), ("import", 2, 1, 1)])
    @example([("week", 0, "黄浦区"), ("move", 1, "静安区")])
    # two days of one station's week (Monday and Tuesday, 2 and 3 November), recounted
    @example([("rate", 1, 0, 5, 25), ("rate", 1, 0, 4, 24), ("rebuild",)])
    # a window from 2 to 16 November with ratings on its first and last days and between
    # (local), and one the day before it
    @example([("rate", 3, 0, 4, 0), ("rate", 1, 0, 5, 30), ("rate", 2, 0, 1, 200),
              ("rate", 1, 0, 2, 130), ("window", 15, 14)])
    @settings(max_examples=examples(60), derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(operations):
        with app.app_context():
            db = get_db()
            with write(db):
                for table in ("excluded_ratings", "exclusions", "rating_details", "station_history"):
                    db.execute(f"DELETE FROM {table}")
                db.execute("DROP TRIGGER ratings_are_append_only_delete")
                db.execute("DELETE FROM ratings")
                for table in ("group_months", "station_months", "station_weeks", "city_days",
                              "district_days", "district_months",
                              "station_windows", "window_ends", "station_days", "station_totals",
                              "week_lists"):
                    db.execute(f"DELETE FROM {table}")
                for table in ("devices", "device_days", "network_days"):
                    db.execute(f"DELETE FROM {table}")
                db.execute("""CREATE TRIGGER ratings_are_append_only_delete BEFORE DELETE ON ratings
                              BEGIN SELECT RAISE(ABORT, 'ratings are append-only'); END""")
                device_rows = {n: devices.find_or_add(db, f"hash-{n}", start) for n in (1, 2, 3)}
            now = start
            for op in operations:
                with write(db):
                    if op[0] == "rate":
                        _, station, device_n, score, hours = op
                        now += timedelta(hours=hours)
                        rater = counting.Rater(f"hash-{device_n}" if device_n else None,
                                               bytes([device_n]) * 16)  # each on its own network
                        device_id, held = counting.device_and_hold(
                            db, rater, counting.known_device(db, rater), station,
                            now.astimezone(tz).date(), now)
                        record(db, station_id=station, rated_at=now, score=score, source="form",
                               once_key=None, tz=tz, device_id=device_id, held_reason=held)
                    elif op[0] == "exclude_rating":
                        ids = [row[0] for row in db.execute("SELECT id FROM ratings ORDER BY id")]
                        if ids:
                            counting.exclude_rating(db, ids[op[1] % len(ids)], "test", "t", now)
                    elif op[0] == "exclude_device":
                        _, station, device_n, offset, length = op
                        first = date(2026, 11, 1) + timedelta(days=offset)
                        counting.exclude_device(db, station, device_rows[device_n]["label"], first,
                                                first + timedelta(days=length), "test", "t", now)
                    elif op[0] == "import":  # an earlier system's ratings, among the others
                        _, station, score, hours = op

                        def imported(at):
                            return {"station_id": station, "rated_at": int(at.timestamp()),
                                    "day": at.astimezone(tz).date().isoformat(), "score": score,
                                    "comment": ""}
                        row = imported(start + timedelta(hours=hours))
                        # the same rating twice in a file, and one a day later
                        next_day = imported(start + timedelta(hours=hours + 24))
                        insert_staged(db, stage_imported(db.conn, [(1, row), (2, row), (3, next_day)]))
                    elif op[0] == "rebuild":
                        rollups_module.rebuild(db)
                    elif op[0] == "window":
                        last = date(2026, 11, 1) + timedelta(days=op[1])
                        if windows.ensure(db, last - timedelta(days=op[2]), last):
                            # summed as a day older than the kept windows is: the same counts
                            windows.summed(db, last - timedelta(days=op[2]), last)
                            assert {row[0]: row[1:] for row in db.execute(
                                "SELECT * FROM temp.past_window") if any(row[1:])} == {
                                row[0]: row[1:] for row in db.execute(
                                    "SELECT station_id, n1, n2, n3, n4, n5 FROM station_windows "
                                    "WHERE end_day = ?", [last.isoformat()]) if any(row[1:])}
                    elif op[0] == "week":  # a weekly report's lists, kept once made: last, this
                        today = now.astimezone(tz).date()  # or next week's (rated in later)
                        reports.kept_station_lists(
                            db, today - timedelta(days=today.weekday(), weeks=-op[1]), op[2])
                    elif op[0] == "move":  # a re-imported station in another district
                        db.execute("UPDATE stations SET district = ? WHERE id = ?", [op[2], op[1]])
                    elif op[0] == "tier":  # an inspector's decision, or a reinstatement
                        db.execute("UPDATE stations SET tier = ? WHERE id = ?", [op[2], op[1]])
                    elif op[0] == "lift":
                        ids = [row[0] for row in db.execute(
                            "SELECT id FROM exclusions WHERE lifted_at IS NULL ORDER BY id")]
                        if ids:
                            counting.lift(db, ids[op[1] % len(ids)], "test", "t", now)
                    else:
                        devices.mark_staff(db, f"hash-{op[1]}", now)
                assert rollups(db) == recount(db)
                for monday, district, lists in db.execute("SELECT * FROM week_lists").fetchall():
                    assert json.loads(lists) == reports.station_lists(
                        db, date.fromisoformat(monday), *reports.scope_sql(district or None))
            assert rollups_module.differences(db) == []

    run()


@pytest.mark.fuzz
def test_a_count_of_days_agrees_with_every_ratings_day_whatever_zone_stored_it(db, stations_loaded):
    """count_between() counts the middle of a range by the instant alone: right for ratings whose
    days were stored in any zone (FEEDBACK_TIMEZONE may have changed), at its ends too."""
    from random import Random

    from feedback.counts.ratings import count_between
    source, start = Random(12), datetime(2026, 11, 1, tzinfo=timezone.utc)
    with write(db):
        for _ in range(400):
            at = start + timedelta(seconds=source.randrange(12 * 86400))
            offset = timedelta(hours=source.choice([-12, -5, 0, 8, 13, 14]))
            db.execute("INSERT INTO ratings (station_id, rated_at, day, score, source) "
                       "VALUES (?, ?, ?, 4, 'import')",
                       [source.choice([1, 2]), int(at.timestamp()), (at + offset).date().isoformat()])

    @given(st.integers(-1, 13), st.integers(0, 8), st.sampled_from([1, 2]))
    @settings(max_examples=examples(80), derandomize=True, deadline=None, database=None)
    def agree(offset, length, station):
        first = date(2026, 11, 1) + timedelta(days=offset)
        last = first + timedelta(days=length)
        assert count_between(db, first, last, "station_id = ?", [station]) == db.execute(
            "SELECT count(*) FROM ratings WHERE station_id = ? AND day BETWEEN ? AND ?",
            [station, first.isoformat(), last.isoformat()]).fetchone()[0]

    agree()


def test_a_signed_in_manager_who_deletes_his_device_cookie_is_still_held(
        app, client, runner, make_user, db):
    """His browser still carries his sign-in: that is a staff browser whatever its device cookie."""
    make_user("mgr", "manager", "--station", "ST-001")
    sign_in(client, "mgr")
    path = urlsplit(runner.invoke(args=["stations", "url", "ST-001"]).output.strip()).path
    for _ in range(2):
        client.delete_cookie(browser.COOKIE)
        key = client.get(path).get_data(as_text=True).split('name="key" value="')[1].split('"')[0]
        client.delete_cookie(browser.COOKIE)
        assert client.post(path, data={"score": "5", "key": key}).status_code == 303
    assert [row[0] for row in db.execute("SELECT held_reason FROM ratings")] == ["staff_device"] * 2
    # a session cookie that is not ours names no one
    stranger = app.test_client()
    stranger.set_cookie("session", "eyJzaWQiOiJ4In0.forged.signature")
    stranger.post(path, data={"score": "5", "key": "forged-session-key-0001"})
    assert db.execute("SELECT held_reason FROM ratings ORDER BY id DESC").fetchone()[0] is None


def test_the_details_of_a_rating_without_a_cookie_come_only_from_its_address_and_browser(
        app, stations_loaded, station_url, db):
    path = urlsplit(station_url("ST-001")).path
    worker = phone_with(app, "Mozilla/5.0 (Linux; Android 14) worker", "10.0.0.7")
    location = worker.post(path, data={"score": "2", "key": "no-cookie-details-01"}).headers["Location"]
    pass_value = location.split("r=")[1].split("&")[0]
    details = path + "/details"
    other = phone_with(app, "Mozilla/5.0 (Linux; Android 14) worker", "10.0.0.8")  # another address
    assert other.post(details, data={"r": pass_value, "comment": "冒充"}).status_code == 403
    worker.delete_cookie(browser.COOKIE)  # the phone that rated, with or without its new cookie
    assert worker.post(details, data={"r": pass_value, "comment": "水龙头坏了"}).status_code == 303
    assert db.execute("SELECT comment FROM rating_details").fetchall() == [("水龙头坏了",)]


def test_what_the_rule_keeps_of_who_rated_is_let_go_after_two_days(app, db, rate, clock):
    from feedback.counts.counting import forget_raters
    rate(5)
    clock.advance(days=1)
    rate(5)
    with write(db):
        assert forget_raters(db, clock.now().date()) == 0  # today's and yesterday's stay
    clock.advance(days=1)
    with write(db):
        assert forget_raters(db, clock.now().date()) == 2  # the first day's device and address
    assert db.execute("SELECT count(*) FROM device_days").fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM network_days").fetchone()[0] == 1
