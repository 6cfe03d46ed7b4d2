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
