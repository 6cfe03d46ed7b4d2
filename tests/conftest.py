"""Fixtures: a fresh app on its own SQLite file per test, an injected clock, a live server, Chromium."""
import os
import shutil
import threading
from datetime import datetime, timezone

import pytest
from werkzeug.serving import make_server

from app import create_app
from feedback.clock import FixedClock

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TEST_SECRET = "test-secret-key"

# Noon on 2026-11-28 in Shanghai.
NOON = datetime(2026, 11, 28, 4, 0, tzinfo=timezone.utc)

STATIONS_CSV = """code,name,district,address,latitude,longitude,tier,kind,opened_on,amenities
ST-001,人民广场驿站,黄浦区,人民大道1号,31.2304,121.4737,national,fixed,2023-01-10,water;microwave;sofa
ST-002,滨江工地移动驿站,浦东新区,,,,city,mobile,2024-05-01,water;first-aid
ST-003,银行网点驿站,静安区,南京西路100号,,,provincial,partner,,water;toilet
"""


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Tests see only the settings they give, never the developer's shell."""
    for name in list(os.environ):
        if name.startswith("FEEDBACK_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("FEEDBACK_SECRET_KEY", TEST_SECRET)


@pytest.fixture
def clock():
    return FixedClock(NOON)


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "feedback.db")


@pytest.fixture
def app(db_path, clock):
    app = create_app({"DATABASE": db_path, "CLOCK": clock, "TESTING": True})
    yield app
    app.extensions["feedback.db"].close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db(app):
    """The test's database connection. No app context stays pushed, so each request gets its
    own, as in service."""
    return app.extensions["feedback.db"].get()


@pytest.fixture
def write_file(tmp_path):
    """Write text (or bytes) to a file under tmp_path and return its path."""
    def write(name: str, content) -> str:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return str(path)
    return write


@pytest.fixture
def stations_loaded(runner, write_file):
    result = runner.invoke(args=["stations", "import", write_file("stations.csv", STATIONS_CSV)])
    assert result.exit_code == 0, result.output


@pytest.fixture
def station_url(runner):
    """The printed URL of a station, as `stations url CODE` gives it."""
    def url(code: str) -> str:
        result = runner.invoke(args=["stations", "url", code])
        assert result.exit_code == 0, result.output
        return result.output.strip()
    return url


@pytest.fixture
def live_server(app):
    """The app on a real HTTP server on 127.0.0.1; its BASE_URL points there."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    thread.join()


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium under Playwright; nothing downloads a browser."""
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class ChatServer:
    """A real HTTP server on 127.0.0.1 standing in for a chat platform's webhook.

    It records every POST and answers with queued replies (default: success as ``ok_body``);
    ``on_request(number)``, when set, runs before each answer (a slow or busy platform).
    ``stop()`` takes it off the network (connections are refused) and ``start()`` brings it back
    on the same port, as a platform that was down and came back.
    """

    def __init__(self, ok_body: bytes = b'{"errcode": 0, "errmsg": "ok"}'):
        import json
        from collections import deque

        self.ok_body = ok_body
        self.requests = []
        self.replies = deque()
        self.on_request = None
        self.port = 0
        self.server = None
        self._json = json

    def start(self):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qs, urlsplit

        chat = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                parts = urlsplit(self.path)
                chat.requests.append({"path": parts.path, "query": parse_qs(parts.query),
                                      "headers": dict(self.headers), "body": body})
                if chat.on_request:
                    chat.on_request(len(chat.requests))
                status, reply = chat.replies.popleft() if chat.replies else (200, chat.ok_body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                try:
                    self.wfile.write(reply)
                except OSError:
                    pass  # the client gave up waiting: the message arrived all the same

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.running = True
        return self

    def stop(self):
        if self.running:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join()
            self.running = False

    def url(self, path="/hook"):
        return f"http://127.0.0.1:{self.port}{path}"

    def json_bodies(self):
        return [self._json.loads(request["body"]) for request in self.requests]


@pytest.fixture
def inbox(app):
    """A real SMTP server (aiosmtpd) on 127.0.0.1, set as the app's mail server; the list of
    envelopes it received."""
    import socket

    from aiosmtpd.controller import Controller

    received = []

    class Inbox:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Inbox(), hostname="127.0.0.1", port=port)
    controller.start()
    app.config["SMTP"] = {"host": "127.0.0.1", "port": port, "user": "", "password": "",
                          "from": "digest@rate.example.org"}
    yield received
    controller.stop()


@pytest.fixture
def chat():
    server = ChatServer().start()
    yield server
    server.stop()
