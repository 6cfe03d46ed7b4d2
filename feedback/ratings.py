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
           reasons: tuple[str, ...] = (), source: str, once_key: str | None, tz) -> bool:
    """Insert one rating (the rollups follow by trigger); False if ``once_key`` was seen before.

    Call inside write().
    """
    cursor = db.execute(
        """
        INSERT INTO ratings (station_id, rated_at, day, score, comment, reasons, source, once_key)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (once_key) DO NOTHING
        """,
        [station_id, to_utc_text(rated_at), local_day(rated_at, tz).isoformat(), score,
         comment, ";".join(reasons), source, once_key],
    )
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
