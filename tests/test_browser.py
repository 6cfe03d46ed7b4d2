"""A phone's browser rates a station: headless Chromium at 360×740 with touch."""
import pytest

PHONE = {"viewport": {"width": 360, "height": 740}, "has_touch": True, "is_mobile": True,
         "device_scale_factor": 2, "locale": "zh-CN"}


@pytest.fixture
def phone(browser, request):
    """A fresh phone-sized page that records console errors; JavaScript as the test asks."""
    javascript = getattr(request, "param", True)
    context = browser.new_context(java_script_enabled=javascript, **PHONE)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    yield page
    context.close()


@pytest.mark.parametrize("phone", [True, False], ids=["javascript", "no-javascript"], indirect=True)
def test_phone_taps_a_face_submits_and_is_thanked(phone, live_server, stations_loaded,
                                                  station_url, client):
    phone.goto(station_url("ST-001"))
    assert phone.locator("h1").inner_text() == "对驿站服务满意吗?"

    face = phone.locator("label[for=s4]")
    box = face.bounding_box()
    assert box["height"] >= 48 and box["width"] >= 48
    face.tap()
    assert phone.locator("#s4").is_checked()
    phone.fill("textarea[name=comment]", "微波炉很好用")
    phone.locator("button[type=submit]").tap()

    phone.wait_for_url("**/thanks**")
    assert "谢谢您的评价" in phone.locator("h1").inner_text()
    assert "微波炉" in phone.locator("ul").inner_text()
    assert phone.console_errors == []
    summary = client.get("/api/v1/stations/ST-001").get_json()
    assert (summary["ratings_total"], summary["satisfaction_rate"]) == (1, 1.0)


@pytest.mark.parametrize("phone", [False], ids=["no-javascript"], indirect=True)
def test_low_score_reveals_the_reasons_without_javascript(phone, live_server, stations_loaded,
                                                          station_url, db):
    phone.goto(station_url("ST-002"))
    reasons = phone.locator("fieldset.why")
    assert not reasons.is_visible()
    phone.locator("label[for=s1]").tap()
    assert reasons.is_visible()
    water = phone.locator("fieldset.why label", has_text="没有热水")
    assert water.bounding_box()["height"] >= 48
    water.tap()
    phone.locator("button[type=submit]").tap()
    phone.wait_for_url("**/thanks**")
    assert [row["reasons"] for row in db.query("SELECT reasons FROM ratings")] == ["water"]


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
    phone.locator("label[for=s5]").tap()
    with phone.expect_navigation():
        phone.locator("button[type=submit]").tap()
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
