"""The worker's rating page over HTTP: languages, recording once, and errors a worker can read."""
import re
from urllib.parse import urlsplit

import pytest

from support import once_key


def ratings(db):
    return [dict(row) for row in db.query("SELECT score, comment, reasons, source FROM ratings")]


def test_form_is_chinese_first_with_the_station_and_five_levels(client, form_path):
    html = client.get(form_path).get_data(as_text=True)
    assert "对驿站服务满意吗?" in html
    assert "人民广场驿站" in html
    for label in ("非常满意", "满意", "基本满意", "不满意", "非常不满意"):
        assert f"</svg>{label}</button>" in html
    # each face is a submit button: one tap sends the rating
    assert re.findall(r'<button type="submit" class="l\d" name="score" value="(\d)">', html) == [
        "5", "4", "3", "2", "1"]


def test_form_is_english_when_the_phone_asks_for_it(client, form_path):
    html = client.get(form_path, headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert "Are you happy with this station?" in html
    assert "Very dissatisfied" in html


def test_language_switch_is_remembered(client, form_path):
    response = client.get(form_path + "?lang=en")
    assert "Are you happy" in response.get_data(as_text=True)
    # the next page, with a Chinese phone, stays English because the worker chose it
    html = client.get(form_path, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Are you happy" in html


def test_submission_records_one_rating_and_redirects_to_thanks(client, form_path, db):
    key = once_key(client.get(form_path).get_data(as_text=True))
    response = client.post(form_path, data={"score": "4", "comment": "  很干净  ", "key": key})
    assert response.status_code == 303
    assert response.headers["Location"].startswith(form_path + "/thanks")
    assert ratings(db) == [{"score": 4, "comment": "很干净", "reasons": "", "source": "form"}]
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "谢谢您的评价" in thanks
    assert "微波炉" in thanks and "沙发座椅" in thanks  # what the station offers


def test_resent_form_counts_once(client, form_path, db):
    key = once_key(client.get(form_path).get_data(as_text=True))
    for _ in range(3):
        response = client.post(form_path, data={"score": "5", "key": key})
        assert response.status_code == 303
    assert len(ratings(db)) == 1
    summary = client.get("/api/v1/stations/ST-001").get_json()
    assert summary["ratings_total"] == 1


def test_a_forms_once_key_is_kept_for_a_week_and_then_let_go(client, form_path, db, clock, app):
    """A resent form comes within minutes; its key is kept a week (not for ever beside its
    rating), and the nightly job lets older keys go."""
    from jobs import scheduler

    key = once_key(client.get(form_path).get_data(as_text=True))
    assert client.post(form_path, data={"score": "5", "key": key}).status_code == 303
    clock.advance(days=6, hours=23)
    with app.app_context():
        assert scheduler.run_window()
    resent = client.post(form_path, data={"score": "5", "key": key})
    assert resent.status_code == 303 and len(ratings(db)) == 1
    assert db.execute("SELECT count(*) FROM once_keys").fetchone()[0] == 1
    clock.advance(hours=13)  # the next night, more than a week after the form came
    with app.app_context():
        assert scheduler.run_window()
    assert db.execute("SELECT count(*) FROM once_keys").fetchone()[0] == 0
    assert db.execute("SELECT once_key FROM ratings").fetchall() == [(None,)]  # none in the row


def test_reasons_are_kept_for_a_bad_rating_and_dropped_for_a_good_one(client, form_path, db):
    client.post(form_path, data={"score": "1", "reason": ["water", "closed"], "key": "a" * 22})
    client.post(form_path, data={"score": "5", "reason": ["water"], "key": "b" * 22})
    assert [r["reasons"] for r in ratings(db)] == ["water;closed", ""]


def thanks_after(client, form_path, score, key="t" * 22):
    client.get(form_path)  # as a browser does: the form first, and its device cookie
    response = client.post(form_path, data={"score": str(score), "key": key})
    assert response.status_code == 303
    return response.headers["Location"], client.get(response.headers["Location"]).get_data(as_text=True)


def test_thanks_offers_reasons_after_a_low_score_and_a_comment_after_any(client, form_path):
    _, low = thanks_after(client, form_path, 2, "a" * 22)
    assert 'name="reason" value="water"' in low and 'name="comment"' in low
    _, high = thanks_after(client, form_path, 5, "b" * 22)
    assert 'name="reason"' not in high and 'name="comment"' in high


def test_details_attach_to_the_rating_just_made_once(client, form_path, db):
    location, page = thanks_after(client, form_path, 1)
    pass_value = re.search(r'name="r" value="([^"]+)"', page).group(1)
    details = location.split("?")[0].replace("/thanks", "/details")
    response = client.post(details, data={"r": pass_value, "reason": ["toilet", "water", "water"],
                                          "comment": "  没有热水  "})
    assert response.status_code == 303 and "sent=1" in response.headers["Location"]
    assert "已收到您的补充说明" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert [dict(row) for row in db.query("SELECT comment, reasons FROM rating_details")] == [
        {"comment": "没有热水", "reasons": "water;toilet"}]
    again = client.post(details, data={"r": pass_value, "comment": "再说一次"})
    assert again.status_code == 409 and "已经补充过" in again.get_data(as_text=True)
    assert db.execute("SELECT count(*) FROM rating_details").fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM ratings").fetchone()[0] == 1


def test_details_only_from_the_browser_that_rated_and_within_30_minutes(app, client, form_path,
                                                                       db, clock):
    location, page = thanks_after(client, form_path, 2)
    pass_value = re.search(r'name="r" value="([^"]+)"', page).group(1)
    details = location.split("?")[0].replace("/thanks", "/details")
    stranger = app.test_client()
    refused = stranger.post(details, data={"r": pass_value, "comment": "冒充"})
    assert refused.status_code == 403 and "只能从刚才评价的手机" in refused.get_data(as_text=True)
    forged = client.post(details, data={"r": pass_value[:-2] + "AA", "comment": "伪造"})
    assert forged.status_code == 403
    clock.advance(minutes=31)
    late = client.post(details, data={"r": pass_value, "comment": "晚了"})
    assert late.status_code == 410 and "超过30分钟" in late.get_data(as_text=True)
    assert db.execute("SELECT count(*) FROM rating_details").fetchone()[0] == 0
    assert 'name="comment"' not in client.get(location).get_data(as_text=True)


@pytest.mark.parametrize("data, message", [
    ({}, "请选择一个满意程度。"),
    ({"score": "7"}, "请选择一个满意程度。"),
    ({"score": "abc"}, "请选择一个满意程度。"),
    ({"score": "3", "comment": "长" * 501}, "留言太长了,请不超过500字。"),
    ({"score": "1", "reason": "<script>"}, "请从列表中选择原因。"),
])
def test_bad_submission_is_a_400_in_chinese_and_records_nothing(client, form_path, db, data,
                                                                 message):
    response = client.post(form_path, data={"key": "k" * 22, **data})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert ratings(db) == []


def test_bad_submission_is_explained_in_english_to_an_english_phone(client, form_path, db):
    response = client.post(form_path, data={"key": "k" * 22, "lang": "en"})
    assert response.status_code == 400
    assert "Please pick how satisfied you are." in response.get_data(as_text=True)


def test_submission_without_a_once_key_is_refused(client, form_path, db):
    response = client.post(form_path, data={"score": "5"})
    assert response.status_code == 400
    assert "页面已过期" in response.get_data(as_text=True)
    assert ratings(db) == []


def test_unknown_station_is_a_404_page_in_the_workers_language(client, form_path):
    response = client.get(form_path.replace("ST-001", "ST-999"))
    assert response.status_code == 404
    assert "找不到这个驿站" in response.get_data(as_text=True)
    response = client.get(form_path.replace("ST-001", "ST-999"), headers={"Accept-Language": "en"})
    assert "We cannot find this station" in response.get_data(as_text=True)


def test_closed_station_refuses_ratings_with_a_410(client, runner, form_path, db):
    runner.invoke(args=["stations", "close", "ST-001"])
    assert client.get(form_path).status_code == 410
    response = client.post(form_path, data={"score": "5", "key": "k" * 22})
    assert response.status_code == 410
    assert "暂停服务" in response.get_data(as_text=True)
    assert ratings(db) == []


def test_page_fits_a_slow_link_with_no_external_resources(client, form_path):
    response = client.get(form_path)
    html = response.get_data(as_text=True)
    assert len(response.data) <= 16 * 1024
    # every src/href stays on this origin (the icon) or in the page (the language switch)
    assert re.findall(r'(?:src|href)="([^"]+)"', html) == ["/favicon.ico", "?lang=en"]
    assert "<script" not in html


def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.data[:4] == b"\x00\x00\x01\x00"


def test_unknown_page_is_a_readable_404_not_a_500(client):
    response = client.get("/nothing-here")
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)


def test_station_name_is_escaped_in_the_page(runner, client, write_file, station_url):
    text = 'code,name,district,tier,kind\nX-1,"<b>驿站</b>",黄浦区,city,fixed\n'
    runner.invoke(args=["stations", "import", write_file("x.csv", text)])
    html = client.get(urlsplit(station_url("X-1")).path).get_data(as_text=True)
    assert "&lt;b&gt;驿站&lt;/b&gt;" in html and "<b>驿站" not in html


def test_each_form_has_its_own_key_and_is_never_cached(client, form_path):
    first, second = client.get(form_path), client.get(form_path)
    assert once_key(first.get_data(as_text=True)) != once_key(second.get_data(as_text=True))
    assert "no-store" in first.headers["Cache-Control"] and "private" in first.headers["Cache-Control"]


def test_thanks_page_with_its_details_form_fits_a_slow_link(client, form_path):
    _, page = thanks_after(client, form_path, 1)
    assert len(page.encode()) <= 16 * 1024
    # nothing to fetch but the icon; the links lead on (the finder), never to a script
    assert re.findall(r'(?:src|href)="([^"]+)"', page) == ["/favicon.ico", "?lang=en", "/near?lang=zh"]


def test_every_worker_page_says_what_it_is_to_a_search_engine_or_a_chat_preview(client, form_path):
    for path in (form_path, "/near", form_path + "/thanks"):
        page = client.get(path, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
        assert '<meta name="description" content="户外劳动者驿站:评价驿站的服务' in page, path
