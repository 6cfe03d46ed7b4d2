"""What every request and response goes through: size and time limits, and security headers."""
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


class BodyReadTimeout:
    """WSGI middleware: under gunicorn, reading the request body times out after ``seconds``."""

    def __init__(self, app, seconds: float):
        self.app, self.seconds = app, seconds

    def __call__(self, environ, start_response):
        sock = environ.get("gunicorn.socket")
        if isinstance(sock, socket.socket):
            sock.settimeout(self.seconds)
        return self.app(environ, start_response)


def security_headers(response):
    """The headers every page and every JSON answer carries."""
    present = {name.lower() for name, _ in response.headers}
    wanted = SECURITY_HEADERS
    if current_app.config["BASE_URL"].startswith("https://"):
        wanted += (("Strict-Transport-Security", "max-age=31536000"),)
    for name, value in wanted:
        if name.lower() not in present:
            response.headers.add(name, value)
    return response


def configure(app: Flask) -> None:
    """Install the limits and the headers on ``app``."""
    if app.config["MAX_CONTENT_LENGTH"] is None:  # Flask's default: no limit at all
        app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    if app.config.get("PROXIES"):  # the client's address as the proxies in front report it
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXIES"],
                                x_proto=app.config["PROXIES"])
    # a client that stops sending its body is dropped, so slow clients cannot hold the
    # server's threads (gunicorn's own timeouts cover only the headers)
    app.wsgi_app = BodyReadTimeout(app.wsgi_app, app.config["BODY_READ_TIMEOUT"])
    app.after_request(security_headers)

    @app.errorhandler(TimeoutError)
    def body_too_slow(error):
        return app.handle_http_exception(RequestTimeout("the request body arrived too slowly"))
