"""Digests delivered through real servers on 127.0.0.1: each chat platform's shape, size and
signature, e-mail over real SMTP, exactly once even when a channel was down."""
import base64
import hashlib
import hmac
import json
import socket
from datetime import date
from email import message_from_bytes, policy

import pytest

from feedback.storage.db import get_db, write
from jobs import outbox, tasks
from jobs.channels import text
from support import ChatServer

DAY = "2026-11-27"
HOSTILE = "水没了 [点我](http://evil.example/x) <@all> <!channel> **粗** @所有人 打13800138000"

HISTORY = f"""station_code,rated_at,score,comment
ST-001,2026-11-27T09:00:00,5,很好
ST-001,2026-11-27T10:00:00,1,"{HOSTILE}"
ST-002,2026-11-27T11:00:00,2,微波炉坏了
ST-003,2026-11-26T23:59:59,4,前一天
"""


@pytest.fixture
def history(runner, write_file, stations_loaded):
    result = runner.invoke(args=["ratings", "import", write_file("history.csv", HISTORY)])
    assert result.exit_code == 0, result.output


def add_channel(runner, *args):
    result = runner.invoke(args=["channels", "add", *args])
    assert result.exit_code == 0, result.output
    return result


def send(runner, day=DAY):
    return runner.invoke(args=["digest", "send", "--date", day])


def delivered_text(chat) -> str:
    return "\n".join(body["markdown"]["content"] for body in chat.json_bodies())


def test_wecom_gets_the_days_digest_once_as_markdown(runner, history, chat):
    add_channel(runner, "--kind", "wecom", "--target", chat.url("/cgi-bin/webhook/send?key=K"))
    assert send(runner).exit_code == 0
    assert send(runner).exit_code == 0  # a second run posts nothing
    assert len(chat.requests) == 1
    body = chat.json_bodies()[0]
    assert body["msgtype"] == "markdown"
    content = body["markdown"]["content"]
    assert len(content.encode()) <= 4096
    assert "驿站服务日报 2026-11-27" in content
    assert "评价 3 条" in content and "满意率 33%" in content
    assert "微波炉坏了" in content


def test_hostile_comment_arrives_as_plain_text(runner, history, chat):
    add_channel(runner, "--kind", "wecom", "--target", chat.url())
    send(runner)
    line = next(line for line in delivered_text(chat).splitlines() if "水没了" in line)
    for markup in ("[", "](", "<@", "<!", "**", "@所有人", "http://", "evil.example"):
        assert markup not in line, markup
    assert "13800138000" not in line and "＊＊＊" in line  # masked, then made inert
    assert "点我" in line and "evil" in line  # the words are all still there, made inert


def test_output_of_send_never_shows_the_robot_key(runner, history, chat):
    add_channel(runner, "--kind", "wecom", "--target", chat.url("/send?key=SECRET-KEY"))
    result = send(runner)
    listing = runner.invoke(args=["channels", "list"]).output
    assert "SECRET-KEY" not in result.output and "SECRET-KEY" not in listing


def test_a_long_digest_is_split_numbered_and_bounded_and_ends_with_its_link(
        runner, write_file, db, stations_loaded, chat):
    rows = ["station_code,rated_at,score,comment"]
    rows += [f"ST-00{1 + i % 3},2026-11-27T{8 + i // 60:02d}:{i % 60:02d}:00,1,第{i}条:" + "坏" * 200
             for i in range(150)]
    runner.invoke(args=["ratings", "import", write_file("many.csv", "\n".join(rows) + "\n")])
    add_channel(runner, "--kind", "wecom", "--target", chat.url())
    assert send(runner).exit_code == 0
    contents = [body["markdown"]["content"] for body in chat.json_bodies()]
    assert 2 < len(contents) <= outbox.MESSAGES_A_DAY
    assert all(len(c.encode()) <= 4096 for c in contents)
    assert [c.split("\n", 1)[0] for c in contents] == [
        f"({n}/{len(contents)})" for n in range(1, len(contents) + 1)]
    joined = "\n".join(contents)
    for i in range(text.BAD_RATINGS_SHOWN):  # the first ones, each once, cut short
        assert joined.count(f"第{i}条:") == 1
    assert "第20条" not in joined and "另有 130 条差评" in joined
    assert contents[-1].endswith("(http://127.0.0.1:5000/digests/2026-11-27)")


