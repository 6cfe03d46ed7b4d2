"""Chats get what we mean to post and nothing more: hostile words stay inert in every format,
one post cannot flood a channel, and no message is posted twice by a second process."""
import re
import threading
import unicodedata
from email import message_from_bytes, policy
from urllib.parse import urlsplit

import pytest

from feedback.storage.db import get_db
from jobs import outbox, tasks
from jobs.channels import text
from support import ChatServer

DAY = "2026-11-27"
HIDDEN = "\u202e\u2066\u200b\u200d\ufeff\u3164\u2028"
HOSTILE = ("水没了\u202e反了\u202c 看 evil。example 和 例子.中国 还有 bit．ly/x "
           "javascript:alert(1) http：//a.b 点\u200b我 3.5小时 ＠所有人 www․evil․example")
DOT_BETWEEN_WORDS = re.compile(rf"[^\W_][{re.escape(text.DOT_LIKE)}][^\W_]")


def assert_inert(delivered: str) -> None:
    """No hidden character anywhere; in the worker's line, no dot between letters and no scheme."""
    assert not any(unicodedata.category(c) in ("Cf", "Cc", "Zl", "Zp") and c not in "\n"
                   for c in delivered), ascii(delivered)
    assert not set(HIDDEN) & set(delivered)
    worker_line = next(line for line in delivered.splitlines() if "水没了" in line)
    assert not DOT_BETWEEN_WORDS.search(worker_line), worker_line
    assert not re.search(r"(?i)javascript[:：]\S", worker_line)
    assert not re.search(r"http[:：]//", worker_line)


@pytest.mark.parametrize("hostile, shown", [
    ("evil.example", "evil. example"),
    ("evil。example", "evil。 example"),
    ("例子.中国", "例子. 中国"),
    ("bit．ly", "bit． ly"),
    ("www․evil", "www․ evil"),
    ("http://x", "http： //x"),
    ("mailto:a", "mailto： a"),
    ("a\u202eb\u200bc\u2066d", "abcd"),
    ("a\x1b[31mb\x07c", "a[31mbc"),
    ("line\nbreak\ttab", "line break tab"),
    ("3.5 小时", "3. 5 小时"),
    ("evil︒example", "evil︒ example"),           # a vertical full stop, folded to 。
    ("evil⒈com", "evil⒈ com"),                    # DIGIT ONE FULL STOP, folded to "1."
    ("cafe\u0301.com", "cafe\u0301. com"),        # a dot after a combining accent
    ("bad.\u0301com", "bad. \u0301com"),           # and before one
    ("好。下次再来", "好。 下次再来"),
    ("...", "..."),
])
def test_inert_breaks_links_and_drops_what_hides_text(hostile, shown):
    assert text.inert(hostile) == shown


def test_every_character_folded_to_a_dot_is_taken_for_one():
    """A linkifier may fold compatibility characters (NFKC) before it looks for a domain."""
    import sys
    folded = {chr(point) for point in range(sys.maxunicode + 1)
              if unicodedata.category(chr(point)) != "Cs"
              and unicodedata.normalize("NFKC", chr(point)) != chr(point)
              and any(dot in unicodedata.normalize("NFKC", chr(point)) for dot in ".。")}
    assert folded == set(text.DOTS_BY_COMPATIBILITY)


def test_plain_also_takes_the_markup_away():
    assert text.plain("[点我](http://e.x) <@all> **粗**") == \
        "［点我］（http： //e. x） ＜＠all＞ ＊＊粗＊＊"


@pytest.fixture
def hostile_day(runner, write_file, stations_loaded):
    rows = ("station_code,rated_at,score,comment\n"
            f'ST-001,2026-11-27T10:00:00,1,"{HOSTILE}"\n'
            f'ST-002,2026-11-27T11:00:00,5,fine\n')
    assert runner.invoke(args=["ratings", "import", write_file("h.csv", rows)]).exit_code == 0


@pytest.mark.parametrize("kind, shown", [
    ("wecom", lambda body: body["markdown"]["content"]),
    ("dingtalk", lambda body: body["markdown"]["text"]),
    ("feishu", lambda body: "\n".join(element["text"] for line in
                                      body["content"]["post"]["zh_cn"]["content"] for element in line)),
    ("slack", lambda body: body["blocks"][0]["text"]["text"]),
])
def test_hostile_words_are_inert_in_every_chat_format(runner, hostile_day, kind, shown):
    chat = ChatServer(b'{"errcode": 0, "code": 0}' if kind != "slack" else b"ok").start()
    try:
        assert runner.invoke(args=["channels", "add", "--kind", kind,
                                   "--target", chat.url()]).exit_code == 0
        assert runner.invoke(args=["digest", "send", "--date", DAY]).exit_code == 0
        delivered = "\n".join(shown(body) for body in chat.json_bodies())
    finally:
        chat.stop()
    assert "水没了" in delivered and "evil。 example" in delivered
    assert_inert(delivered)


