"""A station's page, reinstatement and inspection visits, for staff on their phones."""
import re
from urllib.parse import urlsplit

import pytest

from feedback.followup.visits import CHECKLIST
from support import PASSWORD, csrf_from, sign_in, signed_in_phone

ALL_PASS = {key: "pass" for key in CHECKLIST}


@pytest.fixture
def tokens(runner, make_user):
    found = {}
    for username, role, *extra in (("ins", "inspector"), ("mgr", "manager", "--station", "ST-001"),
                                   ("other", "manager", "--station", "ST-002")):
        make_user(username, role, *extra)
        found[username] = {"Authorization": "Bearer " + runner.invoke(
            args=["users", "token", "--username", username]).output.strip()}
    return found


def reinstate(client, code, headers, reason="复查合格"):
    return client.post(f"/api/v1/stations/{code}/reinstate", json={"reason": reason}, headers=headers)


def test_reinstatement_steps_up_one_tier_and_relists_a_delisted_station(client, runner, tokens, db):
    db.execute("UPDATE stations SET status = 'delisted' WHERE code = 'ST-002'")  # ST-002 is city
    done = reinstate(client, "ST-002", tokens["ins"])
    assert done.status_code == 200 and done.get_json() == {"code": "ST-002", "tier": "delisted",
                                                           "new_tier": "city"}
    station = client.get("/api/v1/stations/ST-002").get_json()
    assert (station["status"], station["tier"]) == ("listed", "city")
    assert reinstate(client, "ST-002", tokens["ins"]).get_json()["new_tier"] == "provincial"
    history = client.get("/api/v1/stations/ST-002/history", headers=tokens["ins"]).get_json()["items"]
    assert [(h["action"], h["from_tier"], h["to_tier"]) for h in history[-2:]] == [
        ("reinstated", "delisted", "city"), ("reinstated", "city", "provincial")]
    assert history[-1]["by"] == "ins" and history[-1]["reason"] == "复查合格"


@pytest.mark.parametrize("code, who, reason, status", [
    ("ST-001", "ins", "x", 409),        # national already: no tier above
    ("ST-002", "ins", "  ", 400),       # no reason
    ("NOPE", "ins", "x", 404),
    ("ST-002", "mgr", "x", 403),
])
def test_a_reinstatement_that_cannot_be_made_changes_nothing(client, tokens, db, code, who,
                                                             reason, status):
    assert reinstate(client, code, tokens[who], reason).status_code == status
    assert db.execute("SELECT count(*) FROM station_history WHERE action = 'reinstated'").fetchone()[0] == 0


def test_a_visit_is_recorded_against_the_checklist_and_listed(client, tokens):
    items = {**ALL_PASS, "drinking_water": "fail", "fridge": "na"}
    made = client.post("/api/v1/stations/ST-001/visits", headers=tokens["ins"],
                       json={"kind": "unannounced", "items": items, "notes": "饮水机坏了"})
    assert made.status_code == 201 and made.get_json()["failed"] == 1
    listed = client.get("/api/v1/stations/ST-001/visits", headers=tokens["mgr"]).get_json()["items"]
    assert [(v["kind"], v["failed"], v["by"], v["notes"]) for v in listed] == [
        ("unannounced", 1, "ins", "饮水机坏了")]
    assert set(listed[0]["items"]) == set(CHECKLIST)
    assert client.get("/api/v1/stations/ST-001/visits", headers=tokens["other"]).status_code == 404


@pytest.mark.parametrize("body", [
    {"kind": "unannounced", "items": {k: v for k, v in ALL_PASS.items() if k != "seats"}},
    {"kind": "unannounced", "items": {**ALL_PASS, "seats": "maybe"}},
    {"kind": "unannounced", "items": {**ALL_PASS, "pool": "pass"}},
    {"kind": "mystery", "items": ALL_PASS},
    {"kind": "assessment", "items": ALL_PASS, "notes": 5},
])
def test_a_bad_visit_is_400_and_stores_nothing(client, tokens, db, body):
    response = client.post("/api/v1/stations/ST-001/visits", json=body, headers=tokens["ins"])
    assert response.status_code == 400
    assert db.execute("SELECT count(*) FROM visits").fetchone()[0] == 0


def test_a_visit_for_a_station_out_of_sight_or_by_a_manager_is_refused(client, tokens):
    body = {"kind": "assessment", "items": ALL_PASS}
    assert client.post("/api/v1/stations/NOPE/visits", json=body, headers=tokens["ins"]).status_code == 404
    assert client.post("/api/v1/stations/ST-001/visits", json=body, headers=tokens["mgr"]).status_code == 403


