"""CSV files in, validated rows or ``line N: reason`` errors out. Nothing here writes.

Also the one rule for spreadsheet formula cells, which exports apply and imports undo."""
import csv
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterator

from feedback.clock import local_day, parse_instant, to_epoch
from feedback.counts.ratings import MAX_IMPORTED_COMMENT
from feedback.places import stations
from feedback.typed import has_control_characters, normalise_newlines

RATING_COLUMNS = ("station_code", "rated_at", "score", "comment", "row_id")
MAX_ROW_ID = 64
RATING_REQUIRED = ("station_code", "rated_at", "score")
MAX_LINE_BYTES = 64 * 1024  # a line longer than this is refused, never read whole
NOT_UTF8 = "not UTF-8 text (save the file as CSV UTF-8)"
# what Excel and WPS write as "CSV" on a Chinese system: said once, not at every line after it
GBK = ("not UTF-8 text: the file reads as GBK (GB18030), which Excel and WPS write as CSV on a "
       "Chinese system; save it as “CSV UTF-8” and import it again")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class Problems:
    """The bad lines of a file: the first ``SHOWN`` as ``line N: reason``, then only a count,
    so a file of ten million bad lines does not fill memory or the terminal."""
    SHOWN = 100

    def __init__(self):
        self.shown: list[str] = []
        self.total = 0

    def add(self, line: int, reason: str) -> None:
        self.total += 1
        if len(self.shown) < self.SHOWN:
            self.shown.append(f"line {line}: {reason}")

    def merge(self, later: "Problems") -> None:
        """Add the problems of a later part of the same file."""
        self.shown.extend(later.shown[:self.SHOWN - len(self.shown)])
        self.total += later.total

    def __bool__(self) -> bool:
        return self.total > 0

    def report(self) -> list[str]:
        """What to print: the lines shown, and how many more there were."""
        more = self.total - len(self.shown)
        return self.shown + ([f"... and {more} more bad line(s)"] if more else [])


@dataclass
class Parsed:
    rows: list[dict] = field(default_factory=list)
    errors: Problems = field(default_factory=Problems)


