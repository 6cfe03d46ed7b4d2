"""The database: one connection per process and thread, and the one way to write."""
import fcntl
import hashlib
import os
import sqlite3
import threading
from contextlib import contextmanager

from flask import current_app
from sqlite_utils import Database

BUSY_TIMEOUT_MS = 10_000
ONCE_KEY_BYTES = 12  # 96 bits: no two of a billion keys alike, in all likelihood


def once_key(text: str | None) -> bytes | None:
    """How a form's once key (``form:…``) is stored: the first bytes of its SHA-256, half the
    text's size in the table and in its unique index."""
    if text is None:
        return None
    return hashlib.sha256(text.encode()).digest()[:ONCE_KEY_BYTES]


def connect(path: str) -> Database:
    """Open the SQLite file with the pragmas every connection needs."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    # isolation_level=None: we say BEGIN ourselves, so every write can begin IMMEDIATE
    conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    # for the migration that made the keys bytes; no view or trigger uses it
    conn.create_function("once_key", 1, once_key, deterministic=True)
    return QueuedDatabase(conn, path)


class QueuedDatabase(Database):
    """sqlite-utils' Database, with the file that writers of every process queue on (write()):
    the kernel wakes the next writer at once, where SQLite's busy handler would sleep in steps
    of up to 100 ms."""

    def __init__(self, conn: sqlite3.Connection, path: str):
        super().__init__(conn, execute_plugins=False)
        self.file_path = os.path.abspath(path)
        self.write_queue = os.open(os.path.abspath(path) + ".writers", os.O_RDWR | os.O_CREAT,
                                   0o600)
        # every connection holds a shared lock on <database>.users while open: `restore` takes
        # it alone, so it never swaps the file under a running service (and waits out none)
        self.users = os.open(os.path.abspath(path) + ".users", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.users, fcntl.LOCK_SH)

    def query(self, sql: str, params=None):
        """The rows of a SELECT as dicts, read off the cursor. sqlite-utils 4 wraps each query in
        a savepoint of its own: two statements more, and outside a write a transaction more,
        on every read of every request."""
        cursor = self.conn.execute(sql, params if params is not None else ())
        keys = [column[0] for column in cursor.description]
        return (dict(zip(keys, row)) for row in cursor)

    def close(self) -> None:
        super().close()
        os.close(self.write_queue)
        os.close(self.users)


class Connections:
    """Opens a connection lazily in each process and thread that asks, never at import time."""

    def __init__(self, path: str):
        self.path = path
        self._local = threading.local()

    def get(self) -> Database:
        pid = os.getpid()
        if getattr(self._local, "pid", None) != pid:  # a forked worker must not share its parent's
            self._local.db = connect(self.path)
            self._local.pid = pid
        return self._local.db

    def close(self) -> None:
        """Close this thread's connection, if it has one."""
        if getattr(self._local, "pid", None) == os.getpid():
            self._local.db.close()
        self._local.pid = None


def get_db() -> Database:
    """The current app's database connection for this thread."""
    return current_app.extensions["feedback.db"].get()


# Threads of one process queue here first: a file lock is held by the process, not the thread.
PROCESS_WRITE_LOCK = threading.RLock()


@contextmanager
def writers_queue(db: Database):
    """Hold the write queue of the database file (see connect()); re-entrant within a thread."""
    with PROCESS_WRITE_LOCK:
        depth = getattr(_held, "depth", 0)
        if depth == 0:
            fcntl.flock(db.write_queue, fcntl.LOCK_EX)
        _held.depth = depth + 1
        try:
            yield
        finally:
            _held.depth = depth
            if depth == 0:
                fcntl.flock(db.write_queue, fcntl.LOCK_UN)


_held = threading.local()


@contextmanager
def write(db: Database):
    """A write transaction that takes the write lock at its start, so concurrent writers queue
    (threads on a lock, processes on busy_timeout) instead of failing mid-transaction."""
    with writers_queue(db):
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            raise
        db.conn.execute("COMMIT")


class _Together:
    """The writes one process's threads have queued for one database file (write_together)."""

    def __init__(self):
        self.condition = threading.Condition()
        self.queued: list[_Job] = []
        self.leading = False


class _Job:
    def __init__(self, work):
        self.work, self.done, self.result, self.error = work, False, None, None


_together: dict[tuple[int, str], _Together] = {}
_together_lock = threading.Lock()


def write_together(db: Database, work):
    """``work(db)`` in a write transaction shared with the writes other threads of this process
    are waiting to make (group commit): the first thread to find no one writing takes every
    write queued, runs each in a savepoint of its own (one that fails fails alone, its error
    raised in its own thread) and commits them at once; the others wait for it. A commit writes
    every page a rating touched (the rating, its indexes, each rollup) and every writer waits
    for the one before it; under load one commit serves many ratings. ``work`` reads nothing of
    its thread (no request, no app context) but what it was given: another thread may run it.
    Returns what ``work`` returned."""
    with _together_lock:  # per process (a forked worker starts afresh) and database file
        together = _together.setdefault((os.getpid(), db.file_path), _Together())
    job = _Job(work)
    with together.condition:
        together.queued.append(job)
        while together.leading and not job.done:
            together.condition.wait()
        if not job.done:
            together.leading = True
    if not job.done:
        _lead(db, together, job)
    if job.error is not None:
        raise job.error
    return job.result


def _lead(db: Database, together: _Together, own: _Job) -> None:
    taken: list[_Job] = []
    try:
        with writers_queue(db):
            with together.condition:  # what queued while the lock was awaited comes along
                taken, together.queued = together.queued, []
            db.conn.execute("BEGIN IMMEDIATE")
            try:
                if len(taken) == 1:  # alone: its failure is the transaction's
                    taken[0].result = taken[0].work(db)
                for job in taken if len(taken) > 1 else ():
                    db.conn.execute("SAVEPOINT together")
                    try:
                        job.result = job.work(db)
                    except Exception as error:
                        db.conn.execute("ROLLBACK TO together")
                        job.error = error
                    db.conn.execute("RELEASE together")
                db.conn.execute("COMMIT")
            except BaseException:
                if db.conn.in_transaction:
                    db.conn.execute("ROLLBACK")
                raise
    except BaseException as failure:  # nothing was written: every write taken fails with it
        for job in taken or [own]:
            job.error, job.result = failure, None
    finally:
        with together.condition:
            together.leading = False
            for job in [*taken, own]:
                job.done = True
            together.condition.notify_all()
