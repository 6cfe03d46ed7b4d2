"""The one way to build and to check a station's URL.

A link is ``{base}/s/{code}/{version}-{signature}``: the signature is an HMAC over the code and
the link version, so a link cannot be made up or moved to another station, and bumping a
station's version retires every poster printed before.
"""
import base64
import hashlib
import hmac
import re

SIGNATURE_CHARS = 12  # 72 bits: far beyond guessing online, short enough for a small QR

VERSION = re.compile(r"[1-9][0-9]{0,5}")

VALID, REPLACED, INVALID = "valid", "replaced", "invalid"


def signature(secret: str, code: str, version: int) -> str:
    """The signature of one station link version."""
    mac = hmac.new(secret.encode(), f"station-link\x1f{code}\x1f{version}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode()[:SIGNATURE_CHARS]


def token(secret: str, code: str, version: int) -> str:
    """The last path segment of a station's link."""
    return f"{version}-{signature(secret, code, version)}"


def path(secret: str, code: str, version: int) -> str:
    """The path of a station's rating page."""
    return f"/s/{code}/{token(secret, code, version)}"


def url(base_url: str, secret: str, code: str, version: int) -> str:
    """The absolute URL a station's QR code encodes."""
    return base_url.rstrip("/") + path(secret, code, version)


def check(secret: str, code: str, link_token: str, current_version: int) -> str:
    """VALID for the station's current link, REPLACED for a genuine older one, else INVALID."""
    version_text, _, given = link_token.partition("-")
    if not VERSION.fullmatch(version_text):  # str.isdigit() would take "١" or "²"
        return INVALID
    version = int(version_text)
    if not hmac.compare_digest(given.encode(), signature(secret, code, version).encode()):
        return INVALID
    if version == current_version:
        return VALID
    return REPLACED if version < current_version else INVALID


def station_url(station: dict) -> str:
    """The absolute URL of a station's current link, for the running app (what its QR encodes)."""
    from flask import current_app

    config = current_app.config
    return url(config["BASE_URL"], config["SECRET_KEY"], station["code"], station["link_version"])
