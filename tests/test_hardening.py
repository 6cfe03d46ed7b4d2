"""What a hostile or careless client meets: headers on every route, bounded input, clear 4xx
answers instead of 5xx, and a production server that slow clients cannot stall."""
import os
import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest

from app import create_app
from support import PUBLIC_ENDPOINTS, TEST_SECRET, free_port, get_routes, sign_in


@pytest.fixture
def admin(client, runner, make_user):
    assert runner.invoke(args=["downgrade", "scan"]).exit_code == 0  # flags for the review pages
    make_user("wang", "admin")
    assert sign_in(client, "wang").status_code == 303
    return client


def test_every_route_carries_the_security_headers_on_get_and_head(app, admin, station_url):
    routes = get_routes(app, station_url)
    assert len(routes) >= 17  # the whole table, not a sample
    for endpoint, url in routes:
        response = admin.get(url, buffered=True)
        assert response.status_code == 200, (url, response.status_code)
        headers = response.headers
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, url
        assert headers["X-Content-Type-Options"] == "nosniff", url
        assert headers["Referrer-Policy"] == "no-referrer", url
        if endpoint not in PUBLIC_ENDPOINTS:
            assert "no-store" in headers["Cache-Control"], url
        assert "Strict-Transport-Security" not in headers  # the base URL is http here
        head = admin.head(url, buffered=True)
        assert head.status_code == 200 and head.data == b"", url
        assert head.headers["Content-Security-Policy"] == policy


def test_staff_routes_answer_strangers_with_the_headers_too(app, client, station_url, make_user):
    for endpoint, url in get_routes(app, station_url):
        if endpoint in PUBLIC_ENDPOINTS:
            continue
        response = client.get(url)
        assert response.status_code in (302, 401), url
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "no-store" in response.headers["Cache-Control"], url


def test_https_base_url_adds_hsts_and_secure_cookies(db_path, monkeypatch):
    monkeypatch.setenv("FEEDBACK_BASE_URL", "https://rate.example.org")
    app = create_app({"DATABASE": db_path, "TESTING": True})
    response = app.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Secure" in response.headers["Set-Cookie"]


def test_a_wrong_method_is_405_with_allow_even_for_a_post_without_csrf(client, stations_loaded):
    response = client.post("/api/v1/stations/ST-001", json={})
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "HEAD"}
    assert response.get_json()["error"] == "Method Not Allowed"
    page = client.delete("/login")
    assert page.status_code == 405 and "POST" in page.headers["Allow"]


@pytest.mark.parametrize("version", ["١", "²", "01", "0", "1234567"])
def test_a_link_version_is_ascii_digits_or_the_link_is_not_found(client, stations_loaded,
                                                                 station_url, version):
    path = urlsplit(station_url("ST-001")).path
    signature = path.rsplit("-", 1)[1]
    altered = path.rsplit("/", 1)[0] + f"/{version}-{signature}"
    assert client.get(altered).status_code == 404
    assert client.post(altered, data={"score": "5", "key": "k" * 20}).status_code == 404


@pytest.mark.parametrize("query, message", [
    ("limit=-1", "limit must be a whole number from 1 to 10000"),
    ("limit=99999999999999999999", "limit must be a whole number from 1 to 10000"),
    ("limit=10001", "limit must be a whole number from 1 to 10000"),
    ("offset=-5", "offset must be a whole number from 0 to 1000000000"),
    ("offset=١", "offset must be a whole number from 0 to 1000000000"),
    ("from=0001-01-01", "from: 0001-01-01 is not between 2000 and 2099"),
    ("to=9999-12-31", "to: 9999-12-31 is not between 2000 and 2099"),
    ("from=2024-W01-1", "from: '2024-W01-1' is not a date like 2026-11-27"),
    ("from=20240101", "from: '20240101' is not a date like 2026-11-27"),
])
def test_ratings_api_bounds_every_number_and_date(admin, query, message):
    response = admin.get(f"/api/v1/stations/ST-001/ratings?{query}")
    assert response.status_code == 400
    assert response.get_json()["message"] == message


@pytest.mark.parametrize("day", ["0001-01-01", "2024-W01-1", "9999-12-31", "2026-13-01"])
def test_digest_pages_of_impossible_days_are_not_found(admin, day):
    assert admin.get(f"/digests/{day}").status_code == 404


