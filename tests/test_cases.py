"""Weekly correction: bad ratings open cases due in China's working days; managers resolve them,
districts and inspectors reopen them, overdue ones are shown first and in the digest, and workers
see what was done."""
import json
import logging
import re
from datetime import date
from urllib.parse import urlsplit

import pytest

from feedback.followup import workdays
from support import csrf_from, phone_with, sign_in


@pytest.mark.parametrize("start, days, due", [
    ("2026-02-13", 5, "2026-02-27"),  # Spring Festival: Sat 14 Feb works, 15–23 Feb off
    ("2026-02-13", 1, "2026-02-14"),
    ("2026-02-27", 1, "2026-02-28"),  # the make-up Saturday after it
    ("2026-09-18", 1, "2026-09-20"),  # National Day's make-up Sunday
    ("2026-09-30", 5, "2026-10-13"),  # 1–7 Oct off, Sat 10 Oct works
    ("2025-01-24", 1, "2025-01-26"),  # Spring Festival 2025: Sunday 26 Jan works
    ("2025-01-27", 1, "2025-02-05"),  # 28 Jan – 4 Feb off
    ("2025-12-31", 1, "2026-01-04"),  # across the year end: 1–3 Jan off, Sunday 4 Jan works
    ("2026-11-27", 5, "2026-12-04"),  # an ordinary week
])
def test_working_days_follow_chinas_official_calendar(start, days, due):
    assert workdays.add_working_days(date.fromisoformat(start), days).isoformat() == due


def test_past_the_last_known_year_monday_to_friday_count_with_a_warning(caplog):
    workdays.knows.cache_clear()
    with caplog.at_level(logging.WARNING, logger="feedback.workdays"):
        assert workdays.add_working_days(date(2026, 12, 30), 5) == date(2027, 1, 6)
    assert "no official schedule for 2027" in caplog.text


def test_calendar_due_prints_the_date(runner):
    result = runner.invoke(args=["calendar", "due", "--from", "2026-09-30", "--days", "5"])
    assert result.output.strip() == "2026-10-13"
    bad = runner.invoke(args=["calendar", "due", "--from", "2026-W40-1", "--days", "5"])
    assert bad.exit_code == 2 and "not a date like" in bad.output


@pytest.fixture
def rate(client, stations_loaded, station_url):
    def tap(score, code="ST-001", phone=client):
        path = urlsplit(station_url(code)).path
        key = phone.get(path).get_data(as_text=True).split('name="key" value="')[1].split('"')[0]
        response = phone.post(path, data={"score": str(score), "key": key})
        return response.headers["Location"]
    return tap


@pytest.fixture
def staff(runner, make_user):
    tokens = {}
    for username, role, *extra in (("mgr", "manager", "--station", "ST-001"),
                                   ("other", "manager", "--station", "ST-002"),
                                   ("hp", "district", "--district", "黄浦区"),
                                   ("ins", "inspector")):
        make_user(username, role, *extra)
        tokens[username] = {"Authorization": "Bearer " + runner.invoke(
            args=["users", "token", "--username", username]).output.strip()}
    return tokens


def test_a_bad_rating_opens_a_case_and_later_ones_join_it(app, client, rate, runner, db):
    rate(5, phone=phone_with(app, "A"))   # a good rating: no case
    rate(2)                               # opens a case (NOON, Sat 28 Nov 2026)
    rate(1, phone=phone_with(app, "B"))   # another phone: joins it
    rate(1)                               # the first phone again: a repeat, not counted, not filed
    found = runner.invoke(args=["cases", "list", "--json"]).output
    assert '"ratings_total": 2' in found and '"opened_on": "2026-11-28"' in found
    assert '"due_on": "2026-12-04"' in found  # 5 working days after a Saturday
    assert db.execute("SELECT count(*) FROM cases").fetchone()[0] == 1


def test_imported_history_opens_no_case(runner, write_file, stations_loaded, db):
    rows = "station_code,rated_at,score,comment\nST-001,2026-11-27T10:00:00,1,旧系统\n"
    runner.invoke(args=["ratings", "import", write_file("r.csv", rows)])
    assert db.execute("SELECT count(*) FROM cases").fetchone()[0] == 0


def test_the_manager_resolves_and_a_district_reopens_within_14_days(client, rate, staff, clock):
    rate(1)
    [case] = client.get("/api/v1/cases", headers=staff["mgr"]).get_json()["items"]
    empty = client.post(f"/api/v1/cases/{case['id']}/resolve", json={"note": "  "},
                        headers=staff["mgr"])
    assert empty.status_code == 400
    assert client.get("/api/v1/cases?status=open", headers=staff["mgr"]).get_json()["items"]
    assert client.post(f"/api/v1/cases/{case['id']}/resolve", json={"note": "x" * 1001},
                       headers=staff["mgr"]).status_code == 400
    done = client.post(f"/api/v1/cases/{case['id']}/resolve", json={"note": "已修好热水器"},
                       headers=staff["mgr"])
    assert done.status_code == 200 and done.get_json()["status"] == "resolved"
    assert done.get_json()["note"] == "已修好热水器"
    clock.advance(days=3)
    reopened = client.post(f"/api/v1/cases/{case['id']}/reopen", json={"reason": "复查仍无热水"},
                           headers=staff["hp"])
    assert reopened.status_code == 200
    assert reopened.get_json()["status"] == "open" and reopened.get_json()["due_on"] == "2026-12-08"
    client.post(f"/api/v1/cases/{case['id']}/resolve", json={"note": "换了新热水器"},
                headers=staff["mgr"])
    clock.advance(days=15)
    late = client.post(f"/api/v1/cases/{case['id']}/reopen", json={"reason": "再看看"},
                       headers=staff["ins"])
    assert late.status_code == 409 and "14 days" in late.get_json()["message"]


