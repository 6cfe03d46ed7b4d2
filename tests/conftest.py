"""Fixtures: a fresh app on its own SQLite file per test, an injected clock, a live server, Chromium."""
import os
import shutil
import threading
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from app import create_app
from feedback.clock import FixedClock
from support import (CHROMIUM, CHROMIUM_ARGS, NOON, PASSWORD, RATINGS, STATIONS_CSV, TEST_SECRET,
                     ChatServer)


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
def browser(tmp_path_factory):
    """Debian's headless Chromium under Playwright; nothing downloads a browser. It draws Chinese
    with the posters' Noto Sans CJK (the noto-cjk-sans-otc package), as a phone would with its
    own: without it every character is a box of another width, and a label cut off on a phone
    measures as fitting."""
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    import noto_cjk_sans_otc
    from playwright.sync_api import sync_playwright

    fonts = tmp_path_factory.mktemp("fonts") / "fonts.conf"
    fonts.write_text(f"""<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><include ignore_missing="yes">/etc/fonts/fonts.conf</include>
<dir>{noto_cjk_sans_otc.FONT_PATH.parent}</dir></fontconfig>""")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                             env={**os.environ, "FONTCONFIG_FILE": str(fonts)})
        yield browser
        browser.close()


@pytest.fixture
def make_user(runner, monkeypatch, stations_loaded):
    def make(username, role, *extra):
        monkeypatch.setenv("FEEDBACK_PASSWORD", PASSWORD)
        result = runner.invoke(args=["users", "create", "--username", username, "--role", role, *extra])
        assert result.exit_code == 0, result.output
    return make


@pytest.fixture
def form_path(stations_loaded, station_url):
    return urlsplit(station_url("ST-001")).path


@pytest.fixture
def staff(runner, write_file, stations_loaded, monkeypatch):
    """Accounts of every role and a token each; ST-003 flagged (never rated, opened long ago)."""
    opened = "code,name,district,tier,kind,opened_on\nST-003,银行网点驿站,静安区,city,partner,2023-05-01\n"
    runner.invoke(args=["stations", "import", write_file("o.csv", opened)])
    runner.invoke(args=["ratings", "import", write_file("r.csv", RATINGS)])
    monkeypatch.setenv("FEEDBACK_PASSWORD", PASSWORD)
    tokens = {}
    for username, role, *extra in (("ins", "inspector"), ("adm", "admin"),
                                   ("pd", "district", "--district", "浦东新区"),
                                   ("mgr", "manager", "--station", "ST-001")):
        runner.invoke(args=["users", "create", "--username", username, "--role", role, *extra])
        tokens[username] = runner.invoke(args=["users", "token", "--username", username]).output.strip()
    assert runner.invoke(args=["downgrade", "scan", "--as-of", "2026-11-28"]).exit_code == 0
    return tokens



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
