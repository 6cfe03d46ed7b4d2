"""The digest on the web: /digests/YYYY-MM-DD, with a 30-day trend drawn as SVG on the server."""
import re

import pytest

from support import PASSWORD, sign_in

HISTORY = """station_code,rated_at,score,comment
ST-001,2026-11-27T09:00:00,5,
ST-001,2026-11-27T10:00:00,1,"<script>alert(1)</script> 电话13800138000"
ST-002,2026-11-27T11:00:00,2,浦东的差评
ST-002,2026-11-20T11:00:00,4,
"""


@pytest.fixture
def history(runner, write_file, stations_loaded, monkeypatch):
    assert runner.invoke(args=["ratings", "import", write_file("h.csv", HISTORY)]).exit_code == 0
    monkeypatch.setenv("FEEDBACK_PASSWORD", PASSWORD)
    runner.invoke(args=["users", "create", "--username", "boss", "--role", "admin"])
    runner.invoke(args=["users", "create", "--username", "pd", "--role", "district",
                        "--district", "浦东新区"])


def test_digest_page_needs_sign_in(client, history):
    assert client.get("/digests/2026-11-27").status_code == 302


def test_digest_page_shows_the_day_and_a_30_day_svg_trend(client, history):
    sign_in(client, "boss")
    html = client.get("/digests/2026-11-27").get_data(as_text=True)
    assert "驿站服务日报 2026-11-27" in html
    assert "<svg" in html
    bars = re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)" fill="#c8d8f0">'
                      r'<title>([\d-]+): (\d+)</title>', html)
    assert len(bars) == 30
    assert bars[0][1] == "2026-10-29" and bars[-1][1] == "2026-11-27"
    counts = {day: int(n) for _, day, n in bars}
    assert counts["2026-11-27"] == 3 and counts["2026-11-20"] == 1 and counts["2026-11-26"] == 0
    # satisfaction is a dot on each day with ratings; no line is drawn across the empty days
    assert html.count('<circle') == sum(1 for n in counts.values() if n)
    assert "<polyline" not in html


def test_digest_page_escapes_comments_and_masks_phones(client, history):
    sign_in(client, "boss")
    html = client.get("/digests/2026-11-27").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "13800138000" not in html


def test_a_district_account_reads_its_district_only(client, history):
    sign_in(client, "pd")
    html = client.get("/digests/2026-11-27").get_data(as_text=True)
    assert "浦东的差评" in html and "alert(1)" not in html
    assert "(浦东新区)" in html


@pytest.mark.parametrize("path", ["/digests/2026-11-28", "/digests/2026-12-01", "/digests/nonsense"])
def test_no_digest_for_today_the_future_or_a_non_date(client, history, path):
    sign_in(client, "boss")
    assert client.get(path).status_code == 404


def test_a_long_list_shows_its_first_two_hundred_and_says_how_many_more(client, history, runner,
                                                                       write_file):
    quiet = "code,name,district,tier,kind,opened_on\n" + "".join(
        f"Q-{n:03d},静驿站{n:03d},城区,city,fixed,2025-01-01\n" for n in range(205))
    assert runner.invoke(args=["stations", "import", write_file("q.csv", quiet)]).exit_code == 0
    sign_in(client, "boss")
    page = client.get("/digests/2026-11-27").get_data(as_text=True)
    assert page.count("静驿站") == 200
    assert "另有 5 个,完整名单见各区日报" in page
    assert 'href="http://127.0.0.1:5000/digests/2026-11-27?district=%E5%9F%8E%E5%8C%BA"' in page
    district = client.get("/digests/2026-11-27?district=城区").get_data(as_text=True)
    assert "驿站服务日报 2026-11-27(城区)" in district and district.count("静驿站") == 200


def test_a_district_that_does_not_exist_is_a_404(client, history):
    sign_in(client, "boss")
    assert client.get("/digests/2026-11-27?district=火星区").status_code == 404


@pytest.mark.parametrize("district", ["' OR '1'='1", "x" * 5000, "黄浦区\u202e", "%", "_"])
def test_a_hostile_district_is_a_404_on_the_digest_and_the_weekly_report(client, history, district):
    sign_in(client, "boss")
    assert client.get("/digests/2026-11-27", query_string={"district": district}).status_code == 404
    assert client.get("/reports/weeks/2026-W47", query_string={"district": district}).status_code == 404


@pytest.mark.parametrize("page", ["0", "-1", "99999999999999999999", "١", "abc", ""])
def test_a_hostile_page_of_the_monthly_report_shows_its_first(client, history, page):
    sign_in(client, "boss")
    response = client.get("/reports/months/2026-10", query_string={"page": page})
    assert response.status_code == 200 and "驿站服务月报" in response.get_data(as_text=True)
