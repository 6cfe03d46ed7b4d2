"""E-mail: a digest or a report as HTML and plain text over SMTP, with STARTTLS whenever the server
offers it; a password is never sent in the clear to another machine."""
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from feedback.config import is_loopback_host
from jobs.channels import DeliveryError


def render(post, channel: dict) -> list[dict]:
    scope = post.data.get("scope")
    body = "\n".join(post.lines(heading="", bullet="- ", bold=lambda s: s,
                                link=lambda label, url: f"{label}: {url}"))
    return [{"subject": post.title + (f"({scope})" if scope else ""), "text": body,
             "html": post.html}]


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
