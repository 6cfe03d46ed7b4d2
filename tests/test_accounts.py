"""Staff accounts that hold: server-side sessions, disabling, new passwords, revoked tokens, and
sign-in throttling that slows guessing without locking anyone out for good."""
from datetime import timedelta

import pytest

from support import PASSWORD, csrf_from, sign_in
from web import auth

NEW_PASSWORD = "a much better passphrase"


def copy_cookies(source, target):
    """A cookie saved from one browser, replayed by another."""
    for cookie in source._cookies.values():
        target.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)


def test_logout_ends_the_session_for_a_cookie_saved_before_it(app, client, make_user):
    make_user("wang", "admin")
    sign_in(client, "wang")
    saved = app.test_client()
    copy_cookies(client, saved)
    assert saved.get("/stations").status_code == 200
    token = csrf_from(client.get("/stations").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert saved.get("/stations").status_code == 302  # sent to sign in
    assert saved.get("/api/v1/stations").status_code == 401


def test_a_new_password_from_the_command_line_ends_every_session(app, client, runner,
                                                                  make_user, monkeypatch):
    make_user("wang", "admin")
    sign_in(client, "wang")
    monkeypatch.setenv("FEEDBACK_PASSWORD", NEW_PASSWORD)
    result = runner.invoke(args=["users", "passwd", "wang"])
    assert result.exit_code == 0, result.output
    assert client.get("/stations").status_code == 302
    assert sign_in(app.test_client(), "wang", PASSWORD).status_code == 401
    assert sign_in(app.test_client(), "wang", NEW_PASSWORD).status_code == 303


def test_disabling_ends_sessions_and_stops_tokens_and_enabling_lets_the_user_back(
        app, client, runner, make_user):
    make_user("wang", "admin")
    token = runner.invoke(args=["users", "token", "--username", "wang"]).output.strip()
    sign_in(client, "wang")
    assert runner.invoke(args=["users", "disable", "wang"]).exit_code == 0
    assert client.get("/stations").status_code == 302
    assert app.test_client().get("/api/v1/stations",
                                 headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert sign_in(app.test_client(), "wang").status_code == 401
    assert "disabled since" in runner.invoke(args=["users", "list"]).output
    assert runner.invoke(args=["users", "enable", "wang"]).exit_code == 0
    assert sign_in(app.test_client(), "wang").status_code == 303
    # what was issued before the account was disabled stays dead
    assert app.test_client().get("/api/v1/stations",
                                 headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.get("/stations").status_code == 302


def test_revoked_tokens_stop_working_and_new_ones_do(client, runner, make_user):
    make_user("wang", "admin")
    old = runner.invoke(args=["users", "token", "--username", "wang"]).output.strip()
    result = runner.invoke(args=["users", "revoke-tokens", "wang"])
    assert "revoked 1 token(s)" in result.output
    assert client.get("/api/v1/stations", headers={"Authorization": f"Bearer {old}"}).status_code == 401
    new = runner.invoke(args=["users", "token", "--username", "wang"]).output.strip()
    assert client.get("/api/v1/stations", headers={"Authorization": f"Bearer {new}"}).status_code == 200


def test_users_list_shows_roles_scope_and_tokens_without_secrets(runner, make_user):
    make_user("wang", "admin")
    make_user("li", "manager", "--station", "ST-002")
    runner.invoke(args=["users", "token", "--username", "li"])
    lines = runner.invoke(args=["users", "list"]).output.splitlines()
    assert lines == ["li\tmanager\tST-002\tactive\t1 token(s)",
                     "wang\tadmin\tall stations\tactive\t0 token(s)"]


@pytest.mark.parametrize("command", [["users", "disable", "nobody"], ["users", "passwd", "nobody"],
                                     ["users", "revoke-tokens", "nobody"]])
def test_users_commands_name_an_unknown_user(runner, command):
    result = runner.invoke(args=command)
    assert result.exit_code != 0 and "no user 'nobody'" in result.output


def test_change_password_page_keeps_this_browser_and_signs_out_the_others(app, client, make_user):
    make_user("wang", "admin")
    sign_in(client, "wang")
    other = app.test_client()
    sign_in(other, "wang")
    page = client.get("/account/password").get_data(as_text=True)
    token = csrf_from(page)
    wrong = client.post("/account/password", data={
        "csrf_token": token, "current_password": "not it at all",
        "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert wrong.status_code == 400 and "当前密码不正确" in wrong.get_data(as_text=True)
    short = client.post("/account/password", data={
        "csrf_token": token, "current_password": PASSWORD,
        "new_password": "short", "confirm_password": "short"})
    assert short.status_code == 400
    assert sign_in(app.test_client(), "wang", PASSWORD).status_code == 303  # nothing changed yet
    changed = client.post("/account/password", data={
        "csrf_token": token, "current_password": PASSWORD,
        "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert changed.status_code == 303
    assert client.get("/stations").status_code == 200
    assert other.get("/stations").status_code == 302
    assert sign_in(app.test_client(), "wang", NEW_PASSWORD).status_code == 303


def test_the_wait_after_failures_doubles_up_to_fifteen_minutes():
    assert [auth.wait_after(n) for n in range(5)] == [timedelta(0)] * 5
    assert [auth.wait_after(n).total_seconds() for n in (5, 6, 7, 8, 9, 10, 20)] == [
        30, 60, 120, 240, 480, 900, 900]


def test_guessing_an_account_slows_down_and_even_the_right_password_waits(
        app, client, make_user, clock, monkeypatch):
    make_user("wang", "admin")
    hashed = []
    original = auth.password_matches
    monkeypatch.setattr(auth, "password_matches",
                        lambda *args: hashed.append(1) or original(*args))
    for attempt in range(5):
        assert sign_in(client, "wang", f"guess-{attempt}").status_code == 401
    assert len(hashed) == 5
    refused = sign_in(client, "wang", PASSWORD)
    assert refused.status_code == 429
    assert "30 秒" in refused.get_data(as_text=True) and refused.headers["Retry-After"] == "30"
    assert len(hashed) == 5  # refused before the password hash was computed
    clock.advance(seconds=31)
    assert sign_in(client, "wang", "guess-5").status_code == 401
    assert sign_in(client, "wang", PASSWORD).headers["Retry-After"] == "60"  # doubled
    clock.advance(seconds=61)
    assert sign_in(client, "wang", PASSWORD).status_code == 303  # a success resets
    assert sign_in(app.test_client(), "wang", "guess-again").status_code == 401


def test_guessing_from_one_address_across_accounts_is_throttled_too(client, make_user):
    make_user("wang", "admin")
    for attempt in range(5):
        assert sign_in(client, f"name-{attempt}", "guess-guess").status_code == 401
    assert sign_in(client, "wang", PASSWORD).status_code == 429


def test_the_throttle_forgets_the_address_itself(client, make_user, db):
    make_user("wang", "admin")
    sign_in(client, "wang", "guess-guess")
    keys = [row[0] for row in db.execute("SELECT key FROM sign_in_failures")]
    assert "user:wang" in keys and not any("127.0.0.1" in key for key in keys)


def test_tries_made_at_once_are_throttled_as_if_made_one_after_another(
        app, live_server, make_user, monkeypatch):
    """Sixteen wrong passwords sent together: five are checked, the rest wait, unchecked."""
    import threading
    import urllib.error
    import urllib.request
    from http.cookiejar import CookieJar

    make_user("wang", "admin")
    checked = []
    original = auth.password_matches
    monkeypatch.setattr(auth, "password_matches", lambda *args: checked.append(1) or original(*args))
    browsers = []
    for _ in range(16):  # each its own browser, with the form's CSRF token
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        token = csrf_from(opener.open(f"{live_server}/login").read().decode())
        browsers.append((opener, token))
    answers = []
    start = threading.Barrier(16)

    def guess(opener, token):
        start.wait()
        data = f"username=wang&password=guess-guess&csrf_token={token}".encode()
        try:
            opener.open(f"{live_server}/login", data=data)
        except urllib.error.HTTPError as refused:
            answers.append(refused.code)
    threads = [threading.Thread(target=guess, args=browser) for browser in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [401] * 5 + [429] * 11
    assert len(checked) == 5


def test_the_sign_in_form_keeps_the_name_and_says_how_long_to_wait_in_each_language(
        client, make_user):
    make_user("wang", "admin")
    failed = sign_in(client, "wang", "guess-guess").get_data(as_text=True)
    assert 'value="wang"' in failed
    for attempt in range(4):
        sign_in(client, "wang", f"guess-{attempt}")
    refused = sign_in(client, "wang", PASSWORD).get_data(as_text=True)
    assert "请 30 秒后再试" in refused and "try again in 30 s" in refused
