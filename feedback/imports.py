"""CSV files in, validated rows or ``line N: reason`` errors out. Nothing here writes."""
import csv
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Iterator

from feedback import stations
from feedback.clock import parse_instant
from feedback.ratings import MAX_IMPORTED_COMMENT, import_key, rating_identity

RATING_COLUMNS = ("station_code", "rated_at", "score", "comment")
RATING_REQUIRED = ("station_code", "rated_at", "score")


@dataclass
class Parsed:
    rows: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class NotUtf8(ValueError):
    def __init__(self, line: int):
        super().__init__(f"line {line} is not UTF-8")
        self.line = line


def text_lines(binary) -> Iterator[str]:
    """The lines of a binary file as text, decoded one by one so that a line that is not UTF-8
    is named exactly; a byte-order mark is dropped."""
    for number, raw in enumerate(binary, start=1):
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise NotUtf8(number) from None


NOT_UTF8 = "not UTF-8 text (save the file as CSV UTF-8)"


def records(lines: Iterable[str], columns: tuple, required: tuple) -> Iterator[tuple[int, dict | None, str | None]]:
    """(line number, {column: value}, None) for each data row, or (line, None, error) for a line
    that cannot be read; a bad header is reported on line 1 and ends the file."""
    reader = csv.reader(lines)
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        yield 1, None, "the file is empty; the first line must be the header"
        return
    except NotUtf8 as error:
        yield error.line, None, NOT_UTF8
        return
    except csv.Error as error:
        yield 1, None, str(error)
        return
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

    line = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except NotUtf8 as error:
            yield error.line, None, NOT_UTF8
            return
        except csv.Error as error:
            yield line, None, str(error)
            return
        if any(value.strip() for value in values):
            if len(values) != len(header):
                yield line, None, f"{len(values)} fields, but the header has {len(header)}"
            else:
                yield line, dict(zip(header, values)), None
        line = reader.line_num + 1


def parse_stations(binary) -> Parsed:
    """Validate a stations file: every bad row is reported, duplicates by code included."""
    parsed = Parsed()
    first_line_of = {}
    for line, record, problem in records(text_lines(binary), stations.COLUMNS,
                                         stations.REQUIRED_COLUMNS):
        if problem:
            parsed.errors.append(f"line {line}: {problem}")
            continue
        row, reasons = stations.validate(record)
        code = row["code"]
        if code in first_line_of:
            reasons.append(f"code {code} is already on line {first_line_of[code]}")
        else:
            first_line_of[code] = line
        parsed.errors.extend(f"line {line}: {reason}" for reason in reasons)
        parsed.rows.append(row)
    return parsed


def parse_ratings(binary, station_ids: dict[str, int], tz,
                  now: datetime) -> Iterator[tuple[int, dict | None, list[str]]]:
    """Validate a ratings file as it is read, against the known station codes: yields
    (line, row, []) for a good row, carrying its once_key, or (line, None, reasons)."""
    seen = Counter()  # identical rows in one file are separate ratings; compact digests only
    for line, record, problem in records(text_lines(binary), RATING_COLUMNS, RATING_REQUIRED):
        if problem:
            yield line, None, [problem]
            continue
        reasons = []
        code = record["station_code"].strip()
        if code not in station_ids:
            reasons.append(f"unknown station_code {code!r}")
        rated_at = None
        try:
            rated_at = parse_instant(record["rated_at"], tz)
            if rated_at > now:
                reasons.append(f"rated_at {record['rated_at'].strip()} is in the future")
        except ValueError as bad:
            reasons.append(str(bad))
        score_text = record["score"].strip()
        if score_text not in {"1", "2", "3", "4", "5"}:
            reasons.append(f"score {score_text!r} must be a whole number from 1 to 5")
        comment = (record.get("comment") or "").strip()
        if len(comment) > MAX_IMPORTED_COMMENT:
            reasons.append(f"comment is longer than {MAX_IMPORTED_COMMENT} characters")
        if reasons:
            yield line, None, reasons
            continue
        score = int(score_text)
        identity = rating_identity(code, rated_at, score, comment)
        seen[identity] += 1
        yield line, {"station_id": station_ids[code], "rated_at": rated_at, "score": score,
                     "comment": comment, "once_key": import_key(identity, seen[identity])}, []
