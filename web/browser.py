"""What a request tells of the browser that sent it: its device (a signed random cookie), its
address and browser as keyed hashes, whether it carries a staff sign-in, and the language it
reads."""
import hashlib

from flask import current_app, request
from itsdangerous import BadSignature
from werkzeug.exceptions import HTTPException

from feedback import i18n
from feedback.counts.counting import Rater
from feedback.counts.devices import id_from_cookie, key_hash, mac, new_cookie_value

COOKIE = "device"
COOKIE_AGE = 2 * 365 * 24 * 3600


def address_key() -> str:
    """The client's address as a keyed hash: enough to throttle and to log by, never the
    address itself."""
    return mac(current_app.config["SECRET_KEY"], "address", request.remote_addr or "").hex()[:20]


def network_key() -> bytes:
    """The client's address and browser (User-Agent, Accept-Language) as a keyed hash: what
    tells phones apart when a rating comes without a genuine device cookie."""
    headers = request.headers
    signature = "\x1f".join((request.remote_addr or "", headers.get("User-Agent", ""),
                             headers.get("Accept-Language", ""))).encode()
    return hashlib.blake2b(signature, digest_size=16, person=b"network",
                           key=current_app.config["SECRET_KEY"].encode()[:64]).digest()


def signed_in_as_staff() -> bool:
    """True when the request carries a staff sign-in (a genuine session cookie that names one):
    read from its signature alone, as worker pages open no session."""
    value = request.cookies.get(current_app.config["SESSION_COOKIE_NAME"])
    if not value:
        return False
    serializer = current_app.session_interface.get_signing_serializer(current_app)
    try:
        return "sid" in serializer.loads(value)
    except BadSignature:
        return False


def rater() -> Rater:
    """This browser as the counting rule sees it."""
    return Rater(this_browser(), network_key(), signed_in_as_staff())


def this_browser() -> str | None:
    """The keyed hash of this request's device, or None when it brought no genuine cookie."""
    secret = current_app.config["SECRET_KEY"]
    random_id = id_from_cookie(secret, request.cookies.get(COOKIE))
    return key_hash(secret, random_id) if random_id else None


def remember(response) -> str:
    """Give a browser without a genuine device cookie a new one (first-party, HttpOnly,
    SameSite=Lax, Secure on https); the keyed hash of this browser's device, old or new."""
    hashed = this_browser()
    if hashed is None:
        secret = current_app.config["SECRET_KEY"]
        value = new_cookie_value(secret)
        response.set_cookie(COOKIE, value, max_age=COOKIE_AGE, httponly=True, samesite="Lax",
                            secure=current_app.config["BASE_URL"].startswith("https://"))
        hashed = key_hash(secret, id_from_cookie(secret, value))
    return hashed


def language() -> str:
    """The language of this request: ?lang= (or the form's lang), then the remembered choice,
    then Accept-Language."""
    for candidate in (request.args.get("lang"), form_lang(), request.cookies.get("lang")):
        if candidate in i18n.LANGUAGES:
            return candidate
    return request.accept_languages.best_match(i18n.LANGUAGES, default=i18n.DEFAULT)


def form_lang() -> str | None:
    """The form's lang field; None when the body is one we refuse to read (too big, cut off),
    so the page that says so can still be drawn."""
    try:
        return request.form.get("lang")
    except HTTPException:
        return None
