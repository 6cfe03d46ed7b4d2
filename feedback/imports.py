"""CSV files in, validated rows or ``line N: reason`` errors out. Nothing here writes."""
import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from feedback import stations
from feedback.clock import parse_instant
from feedback.ratings import MAX_IMPORTED_COMMENT, import_key

RATING_COLUMNS = ("station_code", "rated_at", "score", "comment")
RATING_REQUIRED = ("station_code", "rated_at", "score")


@dataclass
class Parsed:
    rows: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def decode(data: bytes) -> tuple[str | None, str | None]:
    """UTF-8 text with any byte-order mark dropped, or an error naming the line."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return None, f"line {line}: not UTF-8 text (save the file as CSV UTF-8)"


def read_records(text: str, columns: tuple, required: tuple) -> tuple[list, list[str]]:
    """(line number, {column: value}) for each data row, and the errors of the file's shape."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return [], ["line 1: the file is empty; the first line must be the header"]
    except csv.Error as error:
        return [], [f"line 1: {error}"]
    header = [name.strip() for name in header]
    errors = []
    unknown = [name for name in header if name not in columns]
    if unknown:
        errors.append(f"line 1: unknown column {', '.join(map(repr, unknown))}; "
                      f"the columns are {','.join(columns)}")
    missing = [name for name in required if name not in header]
    if missing:
        errors.append(f"line 1: missing column {', '.join(map(repr, missing))}")
    repeated = [name for name, n in Counter(header).items() if n > 1]
    if repeated:
        errors.append(f"line 1: column {', '.join(map(repr, repeated))} appears more than once")
    if errors:
        return [], errors

    records = []
    line = reader.line_num + 1
    try:
        for values in reader:
            if not any(value.strip() for value in values):
                line = reader.line_num + 1
                continue
            if len(values) != len(header):
                errors.append(f"line {line}: {len(values)} fields, but the header has {len(header)}")
            else:
                records.append((line, dict(zip(header, values))))
            line = reader.line_num + 1
    except csv.Error as error:
        errors.append(f"line {line}: {error}")
    return records, errors


def parse_stations(data: bytes) -> Parsed:
    """Validate a stations file: every bad row is reported, duplicates by code included."""
    text, error = decode(data)
    if error:
        return Parsed(errors=[error])
    records, errors = read_records(text, stations.COLUMNS, stations.REQUIRED_COLUMNS)
    parsed = Parsed(errors=errors)
    first_line_of = {}
    for line, record in records:
        row, reasons = stations.validate(record)
        code = row["code"]
        if code in first_line_of:
            reasons.append(f"code {code} is already on line {first_line_of[code]}")
        else:
            first_line_of[code] = line
        parsed.errors.extend(f"line {line}: {reason}" for reason in reasons)
        parsed.rows.append(row)
    return parsed


def parse_ratings(data: bytes, station_ids: dict[str, int], tz, now: datetime) -> Parsed:
    """Validate a ratings file against the known station codes; rows carry their once_key."""
    text, error = decode(data)
    if error:
        return Parsed(errors=[error])
    records, errors = read_records(text, RATING_COLUMNS, RATING_REQUIRED)
    parsed = Parsed(errors=errors)
    seen = Counter()
    for line, record in records:
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
            parsed.errors.extend(f"line {line}: {reason}" for reason in reasons)
            continue
        score = int(score_text)
        identity = (code, rated_at, score, comment)
        seen[identity] += 1
        parsed.rows.append({
            "station_id": station_ids[code], "rated_at": rated_at, "score": score,
            "comment": comment,
            "once_key": import_key(code, rated_at, score, comment, seen[identity]),
        })
    return parsed
