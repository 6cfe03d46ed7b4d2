"""What people type: reasons, notes and comments. Their rules are one place for every form, API
and import, and for the OpenAPI document that promises them."""
import re

MAX_REASON = 1000  # a reason or a note, in the staff's forms and the API

# Unicode's controls (category Cc: C0, DEL and C1) but newline and tab
CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")

# Blank: what Python's str.strip() takes away, and the byte-order mark. NOT_BLANK is a character
# outside them, spelled in \uXXXX escapes that every regex engine reads alike: the OpenAPI
# document asks a reason for one.
BLANKS = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
          + "".join(chr(point) for point in range(0x2000, 0x200b))
          + "\u2028\u2029\u202f\u205f\u3000\ufeff")
NOT_BLANK = "[^" + "".join(f"\\u{ord(char):04x}" for char in BLANKS) + "]"


class NotGiven(ValueError):
    """A reason or a note that is missing, blank, too long or not text, with why."""


def has_control_characters(text: str) -> bool:
    """True if ``text`` holds NUL or another control character besides newline and tab."""
    return CONTROL_CHARACTER.search(text) is not None


def normalise_newlines(text: str) -> str:
    """Browsers send a textarea's line breaks as CRLF; keep them as LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def is_blank(text: str) -> bool:
    return re.search(NOT_BLANK, text) is None


def given(text, what: str = "a reason", limit: int = MAX_REASON) -> str:
    """A reason or a note as it is kept (without the blanks around it); NotGiven says why not."""
    if not isinstance(text, str) or is_blank(text):
        raise NotGiven(f"give {what}")
    if len(text) > limit:
        raise NotGiven(f"{what} is longer than {limit} characters")
    return text.strip(BLANKS)
