"""Feishu (飞书) bot: a rich-text post whose text elements are shown literally; signed with
timestamp and HMAC-SHA256 when the channel has a secret."""
import base64
import hashlib
import hmac

from jobs.channels import DeliveryError, post_json, text

LIMIT_BYTES = 4000


def render(post, channel: dict) -> list[dict]:
    parts = text.messages(post, LIMIT_BYTES, heading="", bullet="· ", bold=lambda s: s,
                          link=lambda label, url: f"{label}:{url}")
    return [{"msg_type": "post", "content": {"post": {"zh_cn": {
        "title": post.title,
        "content": [[{"tag": "text", "text": line}] for line in part.split("\n")],
    }}}} for part in parts]


def signature(secret: str, timestamp: int) -> str:
    # Feishu signs an empty message with the key "timestamp\nsecret"
    mac = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def send(part: dict, channel: dict, context) -> None:
    body = dict(part)
    if channel["secret"]:
        timestamp = int(context.now.timestamp())
        body.update(timestamp=str(timestamp), sign=signature(channel["secret"], timestamp))
    answer = post_json(channel["target"], body)
    code = answer.get("code", answer.get("StatusCode")) if isinstance(answer, dict) else None
    if code != 0:
        raise DeliveryError(f"Feishu refused the message: {answer!r:.200}")
