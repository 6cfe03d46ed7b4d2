"""One log line per event that matters: a rating refused and why, a delivery failed, a flag, a
decision, a sign-in failure. Text by default, JSON with FEEDBACK_LOG_FORMAT=json. Never a
comment's text or a password; a client only as the keyed hash of its address."""
import json
import logging
import sys
from datetime import datetime, timezone

log = logging.getLogger("feedback.events")


def record(event: str, **fields) -> None:
    """Log ``event`` with its fields (names and codes, never free text a worker wrote)."""
    log.info(event, extra={"event": event, "fields": fields})


class JsonLines(logging.Formatter):
    """A JSON object per line: at, level, logger, event (or message) and the event's fields."""

    def format(self, entry: logging.LogRecord) -> str:
        line = {"at": datetime.fromtimestamp(entry.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": entry.levelname.lower(), "logger": entry.name}
        if hasattr(entry, "event"):
            line["event"] = entry.event
            line.update(entry.fields)
        else:
            line["message"] = entry.getMessage()
        if entry.exc_info:
            line["error"] = self.formatException(entry.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextLines(logging.Formatter):
    """``at level logger event key=value …``, one line."""

    def format(self, entry: logging.LogRecord) -> str:
        fields = " ".join(f"{key}={value}" for key, value in getattr(entry, "fields", {}).items())
        text = f"{self.formatTime(entry)} {entry.levelname.lower()} {entry.name} {entry.getMessage()}"
        text = f"{text} {fields}" if fields else text
        return f"{text}\n{self.formatException(entry.exc_info)}" if entry.exc_info else text


def configure(log_format: str) -> None:
    """The service's loggers (feedback.*) write to standard error in the format asked for."""
    service = logging.getLogger("feedback")
    for handler in list(service.handlers):
        if getattr(handler, "feedback_events", False):
            service.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.feedback_events = True
    handler.setFormatter(JsonLines() if log_format == "json" else TextLines())
    service.addHandler(handler)
    service.setLevel(logging.INFO)
    service.propagate = False
