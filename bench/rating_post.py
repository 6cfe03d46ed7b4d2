"""The rating POST, device logic and all, under gunicorn -w 2, beside a bare Flask+SQLite insert
served the same way in the same run (bench/bare_app.py), in two forms: a plain insert that waits
on SQLite's busy_timeout, and one whose writers queue as the service's do.

Goal: 0.8x the plain bare insert or better. Each simulated phone keeps its device cookie and
taps every station in turn, so the repeat rule, the device lookup and the rollup triggers all run.
"""
import http.client
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from multiprocessing import Pool
from urllib.parse import urlsplit

GOAL = 0.8
SECONDS = 6
ROUNDS = 5
PROCESSES, THREADS = 2, 4  # the load: 8 phones at once, from two processes
STATIONS = 50


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(app: str, env: dict) -> tuple[subprocess.Popen, int]:
    """gunicorn -c gunicorn.conf.py --workers 2 serving ``app``; (process, port)."""
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


def phone(port: int, paths: list[str], seconds: float, cookie: bool) -> int:
    """One phone posting ratings on a kept-alive connection for ``seconds``; how many got a 303."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if cookie:  # the form's GET gives the phone its device cookie
        conn.request("GET", paths[0])
        response = conn.getresponse()
        response.read()
        headers["Cookie"] = response.getheader("Set-Cookie").split(";")[0]
    done, n = 0, 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        body = f"score={1 + n % 5}&key={secrets.token_urlsafe(16)}"
        conn.request("POST", paths[n % len(paths)], body, headers)
        response = conn.getresponse()
        response.read()
        done += response.status == 303
        n += 1
    return done


def load(args) -> int:
    port, paths, seconds, cookie = args
    counts = []
    threads = [threading.Thread(target=lambda: counts.append(phone(port, paths, seconds, cookie)))
               for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts)


def throughput(port: int, paths: list[str], cookie: bool) -> float:
    with Pool(PROCESSES) as pool:
        return sum(pool.map(load, [(port, paths, SECONDS, cookie)] * PROCESSES)) / SECONDS


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        env = {"FEEDBACK_DATABASE": os.path.join(directory, "service.db"),
               "FEEDBACK_SECRET_KEY": "bench-secret", "FEEDBACK_SCHEDULER": "off",
               "BARE_DATABASE": os.path.join(directory, "bare.db")}
        csv_path = os.path.join(directory, "stations.csv")
        with open(csv_path, "w", encoding="utf-8") as out:
            out.write("code,name,district,tier,kind\n")
            out.writelines(f"B-{n:03d},驿站{n},城区,city,fixed\n" for n in range(STATIONS))
        flask = [sys.executable, "-m", "flask", "--app", "app"]
        subprocess.run([*flask, "stations", "import", csv_path], env={**os.environ, **env},
                       check=True, capture_output=True)
        paths = [urlsplit(subprocess.run([*flask, "stations", "url", f"B-{n:03d}"],
                                         env={**os.environ, **env}, check=True,
                                         capture_output=True, text=True).stdout.strip()).path
                 for n in range(STATIONS)]
        service, service_port = start_gunicorn("app:create_app()", env)
        bare, bare_port = start_gunicorn("bench.bare_app:app", env)
        queued, queued_port = start_gunicorn(
            "bench.bare_app:app", {**env, "BARE_QUEUE": "1",
                                   "BARE_DATABASE": os.path.join(directory, "queued.db")})
        try:
            ours, plain, fair = [], [], []
            for _ in range(ROUNDS):  # alternate, so a noisy moment hurts all three
                plain.append(throughput(bare_port, ["/rate"], cookie=False))
                fair.append(throughput(queued_port, ["/rate"], cookie=False))
                ours.append(throughput(service_port, paths, cookie=True))
        finally:
            for process in (service, bare, queued):
                process.terminate()
                process.wait()
    ours_rate, plain_rate, fair_rate = (sorted(runs)[ROUNDS // 2] for runs in (ours, plain, fair))
    ratio = ours_rate / plain_rate
    print(f"rating_post: bare Flask+SQLite insert {plain_rate:.0f}/s, rating POST with devices "
          f"{ours_rate:.0f}/s, ratio {ratio:.2f}; {'meets' if ratio >= GOAL else 'MISSES'} the "
          f"{GOAL}x goal (gunicorn -w 2, {PROCESSES * THREADS} phones, median of {ROUNDS}). "
          f"Against a bare insert whose writers queue as ours do ({fair_rate:.0f}/s): "
          f"{ours_rate / fair_rate:.2f}")
