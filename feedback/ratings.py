"""Recording ratings, each exactly once, and what a worker's text may hold."""
import hashlib
import unicodedata
from datetime import datetime

from sqlite_utils import Database

from feedback.clock import local_day, to_utc_text

MAX_COMMENT = 500          # what the form accepts
MAX_IMPORTED_COMMENT = 2000  # an earlier system may have kept longer ones; refuse rather than cut

# One-tap reasons offered after a low score, in the order the form shows them.
REASONS = ("water", "charging", "toilet", "temperature", "microwave", "closed", "staff")


def normalise_newlines(text: str) -> str:
    """Browsers send a textarea's line breaks as CRLF; keep them as LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def has_control_characters(text: str) -> bool:
    """True if ``text`` holds NUL or another control character besides newline and tab."""
    return any(unicodedata.category(char) == "Cc" and char not in "\n\t" for char in text)


def record(db: Database, *, station_id: int, rated_at: datetime, score: int, comment: str = "",
           reasons: tuple[str, ...] = (), source: str, once_key: str | None, tz,
           device_id: int | None = None, held_reason: str | None = None) -> int | None:
    """Insert one rating (the rollups follow by trigger); its id, or None if ``once_key`` was
    seen before. ``held_reason`` (feedback.counting) keeps it out of the counts.

    Call inside write().
    """
    cursor = db.execute(
        """
        INSERT INTO ratings (station_id, rated_at, day, score, comment, reasons, source, once_key,
                             device_id, held_reason)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (once_key) DO NOTHING
        """,
        [station_id, to_utc_text(rated_at), local_day(rated_at, tz).isoformat(), score,
         comment, ";".join(reasons), source, once_key, device_id, held_reason],
    )
    return cursor.lastrowid if cursor.rowcount == 1 else None


def add_details(db: Database, rating_id: int, comment: str, reasons: tuple[str, ...],
                now: datetime) -> bool:
    """Attach a comment and reasons to a rating, once; False if it has them already.

    Call inside write()."""
    cursor = db.execute(
        """INSERT INTO rating_details (rating_id, comment, reasons, added_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (rating_id) DO NOTHING""",
        [rating_id, comment, ";".join(reasons), to_utc_text(now)])
    return cursor.rowcount == 1


def rating_identity(station_code: str, rated_at: datetime, score: int, comment: str) -> bytes:
    """A compact digest of what an imported rating says."""
    text = f"{station_code}\x1f{to_utc_text(rated_at)}\x1f{score}\x1f{comment}"
    return hashlib.sha256(text.encode()).digest()[:16]


def import_key(identity: bytes, occurrence: int) -> str:
    """The once_key of an imported rating, so a file imported twice adds nothing twice.

    ``occurrence`` tells apart identical rows within one file, which are real repeat ratings.
    """
    return f"import:{identity.hex()}:{occurrence}"
