"""Backups: a consistent, checked copy of the database taken while the service runs, which
copies to keep (``keep``, the rule), and putting one back.

A copy is made with ``VACUUM INTO`` (a snapshot: writers carry on meanwhile) under a temporary
name, checked (integrity, schema version, the rollups against a recount), and only then renamed
into place; a copy that fails leaves the earlier ones as they were.
"""
import fcntl
import os
import re
import shutil
import sqlite3
from contextlib import contextmanager, suppress
from datetime import date, datetime, timedelta
from pathlib import Path

from feedback.clock import from_utc_text, to_utc_text
from feedback.counts import rollups
from feedback.places import finder
from feedback.storage import schema
from feedback.storage.db import write

BACKUP_AT = (2, 30)  # local time of the nightly copy: after the scan, before the digest
DAILY, WEEKLY = 7, 8
NIGHTLY = re.compile(r"feedback-([0-9]{4}-[0-9]{2}-[0-9]{2})\.db")


class BackupFailed(Exception):
    """A copy that could not be made or did not pass its checks."""


class RestoreRefused(Exception):
    """A restore that would not be safe: a running service, or a file that is not our database."""


def problems_of_copy(path: str, days: list[str] | None = None) -> list[str]:
    """What is wrong with a database file, one line each: not a database, damaged, a schema
    this code does not know, rollups that disagree with the ratings. Empty when it is good.
    With ``days``, only what those days' ratings go into is recounted, and the pages are checked
    without each index's entries (quick_check): what changed since the last checked copy."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as error:
        return [f"{path}: cannot be opened: {error}"]
    try:
        check = "integrity_check" if days is None else "quick_check"
        integrity = [row[0] for row in connection.execute(f"PRAGMA {check}")]
        if integrity != ["ok"]:
            return [f"{path}: {check.replace('_', ' ')}: {line}" for line in integrity[:20]]
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        if not {"stations", "ratings", "station_days"} <= tables:
            return [f"{path}: not a station feedback database (no stations and ratings)"]
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > len(schema.MIGRATIONS):
            return [f"{path}: schema version {version} is newer than this code "
                    f"({len(schema.MIGRATIONS)}); upgrade the code first"]
        if version < len(schema.MIGRATIONS):
            return []  # an older layout is brought up to date when the service opens it
        return [f"{path}: {line}" for line in rollups.differences(connection, days)]
    except sqlite3.DatabaseError as error:
        return [f"{path}: not a database: {error}"]
    finally:
        connection.close()


FULL_EVERY = timedelta(days=7)  # a copy is recounted whole at least this often


def take(db, path: str, now: datetime, full: bool = False) -> bool:
    """A consistent, checked copy of the open database at ``path``; BackupFailed says why not.
    Only the days changed since the last checked copy are recounted (changed_days), unless the
    copy is recounted whole: asked (``full``), a week since the last whole one, or after what
    moved whole histories (full_due). Returns whether it was recounted whole."""
    target = Path(path)
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.unlink(missing_ok=True)
        with write(db):  # changes from now on are noted for the next copy
            generation, verified, due, checked = db.execute(
                "SELECT generation, verified, full_due, full_checked FROM backup_generation").fetchone()
            db.execute("UPDATE backup_generation SET generation = generation + 1")
        full = full or bool(due) or not checked or now - from_utc_text(checked) >= FULL_EVERY
        db.execute("VACUUM INTO ?", [str(partial)])
        days = None if full else [day for (day,) in db.execute(
            "SELECT DISTINCT day FROM changed_days WHERE generation > ? AND generation <= ?",
            [verified, generation])]
        found = problems_of_copy(str(partial), days)
        if found:
            raise BackupFailed("; ".join(found))
        os.replace(partial, target)
        with write(db):
            db.execute("DELETE FROM changed_days WHERE generation <= ?", [generation])
            db.execute(f"""UPDATE backup_generation SET verified = ?
                           {", full_due = 0, full_checked = ?" if full else ""}""",
                       [generation, *([to_utc_text(now)] if full else [])])
        return full
    except (sqlite3.Error, OSError) as error:
        raise BackupFailed(f"{path}: {error}") from None
    finally:
        with suppress(OSError):  # nothing to tidy when the folder itself was the trouble
            partial.unlink(missing_ok=True)


def keep(copies: dict[date, str]) -> set[str]:
    """Which nightly copies to keep: the DAILY newest, and before them the newest copy of each
    of the WEEKLY most recent (ISO) weeks."""
    days = sorted(copies, reverse=True)
    weeks: set[tuple[int, int]] = set()
    kept = days[:DAILY]
    for day in days[DAILY:]:
        week = tuple(day.isocalendar())[:2]
        if week not in weeks and len(weeks) < WEEKLY:
            weeks.add(week)
            kept.append(day)
    return {copies[day] for day in kept}


def nightly(db, folder: str, today: date, now: datetime) -> tuple[str, list[str]]:
    """Tonight's copy into ``folder``, then the copies the rule does not keep removed; returns
    (the copy, the removed). The old copies are touched only once the new one passed."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"feedback-{today.isoformat()}.db")
    take(db, path, now)
    copies = {date.fromisoformat(found.group(1)): os.path.join(folder, name)
              for name in os.listdir(folder) if (found := NIGHTLY.fullmatch(name))}
    kept = keep(copies)
    removed = sorted(path for path in copies.values() if path not in kept)
    for old in removed:
        os.remove(old)
    return path, removed


@contextmanager
def held_alone(database: str):
    """The database file for this process alone, or RestoreRefused: every process that serves
    or works on it holds a shared lock on ``<database>.users`` (feedback/storage/db.py)."""
    descriptor = os.open(os.path.abspath(database) + ".users", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RestoreRefused(f"{database} is in use by a running service or command: stop "
                                 "the web and the scheduler first (systemctl stop …)") from None
        yield
    finally:
        os.close(descriptor)


def restore(database: str, backup: str) -> None:
    """Put a backup in place of the database: checked first, refused while anything holds the
    database; the file is swapped whole, so a failure leaves the old one."""
    if not os.path.isfile(backup):
        raise RestoreRefused(f"{backup}: no such file")
    found = problems_of_copy(backup)
    if found:
        raise RestoreRefused("; ".join(found))
    with held_alone(database):
        incoming = f"{database}.restoring"
        shutil.copyfile(backup, incoming)
        with open(incoming, "rb") as copied:
            os.fsync(copied.fileno())
        # a write-ahead log left beside the old file belongs to it, not to the backup
        for leftover in (f"{database}-wal", f"{database}-shm"):
            if os.path.exists(leftover):
                os.remove(leftover)
        os.replace(incoming, database)
        finder.forget_feed(database)  # built from the database that was, not this one
