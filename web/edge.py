"""What every request and response goes through: size and time limits, the proxies trusted, and
security headers."""
import ipaddress
import socket

from flask import Flask, current_app
from werkzeug.exceptions import RequestTimeout
from werkzeug.middleware.proxy_fix import ProxyFix

# Staff JSON and forms are small; the rating form has its own, smaller limit (web/views.py).
MAX_REQUEST_BYTES = 1024 * 1024

# Scripts only from this site; inline <style> is how every page ships its CSS in one request.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; "
                           "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
                           "frame-ancestors 'none'; base-uri 'none'")


SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    # a worker page's URL carries its link's signature: never hand it to another site
    ("Referrer-Policy", "no-referrer"),
    # staff pages and staff JSON must never sit in a shared or back-button cache; a response
    # that may be cached (a poster, the favicon) says so itself
    ("Cache-Control", "no-store"),
)


class FromTrustedProxies:
    """WSGI middleware: X-Forwarded-For and -Proto, as ``count`` proxies in front report them, read
    only from a connection that comes from one of the ``trusted`` networks (the proxy's own
    address): a client that reaches gunicorn directly cannot name its own address, to read
    /metrics or to dodge the sign-in throttle."""

    def __init__(self, app, count: int, trusted: list):
        self.direct, self.trusted = app, trusted
        self.behind_proxy = ProxyFix(app, x_for=count, x_proto=count)

    def __call__(self, environ, start_response):
        try:
            peer = ipaddress.ip_address(environ.get("REMOTE_ADDR", ""))
        except ValueError:
            peer = None
        trusted = peer is not None and any(peer in network for network in self.trusted)
        return (self.behind_proxy if trusted else self.direct)(environ, start_response)


class BodyReadTimeout:
    """WSGI middleware: under gunicorn, reading the request body times out after ``seconds``."""

    def __init__(self, app, seconds: float):
        self.app, self.seconds = app, seconds

    def __call__(self, environ, start_response):
        sock = environ.get("gunicorn.socket")
        if isinstance(sock, socket.socket):
            sock.settimeout(self.seconds)
        return self.app(environ, start_response)


STRICT_TRANSPORT = ("Strict-Transport-Security", "max-age=31536000")  # when served over https


def security_headers(response):
    """The headers every page and every JSON answer carries."""
    present = {name.lower() for name, _ in response.headers}
    wanted = SECURITY_HEADERS
    if current_app.config["BASE_URL"].startswith("https://"):
        wanted += (STRICT_TRANSPORT,)
    for name, value in wanted:
        if name.lower() not in present:
            response.headers.add(name, value)
    return response


def configure(app: Flask) -> None:
    """Install the limits and the headers on ``app``."""
    if app.config["MAX_CONTENT_LENGTH"] is None:  # Flask's default: no limit at all
        app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    if app.config.get("PROXIES"):  # the client's address as the proxies in front report it
        app.wsgi_app = FromTrustedProxies(app.wsgi_app, app.config["PROXIES"],
                                          app.config["TRUSTED_PROXIES"])
    # a client that stops sending its body is dropped, so slow clients cannot hold the
    # server's threads (gunicorn's own timeouts cover only the headers)
    app.wsgi_app = BodyReadTimeout(app.wsgi_app, app.config["BODY_READ_TIMEOUT"])
    app.after_request(security_headers)

    @app.errorhandler(TimeoutError)
    def body_too_slow(error):
        return app.handle_http_exception(RequestTimeout("the request body arrived too slowly"))