def test_only_the_stations_manager_resolves(client, rate, staff):
    rate(1)
    [case] = client.get("/api/v1/cases", headers=staff["ins"]).get_json()["items"]
    assert client.post(f"/api/v1/cases/{case['id']}/resolve", json={"note": "我来"},
                       headers=staff["other"]).status_code == 404
    assert client.post(f"/api/v1/cases/{case['id']}/resolve", json={"note": "我来"},
                       headers=staff["hp"]).status_code == 403
    assert client.post(f"/api/v1/cases/{case['id']}/reopen", json={"reason": "x"},
                       headers=staff["mgr"]).status_code == 403
    assert client.get("/api/v1/cases", headers=staff["other"]).get_json()["items"] == []
    assert client.get("/api/v1/cases?status=bogus", headers=staff["ins"]).status_code == 400


def test_an_overdue_case_is_in_the_digest_first_on_the_page_and_in_the_list(
        app, client, rate, staff, runner, clock):
    rate(1, "ST-001")                                   # Sat 28 Nov: due Fri 4 Dec
    clock.advance(days=7)                               # Sat 5 Dec: 4 Dec has passed
    rate(2, "ST-001", phone=phone_with(app, "A"))       # joins it
    rate(1, "ST-003", phone=phone_with(app, "B"))       # a case due later, in 静安区
    digest = runner.invoke(args=["digest", "show", "--date", "2026-12-04"]).output
    assert "逾期未整改 1 件" in digest and "人民广场驿站(ST-001)· 期限 2026-12-04" in digest
    assert "逾期未整改" not in runner.invoke(args=["digest", "show", "--date", "2026-12-03"]).output
    listed = runner.invoke(args=["cases", "list", "--status", "overdue", "--json"]).output
    assert '"station_code": "ST-001"' in listed and "ST-003" not in listed
    sign_in(client, "ins")
    page = client.get("/cases").get_data(as_text=True)
    assert page.index("ST-001") < page.index("ST-003") and "已逾期" in page


def test_the_manager_resolves_from_the_cases_page(client, rate, staff, db):
    rate(1)
    sign_in(client, "mgr")
    page = client.get("/cases").get_data(as_text=True)
    case_id = re.search(r'action="/cases/(\d+)/resolve"', page).group(1)
    response = client.post(f"/cases/{case_id}/resolve", data={
        "csrf_token": csrf_from(page), "note": "已联系物业修好"})
    assert response.status_code == 303
    assert "已整改 / resolved" in client.get("/cases").get_data(as_text=True)
    assert db.execute("SELECT status, note FROM cases").fetchone() == ("resolved", "已联系物业修好")
    steps = [row[0] for row in db.execute("SELECT action FROM case_steps ORDER BY id")]
    assert steps == ["opened", "resolved"]


def test_a_resolved_case_shows_on_the_thanks_page_escaped(app, client, rate, staff):
    location = rate(1)
    details = location.split("?")[0].replace("/thanks", "/details")
    pass_value = re.search(r'name="r" value="([^"]+)"', client.get(location).get_data(as_text=True)).group(1)
    client.post(details, data={"r": pass_value, "reason": ["water", "toilet"]})
    [case] = client.get("/api/v1/cases", headers=staff["mgr"]).get_json()["items"]
    assert case["reasons"] == {"water": 1, "toilet": 1}
    client.post(f"/api/v1/cases/{case['id']}/resolve",
                json={"note": "<script>alert(1)</script>新装饮水机"}, headers=staff["mgr"])
    page = app.test_client().get(location.split("?")[0]).get_data(as_text=True)
    assert "你说我改" in page and "新装饮水机" in page and "没有热水/饮用水" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_the_weekly_report_counts_the_cases_of_its_own_week(client, rate, staff, clock, runner):
    """Each week reads only the cases that matter to it (open, or resolved since its Monday),
    and still sees a case opened weeks before that is open and overdue in it."""
    rate(1, "ST-001")                                   # Sat 28 Nov (2026-W48): case A
    rate(1, "ST-002")                                   # case B, due Fri 4 Dec
    cases = {c["station_code"]: c["id"] for c in
             client.get("/api/v1/cases", headers=staff["ins"]).get_json()["items"]}
    client.post(f"/api/v1/cases/{cases['ST-001']}/resolve", json={"note": "修好了"},
                headers=staff["mgr"])                   # A, on time, the same day
    clock.advance(days=16)                              # Mon 14 Dec (2026-W51)
    client.post(f"/api/v1/cases/{cases['ST-002']}/resolve", json={"note": "迟了"},
                headers=staff["other"])                 # B, late
    rate(2, "ST-001")                                   # case C

    def week(name):
        result = runner.invoke(args=["report", "week", "--week", name, "--json"])
        assert result.exit_code == 0, result.output
        found = json.loads(result.output)["cases"]
        return {key: found[key] for key in ("opened", "resolved_on_time", "resolved_late", "open",
                                            "overdue")}

    assert week("2026-W48") == {"opened": 2, "resolved_on_time": 1, "resolved_late": 0, "open": 1,
                                "overdue": 0}
    assert week("2026-W49") == {"opened": 0, "resolved_on_time": 0, "resolved_late": 0, "open": 1,
                                "overdue": 1}
    assert week("2026-W51") == {"opened": 1, "resolved_on_time": 0, "resolved_late": 1, "open": 1,
                                "overdue": 0}
