"""The baseline for bench/rating_post.py: a bare Flask app that inserts one row per POST into
SQLite with the service's pragmas and answers 303, as the rating form does; its writers wait on
SQLite's busy_timeout, as a plain Flask+SQLite app's would. The bench makes its table (TABLE)."""
import os
import sqlite3
import threading

from flask import Flask, redirect, request

app = Flask(__name__)
PATH = os.environ["BARE_DATABASE"]
local = threading.local()
TABLE = "CREATE TABLE IF NOT EXISTS ratings (id INTEGER PRIMARY KEY, score INTEGER, once_key TEXT UNIQUE)"


def connection() -> sqlite3.Connection:
    if getattr(local, "pid", None) != os.getpid():
        conn = sqlite3.connect(PATH, isolation_level=None, timeout=10)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        local.conn, local.pid = conn, os.getpid()
    return local.conn


@app.post("/rate")
def rate():
    conn = connection()
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO ratings (score, once_key) VALUES (?, ?)",
                 [int(request.form["score"]), request.form["key"]])
    conn.execute("COMMIT")
    return redirect("/thanks", 303)
