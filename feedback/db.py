"""The database: one connection per process and thread, and the one way to write."""
import os
import sqlite3
import threading
from contextlib import contextmanager

from flask import current_app
from sqlite_utils import Database

BUSY_TIMEOUT_MS = 10_000


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
    return Database(conn, execute_plugins=False)


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


@contextmanager
def write(db: Database):
    """A write transaction that takes the write lock at its start, so concurrent writers queue
    on busy_timeout instead of failing mid-transaction."""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")