def test_channel_down_then_up_gets_the_digest_once(runner, history, chat):
    add_channel(runner, "--kind", "wecom", "--target", chat.url())
    chat.stop()
    first = send(runner)
    assert first.exit_code != 0
    assert "failed" in first.output and "cannot reach" in first.output
    chat.start()
    assert send(runner).exit_code == 0
    assert send(runner).exit_code == 0
    assert len(chat.requests) == 1


def test_platform_refusal_is_a_failure_with_its_reason(runner, history, chat):
    add_channel(runner, "--kind", "wecom", "--target", chat.url())
    chat.replies.append((200, b'{"errcode": 93000, "errmsg": "invalid webhook url"}'))
    result = send(runner)
    assert result.exit_code != 0
    assert "invalid webhook url" in result.output
    assert send(runner).exit_code == 0
    assert len(chat.requests) == 2


def test_a_split_digest_resumes_after_the_last_part_that_got_through(runner, write_file,
                                                                     stations_loaded, chat):
    rows = ["station_code,rated_at,score,comment"]
    rows += [f"ST-001,2026-11-27T09:{i:02d}:00,2,第{i}条" + "差" * 130 for i in range(60)]
    runner.invoke(args=["ratings", "import", write_file("many.csv", "\n".join(rows) + "\n")])
    add_channel(runner, "--kind", "wecom", "--target", chat.url())
    chat.replies.extend([(200, chat.ok_body), (502, b"bad gateway")])
    assert send(runner).exit_code != 0
    sent_first = chat.json_bodies()[0]["markdown"]["content"]
    assert send(runner).exit_code == 0
    contents = [body["markdown"]["content"] for body in chat.json_bodies()]
    assert contents.count(sent_first) == 1  # part one was not sent again
    joined = "\n".join(contents[:1] + contents[2:])  # drop the refused attempt
    assert all(joined.count(f"第{i}条") == 1 for i in range(text.BAD_RATINGS_SHOWN))


def test_dingtalk_posts_markdown_signed_with_its_secret(runner, history, chat, clock):
    add_channel(runner, "--kind", "dingtalk", "--target", chat.url("/robot/send?access_token=T"),
                "--secret", "SEC-ding")
    assert send(runner).exit_code == 0
    request = chat.requests[0]
    timestamp = request["query"]["timestamp"][0]
    assert int(timestamp) == int(clock.now().timestamp() * 1000)
    expected = base64.b64encode(hmac.new(b"SEC-ding", f"{timestamp}\nSEC-ding".encode(),
                                         hashlib.sha256).digest()).decode()
    assert request["query"]["sign"][0] == expected
    assert request["query"]["access_token"] == ["T"]
    body = json.loads(request["body"])
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"] == "驿站服务日报 2026-11-27"
    assert "微波炉坏了" in body["markdown"]["text"]


def test_feishu_posts_rich_text_signed_with_its_secret(runner, history, clock):
    feishu = ChatServer(ok_body=b'{"code": 0, "msg": "success"}').start()
    try:
        add_channel(runner, "--kind", "feishu", "--target", feishu.url("/open-apis/bot/v2/hook/x"),
                    "--secret", "SEC-fs")
        assert send(runner).exit_code == 0
        body = feishu.json_bodies()[0]
    finally:
        feishu.stop()
    assert body["timestamp"] == str(int(clock.now().timestamp()))
    key = f"{body['timestamp']}\nSEC-fs".encode()
    assert body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert body["msg_type"] == "post"
    post = body["content"]["post"]["zh_cn"]
    texts = [element["text"] for line in post["content"] for element in line]
    assert all(element["tag"] == "text" for line in post["content"] for element in line)
    assert any("微波炉坏了" in t for t in texts)
    assert not any("<@all>" in t or "[点我]" in t for t in texts)


def test_slack_gets_verbatim_mrkdwn_with_nothing_to_auto_link(runner, history):
    slack = ChatServer(ok_body=b"ok").start()
    try:
        add_channel(runner, "--kind", "slack", "--target", slack.url("/services/T/B/X"))
        assert send(runner).exit_code == 0
        body = slack.json_bodies()[0]
    finally:
        slack.stop()
    section = body["blocks"][0]["text"]
    assert section["type"] == "mrkdwn" and section["verbatim"] is True
    line = next(line for line in section["text"].splitlines() if "水没了" in line)
    assert "<" not in line and "*" not in line and "http://" not in line


