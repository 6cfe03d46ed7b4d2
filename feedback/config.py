"""Configuration from FEEDBACK_* environment variables (the table in docs/operator.md)."""
import ipaddress
import logging
import os
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEVELOPMENT_SECRET = "development-only-secret-do-not-deploy"
DEVELOPMENT_WARNING = ("FEEDBACK_SECRET_KEY is not set: using the development key. QR links signed "
                       "with it will stop working once a real key is set.")

log = logging.getLogger("feedback")


class ConfigError(RuntimeError):
    """A setting that the service cannot start with."""


def is_loopback_host(host: str) -> bool:
    """True for localhost and loopback addresses."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_local(base_url: str) -> bool:
    """True when the public origin is this machine: the only place the development key may sign."""
    return is_loopback_host(urlsplit(base_url).hostname or "")


def is_https(environ=os.environ) -> bool:
    """Whether the public origin (FEEDBACK_BASE_URL) is https."""
    return environ.get("FEEDBACK_BASE_URL", "").startswith("https://")


def body_read_timeout(environ=os.environ) -> int:
    """FEEDBACK_BODY_READ_TIMEOUT: how long a client may pause while sending a request (or
    reading its answer) before it is dropped; read by the app and by gunicorn's worker."""
    text = environ.get("FEEDBACK_BODY_READ_TIMEOUT", "10")
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 300:
        raise ConfigError(f"FEEDBACK_BODY_READ_TIMEOUT {text!r} must be seconds, 1 to 300")
    return int(text)


LOOPBACK = "127.0.0.0/8,::1"


def networks(environ, name: str, default: str) -> list:
    """A comma-separated list of addresses or networks from the environment."""
    text = environ.get(name, default)
    try:
        return [ipaddress.ip_network(part.strip(), strict=False)
                for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(f"{name} {text!r} must be addresses or networks separated by commas, "
                          "such as 127.0.0.1,10.0.0.0/8") from None


def from_environment(environ=os.environ) -> dict:
    """Flask config keys from the environment, checked; raises ConfigError with what to fix."""
    base_url = environ.get("FEEDBACK_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"FEEDBACK_BASE_URL {base_url!r} must be an origin like https://rate.example.org")

    secret = environ.get("FEEDBACK_SECRET_KEY", "")
    if not secret:
        if not is_local(base_url):
            raise ConfigError("FEEDBACK_SECRET_KEY is required when FEEDBACK_BASE_URL is not "
                              "this machine: it signs the QR links and the staff sessions")
        secret = DEVELOPMENT_SECRET

    zone_name = environ.get("FEEDBACK_TIMEZONE", "Asia/Shanghai")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"FEEDBACK_TIMEZONE {zone_name!r} is not a time zone name "
                          "like Asia/Shanghai") from None

    scheduler = environ.get("FEEDBACK_SCHEDULER", "on")
    if scheduler not in ("on", "off"):
        raise ConfigError(f"FEEDBACK_SCHEDULER must be on or off, not {scheduler!r}")

    digest_at = environ.get("FEEDBACK_DIGEST_AT", "08:00")
    try:
        if not digest_at.isascii():
            raise ValueError
        hour, minute = (int(part) for part in digest_at.split(":"))
        if not (0 <= hour < 24 and 0 <= minute < 60):
            raise ValueError
    except ValueError:
        raise ConfigError(f"FEEDBACK_DIGEST_AT {digest_at!r} must be a time like 08:00") from None

    smtp_port = environ.get("FEEDBACK_SMTP_PORT", "587")
    if not (smtp_port.isascii() and smtp_port.isdigit() and 1 <= int(smtp_port) <= 65535):
        raise ConfigError(f"FEEDBACK_SMTP_PORT {smtp_port!r} must be a port number, 1 to 65535")

    proxies = environ.get("FEEDBACK_PROXIES", "0")
    if proxies not in ("0", "1", "2", "3"):
        raise ConfigError(f"FEEDBACK_PROXIES {proxies!r} must be how many proxies stand in front "
                          "(0 to 3), such as 1 behind nginx")

    body_timeout = body_read_timeout(environ)

    followup = environ.get("FEEDBACK_FOLLOWUP_DAYS", "5")
    if not followup.isascii() or not followup.isdigit() or not 1 <= int(followup) <= 60:
        raise ConfigError(f"FEEDBACK_FOLLOWUP_DAYS {followup!r} must be working days, 1 to 60")

    log_format = environ.get("FEEDBACK_LOG_FORMAT", "text")
    if log_format not in ("text", "json"):
        raise ConfigError(f"FEEDBACK_LOG_FORMAT must be text or json, not {log_format!r}")

    metrics_allow = networks(environ, "FEEDBACK_METRICS_ALLOW", LOOPBACK)
    trusted_proxies = networks(environ, "FEEDBACK_TRUSTED_PROXIES", LOOPBACK)

    return {
        "BACKUP_DIR": environ.get("FEEDBACK_BACKUP_DIR") or None,
        "LOG_FORMAT": log_format,
        "METRICS_ALLOW": metrics_allow,
        "FOLLOWUP_DAYS": int(followup),
        "PROXIES": int(proxies),
        "TRUSTED_PROXIES": trusted_proxies,
        "BODY_READ_TIMEOUT": body_timeout,
        "DIGEST_AT": (hour, minute),
        "SMTP": {
            "host": environ.get("FEEDBACK_SMTP_HOST", ""),
            "port": int(smtp_port),
            "user": environ.get("FEEDBACK_SMTP_USER", ""),
            "password": environ.get("FEEDBACK_SMTP_PASSWORD", ""),
            "from": environ.get("FEEDBACK_SMTP_FROM", "station-feedback@localhost"),
        },
        "DATABASE": environ.get("FEEDBACK_DATABASE", os.path.join("instance", "feedback.db")),
        "BASE_URL": base_url,
        "SECRET_KEY": secret,
        "TIMEZONE": zone,
        "SCHEDULER": scheduler == "on",
    }
