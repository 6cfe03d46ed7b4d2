"""DingTalk (钉钉) robot: markdown with a title; signed with timestamp and HMAC-SHA256 when the
channel has a secret, as DingTalk's "加签" requires."""
import base64
import hashlib
import hmac
from urllib.parse import quote_plus

from jobs.channels import DeliveryError, post_json, text

LIMIT_BYTES = 4096


def render(post, channel: dict) -> list[dict]:
    return [{"msgtype": "markdown", "markdown": {"title": post.title, "text": part}}
            for part in text.messages(post, LIMIT_BYTES)]


def signature(secret: str, timestamp_ms: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def send(part: dict, channel: dict, context) -> None:
    url = channel["target"]
    if channel["secret"]:
        timestamp = int(context.now.timestamp() * 1000)
        url += ("&" if "?" in url else "?") + \
            f"timestamp={timestamp}&sign={quote_plus(signature(channel['secret'], timestamp))}"
    answer = post_json(url, part)
    if not isinstance(answer, dict) or answer.get("errcode") != 0:
        raise DeliveryError(f"DingTalk refused the message: {answer!r:.200}")