def test_webhook_gets_the_digest_json_signed(runner, history, chat):
    add_channel(runner, "--kind", "webhook", "--target", chat.url("/digest"), "--secret", "SEC-w")
    assert send(runner).exit_code == 0
    request = chat.requests[0]
    expected = hmac.new(b"SEC-w", request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["X-Feedback-Signature"] == f"sha256={expected}"
    shown = json.loads(runner.invoke(args=["digest", "show", "--date", DAY, "--json"]).output)
    assert json.loads(request["body"]) == shown


def test_a_district_channel_gets_only_its_district(runner, history, chat):
    add_channel(runner, "--kind", "webhook", "--target", chat.url(), "--district", "浦东新区")
    send(runner)
    digest = chat.json_bodies()[0]
    assert digest["scope"] == "浦东新区"
    assert digest["ratings_total"] == 1
    assert [b["station_code"] for b in digest["bad_ratings"]] == ["ST-002"]
    assert [d["district"] for d in digest["districts"]] == ["浦东新区"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_email_is_sent_as_html_and_text_over_real_smtp(runner, history, inbox):
    add_channel(runner, "--kind", "email", "--target", "manager@example.org")
    assert send(runner).exit_code == 0
    assert send(runner).exit_code == 0
    received = inbox
    assert len(received) == 1
    assert received[0].rcpt_tos == ["manager@example.org"]
    message = message_from_bytes(received[0].content, policy=policy.default)
    assert message["Subject"] == "驿站服务日报 2026-11-27"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "微波炉坏了" in text and "微波炉坏了" in html
    assert "&lt;@all&gt;" in html and "<@all>" not in html
    assert "13800138000" not in text + html


def test_email_without_smtp_host_fails_and_stays_pending(runner, history, db):
    add_channel(runner, "--kind", "email", "--target", "manager@example.org")
    result = send(runner)
    assert result.exit_code != 0 and "FEEDBACK_SMTP_HOST is not set" in result.output
    assert db.execute("SELECT status FROM deliveries").fetchone() == ("pending",)


@pytest.mark.parametrize("args, message", [
    (["--kind", "wecom", "--target", "not a url"], "is not an http(s) URL"),
    (["--kind", "email", "--target", "nobody"], "is not an e-mail address"),
    (["--kind", "wecom", "--target", "https://x.org/h", "--secret", "s"], "are not signed"),
    (["--kind", "pager", "--target", "https://x.org/h"], "Invalid value for '--kind'"),
])
def test_channels_add_refuses_what_cannot_work(runner, args, message):
    result = runner.invoke(args=["channels", "add", *args])
    assert result.exit_code != 0 and message in result.output


def test_digest_send_rejects_a_bad_date(runner):
    result = runner.invoke(args=["digest", "send", "--date", "2026-13-01"])
    assert result.exit_code != 0 and "is not a date like" in result.output


def test_pacer_keeps_a_robot_under_20_messages_a_minute(clock):
    waited = []

    def sleep(seconds):
        waited.append(seconds)
        clock.advance(seconds=seconds)

    pacer = outbox.Pacer(clock, sleep)
    robot = {"id": 1, "kind": "wecom"}
    times = []
    for _ in range(45):
        pacer.wait_turn(robot)
        times.append(clock.now())
        clock.advance(seconds=1)
    for i in range(20, 45):
        assert (times[i] - times[i - 20]).total_seconds() >= 60
    assert len(waited) == 2  # only the 21st and the 41st had to wait
    webhook = {"id": 2, "kind": "webhook"}
    before = len(waited)
    for _ in range(30):
        pacer.wait_turn(webhook)
    assert len(waited) == before  # plain webhooks are not paced


def test_backoff_doubles_up_to_six_hours():
    assert [outbox.backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert outbox.backoff(20).total_seconds() == 6 * 3600


def test_a_retry_sends_the_digest_as_first_rendered(runner, history, chat, write_file):
    add_channel(runner, "--kind", "webhook", "--target", chat.url())
    chat.replies.append((503, b"busy"))
    assert send(runner).exit_code != 0
    late = "station_code,rated_at,score,comment\nST-003,2026-11-27T20:00:00,5,late import\n"
    runner.invoke(args=["ratings", "import", write_file("late.csv", late)])
    assert send(runner).exit_code == 0
    first_try, retry = [json.loads(r["body"]) for r in chat.requests]
    assert first_try == retry and retry["ratings_total"] == 3


def test_a_process_that_listed_a_delivery_early_resumes_from_the_parts_sent_since(
        app, runner, write_file, stations_loaded, chat, clock):
    """Process A lists the pending delivery; meanwhile B sends part one and fails on part two.
    When A then claims the row it must resume at part two, not send part one again."""
    rows = ["station_code,rated_at,score,comment"]
    rows += [f"ST-001,2026-11-27T09:{i:02d}:00,2,第{i}条" + "差" * 130 for i in range(60)]
    runner.invoke(args=["ratings", "import", write_file("many.csv", "\n".join(rows) + "\n")])
    add_channel(runner, "--kind", "wecom", "--target", chat.url())
    with app.app_context():
        db = get_db()
        with write(db):
            outbox.open_deliveries(db, "2026-11-27", clock.now())
        listed_by_a = outbox.deliveries(db, period="2026-11-27")
        chat.replies.extend([(200, chat.ok_body), (502, b"bad gateway")])
        tasks.send_digest(date(2026, 11, 27))  # process B
        first_part = chat.json_bodies()[0]
        tasks._deliver(listed_by_a, due_only=False, sleep=lambda s: None)  # process A
    contents = [body["markdown"]["content"] for body in chat.json_bodies()]
    assert contents.count(first_part["markdown"]["content"]) == 1


def test_a_removed_channel_gets_nothing_more(runner, history, chat):
    add_channel(runner, "--kind", "webhook", "--target", chat.url())
    send(runner, "2026-11-26")
    assert "removed" in runner.invoke(args=["channels", "remove", "1"]).output
    send(runner)
    assert len(chat.requests) == 1
    assert runner.invoke(args=["channels", "list"]).output == ""
    result = runner.invoke(args=["channels", "remove", "1"])
    assert result.exit_code != 0 and "no channel 1" in result.output


def test_email_upgrades_to_starttls_before_it_logs_in(runner, history, app, tmp_path, monkeypatch):
    """A server that requires STARTTLS and accepts AUTH only over TLS, with a certificate made
    for this test and trusted through SSL_CERT_FILE."""
    import ssl
    import subprocess

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    received, logins = [], []

    class Inbox:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    def authenticate(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password, session.ssl is not None))
        return AuthResult(success=auth_data.login == b"digest" and auth_data.password == b"pw")

    port = free_port()
    controller = Controller(Inbox(), hostname="127.0.0.1", port=port, tls_context=server_tls,
                            require_starttls=True, authenticator=authenticate,
                            auth_require_tls=True)
    controller.start()
    try:
        app.config["SMTP"] = {"host": "127.0.0.1", "port": port, "user": "digest",
                              "password": "pw", "from": "digest@rate.example.org"}
        add_channel(runner, "--kind", "email", "--target", "manager@example.org")
        result = send(runner)
    finally:
        controller.stop()
    assert result.exit_code == 0, result.output
    assert logins == [(b"digest", b"pw", True)]  # the password only crossed over TLS
    assert len(received) == 1


def test_a_channel_gets_five_messages_a_day_and_a_report_past_them_waits_for_the_morning(
        app, runner, write_file, stations_loaded, chat, clock):
    """A Monday that is the 1st brings a digest, a weekly and a monthly report: a chat gets
    five messages that day whatever they hold; what does not fit goes the next morning."""
    rows = ["station_code,rated_at,score,comment"]
    rows += [f"ST-00{1 + i % 3},2026-11-27T{8 + i // 60:02d}:{i % 60:02d}:00,1,第{i}条:" + "坏" * 200
             for i in range(150)]
    runner.invoke(args=["ratings", "import", write_file("many.csv", "\n".join(rows) + "\n")])
    add_channel(runner, "--kind", "wecom", "--target", chat.url())
    assert send(runner).exit_code == 0 and send(runner, "2026-11-26").exit_code == 0
    assert len(chat.requests) == 4  # the long digest in three, the short one in one
    with app.app_context():
        [week] = tasks.send("2026-W47")  # squeezed into the one message left, with its link
        [month] = tasks.send("2026-10")
        assert (week.status, month.status) == ("sent", "postponed")
        assert len(chat.requests) == outbox.MESSAGES_A_DAY
        assert "/reports/weeks/2026-W47" in chat.json_bodies()[-1]["markdown"]["content"]
        clock.advance(hours=19, minutes=59)  # 07:59 the next morning: still waiting
        assert tasks.retry_due() == [] and len(chat.requests) == outbox.MESSAGES_A_DAY
        clock.advance(minutes=2)  # after FEEDBACK_DIGEST_AT (08:00)
        [month] = tasks.retry_due()
    assert month.status == "sent"
    assert "驿站服务月报 2026-10" in chat.json_bodies()[-1]["markdown"]["content"]