def neutralise_formula(cell: str) -> str:
    """A cell that a spreadsheet would run as a formula, quoted the OWASP way (a leading ')."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


# what neutralise_formula makes of a formula cell: a quote then a formula's first character
NEUTRALISED = tuple("'" + start for start in FORMULA_START)


def restore_formula(cell: str) -> str:
    """The cell as it was before neutralise_formula, so our own export imports unchanged."""
    return cell[1:] if cell.startswith(NEUTRALISED) else cell


@dataclass
class Part:
    """A run of whole lines of a file, from byte ``start`` to ``end`` (None: to the end), parsed
    on its own: ``first_line`` is its first line's number in the file, ``header`` the file's
    columns (given when the header lies in an earlier part, else read). ``clean_end`` is set
    once the part's last line also ended a record, so that the next part begins where a reading
    of the whole file would begin a record (not inside a quoted field over a line break)."""
    start: int = 0
    end: int | None = None
    first_line: int = 1
    header: list[str] | None = None
    clean_end: bool = False


# read after a part's last line: it comes back as a record of its own only if the part ended
# between records. No UTF-8 line can hold it (a lone surrogate), so no file can forge it.
PART_END = "\udc80end of part\udc80"


def reads_as_gbk(raw: bytes) -> bool:
    try:
        raw.decode("gb18030")
    except UnicodeDecodeError:
        return False
    return True


class Lines:
    """The lines of a binary file (or of a Part of it) as text, read one at a time. A line that
    is not UTF-8 or is longer than MAX_LINE_BYTES is replaced by an empty one and kept in
    ``problems`` by its number, so reading goes on and every later bad line is reported too."""

    def __init__(self, binary, part: Part):
        self.binary = binary
        self.part = part
        self.problems: dict[int, str] = {}
        self.at_part_end = False
        self.gbk_said = False

    def __iter__(self) -> Iterator[str]:
        number, end = self.part.first_line - 1, self.part.end
        position = self.part.start
        while (end is None or position < end) and (raw := self.binary.readline(MAX_LINE_BYTES + 1)):
            number += 1
            position += len(raw)
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                while raw and not raw.endswith(b"\n"):  # skip the rest without keeping it
                    raw = self.binary.readline(MAX_LINE_BYTES)
                    position += len(raw)
                self.problems[number] = f"the line is longer than {MAX_LINE_BYTES // 1024} KB"
                yield "\n"
                continue
            try:
                yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                if not reads_as_gbk(raw):
                    self.problems[number] = NOT_UTF8
                elif not self.gbk_said:
                    self.problems[number], self.gbk_said = GBK, True
                yield "\n"
        if end is not None:
            self.at_part_end = True
            yield PART_END

    def take_problems(self, first: int, last: int) -> list[tuple[int, str]]:
        """The problems of lines first to last, forgotten once taken."""
        if not self.problems:  # as for almost every line: asked once a row
            return []
        return [(n, self.problems.pop(n)) for n in range(first, last + 1) if n in self.problems]


def records(binary, columns: tuple, required: tuple,
            part: Part | None = None) -> Iterator[tuple[int, dict | None, str | None]]:
    """(line number, {column: value}, None) for each data row, or (line, None, error) for each
    line that cannot be read; a bad header is reported on line 1 and ends the file. ``part``:
    read only that part of the file, ``binary`` already at its start."""
    part = part or Part()
    lines = Lines(binary, part)
    reader = csv.reader(lines)
    before = part.first_line - 1  # lines of the file before the part's
    if part.header is not None:
        header = part.header
    else:
        try:
            header = [name.strip() for name in next(reader)]
        except StopIteration:
            yield 1, None, "the file is empty; the first line must be the header"
            return
        except csv.Error as error:
            yield 1, None, str(error)
            return
        header_problems = lines.take_problems(1, reader.line_num)
        if header_problems:
            for line, problem in header_problems:
                yield line, None, problem
            return
        part.header = header
    problems = []
    unknown = [name for name in header if name not in columns]
    if unknown:
        problems.append(f"unknown column {', '.join(map(repr, unknown))}; "
                        f"the columns are {','.join(columns)}")
    missing = [name for name in required if name not in header]
    if missing:
        problems.append(f"missing column {', '.join(map(repr, missing))}")
    repeated = [name for name, n in Counter(header).items() if n > 1]
    if repeated:
        problems.append(f"column {', '.join(map(repr, repeated))} appears more than once")
    if problems:
        for problem in problems:
            yield 1, None, problem
        return

    line = before + reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:  # the reader goes on with the next line
            yield line, None, str(error)
            line = before + reader.line_num + 1
            continue
        if lines.at_part_end:  # the part's last record has been read: nothing more of it
            part.clean_end = values == [PART_END]  # or that record runs on into the next part
            return
        unreadable = lines.take_problems(line, before + reader.line_num)
        if unreadable:
            for number, problem in unreadable:
                yield number, None, problem
        elif (text := "".join(values)).strip():  # not a blank line
            if len(values) != len(header):
                yield line, None, f"{len(values)} fields, but the header has {len(header)}"
            else:
                cells = [value.strip() for value in values]
                if "'" in text:  # only then can a cell be a formula our export quoted
                    cells = [restore_formula(cell) for cell in cells]
                yield line, dict(zip(header, cells)), None
        line = before + reader.line_num + 1


def parse_stations(binary) -> Parsed:
    """Validate a stations file: every bad row is reported, duplicates by code included."""
    parsed = Parsed()
    first_line_of = {}
    for line, record, problem in records(binary, stations.COLUMNS, stations.REQUIRED_COLUMNS):
        if problem:
            parsed.errors.add(line, problem)
            continue
        row, reasons = stations.validate(record)
        code = row["code"]
        if code in first_line_of:
            reasons.append(f"code {code} is already on line {first_line_of[code]}")
        else:
            first_line_of[code] = line
        for reason in reasons:
            parsed.errors.add(line, reason)
        parsed.rows.append(row)
    return parsed


def parse_ratings(binary, station_ids: dict[str, int], tz, now: datetime,
                  part: Part | None = None) -> Iterator[tuple[int, dict | None, list[str]]]:
    """Validate a ratings file (or a part of it) as it is read, against the known station codes:
    yields (line, row, []) for a good row, its instant and day as a rating stores them (seconds
    since 1970, the local day as text), or (line, None, reasons)."""
    latest = to_epoch(now)  # compared as stored: each instant converted once, not compared too
    for line, record, problem in records(binary, RATING_COLUMNS, RATING_REQUIRED, part):
        if problem:
            yield line, None, [problem]
            continue
        reasons = []
        code = record["station_code"].strip()
        if code not in station_ids:
            reasons.append(f"unknown station_code {code!r}")
        try:
            rated_at = parse_instant(record["rated_at"], tz)
            seconds = to_epoch(rated_at)
            if seconds > latest:
                reasons.append(f"rated_at {record['rated_at'].strip()} is in the future")
        except ValueError as bad:
            reasons.append(str(bad))
        score_text = record["score"].strip()
        if score_text not in {"1", "2", "3", "4", "5"}:
            reasons.append(f"score {score_text!r} must be a whole number from 1 to 5")
        comment = normalise_newlines(record.get("comment") or "").strip()
        if len(comment) > MAX_IMPORTED_COMMENT:
            reasons.append(f"comment is longer than {MAX_IMPORTED_COMMENT} characters")
        if has_control_characters(comment):
            reasons.append("comment holds a control character (only line breaks and tabs may)")
        row_id = (record.get("row_id") or "").strip() or None
        if row_id is not None and (len(row_id) > MAX_ROW_ID or has_control_characters(row_id)
                                   or "\n" in row_id or "\t" in row_id):
            reasons.append(f"row_id must be 1 to {MAX_ROW_ID} characters on one line")
        if reasons:
            yield line, None, reasons
            continue
        score = int(score_text)
        yield line, {"station_id": station_ids[code], "rated_at": seconds,
                     "day": local_day(rated_at, tz).isoformat(), "score": score,
                     "comment": comment, "row_id": row_id}, []


def good_rows(parsed, errors: Problems, every=None) -> Iterator[tuple[int, dict]]:
    """(line, row) of each good row of ``parsed`` (as parse_ratings gives them) until the first
    bad line, whose reasons, and every later line's, go into ``errors``. ``every(n)`` is called
    after each 10,000 lines read, and once more at the end."""
    read = 0
    for read, (line, row, reasons) in enumerate(parsed, start=1):
        for reason in reasons:
            errors.add(line, reason)
        if not reasons and not errors:
            yield line, row
        if every and read % 10_000 == 0:
            every(read)
    if every:
        every(read)


def parts(binary, count: int) -> list[Part]:
    """A seekable ratings file cut at line breaks into about ``count`` parts of about equal
    size, to be parsed at once, each knowing its first line's number and the header; one part,
    the whole file, when the header is not good (reading it whole reports why). Whether the
    cuts fall between records (not inside a quoted field over several lines) is known only
    once each part is parsed (Part.clean_end)."""
    size = os.fstat(binary.fileno()).st_size
    binary.seek(0)
    head = Part(end=len(binary.readline(MAX_LINE_BYTES + 1)))
    binary.seek(0)
    if list(records(binary, RATING_COLUMNS, RATING_REQUIRED, head)) or not head.clean_end:
        return [Part()]
    cuts = [0]
    for share in range(1, count):
        binary.seek(max(size * share // count, head.end) - 1)
        while (rest := binary.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
            pass  # to the end of the line the cut fell in
        if cuts[-1] < binary.tell() < size:
            cuts.append(binary.tell())
    found = [Part()]
    binary.seek(0)
    line_breaks = 0
    for start in cuts[1:]:
        left = start - binary.tell()
        while left:
            chunk = binary.read(min(left, 1 << 20))
            line_breaks += chunk.count(b"\n")
            left -= len(chunk)
        found[-1].end = start
        found.append(Part(start=start, first_line=line_breaks + 1, header=head.header))
    binary.seek(0)
    return found
