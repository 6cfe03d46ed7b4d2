"""A phone's browser rates a station: headless Chromium at 360×740 with touch."""
import pytest

from support import PHONE


def refuse_cookies(context):
    """A phone that refuses cookies: no Cookie header ever leaves, no Set-Cookie is kept."""
    def without_cookies(route):
        headers = {k: v for k, v in route.request.headers.items() if k.lower() != "cookie"}
        response = route.fetch(headers=headers, max_redirects=0)
        route.fulfill(response=response, headers={
            k: v for k, v in response.headers.items() if k.lower() != "set-cookie"})
    context.route("**/*", without_cookies)


@pytest.fixture
def phone(browser, request):
    """A fresh phone-sized page that records console errors; JavaScript and cookies as the test
    asks (``request.param`` is (javascript, cookies))."""
    javascript, cookies = getattr(request, "param", (True, True))
    context = browser.new_context(java_script_enabled=javascript, **PHONE)
    if not cookies:
        refuse_cookies(context)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    yield page
    context.close()


EVERY_PHONE = pytest.mark.parametrize(
    "phone", [(True, True), (False, True), (True, False), (False, False)],
    ids=["js-cookies", "nojs-cookies", "js-nocookies", "nojs-nocookies"], indirect=True)


def tap_face(phone, score: int) -> None:
    face = phone.locator(f"button[name=score][value='{score}']")
    box = face.bounding_box()
    assert box["height"] >= 48 and box["width"] >= 48
    with phone.expect_navigation():
        face.tap()
    phone.wait_for_url("**/thanks**")


@EVERY_PHONE
def test_one_tap_records_a_rating_and_details_attach(phone, live_server, stations_loaded,
                                                     station_url, client, db):
    phone.goto(station_url("ST-001"))
    assert phone.locator("h1").inner_text() == "对驿站服务满意吗?"
    tap_face(phone, 4)
    assert "谢谢您的评价" in phone.locator("h1").inner_text()
    assert "微波炉" in phone.locator("ul").inner_text()
    summary = client.get("/api/v1/stations/ST-001").get_json()
    assert (summary["ratings_total"], summary["satisfaction_rate"]) == (1, 1.0)  # counted already

    assert phone.locator("input[name=reason]").count() == 0  # reasons follow a 1 or 2 only
    phone.fill("textarea[name=comment]", "微波炉很好用")
    with phone.expect_navigation():
        phone.locator("form button[type=submit]").tap()
    assert "已收到您的补充说明" in phone.locator("p.ok").inner_text()
    assert [tuple(row) for row in db.execute(
        "SELECT score, rating_details.comment FROM ratings JOIN rating_details ON rating_id = ratings.id")] == [
        (4, "微波炉很好用")]
    assert phone.console_errors == []


@EVERY_PHONE
def test_a_low_score_offers_one_tap_reasons_on_the_thanks_page(phone, live_server, stations_loaded,
                                                               station_url, db):
    phone.goto(station_url("ST-002"))
    tap_face(phone, 1)
    water = phone.locator("fieldset.why label", has_text="没有热水")
    assert water.bounding_box()["height"] >= 48
    water.tap()
    with phone.expect_navigation():
        phone.locator("form button[type=submit]").tap()
    assert [row["reasons"] for row in db.query("SELECT reasons FROM rating_details")] == ["water"]


@pytest.mark.parametrize("phone", [(True, True), (False, True)], ids=["js", "nojs"], indirect=True)
def test_back_and_tap_again_counts_once_a_day(phone, live_server, stations_loaded, station_url,
                                              client, db):
    phone.goto(station_url("ST-001"))
    tap_face(phone, 5)
    phone.go_back()
    phone.wait_for_selector("button[name=score]")
    tap_face(phone, 5)
    assert db.execute("SELECT count(*) FROM ratings").fetchone()[0] == 2  # both kept
    summary = client.get("/api/v1/stations/ST-001").get_json()
    assert (summary["ratings_total"], summary["held_total"]) == (1, 1)


def test_lost_answer_then_resend_counts_once(phone, live_server, stations_loaded, station_url,
                                              db):
    """On a poor signal the rating arrives but the answer is lost; the worker sends again."""
    posts = []

    def lose_first_answer(route):
        posts.append(route.request.post_data)
        if len(posts) == 1:
            route.fetch()  # the server records the rating…
            route.fulfill(status=504, body="gateway timeout")  # …and the answer is lost on the way
        else:
            route.continue_()

    phone.route("**/s/ST-001/*", lambda route: lose_first_answer(route)
                if route.request.method == "POST" else route.continue_())
    phone.goto(station_url("ST-001"))
    with phone.expect_navigation():
        phone.locator("button[name=score][value='5']").tap()
    assert "gateway timeout" in phone.content()
    assert db.execute("SELECT count(*) FROM ratings").fetchone()[0] == 1
    phone.reload()  # the browser resends the same form
    phone.wait_for_url("**/thanks**")
    assert len(posts) == 2 and posts[0] == posts[1]
    assert db.execute("SELECT count(*) FROM ratings").fetchone()[0] == 1


def test_english_phone_gets_english_and_can_switch(browser, live_server, stations_loaded,
                                                   station_url):
    context = browser.new_context(**{**PHONE, "locale": "en-US"})
    page = context.new_page()
    page.goto(station_url("ST-001"))
    assert page.locator("h1").inner_text() == "Are you happy with this station?"
    page.locator("a.lang").tap()
    assert page.locator("h1").inner_text() == "对驿站服务满意吗?"
    context.close()
