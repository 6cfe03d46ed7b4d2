"""Helpers the test modules share: signing in, a form's once key, a phone's browser, ports,
the app's routes. Fixtures are in conftest.py."""
import os
import re
import socket
import threading
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

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


# `make test` runs every property test with its few examples; `make fuzz` with FEEDBACK_FUZZ
# times as many (and only those tests: pytest -m fuzz).
FUZZ = int(os.environ.get("FEEDBACK_FUZZ", "1"))


def examples(quick: int) -> int:
    """How many examples a property test tries: ``quick`` in `make test`, more in `make fuzz`."""
    return quick * FUZZ


PASSWORD = "correct horse battery"


def csrf_from(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client, username, password=PASSWORD, next_path=""):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login" + next_path, data={"username": username, "password": password,
                                                   "csrf_token": token})


def once_key(html: str) -> str:
    return re.search(r'name="key" value="([^"]+)"', html).group(1)


def phone_with(app, user_agent: str, address: str = "10.0.0.1"):
    """A phone's browser: its own cookies, this browser signature, behind this address."""
    phone = app.test_client()
    phone.environ_base.update(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=address,
                              HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    return phone


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


RATINGS = """station_code,rated_at,score,comment
ST-001,2026-11-01T00:00:00+08:00,5,first instant of November
ST-001,2026-11-10T12:00:00,2,脏
ST-001,2026-11-27T23:59:59,4,last of the 27th
ST-002,2026-11-05T12:00:00,3,
ST-001,2026-09-15T12:00:00,4,in the window of the scan
ST-002,2026-10-15T12:00:00,4,in the window of the scan
"""


PHONE = {"viewport": {"width": 360, "height": 740}, "has_touch": True, "is_mobile": True,
         "device_scale_factor": 2, "locale": "zh-CN"}


def signed_in_phone(browser, base: str, username: str, password: str, **options):
    """A new phone-sized browser page, signed in to the staff pages as ``username``."""
    page = browser.new_context(**PHONE, **options).new_page()
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.locator("button.primary").tap()
    return page


AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


SAMPLE_ARGUMENTS = {"code": "ST-001", "day_text": "2026-11-27", "kind": "png",
                    "week_text": "2026-W47", "month_text": "2026-10",
                    "filename": "favicon.ico"}
SAMPLE_QUERIES = {"finder.public_stations": "?lat=31.2285&lon=121.469", "finder.near": "?district=黄浦区"}
PUBLIC_ENDPOINTS = {"static", "feedback.rate", "feedback.thanks", "feedback.favicon", "api.station",
                    "api.openapi", "health.healthz", "auth.login", "finder.near",
                    "finder.public_stations", "finder.public_geojson", "metrics.metrics"}


def get_routes(app, station_url) -> list[tuple[str, str]]:
    """(endpoint, a URL for it) for every GET route in the app's route table."""
    token = urlsplit(station_url("ST-001")).path.rsplit("/", 1)[1]
    adapter = app.url_map.bind("localhost")
    routes = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        values = {name: token if name == "token" else SAMPLE_ARGUMENTS[name]
                  for name in rule.arguments}
        routes.append((rule.endpoint, adapter.build(rule.endpoint, values)
                       + SAMPLE_QUERIES.get(rule.endpoint, "")))
    return routes


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