def rate_from_new_phones(app, station_url, scores, code="ST-001", prefix=""):
    path = urlsplit(station_url(code)).path
    for n, score in enumerate(scores):
        app.test_client().post(path, data={"score": str(score), "key": f"page-key-{prefix}{n:010d}"})


def test_the_station_page_shows_ratings_visits_and_marks_a_disagreement(app, client, tokens,
                                                                        station_url, clock):
    from datetime import datetime, timezone

    for day, scores in ((25, [5] * 10), (26, [5] * 5), (28, [4] * 5), (29, [5] * 5)):  # none on 27th
        clock.instant = datetime(2026, 11, day, 4, tzinfo=timezone.utc)
        rate_from_new_phones(app, station_url, scores, prefix=str(day))
    client.post("/api/v1/stations/ST-001/visits", headers=tokens["ins"], json={
        "kind": "unannounced", "items": {**ALL_PASS, "clean": "fail", "seats": "fail", "toilet": "fail"}})
    sign_in(client, "mgr")
    page = client.get("/stations/ST-001").get_data(as_text=True)
    assert "人民广场驿站" in page and "国家级" in page and "海报版本 poster version 1" in page
    assert "评价与走访不一致" in page
    assert page.count("<polyline") == 2  # a day without ratings is a gap, not a zero
    assert "周一" in page and "<rect" in page  # the heat map
    assert 'action="/stations/ST-001/visits"' not in page  # managers read, inspectors record
    assert client.get("/stations/ST-002").status_code == 404


def test_an_inspector_records_a_visit_and_reinstates_from_the_page(client, tokens, db):
    sign_in(client, "ins")
    page = client.get("/stations/ST-002").get_data(as_text=True)
    form = {"csrf_token": csrf_from(page), "kind": "assessment", "notes": "第三方评估"}
    form.update({f"item-{key}": "pass" for key in CHECKLIST})
    assert client.post("/stations/ST-002/visits", data=form).status_code == 303
    assert "已记录走访,0 项不合格" in client.get("/stations/ST-002").get_data(as_text=True)
    missing = {k: v for k, v in form.items() if k != "item-clean"}
    client.post("/stations/ST-002/visits", data=missing)
    assert db.execute("SELECT count(*) FROM visits").fetchone()[0] == 1
    client.post("/stations/ST-002/reinstate", data={"csrf_token": csrf_from(page), "reason": "评估优秀"})
    assert db.execute("SELECT tier FROM stations WHERE code = 'ST-002'").fetchone()[0] == "provincial"
    national = client.post("/stations/ST-001/reinstate", data={"csrf_token": csrf_from(page),
                                                               "reason": "再升一级"})
    assert national.status_code == 303
    assert "there is no tier above" in client.get("/stations/ST-001").get_data(as_text=True)


def test_the_station_page_and_list_fit_a_360_px_phone(browser, live_server, client, tokens):
    page = signed_in_phone(browser, live_server, "ins", PASSWORD)
    for path in ("/stations", "/stations/ST-001", "/cases", "/flags", "/signals"):
        page.goto(live_server + path)
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], (path, widths)
    page.context.close()


def first_page_after(client, runner, write_file, path: str, rows: str) -> str:
    """``path`` as the inspector sees it after importing stations (code to opened_on) and a
    downgrade scan."""
    text = "code,name,district,tier,kind,opened_on\n" + rows
    assert runner.invoke(args=["stations", "import", write_file("many.csv", text)]).exit_code == 0
    assert runner.invoke(args=["downgrade", "scan"]).exit_code == 0
    sign_in(client, "ins")
    return client.get(path).get_data(as_text=True)


def test_the_station_list_searches_filters_and_pages(client, runner, write_file, tokens, db):
    first = first_page_after(client, runner, write_file, "/stations", "".join(
        f"P-{n:03d},{'工地' if n % 2 else '银行'}驿站{n},新区,city,fixed,\n" for n in range(120)))
    assert "驿站 Stations (123)" in first and "第 1 / 3 页" in first
    assert len(set(re.findall(r'<td><a href="/stations/([\w-]+)">', first))) == 50
    found = client.get("/stations?q=工地驿站11&district=新区").get_data(as_text=True)
    assert sorted(set(re.findall(r'<td><a href="/stations/([\w-]+)">', found))) == [
        "P-011", "P-111", "P-113", "P-115", "P-117", "P-119"]
    assert "page=2" not in found
    national = client.get("/stations?tier=national").get_data(as_text=True)
    assert set(re.findall(r'<td><a href="/stations/([\w-]+)">', national)) == {"ST-001"}
    assert "降级待复核" in national  # ST-001 has no rating in the three months: flagged
    third = client.get("/stations?page=3").get_data(as_text=True)
    assert len(set(re.findall(r'<td><a href="/stations/([\w-]+)">', third))) == 23
    assert client.get("/stations?q=%25").get_data(as_text=True).count('<td><a href="/stations/') == 0


