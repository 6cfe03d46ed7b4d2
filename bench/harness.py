"""Shared pieces: a throwaway app on a real server, and timing helpers."""
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager

from werkzeug.serving import make_server


@contextmanager
def served_app(overrides: dict | None = None):
    """A fresh app on a temporary SQLite file, served on 127.0.0.1; yields (app, base_url)."""
    os.environ.setdefault("FEEDBACK_SECRET_KEY", "bench-secret")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from app import create_app

    with tempfile.TemporaryDirectory() as directory:
        app = create_app({"DATABASE": os.path.join(directory, "bench.db"), "SCHEDULER": False,
                          **(overrides or {})})
        server = make_server("127.0.0.1", 0, app, threaded=True)
        base = f"http://127.0.0.1:{server.server_port}"
        app.config["BASE_URL"] = base
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield app, base
        finally:
            server.shutdown()
            thread.join()


def median_seconds(action, repeat: int) -> float:
    """The median wall time of ``action()`` over ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(app: str, env: dict) -> tuple[subprocess.Popen, int]:
    """gunicorn -c gunicorn.conf.py serving ``app`` (two workers); (process, port)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--workers", "2",
         "--access-logfile", "/dev/null", app],
        env={**os.environ, **env, "FEEDBACK_BIND": f"127.0.0.1:{port}"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{app} did not start")
