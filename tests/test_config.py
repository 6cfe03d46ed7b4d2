"""Configuration from the environment, refusing what cannot work."""
import os

import pytest

from app import create_app
from feedback.config import ConfigError, from_environment


def test_defaults_match_the_contract():
    settings = from_environment({})
    assert settings["DATABASE"] == "instance/feedback.db"
    assert settings["BASE_URL"] == "http://127.0.0.1:5000"
    assert str(settings["TIMEZONE"]) == "Asia/Shanghai"
    assert settings["SCHEDULER"] is True


def test_the_development_key_is_warned_of_once_where_the_service_is_served(
        db_path, clock, monkeypatch, caplog):
    monkeypatch.delenv("FEEDBACK_SECRET_KEY")
    served = create_app({"DATABASE": db_path, "CLOCK": clock, "SCHEDULER": False})
    assert "FEEDBACK_SECRET_KEY is not set" not in caplog.text
    client = served.test_client()
    client.get("/healthz")
    client.get("/healthz")
    assert caplog.text.count("FEEDBACK_SECRET_KEY is not set") == 1
    served.extensions["feedback.db"].close()


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
    ("FEEDBACK_SMTP_PORT", "²", "must be a port number"),
    ("FEEDBACK_SMTP_PORT", "70000", "must be a port number"),
    ("FEEDBACK_DIGEST_AT", "０８:00", "must be a time like 08:00"),
    ("FEEDBACK_TRUSTED_PROXIES", "nginx", "FEEDBACK_TRUSTED_PROXIES 'nginx' must be addresses"),
    ("FEEDBACK_METRICS_ALLOW", "10.0.0.0/33", "FEEDBACK_METRICS_ALLOW '10.0.0.0/33' must be"),
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


def flask_command(tmp_path, *args, **env):
    import subprocess
    import sys
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("FEEDBACK_")}
    environment.update(FEEDBACK_DATABASE=str(tmp_path / "cli.db"), **env)
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args],
                          env=environment, capture_output=True, text=True)


def test_a_bad_setting_stops_a_command_with_one_line_that_names_it(tmp_path):
    result = flask_command(tmp_path, "check", FEEDBACK_SMTP_PORT="²")
    assert result.returncode != 0
    assert result.stderr.strip() == ("configuration: FEEDBACK_SMTP_PORT '²' must be a port "
                                     "number, 1 to 65535")


def test_the_development_key_is_not_warned_of_at_every_command(tmp_path):
    result = flask_command(tmp_path, "demo")
    assert result.returncode == 0 and "FEEDBACK_SECRET_KEY" not in result.stderr + result.stdout
