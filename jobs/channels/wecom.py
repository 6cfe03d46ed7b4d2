"""WeCom (企业微信) group robot: markdown, at most 4096 bytes of UTF-8 per message."""
from jobs.channels import DeliveryError, post_json, text

LIMIT_BYTES = 4096


def render(post, channel: dict) -> list[dict]:
    return [{"msgtype": "markdown", "markdown": {"content": part}}
            for part in text.messages(post, LIMIT_BYTES)]


def send(part: dict, channel: dict, context) -> None:
    answer = post_json(channel["target"], part)
    if not isinstance(answer, dict) or answer.get("errcode") != 0:
        raise DeliveryError(f"WeCom refused the message: {answer!r:.200}")
