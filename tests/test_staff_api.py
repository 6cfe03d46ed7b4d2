"""The staff JSON API and the inspectors' review: roles, shapes, decisions and history."""
import re

import pytest

from support import bearer, csrf_from, sign_in


@pytest.mark.parametrize("path", ["/api/v1/stations", "/api/v1/stations/ST-001/ratings",
                                  "/api/v1/stations/ST-001/history", "/api/v1/flags"])
def test_staff_json_without_credentials_is_401(client, staff, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.is_json


def test_station_list_is_scoped_to_what_the_account_may_see(client, staff):
    every = client.get("/api/v1/stations", headers=bearer(staff["ins"])).get_json()
    assert [s["code"] for s in every] == ["ST-001", "ST-002", "ST-003"]
    assert {"latitude", "longitude", "kind", "amenities", "ratings_total"} <= set(every[0])
    assert every[0]["ratings_total"] == 4
    district = client.get("/api/v1/stations", headers=bearer(staff["pd"])).get_json()
    assert [s["code"] for s in district] == ["ST-002"]


def test_ratings_between_local_days_inclusive(client, staff):
    body = client.get("/api/v1/stations/ST-001/ratings?from=2026-11-01&to=2026-11-27",
                      headers=bearer(staff["mgr"])).get_json()
    assert body["total"] == 3
    assert [(item["rated_at"], item["score"], item["comment"]) for item in body["items"]] == [
        ("2026-11-01T00:00:00+08:00", 5, "first instant of November"),
        ("2026-11-10T12:00:00+08:00", 2, "脏"),
        ("2026-11-27T23:59:59+08:00", 4, "last of the 27th")]
    narrow = client.get("/api/v1/stations/ST-001/ratings?from=2026-11-02&to=2026-11-26",
                        headers=bearer(staff["mgr"])).get_json()
    assert [item["comment"] for item in narrow["items"]] == ["脏"]


def test_ratings_of_a_station_the_account_may_not_see_are_404(client, staff):
    assert client.get("/api/v1/stations/ST-002/ratings", headers=bearer(staff["mgr"])).status_code == 404
    assert client.get("/api/v1/stations/ST-001/ratings", headers=bearer(staff["pd"])).status_code == 404


@pytest.mark.parametrize("query, status", [
    ("from=2026-13-01", 400), ("to=yesterday", 400), ("limit=many", 400),
    ("from=2026-11-20&to=2026-11-01", 422),  # well formed, but it ends before it starts
])
def test_bad_ratings_query_is_refused_with_a_reason(client, staff, query, status):
    response = client.get(f"/api/v1/stations/ST-001/ratings?{query}", headers=bearer(staff["adm"]))
    assert response.status_code == status
    assert response.get_json()["message"]


def test_open_flags_are_for_inspectors_and_shaped_as_the_scan(client, staff):
    flags = client.get("/api/v1/flags", headers=bearer(staff["ins"])).get_json()
    assert [(f["code"], f["tier"], f["proposed_tier"], f["last_rated_at"]) for f in flags] == [
        ("ST-003", "city", "delisted", None)]
    assert client.get("/api/v1/flags", headers=bearer(staff["pd"])).status_code == 403
    assert client.get("/api/v1/flags", headers=bearer(staff["mgr"])).status_code == 403


def decide(client, token, code, **body):
    return client.post(f"/api/v1/flags/{code}/decision", json=body, headers=bearer(token))


@pytest.mark.parametrize("body, message", [
    ({"decision": "confirm"}, "give a reason"),
    ({"decision": "confirm", "reason": "   "}, "give a reason"),
    ({"decision": "maybe", "reason": "x"}, 'decision must be "confirm" or "dismiss"'),
])
def test_a_decision_needs_a_decision_and_a_reason(client, staff, body, message):
    response = decide(client, staff["ins"], "ST-003", **body)
    assert response.status_code == 400 and message in response.get_json()["message"]


def test_confirming_a_city_flag_delists_the_station_and_keeps_the_history(client, staff, station_url):
    response = decide(client, staff["ins"], "ST-003", decision="confirm", reason="三个月无人使用,已撤点")
    assert response.status_code == 200
    assert response.get_json()["new_tier"] == "delisted"
    assert client.get("/api/v1/stations/ST-003").get_json()["status"] == "delisted"
    listed = client.get("/api/v1/stations", headers=bearer(staff["ins"])).get_json()
    assert "ST-003" not in [s["code"] for s in listed]
    assert client.get(station_url("ST-003").replace("http://127.0.0.1:5000", "")).status_code == 410
    history = client.get("/api/v1/stations/ST-003/history", headers=bearer(staff["adm"])).get_json()
    # the fixture's import moved ST-003 from provincial to city before the scan
    assert [(h["action"], h["from_tier"], h["to_tier"]) for h in history["items"]] == [
        ("tier_changed", "provincial", "city"), ("flagged", "city", "delisted"),
        ("confirmed", "city", "delisted")]
    assert [h["by"] for h in history["items"][1:]] == ["downgrade scan", "ins"]
    assert history["items"][2]["reason"] == "三个月无人使用,已撤点"
    assert history["items"][2]["at"].endswith("+08:00")
    assert decide(client, staff["ins"], "ST-003", decision="confirm", reason="again").status_code == 404


def test_confirming_steps_a_national_station_down_one_tier(client, runner, staff, write_file):
    text = "code,name,district,tier,kind,opened_on\nN-1,国家级,黄浦区,national,fixed,2020-01-01\n"
    runner.invoke(args=["stations", "import", write_file("n.csv", text)])
    runner.invoke(args=["downgrade", "scan", "--as-of", "2026-11-28"])
    decide(client, staff["adm"], "N-1", decision="confirm", reason="无评价")
    assert client.get("/api/v1/stations/N-1").get_json()["tier"] == "provincial"


def test_dismissing_changes_nothing_but_is_kept(client, staff):
    assert decide(client, staff["ins"], "ST-003", decision="dismiss", reason="移动驿站刚搬迁").status_code == 200
    assert client.get("/api/v1/stations/ST-003").get_json()["tier"] == "city"
    assert client.get("/api/v1/flags", headers=bearer(staff["ins"])).get_json() == []
    history = client.get("/api/v1/stations/ST-003/history", headers=bearer(staff["ins"])).get_json()
    assert history["items"][-1]["action"] == "dismissed"
    assert history["items"][-1]["reason"] == "移动驿站刚搬迁"


def test_a_district_account_cannot_decide(client, staff):
    assert decide(client, staff["pd"], "ST-003", decision="confirm", reason="x").status_code == 403


def test_a_signed_in_browser_must_send_the_csrf_token_to_post_json(client, staff):
    sign_in(client, "ins")
    response = client.post("/api/v1/flags/ST-003/decision",
                           json={"decision": "dismiss", "reason": "x"})
    assert response.status_code == 400
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/api/v1/flags/ST-003/decision",
                           json={"decision": "dismiss", "reason": "x"},
                           headers={"X-CSRF-Token": token})
    assert response.status_code == 200


