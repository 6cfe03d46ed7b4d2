"""Configuration from the environment, refusing what cannot work."""
import pytest

from app import create_app
from feedback.config import ConfigError, from_environment


def test_defaults_match_the_contract():
    settings = from_environment({})
    assert settings["DATABASE"] == "instance/feedback.db"
    assert settings["BASE_URL"] == "http://127.0.0.1:5000"
    assert str(settings["TIMEZONE"]) == "Asia/Shanghai"
    assert settings["SCHEDULER"] is True


def test_development_key_warns(caplog):
    from_environment({})
    assert "FEEDBACK_SECRET_KEY is not set" in caplog.text


def test_a_public_base_url_needs_a_real_secret_key():
    with pytest.raises(ConfigError, match="FEEDBACK_SECRET_KEY is required"):
        from_environment({"FEEDBACK_BASE_URL": "https://rate.example.org"})
    settings = from_environment({"FEEDBACK_BASE_URL": "https://rate.example.org/",
                                 "FEEDBACK_SECRET_KEY": "s3cret"})
    assert settings["BASE_URL"] == "https://rate.example.org"


@pytest.mark.parametrize("name, value, message", [
    ("FEEDBACK_TIMEZONE", "Mars/Olympus", "not a time zone name"),
    ("FEEDBACK_SCHEDULER", "maybe", "must be on or off"),
    ("FEEDBACK_BASE_URL", "rate.example.org", "must be an origin"),
    ("FEEDBACK_PROXIES", "yes", "how many proxies stand in front"),
    ("FEEDBACK_BODY_READ_TIMEOUT", "0", "must be seconds, 1 to 300"),
    ("FEEDBACK_BODY_READ_TIMEOUT", "١٠", "must be seconds, 1 to 300"),
])
def test_bad_settings_are_explained(name, value, message):
    with pytest.raises(ConfigError, match=message):
        from_environment({name: value, "FEEDBACK_SECRET_KEY": "s"})


def test_the_environment_reaches_the_app(monkeypatch, tmp_path, runner):
    monkeypatch.setenv("FEEDBACK_DATABASE", str(tmp_path / "env.db"))
    monkeypatch.setenv("FEEDBACK_BASE_URL", "https://rate.example.org")
    app = create_app()
    assert app.config["DATABASE"] == str(tmp_path / "env.db")
    assert (tmp_path / "env.db").exists()
    app.extensions["feedback.db"].close()


@pytest.mark.parametrize("base_url, secure", [("https://rate.example.org", True),
                                              ("http://127.0.0.1:5000", False)])
def test_session_cookie_is_secure_behind_https(monkeypatch, tmp_path, base_url, secure):
    monkeypatch.setenv("FEEDBACK_BASE_URL", base_url)
    app = create_app({"DATABASE": str(tmp_path / "c.db"), "TESTING": True})
    assert app.config["SESSION_COOKIE_SECURE"] is secure
    cookie = app.test_client().get("/login").headers["Set-Cookie"]
    assert ("Secure" in cookie) is secure and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    app.extensions["feedback.db"].close()
