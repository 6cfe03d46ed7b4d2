"""An import's good rows held aside, in a temporary table, until the whole file is known good.

A large file is read in parts at once, one process for each core: parsing is the import's
largest cost and Python's own work, so it is what more cores shorten. Each part is parsed and
held in a file of its own; the main process then gathers the parts into its temporary table,
as if it had read the whole file itself. Where a cut fell inside a quoted field that runs over
a line break, or the header is bad, the file is read whole: the result is always that of
reading it in one go. The parts' processes are started afresh (spawn), not copied from this
one, so each holds only the parser and the station codes.
"""
import multiprocessing
import os
import sqlite3
import tempfile
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from datetime import datetime

from feedback import imports
from feedback.imports import Part, Problems

STAGED_COLUMNS = "line INTEGER PRIMARY KEY, station_id INTEGER, rated_at INTEGER, day TEXT, " \
                 "score INTEGER, comment TEXT, row_id TEXT"
# a file at least this large is read in parts, when there is more than one core to read them
PARTS_FROM_BYTES = 16 * 1024 * 1024


def stage_imported(conn: sqlite3.Connection, rows, table: str = "temp.imported") -> int:
    """Hold the good rows of an import, (line, row) with ``row`` as ``parse_ratings`` gives it,
    in a new table on disk; returns how many. Memory stays flat whatever the file's size.
    Writes ``table`` alone: no lock on the database is needed."""
    conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute(f"CREATE TABLE {table} ({STAGED_COLUMNS})")
    insert = f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?, ?)"
    staged, chunk = 0, []
    for line, row in rows:
        chunk.append((line, row["station_id"], row["rated_at"], row["day"], row["score"],
                      row["comment"], row.get("row_id")))
        if len(chunk) == 10_000:
            staged += len(chunk)
            conn.executemany(insert, chunk)
            chunk.clear()
    conn.executemany(insert, chunk)
    return staged + len(chunk)


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0))


def in_parts(binary) -> bool:
    """Whether a ratings file is worth reading in parts: a file on disk, large, and more than
    one core to read it with."""
    return (cores() > 1 and binary.seekable() and os.path.isfile(binary.name)
            and os.fstat(binary.fileno()).st_size >= PARTS_FROM_BYTES)


def stage_read(conn: sqlite3.Connection, binary, station_ids: dict[str, int], tz, now: datetime,
               part: Part | None = None, table: str = "temp.imported",
               every=None) -> tuple[int, Problems]:
    """Parse a ratings file, or the part of it ``binary`` is at the start of, and hold its good
    rows in ``table`` (stage_imported()); returns how many and the bad lines. ``every(n)``:
    called after each 10,000 lines read and at the end (imports.good_rows())."""
    errors = Problems()
    conn.execute("BEGIN")  # one commit rather than one a chunk; of ``table`` alone
    staged = stage_imported(conn, imports.good_rows(
        imports.parse_ratings(binary, station_ids, tz, now, part), errors, every), table)
    conn.execute("COMMIT")
    return staged, errors


def stage_file(conn: sqlite3.Connection, binary, station_ids: dict[str, int], tz, now: datetime,
               progress) -> tuple[int, Problems]:
    """Hold the good rows of a ratings file in temp.imported, reading it in parts when that is
    worth it (in_parts()); returns how many and the file's bad lines. Call outside any
    transaction: nothing of the database is locked while the file is read."""
    if in_parts(binary):
        staged = stage_in_parts(conn, binary, station_ids, tz, now, progress)
        if staged is not None:
            return staged
        binary.seek(0)
    size = os.fstat(binary.fileno()).st_size if binary.seekable() else 0
    return stage_read(conn, binary, station_ids, tz, now, every=lambda lines: progress.update(
        lines, done=binary.tell() / size if size else None))


# in a part's process: lines and bytes read so far, two numbers for each part, for the progress
_read = None


def _share(read) -> None:
    global _read
    _read = read


def stage_part(path: str, index: int, part: Part, station_ids: dict[str, int], tz,
               now: datetime, staging: str) -> tuple[int, Problems, Part]:
    """In a process of its own: parse one part of a ratings file and hold its good rows in the
    file ``staging``; returns how many, the part's bad lines, and the part as it ended."""
    conn = sqlite3.connect(staging, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")  # a scratch file: nothing to recover
    conn.execute("PRAGMA synchronous = OFF")
    with open(path, "rb") as binary:
        binary.seek(part.start)

        def every(lines: int) -> None:
            _read[2 * index], _read[2 * index + 1] = lines, binary.tell() - part.start

        staged, errors = stage_read(conn, binary, station_ids, tz, now, part, "imported", every)
    conn.close()
    return staged, errors, part


def stage_in_parts(conn: sqlite3.Connection, binary, station_ids: dict[str, int], tz,
                   now: datetime, progress, count: int | None = None) -> tuple[int, Problems] | None:
    """Parse a ratings file on disk in ``count`` parts at once (one a core), the first here and
    each other in a process of its own, and hold its good rows in temp.imported as stage_read()
    would; returns how many and the bad lines, or None when the file must be read whole."""
    size = os.fstat(binary.fileno()).st_size
    cut = imports.parts(binary, count or cores())
    if len(cut) == 1:
        return None
    context = multiprocessing.get_context("spawn")  # a small new process, not a copy of this one
    read = context.Array("q", 2 * len(cut), lock=False)
    mine = {"lines": 0, "bytes": 0}  # of the first part, read here

    def every(lines: int) -> None:
        mine.update(lines=lines, bytes=binary.tell())
        progress.update(mine["lines"] + sum(read[0::2]),
                        done=(mine["bytes"] + sum(read[1::2])) / size)

    with tempfile.TemporaryDirectory(prefix="ratings-import-") as folder, \
            ProcessPoolExecutor(len(cut) - 1, mp_context=context, initializer=_share,
                                initargs=(read,)) as pool:
        files = {index: os.path.join(folder, f"part{index}.db") for index in range(1, len(cut))}
        running = [pool.submit(stage_part, binary.name, index, cut[index], station_ids, tz, now,
                               file) for index, file in files.items()]
        binary.seek(0)
        here = stage_read(conn, binary, station_ids, tz, now, cut[0], every=every)
        while wait(running, timeout=progress.EVERY, return_when=FIRST_EXCEPTION).not_done:
            every(mine["lines"])
        every(mine["lines"])  # the parts' last counts
        done = [(*here, cut[0])] + [future.result() for future in running]  # raises a part's error
        if not all(part.clean_end for _, _, part in done[:-1]):
            return None
        errors = Problems()
        for _, found, _ in done:
            errors.merge(found)
        if not errors:
            for file in files.values():
                conn.execute("ATTACH DATABASE ? AS part", [file])
                conn.execute("INSERT INTO temp.imported SELECT * FROM part.imported")
                conn.execute("DETACH DATABASE part")
    return sum(count for count, _, _ in done), errors
