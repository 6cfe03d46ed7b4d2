"""Slack incoming webhook: mrkdwn sections marked verbatim, so nothing is auto-linked."""
import json

from jobs.channels import DeliveryError, post, text

LIMIT_BYTES = 2900  # a section's text holds 3000 characters; bytes are the safe count


def render(post, channel: dict) -> list[dict]:
    parts = text.messages(post, LIMIT_BYTES, heading="", bullet="• ", bold=lambda s: f"*{s}*",
                          link=lambda label, url: f"<{url}|{label}>")
    return [{"text": post.title,
             "blocks": [{"type": "section",
                         "text": {"type": "mrkdwn", "text": part, "verbatim": True}}]}
            for part in parts]


def send(part: dict, channel: dict, context) -> None:

    _, body = post(channel["target"], json.dumps(part, ensure_ascii=False).encode())
    if body.strip() != b"ok":
        raise DeliveryError(f"Slack refused the message: {body[:200]!r}")
