"""Staff sign-in, roles, CSRF, bearer tokens, and the QR and poster downloads behind them."""
import io
import re

import pypdfium2
import pytest
import zxingcpp
from PIL import Image

from support import PASSWORD, csrf_from, sign_in


def test_login_form_has_username_and_password_fields(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'name="username"' in html and 'name="password"' in html


def test_password_is_stored_hashed(make_user, db):
    make_user("wang", "admin")
    stored = db.execute("SELECT password_hash FROM users").fetchone()[0]
    assert PASSWORD not in stored and stored.startswith(("scrypt:", "pbkdf2:"))


def test_wrong_password_is_refused(client, make_user):
    make_user("wang", "admin")
    response = sign_in(client, "wang", "guess-guess")
    assert response.status_code == 401
    assert client.get("/stations").status_code == 302


def test_sign_in_without_the_csrf_token_is_refused(client, make_user):
    make_user("wang", "admin")
    client.get("/login")
    response = client.post("/login", data={"username": "wang", "password": PASSWORD})
    assert response.status_code == 400


def test_staff_pages_send_strangers_to_sign_in_and_back(client, make_user):
    make_user("wang", "admin")
    response = client.get("/stations/ST-001/poster.png")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/stations/ST-001/poster.png")
    response = sign_in(client, "wang", next_path="?next=/stations/ST-001/poster.png")
    assert response.headers["Location"] == "/stations/ST-001/poster.png"


@pytest.mark.parametrize("target", ["//evil.example/x", "/\\evil.example/x", "https://evil.example/",
                                    "/%0a/evil"])
def test_sign_in_never_redirects_to_another_site(client, make_user, target):
    make_user("wang", "admin")
    response = sign_in(client, "wang", next_path=f"?next={target}")
    assert response.headers["Location"] == "/stations"


def test_each_role_sees_only_its_stations(client, make_user):
    make_user("admin1", "admin")
    make_user("pudong", "district", "--district", "浦东新区")
    make_user("keeper", "manager", "--station", "ST-003")
    for username, codes in (("admin1", ["ST-001", "ST-002", "ST-003"]), ("pudong", ["ST-002"]),
                            ("keeper", ["ST-003"])):
        client.post("/logout", data={"csrf_token": csrf_from(client.get("/login").get_data(as_text=True))})
        sign_in(client, username)
        html = client.get("/stations").get_data(as_text=True)
        assert sorted(set(re.findall(r"<td><a href=\"/stations/(ST-\d+)\">", html))) == codes, username


def test_a_manager_cannot_fetch_another_stations_code(client, make_user):
    make_user("keeper", "manager", "--station", "ST-003")
    sign_in(client, "keeper")
    assert client.get("/stations/ST-003/qr.png").status_code == 200
    assert client.get("/stations/ST-001/qr.png").status_code == 404
    assert client.get("/stations/NOPE/qr.png").status_code == 404


def test_downloads_decode_to_the_station_url(client, make_user, station_url):
    make_user("wang", "admin")
    sign_in(client, "wang")
    url = station_url("ST-002")
    for path in ("qr.png", "poster.png"):
        response = client.get(f"/stations/ST-002/{path}")
        assert response.mimetype == "image/png"
        assert zxingcpp.read_barcodes(Image.open(io.BytesIO(response.data)))[0].text == url
    assert client.get("/stations/ST-002/qr.svg").mimetype == "image/svg+xml"
    assert client.get("/stations/ST-002/poster.svg").mimetype == "image/svg+xml"
    pdf = pypdfium2.PdfDocument(client.get("/stations/ST-002/poster.pdf").data)
    assert len(pdf) == 1
    assert zxingcpp.read_barcodes(pdf[0].render(scale=2).to_pil())[0].text == url


def test_bearer_token_opens_staff_downloads(client, runner, make_user):
    make_user("robot", "inspector")
    token = runner.invoke(args=["users", "token", "--username", "robot"]).output.strip()
    assert len(token) >= 40
    response = client.get("/stations/ST-001/qr.png", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    response = client.get("/stations/ST-001/qr.png", headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 302


def test_logout_needs_the_csrf_token(client, make_user):
    make_user("wang", "admin")
    sign_in(client, "wang")
    assert client.post("/logout").status_code == 400
    assert client.get("/stations").status_code == 200


@pytest.mark.parametrize("args, message", [
    (["--role", "district"], "a district account needs --district"),
    (["--role", "manager"], "a manager account needs --station"),
    (["--role", "manager", "--station", "NOPE"], "no station with code 'NOPE'"),
    (["--role", "chief"], "Invalid value for '--role'"),
])
def test_users_create_explains_what_is_missing(runner, stations_loaded, monkeypatch, args, message):
    monkeypatch.setenv("FEEDBACK_PASSWORD", PASSWORD)
    result = runner.invoke(args=["users", "create", "--username", "x", *args])
    assert result.exit_code != 0
    assert message in result.output


def test_users_create_refuses_a_short_password_and_a_taken_name(runner, make_user, monkeypatch):
    make_user("wang", "admin")
    result = runner.invoke(args=["users", "create", "--username", "wang", "--role", "admin"])
    assert "there is already a user 'wang'" in result.output
    monkeypatch.setenv("FEEDBACK_PASSWORD", "short")
    result = runner.invoke(args=["users", "create", "--username", "li", "--role", "admin"])
    assert "at least 8 characters" in result.output


def test_password_can_come_from_a_prompt(runner, stations_loaded, db):
    result = runner.invoke(args=["users", "create", "--username", "zhao", "--role", "inspector"],
                           input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert db.execute("SELECT role FROM users WHERE username = 'zhao'").fetchone() == ("inspector",)