@pytest.mark.parametrize("args", [["digest", "show", "--date", "0001-01-01"],
                                  ["digest", "send", "--date", "0001-01-02"],
                                  ["downgrade", "scan", "--as-of", "0001-01-01"],
                                  ["downgrade", "scan", "--as-of", "2024-W01-1"]])
def test_the_command_line_refuses_impossible_days_without_a_traceback(runner, args):
    result = runner.invoke(args=args)
    assert result.exit_code == 2
    assert "not between 2000 and 2099" in result.output or "not a date like" in result.output
    assert "Traceback" not in result.output


def test_a_worker_form_bigger_than_16_kb_is_refused_in_chinese(client, stations_loaded,
                                                               station_url, db):
    path = urlsplit(station_url("ST-001")).path
    response = client.post(path, data={"score": "5", "key": "k" * 20, "comment": "长" * 20_000})
    assert response.status_code == 413
    assert "提交的内容太多了" in response.get_data(as_text=True)
    assert db.execute("SELECT count(*) FROM ratings").fetchone()[0] == 0


def test_staff_json_bigger_than_a_megabyte_is_refused(client, runner, make_user):
    make_user("wang", "admin")
    token = runner.invoke(args=["users", "token", "--username", "wang"]).output.strip()
    response = client.post("/api/v1/flags/ST-001/decision",
                           json={"decision": "dismiss", "reason": "x" * 2_000_000},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 413 and response.is_json


def test_repeated_reasons_are_stored_once(client, stations_loaded, station_url, db):
    path = urlsplit(station_url("ST-001")).path
    body = "score=1&key=" + "k" * 20 + "&reason=water" * 900 + "&reason=toilet"
    response = client.post(path, data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 303
    assert db.execute("SELECT reasons FROM ratings").fetchone()[0] == "water;toilet"


@pytest.mark.parametrize("comment", ["nul\x00here", "bell\x07", "escape \x1b[31mred", "del\x7f"])
def test_control_characters_in_a_comment_are_refused(client, stations_loaded, station_url,
                                                     db, comment):
    path = urlsplit(station_url("ST-001")).path
    response = client.post(path, data={"score": "4", "key": "k" * 20, "comment": comment})
    assert response.status_code == 400
    assert "无法识别的字符" in response.get_data(as_text=True)
    assert db.execute("SELECT count(*) FROM ratings").fetchone()[0] == 0


def test_the_characters_refused_are_unicodes_controls_but_line_breaks_and_tabs():
    """Every code point: the rule (a pattern, quick on a ten-million-row import) refuses exactly
    Unicode's category Cc less newline and tab, the characters no comment or name may hold."""
    import unicodedata

    from feedback.typed import has_control_characters
    wrong = [hex(point) for point in range(0x110000)
             if has_control_characters(chr(point))
             != (unicodedata.category(chr(point)) == "Cc" and chr(point) not in "\n\t")]
    assert wrong == []


def test_line_breaks_and_tabs_in_a_comment_are_kept(client, stations_loaded, station_url, db):
    path = urlsplit(station_url("ST-001")).path
    response = client.post(path, data={"score": "4", "key": "k" * 20, "comment": "一\r\n二\t三"})
    assert response.status_code == 303
    assert db.execute("SELECT comment FROM ratings").fetchone()[0] == "一\n二\t三"


# A production server: gunicorn with the repo's configuration, in its own process.

@pytest.fixture
def gunicorn(tmp_path, request):
    """Start gunicorn -c gunicorn.conf.py on a free port; extra environment from the test's
    ``gunicorn_env`` mark. Yields the base URL."""
    port = free_port()
    env = {**os.environ, "FEEDBACK_DATABASE": str(tmp_path / "served.db"),
           "FEEDBACK_SECRET_KEY": TEST_SECRET, "FEEDBACK_SCHEDULER": "off",
           "FEEDBACK_BIND": f"127.0.0.1:{port}", "FEEDBACK_BASE_URL": f"http://127.0.0.1:{port}"}
    marker = request.node.get_closest_marker("gunicorn_env")
    env.update(marker.args[0] if marker else {})
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert process.poll() is None, process.stderr.read().decode()
            time.sleep(0.1)
    yield f"127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=30)


def half_sent_post(address: str) -> socket.socket:
    """A client that sends its headers and half its body, then goes quiet."""
    host, port = address.split(":")
    sock = socket.create_connection((host, int(port)))
    body = b"username=wang&password=" + b"x" * 500
    sock.sendall(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded"
                 b"\r\nContent-Length: %d\r\n\r\n" % (len(body) * 2) + body)
    return sock


def status_of(address: str, path: str) -> bytes:
    """The status line of a GET; a server that never answers fails it (after a minute: a bound
    on liveness, far beyond any deadline here, not a measure of speed)."""
    host, port = address.split(":")
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        return sock.makefile("rb").readline()


def half_sent_headers(address: str) -> socket.socket:
    """A client that sends half a header block, then goes quiet."""
    host, port = address.split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    return sock


@pytest.mark.gunicorn_env({"FEEDBACK_BODY_READ_TIMEOUT": "2", "FEEDBACK_WORKERS": "1",
                           "FEEDBACK_THREADS": "2"})
@pytest.mark.parametrize("stall", [half_sent_post, half_sent_headers])
def test_clients_that_stop_halfway_are_dropped_and_the_health_check_answers(gunicorn, stall):
    """Four clients that stop in the middle of their body, or of their headers, against one
    worker of two threads: each is dropped after its two seconds, and the health check behind
    them is answered (without the deadlines it would wait for ever)."""
    slow = [stall(gunicorn) for _ in range(4)]
    try:
        assert status_of(gunicorn, "/healthz").startswith(b"HTTP/1.1 200")
        for sock in slow:
            sock.settimeout(60)
            assert not sock.recv(1024).startswith(b"HTTP/1.1 2")  # refused or closed, never served
    finally:
        for sock in slow:
            sock.close()


@pytest.mark.gunicorn_env({"FEEDBACK_BODY_READ_TIMEOUT": "1", "FEEDBACK_WORKERS": "1",
                           "FEEDBACK_THREADS": "1"})
def test_a_body_that_stops_arriving_is_dropped_and_frees_the_thread(gunicorn):
    """One worker with one thread: without the read timeout the health check would wait for
    the stalled client for ever."""
    sock = half_sent_post(gunicorn)
    sock.settimeout(60)
    try:
        status_line = sock.makefile("rb").readline()
    finally:
        sock.close()
    assert status_line.split()[1].startswith(b"4")  # refused (400 or 408), never served
    assert status_of(gunicorn, "/healthz").startswith(b"HTTP/1.1 200")


def raw_answer(address: str, request: bytes) -> tuple[bytes, dict]:
    host, port = address.split(":")
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(request)
        head = sock.makefile("rb").read().split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    return head[0].encode(), {line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip()
                              for line in head[1:] if ":" in line}


@pytest.mark.parametrize("request_bytes, status", [
    (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", b"414"),
    (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: y\r\n" % n for n in range(80)) + b"\r\n",
     b"431"),
    (b"GARBAGE\r\n\r\n", b"400"),
])
def test_what_gunicorn_refuses_itself_carries_the_security_headers(gunicorn, request_bytes, status):
    status_line, headers = raw_answer(gunicorn, request_bytes)
    assert status_line.split()[1] == status
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY" and headers["referrer-policy"] == "no-referrer"


def test_forwarded_addresses_are_believed_only_from_the_proxy(db_path, clock, monkeypatch):
    """Behind nginx on the same machine (FEEDBACK_PROXIES=1), the phone's address comes from
    X-Forwarded-For; a client that reaches the service directly cannot name its own."""
    monkeypatch.setenv("FEEDBACK_PROXIES", "1")
    app = create_app({"DATABASE": db_path, "CLOCK": clock, "TESTING": True})

    def metrics_from(peer: str, forwarded: str) -> int:
        client = app.test_client()
        client.environ_base.update(REMOTE_ADDR=peer)
        return client.get("/metrics", headers={"X-Forwarded-For": forwarded}).status_code
    assert metrics_from("127.0.0.1", "127.0.0.1") == 200     # nginx, for a local scraper
    assert metrics_from("127.0.0.1", "203.0.113.9") == 403   # nginx, for a stranger
    assert metrics_from("203.0.113.9", "127.0.0.1") == 403   # a stranger, claiming to be local
    monkeypatch.setenv("FEEDBACK_TRUSTED_PROXIES", "10.0.0.2")
    app = create_app({"DATABASE": db_path, "CLOCK": clock, "TESTING": True})
    assert metrics_from("10.0.0.2", "127.0.0.1") == 200      # the proxy named, on another host
    app.extensions["feedback.db"].close()
