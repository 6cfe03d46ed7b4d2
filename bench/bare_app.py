"""The baselines for bench/rating_post.py: a bare Flask app that inserts one row per POST into
SQLite with the service's pragmas and answers 303, as the rating form does.

With BARE_QUEUE=1 its writers queue the way the service's do (a thread lock and a file lock
before BEGIN IMMEDIATE, feedback/storage/db.py); without, they rely on SQLite's busy_timeout alone, as a
plain Flask+SQLite app would."""
import fcntl
import os
import sqlite3
import threading

from flask import Flask, redirect, request

app = Flask(__name__)
PATH = os.environ["BARE_DATABASE"]
QUEUE = os.environ.get("BARE_QUEUE") == "1"
local = threading.local()
thread_lock = threading.Lock()


def connection() -> sqlite3.Connection:
    if getattr(local, "pid", None) != os.getpid():
        conn = sqlite3.connect(PATH, isolation_level=None, timeout=10)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("CREATE TABLE IF NOT EXISTS ratings (id INTEGER PRIMARY KEY, score INTEGER, "
                     "once_key TEXT UNIQUE)")
        local.conn, local.pid = conn, os.getpid()
        local.queue = os.open(PATH + ".writers", os.O_RDWR | os.O_CREAT, 0o600)
    return local.conn


def insert(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO ratings (score, once_key) VALUES (?, ?)",
                 [int(request.form["score"]), request.form["key"]])
    conn.execute("COMMIT")


@app.post("/rate")
def rate():
    conn = connection()
    if QUEUE:
        with thread_lock:
            fcntl.flock(local.queue, fcntl.LOCK_EX)
            try:
                insert(conn)
            finally:
                fcntl.flock(local.queue, fcntl.LOCK_UN)
    else:
        insert(conn)
    return redirect("/thanks", 303)