def test_visits_and_reinstatements_reach_the_monthly_report(client, runner, tokens, clock, db):
    from datetime import datetime, timezone

    clock.instant = datetime(2026, 10, 15, 4, tzinfo=timezone.utc)
    client.post("/api/v1/stations/ST-002/visits", headers=tokens["ins"], json={
        "kind": "assessment", "items": {**ALL_PASS, "clean": "fail", "fridge": "fail"}})
    reinstate(client, "ST-002", tokens["ins"])
    clock.instant = datetime(2026, 11, 2, 4, tzinfo=timezone.utc)
    report = runner.invoke(args=["report", "month", "--month", "2026-10", "--json"]).output
    assert '"assessment": 1' in report and '"items_failed": 2' in report
    assert '"reinstated": 1' in report


def test_a_digest_not_yet_over_says_when_it_will_exist_and_a_managers_names_the_station(
        client, tokens):
    sign_in(client, "mgr")
    today = client.get("/digests/2026-11-28")
    assert today.status_code == 404
    assert "2026-11-28 的日报在当天结束后生成,于次日 08:00 发送" in today.get_data(as_text=True)
    assert "驿站服务日报 2026-11-27(人民广场驿站)" in client.get("/digests/2026-11-27").get_data(as_text=True)


def test_an_inspector_confirms_with_a_second_look_then_reinstates_on_a_phone(
        browser, live_server, runner, tokens):
    runner.invoke(args=["downgrade", "scan"])  # ST-001..3 have no ratings: flagged
    page = signed_in_phone(browser, live_server, "ins", PASSWORD)
    page.goto(live_server + "/flags")
    card = page.locator("section.card", has_text="ST-002")
    card.locator("input[name=reason]").fill("工地已撤,驿站随之撤点")
    with page.expect_navigation():
        card.locator("button[value=confirm]").tap()
    assert "摘牌:驿站页面停止接受评价" in page.content()  # the second look says what follows
    assert runner.invoke(args=["stations", "url", "ST-002"]).exit_code == 0
    with page.expect_navigation():
        page.locator("button.primary").tap()
    assert "已降为摘牌" in page.content()
    page.goto(live_server + "/stations/ST-002")
    assert "摘牌 Delisted" in page.content()
    page.fill("#reason", "工地复工,驿站恢复")
    with page.expect_navigation():
        page.locator("form", has_text="恢复 Reinstate").locator("button.primary").tap()
    assert "已恢复为市级" in page.content() and "在册 Listed" in page.content()
    page.context.close()


def test_the_downgrade_list_pages_fifty_flags_at_a_time(client, runner, write_file, tokens, app, db):
    """A rollout can flag thousands of stations at once: each page carries fifty, with their
    evidence, and says how many there are; found walking the stations (most flagged) or sorting
    the flags (few), the same fifty."""
    from jobs import downgrade
    first = first_page_after(client, runner, write_file, "/flags", "".join(
        f"Q-{n:03d},静驿站{n},新区,city,fixed,2020-01-01\n" for n in range(120)))
    total = int(re.search(r"Downgrade review \((\d+)\)", first).group(1))
    assert total >= 120 and f"第 1 / {-(-total // 50)} 页" in first
    assert first.count('<section class="card">') == 50 and 'href="?page=2"' in first
    last = client.get(f"/flags?page={-(-total // 50)}").get_data(as_text=True)
    assert last.count('<section class="card">') == total - 50 * (-(-total // 50) - 1)
    assert client.get("/flags?page=99").get_data(as_text=True) == first
    for offset in (0, 50, 100):
        walked = downgrade.open_flags(db, app.config["TIMEZONE"], limit=50, offset=offset, dense=True)
        assert walked == downgrade.open_flags(db, app.config["TIMEZONE"], limit=50, offset=offset)
        assert [flag["code"] for flag in walked] == sorted(flag["code"] for flag in walked)