def test_hostile_words_are_inert_in_both_parts_of_an_email(runner, hostile_day, inbox):
    runner.invoke(args=["channels", "add", "--kind", "email", "--target", "m@example.org"])
    assert runner.invoke(args=["digest", "send", "--date", DAY]).exit_code == 0
    message = message_from_bytes(inbox[0].content, policy=policy.default)
    plain_text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert_inert(plain_text)
    comment_cell = re.search(r"<br>水没了[^<]*", html).group()
    assert_inert(comment_cell)


def test_one_anonymous_post_cannot_flood_a_chat(client, runner, stations_loaded, station_url,
                                               db, chat, clock):
    """The post that once made 617 WeCom messages: every reason repeated, the longest comment."""
    path = urlsplit(station_url("ST-001")).path
    body = ("score=1&key=" + "k" * 20 + "&comment=" + "长" * 500
            + "".join(f"&reason={reason}" for reason in ("water", "toilet", "staff") * 300))
    assert client.post(path, data=body,
                       content_type="application/x-www-form-urlencoded").status_code == 303
    for n in range(60):  # and sixty more bad ratings that day
        client.post(path, data={"score": "2", "key": f"key-{n:020d}", "comment": "差" * 500})
    runner.invoke(args=["channels", "add", "--kind", "wecom", "--target", chat.url()])
    assert runner.invoke(args=["digest", "send", "--date", "2026-11-28"]).exit_code == 0
    assert 1 <= len(chat.requests) <= outbox.MESSAGES_A_DAY
    assert sum(len(request["body"]) for request in chat.requests) < outbox.MESSAGES_A_DAY * 4096 * 2


def test_a_send_longer_than_its_claim_is_not_taken_by_a_second_process(
        app, runner, write_file, stations_loaded, chat, clock, monkeypatch):
    """Each post takes the platform 11 minutes (past the 10-minute claim); meanwhile another
    process looks for pending deliveries. The keeper has renewed the claim, so it finds none."""
    rows = ["station_code,rated_at,score,comment"]
    rows += [f"ST-001,2026-11-27T09:{i:02d}:00,2,第{i}条" + "差" * 130 for i in range(60)]
    runner.invoke(args=["ratings", "import", write_file("many.csv", "\n".join(rows) + "\n")])
    runner.invoke(args=["channels", "add", "--kind", "wecom", "--target", chat.url()])
    monkeypatch.setattr(outbox, "RENEW_EVERY_SECONDS", 0.01)
    competitor = []

    def slow_platform(number):
        clock.advance(minutes=11)
        with app.app_context():
            db = get_db()
            for _ in range(500):  # until the keeper has renewed past the new time
                until = db.execute("SELECT claimed_until FROM deliveries").fetchone()[0]
                if until and until > clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"):
                    break
                threading.Event().wait(0.01)
            competitor.extend(o.status for o in tasks.retry_due(sleep=lambda s: None))

    chat.on_request = slow_platform
    assert runner.invoke(args=["digest", "send", "--date", DAY]).exit_code == 0
    parts = len(chat.requests)
    assert parts >= 2
    assert competitor and set(competitor) == {"busy"}  # it tried each time and found the claim alive
    contents = [body["markdown"]["content"] for body in chat.json_bodies()]
    assert len(set(contents)) == parts  # no message twice
    assert runner.invoke(args=["digest", "send", "--date", DAY]).exit_code == 0
    assert len(chat.requests) == parts


def test_a_lost_answer_is_reported_and_the_repeat_shows_its_part_number(
        app, runner, write_file, stations_loaded, chat, monkeypatch):
    """The platform takes part 2 but answers after the client has given up: the sender cannot
    know, so the retry posts part 2 again, visibly the same numbered part."""
    from jobs import channels

    rows = ["station_code,rated_at,score,comment"]
    rows += [f"ST-001,2026-11-27T09:{i:02d}:00,2,第{i}条" + "差" * 130 for i in range(60)]
    runner.invoke(args=["ratings", "import", write_file("many.csv", "\n".join(rows) + "\n")])
    runner.invoke(args=["channels", "add", "--kind", "wecom", "--target", chat.url()])
    monkeypatch.setattr(channels, "HTTP_TIMEOUT", 1.0)  # part 1 answers in milliseconds
    released = threading.Event()
    chat.on_request = lambda number: number == 2 and released.wait(10)
    first = runner.invoke(args=["digest", "send", "--date", DAY])
    released.set()
    assert first.exit_code == 1
    assert "part 2 of" in first.output and "may have arrived" in first.output
    chat.on_request = None
    assert runner.invoke(args=["digest", "send", "--date", DAY]).exit_code == 0
    contents = [body["markdown"]["content"] for body in chat.json_bodies()]
    markers = [content.split("\n", 1)[0] for content in contents]
    total = int(markers[0].split("/")[1].rstrip(")"))
    assert markers == ["(1/%d)" % total, "(2/%d)" % total, "(2/%d)" % total] + [
        f"({n}/{total})" for n in range(3, total + 1)]
    assert contents[1] == contents[2]
