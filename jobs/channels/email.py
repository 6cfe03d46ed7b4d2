"""E-mail: the digest as HTML and plain text over SMTP, with STARTTLS whenever the server
offers it; a password is never sent in the clear to another machine."""
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask import render_template

from feedback.config import is_loopback_host
from jobs.channels import DeliveryError, text

HTML_LIST_LIMIT = 100  # rows of each list in the mail; the web page has them all


def render(digest: dict, channel: dict) -> list[dict]:
    subject = f"驿站服务日报 {digest['date']}" + (f"({digest['scope']})" if digest["scope"] else "")
    body = "\n".join(text.lines(digest, heading="", bullet="- ", bold=lambda s: s,
                                link=lambda label, url: f"{label}: {url}"))
    return [{"subject": subject, "text": body,
             "html": render_template("digest_email.html", digest=digest, limit=HTML_LIST_LIMIT)}]


def send(part: dict, channel: dict, context) -> None:
    smtp = context.smtp
    if not smtp.get("host"):
        raise DeliveryError("FEEDBACK_SMTP_HOST is not set")
    message = EmailMessage()
    message["Subject"] = part["subject"]
    message["From"] = smtp["from"]
    message["To"] = channel["target"]
    message["Date"] = format_datetime(context.now)
    message["Message-ID"] = make_msgid(domain="station-feedback")
    message.set_content(part["text"])
    message.add_alternative(part["html"], subtype="html")
    try:
        with smtplib.SMTP(smtp["host"], smtp["port"], timeout=30) as server:
            server.ehlo()
            if server.has_extn("starttls"):
                server.starttls(context=ssl.create_default_context())
                server.ehlo()
            elif smtp.get("user") and not is_loopback_host(smtp["host"]):
                raise DeliveryError(f"{smtp['host']} offers no STARTTLS: "
                                    "refusing to send the SMTP password in the clear")
            if smtp.get("user"):
                server.login(smtp["user"], smtp["password"])
            server.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryError(f"SMTP {smtp['host']}:{smtp['port']}: {error}") from None
