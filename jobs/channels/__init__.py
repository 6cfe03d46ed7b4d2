"""Delivery channels: one module per kind, each with ``render(post, channel) -> parts`` and
``send(part, channel, context)``. A part is one message as the platform takes it."""
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

KINDS = ("wecom", "dingtalk", "feishu", "slack", "webhook", "email")
HTTP_TIMEOUT = 15


@dataclass
class Post:
    """What is delivered: a day's digest or a report, in each form a channel may want."""
    title: str                         # 驿站服务日报 2026-11-27, 驿站服务周报 2026-W48, …
    url: str                           # its web page
    data: dict                         # its JSON, for plain webhooks
    lines: Callable[..., list[str]]    # its chat lines, given the markup (see text.lines)
    html: str                          # its e-mail body
    max_parts: int = 5                 # messages it may take in a chat (outbox.MESSAGES_A_DAY)


class DeliveryError(Exception):
    """The platform did not take the message; the reason is kept on the delivery."""


@dataclass
class SendContext:
    """What a send may need beyond the message: the time (for signatures) and SMTP settings."""
    now: datetime
    smtp: dict


def module(kind: str):
    """The module that renders and sends for ``kind``."""
    from jobs.channels import dingtalk, email, feishu, slack, webhook, wecom

    return {"wecom": wecom, "dingtalk": dingtalk, "feishu": feishu, "slack": slack,
            "webhook": webhook, "email": email}[kind]


def post(url: str, body: bytes, headers: dict | None = None) -> tuple[int, bytes]:
    """POST ``body``; a network failure or an HTTP error status is a DeliveryError."""
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        raise DeliveryError(f"HTTP {error.code} from {describe(url)}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        if isinstance(reason, TimeoutError):
            raise DeliveryError(f"no answer from {describe(url)} within {HTTP_TIMEOUT} s: the "
                                "message may have arrived, and the retry sends it again") from None
        raise DeliveryError(f"cannot reach {describe(url)}: {reason}") from None


def post_json(url: str, payload, headers: dict | None = None) -> dict | bytes:
    """POST JSON and return the parsed answer (or the raw body when it is not JSON)."""
    _, body = post(url, json.dumps(payload, ensure_ascii=False).encode(), headers)
    try:
        return json.loads(body)
    except ValueError:
        return body


def describe(target: str) -> str:
    """A target fit to print: the host and path of a URL, never its query (robot keys live there)."""
    from urllib.parse import urlsplit

    if "://" not in target:
        return target
    parts = urlsplit(target)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