def test_an_import_that_changes_a_tier_is_in_the_history(client, runner, staff, write_file):
    text = "code,name,district,tier,kind\nST-002,滨江工地移动驿站,浦东新区,provincial,mobile\n"
    runner.invoke(args=["stations", "import", write_file("t.csv", text)])
    items = client.get("/api/v1/stations/ST-002/history", headers=bearer(staff["pd"])).get_json()["items"]
    assert [(h["action"], h["from_tier"], h["to_tier"]) for h in items] == [
        ("tier_changed", "city", "provincial")]
    assert items[0]["by"].startswith("stations import by ")


def test_openapi_describes_every_api_route(client, app):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    described = {(path, method) for path, item in document["paths"].items() for method in item}
    served = {(re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1")), method.lower())
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert described == served


def test_inspectors_review_the_list_on_a_page_and_a_confirm_asks_again(client, staff):
    sign_in(client, "ins")
    html = client.get("/flags").get_data(as_text=True)
    assert "ST-003" in html and 'name="reason"' in html
    assert "2026-08-01 – 2026-10-31" in html and "此后评价 counted ratings since: <strong>0</strong>" in html
    token = csrf_from(html)
    response = client.post("/flags/ST-003/decision", data={"decision": "dismiss", "reason": "",
                                                           "csrf_token": token})
    assert response.status_code == 303
    assert "写明理由" in client.get("/flags").get_data(as_text=True)
    first = client.post("/flags/ST-003/decision", data={"decision": "confirm", "reason": "撤点",
                                                        "csrf_token": token})
    assert client.get("/api/v1/stations/ST-003").get_json()["status"] == "listed"  # not yet
    second = first.get_data(as_text=True)  # the second look, the reason carried in its form,
    assert first.status_code == 200 and "撤点" not in (first.headers.get("Location") or "")
    assert "摘牌:驿站页面停止接受评价" in second and 'value="撤点"' in second  # never in a URL
    client.post("/flags/ST-003/decision", data={"decision": "confirm", "confirmed": "yes",
                                                "reason": "撤点", "csrf_token": token})
    assert client.get("/api/v1/stations/ST-003").get_json()["status"] == "delisted"
    after = client.get("/flags").get_data(as_text=True)
    assert "ST-003: 已降为摘牌 / now delisted" in after and "Nothing to review" in after


def test_a_district_account_cannot_open_the_review_page(client, staff):
    sign_in(client, "pd")
    assert client.get("/flags").status_code == 403


def test_the_station_list_pages_and_searches(client, staff):
    headers = bearer(staff["adm"])
    every = client.get("/api/v1/stations", headers=headers)
    assert [s["code"] for s in every.get_json()] == ["ST-001", "ST-002", "ST-003"]
    assert every.headers["X-Total-Count"] == "3" and "Link" not in every.headers
    first = client.get("/api/v1/stations?limit=2", headers=headers)
    assert [s["code"] for s in first.get_json()] == ["ST-001", "ST-002"]
    following = re.fullmatch(r'<([^>]+)>; rel="next"', first.headers["Link"]).group(1)
    assert [s["code"] for s in client.get(following, headers=headers).get_json()] == ["ST-003"]
    found = client.get("/api/v1/stations?q=%E5%B7%A5%E5%9C%B0", headers=headers)  # 工地
    assert [s["code"] for s in found.get_json()] == ["ST-002"]
    assert client.get("/api/v1/stations?q=100%25", headers=headers).get_json() == []  # % is literal
    district = client.get("/api/v1/stations?district=浦东新区", headers=bearer(staff["pd"]))
    assert [s["code"] for s in district.get_json()] == ["ST-002"]
    assert client.get("/api/v1/stations?limit=0", headers=headers).status_code == 400


def test_a_flagged_station_rated_since_its_window_says_so_with_its_last_rating(client, staff,
                                                                                runner, write_file):
    """The evidence counts the counted ratings after the three months (not one excluded) and
    shows the last of them: an inspector checks before deciding."""
    since = ("station_code,rated_at,score,comment\nST-003,2026-11-02T09:00:00,4,\n"
             "ST-003,2026-11-20T18:30:00,2,\n")
    assert runner.invoke(args=["ratings", "import", write_file("s.csv", since)]).exit_code == 0
    sign_in(client, "ins")
    html = client.get("/flags").get_data(as_text=True)
    assert "此后评价 counted ratings since: <strong>2</strong>(最近 last 2026-11-20 18:30)" in html
    assert "Rated since the window: check before deciding." in html
    sign_in(client, "adm")
    rating_id = client.get("/api/v1/stations/ST-003/ratings?from=2026-11-20&to=2026-11-20"
                           ).get_json()["items"][0]["id"]
    token = csrf_from(client.get("/flags").get_data(as_text=True))
    assert client.post("/api/v1/exclusions", json={"rating_id": rating_id, "reason": "试验"},
                       headers={"X-CSRF-Token": token}).status_code in (200, 201)
    html = client.get("/flags").get_data(as_text=True)
    assert "此后评价 counted ratings since: <strong>1</strong>(最近 last 2026-11-02 09:00)" in html


def test_open_flags_come_a_page_at_a_time_by_station_code(client, staff, runner, write_file):
    """A sparse national rollout flags a hundred thousand stations: ``limit`` and ``offset`` page
    them, X-Total-Count says how many, a Link names the next page; the pages together are the
    whole list."""
    opened = "code,name,district,tier,kind,opened_on\n" + "".join(
        f"ST-1{n:02d},驿站{n},静安区,city,fixed,2023-05-01\n" for n in range(5))
    runner.invoke(args=["stations", "import", write_file("more.csv", opened)])
    assert runner.invoke(args=["downgrade", "scan", "--as-of", "2026-11-28"]).exit_code == 0
    headers = bearer(staff["ins"])
    every = client.get("/api/v1/flags", headers=headers)
    codes = [flag["code"] for flag in every.get_json()]
    assert codes == ["ST-003", "ST-100", "ST-101", "ST-102", "ST-103", "ST-104"]
    assert every.headers["X-Total-Count"] == "6" and "Link" not in every.headers
    paged, path = [], "/api/v1/flags?limit=4"
    while path:
        page = client.get(path, headers=headers)
        assert page.headers["X-Total-Count"] == "6"
        paged.append([flag["code"] for flag in page.get_json()])
        link = page.headers.get("Link")
        path = link and re.fullmatch(r'<([^>]+)>; rel="next"', link).group(1)
    assert paged == [codes[:4], codes[4:]]
    assert client.get("/api/v1/flags?offset=-1", headers=headers).status_code == 400
