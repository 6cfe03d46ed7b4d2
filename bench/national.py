"""National scale: 200,000 stations and up to 100 million ratings on one machine.

`make bench national` draws the stations and a year of ratings straight into one database file
(add_ratings: the rows drawn in the order of time without a journal, then every rollup recounted
by rollups.rebuild()) and measures every figure of issue #12 at each size in BENCH_SIZES (default
1 M, 10 M and 100 M ratings), beside bare baselines measured in the same run: the CLI's start-up
(`flask --app app rollups --help`) for commands, whose own work beyond it is timed in this
process (in_process()), and an empty request (/healthz) for pages. The last 1 M ratings of each
size come in through `ratings import`. It writes what it found to bench/RESULTS.md. 10 M takes
some 15 minutes; 100 M an hour or more and some 35 GB of disk.
BENCH_DIR says where (default: a temporary folder); BENCH_KEEP=1 leaves the database there, with a
copy of it at each size before the last; BENCH_DATABASE=PATH[,PATH…] measures such databases
again as they are (after a change to the code) without generating anything (with
BENCH_IMPORT=1, then importing 1 M more ratings into each, and last a history of BENCH_FILE_ROWS
(default 10 M) ratings as one file into a new database of the stations alone, the issue's own
figure for the import).
"""
import csv
import logging
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.harness import median_seconds
from feedback.counts.windows import KEPT

STATIONS = int(os.environ.get("BENCH_STATIONS", 200_000))
SIZES = [int(size) for size in os.environ.get("BENCH_SIZES", "1000000,10000000,100000000").split(",")]
IMPORT_ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", 1_000_000))
TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 28)
LAST = datetime(2026, 11, 28, 3, 0, tzinfo=timezone.utc)  # 11:00 on TODAY in Shanghai
FIRST = LAST - timedelta(days=365)  # the national rate: 100 M ratings a year
BATCH = 1_000_000
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
BUSY = 7  # the station with the most ratings: every rating picks it one time in BUSY_SHARE
BUSY_SHARE = 2000
SCORES = (5, 5, 5, 4, 4, 3, 2, 1)  # the generated ratings' scores: mostly satisfied
PHONES = 101  # phones that open a form and rate, each at another station, under gunicorn
COMMENTS = ("热水没了", "微波炉坏了，好几天没人修", "很干净，谢谢！", "空调太冷", "沙发很舒服")


def flask_env(database: str) -> dict:
    return {**os.environ, "FEEDBACK_DATABASE": database, "FEEDBACK_SCHEDULER": "off",
            "FEEDBACK_SECRET_KEY": "bench-secret", "FEEDBACK_TIMEZONE": "Asia/Shanghai"}


def flask(database: str, *args: str) -> subprocess.CompletedProcess:
    """One `flask --app app …` command against the bench's database."""
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args],
                          env=flask_env(database), capture_output=True, text=True, check=True)


def command_seconds(database: str, *args: str, repeat: int = 3) -> float:
    return median_seconds(lambda: flask(database, *args), repeat)


def in_process(app, *args: str) -> None:
    """One command's own work, start-up aside: run in this process (click's runner), on a new
    connection as a command's own process would have, its log lines not written (a scan of a
    sparse database logs a line for each of a hundred thousand stations it flags). Timed so, a
    figure "beyond start-up" is read directly; the difference of two processes' times is lost
    in start-up's own spread."""
    app.extensions["feedback.db"].close()
    logging.disable(logging.INFO)  # a scan's line for each station flagged: not the bench's output
    try:
        result = app.test_cli_runner().invoke(args=list(args))
    finally:
        logging.disable(logging.NOTSET)
    assert result.exit_code == 0, (args, result.output)


def add_stations(db, clock) -> None:
    from feedback.places import stations
    from feedback.storage.db import write

    source = random.Random(3)
    rows = [stations.validate({
        "code": f"N-{number:06d}", "name": f"驿站{number}", "district": f"区{number % 2800}",
        "latitude": f"{source.uniform(22, 45):.5f}", "longitude": f"{source.uniform(100, 125):.5f}",
        "tier": source.choice(("city", "city", "provincial", "national")), "kind": "fixed",
        "opened_on": "2023-06-01", "amenities": "water;microwave", "hours": "24h"})[0]
            for number in range(1, STATIONS + 1)]
    with write(db):
        stations.upsert(db, rows, TODAY, clock.now())


def add_ratings(database: str, count: int) -> None:
    """``count`` more ratings over the year, drawn by SQLite itself (Python would take hours at
    100 M): most from the form with a device, some imported with a comment, one station much
    busier than the rest, scores drawn from SCORES. Local days are Shanghai's (UTC+8, no summer
    time). SQLite's random() has no seed: the same figures, not the same rows, from run to run.

    Loaded as a big history is best loaded, on a connection of its own while nothing else has
    the file open: no journal (a crash here loses the bench's database, nothing else), a cache
    that holds both rating indexes, the rows drawn a slice of the year at a time in the order
    of time (so the day index only grows at its end), the per-rating trigger set aside and
    every rollup recounted by rollups.rebuild() instead: the same rollups as the triggers would
    keep (`rollups check` agrees)."""
    import sqlite3

    from feedback.counts import rollups
    from feedback.counts.ratings import ONCE_KEY_DAYS

    first, span = int(FIRST.timestamp()), int((LAST - FIRST).total_seconds())
    scores = "".join(str(score) for score in SCORES)
    comments = ", ".join(f"'{comment}'" for comment in COMMENTS)
    db = sqlite3.connect(database, isolation_level=None)
    mode = db.execute("PRAGMA journal_mode = OFF").fetchone()[0]
    assert mode == "off", f"another connection has {database} open (journal mode {mode})"
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -8000000")  # 8 GB: both rating indexes, at 100 M, in memory
    # the rebuild's GROUP BYs sort a hundred million rows: on every core
    db.execute(f"PRAGMA threads = {os.cpu_count()}")
    db.execute("BEGIN")
    trigger = db.execute("SELECT sql FROM sqlite_master WHERE name = 'ratings_roll_up'").fetchone()[0]
    db.execute("DROP TRIGGER ratings_roll_up")
    devices = db.execute("SELECT count(*) FROM devices").fetchone()[0]
    batches = -(-count // BATCH)
    for batch in range(batches):
        size = count * (batch + 1) // batches - count * batch // batches
        start = first + span * batch // batches
        length = first + span * (batch + 1) // batches - start
        wanted = devices + size // 20  # a phone rates about twenty times
        db.execute("""WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                      INSERT INTO devices (key_hash, label, created_at)
                      SELECT lower(hex(randomblob(16))), 'd' || i, '2024-01-01T00:00:00Z' FROM n""",
                   [devices + 1, wanted])
        devices = wanted
        db.execute(
            f"""WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?),
                -- MATERIALIZED: each random() drawn once a row; a plain CTE would draw again
                -- wherever a column is used (a rating's day from another instant than its own)
                drawn AS MATERIALIZED (SELECT ? + abs(random()) % ? AS at, abs(random()) % 10 AS kind,
                                 abs(random()) AS station, abs(random()) AS pick FROM n)
                INSERT INTO ratings (station_id, rated_at, day, score, comment, source, device_id)
                SELECT CASE WHEN station % {BUSY_SHARE} = 0 THEN {BUSY}
                            ELSE 1 + (station / {BUSY_SHARE}) % {STATIONS} END,
                       at, date(at + 8 * 3600, 'unixepoch'),
                       CAST(substr('{scores}', 1 + pick % {len(SCORES)}, 1) AS INTEGER),
                       CASE WHEN kind < 8 THEN ''
                            ELSE json_extract(json_array({comments}),
                                              '$[' || ((pick / 8) % {len(COMMENTS)}) || ']') END,
                       CASE WHEN kind < 8 THEN 'form' ELSE 'import' END,
                       CASE WHEN kind < 8 THEN 1 + pick % ? END
                FROM drawn ORDER BY at""",
            [size, start, length, devices])
    db.execute(trigger)
    rollups.rebuild(db)
    # the once keys of the last week's forms, as stored (feedback.counts.ratings.ONCE_KEY_DAYS)
    db.execute("""INSERT OR IGNORE INTO once_keys (key, rating_id, at)
                  SELECT randomblob(12), id, rated_at FROM ratings
                  WHERE day >= ? AND source = 'form'""",
               [(TODAY - timedelta(days=ONCE_KEY_DAYS)).isoformat()])
    db.execute("COMMIT")
    db.execute("PRAGMA journal_mode = WAL")
    db.close()


def ratings_file(path: str, rows: int, seed: int) -> None:
    source = random.Random(seed)
    span = (LAST - FIRST).total_seconds()
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["station_code", "rated_at", "score", "comment"])
        for _ in range(rows):
            at = (FIRST + timedelta(seconds=source.random() * span)).astimezone(TZ)
            writer.writerow([f"N-{source.randrange(1, STATIONS + 1):06d}",
                             at.isoformat(timespec="seconds"), source.choice(SCORES),
                             source.choice(COMMENTS) if source.random() < 0.2 else ""])


# The import's peak memory is read by the import itself (VmHWM in /proc at exit): a child's
# ru_maxrss would count the bench's own memory, which every process it starts inherits at fork.
PEAK_AT_EXIT = ("import atexit, runpy, sys; atexit.register(lambda: sys.stderr.write("
                "[line for line in open('/proc/self/status') if line.startswith('VmHWM')][0])); "
                "sys.argv = ['flask', *sys.argv[1:]]; runpy.run_module('flask', run_name='__main__')")


def timed_import(database: str, path: str, rows: int) -> tuple[float, str]:
    """(rows a second, peak memory) of `ratings import` of the file, in its own process: its own
    peak, and the largest sum of it and the processes it reads the file with (sampled). What
    the steps before wrote is flushed to disk first, so the import does not share the disk
    with their write-back."""
    os.sync()
    start = time.perf_counter()
    running = subprocess.Popen([sys.executable, "-c", PEAK_AT_EXIT, "--app", "app", "ratings",
                                "import", path], env=flask_env(database), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    together = 0
    while running.poll() is None:
        together = max(together, resident_kb(running.pid))
        time.sleep(0.25)
    seconds = time.perf_counter() - start
    out, err = running.communicate()
    if running.returncode:
        raise subprocess.CalledProcessError(running.returncode, running.args, out, err)
    peak_kb = int(err.rsplit("VmHWM:", 1)[1].split()[0])
    return rows / seconds, f"{peak_kb / 1024:,.0f} MB peak ({together / 1024:,.0f} MB with its parts)"


def resident_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants now, in kB (0 once it has gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            own = next((int(line.split()[1]) for line in status if line.startswith("VmRSS")), 0)
        children = []
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as listed:
                children += [int(child) for child in listed.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return own + sum(resident_kb(child) for child in children)


def staff_token(app) -> str:
    """A bench admin (made unless a kept database has it) and a new API token of it."""
    from feedback import accounts
    from feedback.storage.db import get_db, write

    with app.app_context():
        db = get_db()
        with write(db):
            if accounts.user_by(db, "username", "bench") is None:
                accounts.create_user(db, "bench", "bench-password", "admin", None, None)
            return accounts.create_token(db, accounts.user_by(db, "username", "bench")["id"])


def pages() -> dict[str, tuple[str, int]]:
    """The staff pages and JSON measured: name → (path, repeat)."""
    busy = f"N-{BUSY:06d}"
    day = (TODAY - timedelta(days=1)).isoformat()
    return {
        "/digests/DAY": (f"/digests/{day}", 3),
        "/stations (a page)": ("/stations", 5),
        "/stations/CODE (the busiest)": (f"/stations/{busy}", 5),
        "/api/v1/stations?limit=100": ("/api/v1/stations?limit=100", 5),
        "ratings API, 30 days of the busiest station": (f"/api/v1/stations/{busy}/ratings?to={day}", 10),
        "/reports/weeks/WEEK": ("/reports/weeks/2026-W47", 3),
        "/reports/months/MONTH": ("/reports/months/2026-10", 3),
        "/flags": ("/flags", 3),
        "/cases": ("/cases", 3),
        "/signals": ("/signals", 3),
    }


def page_figures(app, token: str) -> dict[str, float]:
    """Pages and JSON through the app, as an admin (seconds, median)."""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def get(path):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.status_code)
        return response

    return {"empty request (/healthz)": median_seconds(lambda: client.get("/healthz"), 20),
            **{name: median_seconds(lambda: get(path), repeat)
               for name, (path, repeat) in pages().items()}}


def serving_figures(app, database: str, token: str) -> dict[str, str]:
    """The service as deployed, under gunicorn with 2 workers: a phone's form GET and rating
    POST beside an empty request (medians, each phone new and at another station), and each
    worker's resident memory once both have served every staff page.

    The database file is read through first, into the system's page cache, as a server that
    has been up a while holds it (at 100 M, 13.5 GB of this machine's 24 GiB): otherwise a
    POST waits on the disk for the pages of its station, its device and its rollups, and the
    figure is of what the earlier commands of the run happened to read, not of the size."""
    import http.client
    import threading
    from urllib.parse import urlsplit

    from bench.harness import start_gunicorn
    from qr.links import station_url

    with app.app_context():
        from feedback.storage.db import get_db
        forms = [urlsplit(station_url(row)).path for row in get_db().query(
            "SELECT code, link_version FROM stations WHERE id % 1000 = 1 LIMIT ?", [PHONES])]
    for path in (database, f"{database}-wal"):
        if os.path.exists(path):
            with open(path, "rb") as file:
                while file.read(1 << 24):
                    pass
    process, port = start_gunicorn("app:create_app()", flask_env(database))

    def request(method, path, body=None, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        connection.request(method, path, body, headers or {})
        response = connection.getresponse()
        return response, response.read().decode()

    def timed(action):
        start = time.perf_counter()
        found = action()
        return time.perf_counter() - start, found

    try:
        for _ in range(10):  # each worker opens its connection and fills its caches
            request("GET", forms[0])
        empty = median_seconds(lambda: request("GET", "/healthz"), 20)
        gets, posts = [], []
        for path in forms:
            seconds, (response, page) = timed(lambda: request("GET", path))
            gets.append(seconds)
            key = page.split('name="key" value="')[1].split('"')[0]
            cookie = response.getheader("Set-Cookie").split(";")[0]
            seconds, (response, _) = timed(lambda: request(
                "POST", path, f"score=4&key={key}",
                {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}))
            assert response.status == 303, response.status
            posts.append(seconds)

        def staff_pages():
            for path, _ in pages().values():
                response, _ = request("GET", path, headers={"Authorization": f"Bearer {token}"})
                assert response.status == 200, (path, response.status)
        readers = [threading.Thread(target=staff_pages) for _ in range(4)]  # both workers busy
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join()
        with open(f"/proc/{process.pid}/task/{process.pid}/children") as children:
            workers = children.read().split()
        resident = [int(line.split()[1]) / 1024 for pid in workers
                    for line in open(f"/proc/{pid}/status") if line.startswith("VmRSS")]
    finally:
        process.terminate()
        process.wait()
    middle = len(forms) // 2
    get, post = sorted(gets)[middle], sorted(posts)[middle]
    return {"empty request under gunicorn (baseline)": f"{empty * 1000:.1f} ms",
            "form GET under gunicorn": f"{get * 1000:.1f} ms ({get / empty:.1f}x)",
            "rating POST under gunicorn": f"{post * 1000:.1f} ms ({post / empty:.1f}x)",
            "gunicorn workers' memory after every page": " / ".join(f"{mb:.0f} MB" for mb in resident)}


def forget_kept(database: str) -> None:
    """Drop the digests' kept windows and the weekly reports' kept lists, so that the next
    digest and report work out their own."""
    import sqlite3

    connection = sqlite3.connect(database)
    with connection:
        for table in ("station_windows", "window_ends", "week_lists"):
            connection.execute(f"DELETE FROM {table}")
    connection.close()


def storage(database: str, ratings: int) -> tuple[float, float, dict[str, float]]:
    """GB in use (the file less its free pages: a migration that drops an index leaves them
    for the next rows), bytes a rating in use, and bytes a rating in each table and index."""
    import sqlite3

    connection = sqlite3.connect(database)
    in_use = connection.execute("SELECT (page_count - freelist_count) * page_size "
                                "FROM pragma_page_count, pragma_freelist_count, pragma_page_size").fetchone()[0]
    by_name = dict(connection.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"))
    connection.close()
    return in_use / 1e9, in_use / ratings, {name: size / ratings for name, size in by_name.items()}


def measure(app, database: str, size: int, token: str) -> dict[str, str]:
    """Every figure but the import's, on the database as it is."""
    figures: dict[str, str] = {}
    figures["CLI start-up (baseline)"] = f"{command_seconds(database, 'rollups', '--help'):.2f} s"
    yesterday = TODAY - timedelta(days=1)
    forget_kept(database)
    # the windows the scheduler keeps, of the days before yesterday: half a year back is summed
    for back in range(KEPT - 1, 0, -1):
        in_process(app, "digest", "show", "--date", (yesterday - timedelta(days=back)).isoformat())
    for name, args in (  # what the scheduler works out after midnight, the cold way
            ("digest show, first of the day (window moved on a day)",
             ("digest", "show", "--date", yesterday.isoformat(), "--json")),
            ("report week, first (its lists of stations worked out)",
             ("report", "week", "--week", "2026-W47", "--json"))):
        figures[name] = f"{median_seconds(lambda: in_process(app, *args), 1):.2f} s beyond start-up"
    for name, args in (
            ("digest show", ("digest", "show", "--date", yesterday.isoformat(), "--json")),
            ("digest show, half a year back (window summed)",
             ("digest", "show", "--date", (TODAY - timedelta(days=182)).isoformat(), "--json")),
            ("downgrade scan", ("downgrade", "scan", "--as-of", TODAY.isoformat(), "--json")),
            ("downgrade scan --as-of half a year back",
             ("downgrade", "scan", "--as-of", (TODAY - timedelta(days=182)).isoformat(), "--json")),
            ("report week", ("report", "week", "--week", "2026-W47", "--json")),
            ("report month", ("report", "month", "--month", "2026-10", "--json")),
            # the night's look for signals; /signals below reads what it kept
            ("signals scan (a day, nightly)", ("signals", "scan", "--date", yesterday.isoformat()))):
        figures[name] = f"{median_seconds(lambda: in_process(app, *args), 3):.2f} s beyond start-up"
    measured = page_figures(app, token)
    empty = measured.pop("empty request (/healthz)")
    figures["empty request (baseline)"] = f"{empty * 1000:.1f} ms"
    for name, seconds in measured.items():
        figures[name] = f"{seconds * 1000:.0f} ms ({seconds / empty:.0f}x)"
    figures.update(serving_figures(app, database, token))
    in_use, whole, parts = storage(database, size)
    figures["database"] = (f"{in_use:.2f} GB in use ({os.path.getsize(database) / 1e9:.2f} GB file), "
                           f"{whole:.0f} bytes a rating")
    figures["bytes a rating, the largest tables and indexes"] = ", ".join(
        f"{name} {value:.0f}" for name, value in list(parts.items())[:8])
    return figures


def main() -> None:
    """Generate and measure each size of BENCH_SIZES; or, with BENCH_DATABASE (databases, comma
    separated, that runs with BENCH_KEEP=1 left), measure those as they are."""
    os.environ.setdefault("FEEDBACK_SECRET_KEY", "bench-secret")
    kept = os.environ.get("BENCH_DATABASE")
    write_results(measure_kept(kept.split(",")) if kept else generate_and_measure())


def national_app(database: str):
    from app import create_app
    from feedback.clock import FixedClock

    clock = FixedClock(LAST)
    return create_app({"DATABASE": database, "CLOCK": clock, "SCHEDULER": False,
                       "TIMEZONE": TZ}), clock


def import_figure(database: str, rows: int, seed: int) -> dict[str, str]:
    """`ratings import` of ``rows`` more ratings, through the command, in its own process."""
    path = os.path.join(os.path.dirname(database), f"import-{seed}.csv")
    ratings_file(path, rows, seed=seed)
    rate, peak = timed_import(database, path, rows)
    os.remove(path)
    return {"ratings import": f"{rate:,.0f} rows/s, {peak}"}


def add_to(table: dict, size: int, figures: dict[str, str], started: float) -> None:
    for name, value in figures.items():
        table.setdefault(name, {})[size] = value
    print(f"\nnational: {STATIONS:,} stations, {size:,} ratings "
          f"({time.perf_counter() - started:.0f} s so far)")
    for name, value in figures.items():
        print(f"  {name}: {value}")


def generate_and_measure() -> dict[str, dict[int, str]]:
    from feedback.storage.db import get_db

    folder = tempfile.mkdtemp(dir=os.environ.get("BENCH_DIR"))
    database = os.path.join(folder, "national.db")
    app, clock = national_app(database)
    table: dict[str, dict[int, str]] = {}
    started = time.perf_counter()
    with app.app_context():
        add_stations(get_db(), clock)
    token = staff_token(app)
    loaded = 0
    for size in SIZES:
        imported = IMPORT_ROWS if size - loaded >= IMPORT_ROWS else 0
        app.extensions["feedback.db"].close()  # add_ratings() has the file to itself
        add_ratings(database, size - loaded - imported)
        # the last IMPORT_ROWS of this size come in through `ratings import`
        figures = import_figure(database, imported, seed=size) if imported else {}
        loaded = size
        figures.update(measure(app, database, size, token))
        add_to(table, size, figures, started)
        if os.environ.get("BENCH_KEEP") and size != SIZES[-1]:  # a copy of each size as well
            keep_copy(app, database, os.path.join(folder, f"national-{size}.db"))
    app.extensions["feedback.db"].close()
    if os.environ.get("BENCH_KEEP"):  # BENCH_KEEP=1 leaves the database for a closer look
        print(f"kept: {database}")
    else:
        shutil.rmtree(folder)
    return table


def keep_copy(app, database: str, path: str) -> None:
    import sqlite3

    app.extensions["feedback.db"].close()
    connection = sqlite3.connect(database)
    connection.execute("VACUUM INTO ?", [path])
    connection.close()
    print(f"kept: {path}")


def measure_kept(databases: list[str]) -> dict[str, dict[int, str]]:
    """Each database measured as it is; with BENCH_IMPORT=1, IMPORT_ROWS more are then imported
    for the import's figure. Last, not first: at 100 M an import writes some 20 GB (its
    write-ahead log, then the checkpoint), and reads measured while the system flushes that
    and has dropped the database from its page cache are figures of the import's wake, not of
    the service."""
    from feedback.storage.db import get_db

    table: dict[str, dict[int, str]] = {}
    started = time.perf_counter()
    for database in databases:
        app, _ = national_app(database)
        token = staff_token(app)
        with app.app_context():
            size = get_db().execute("SELECT count(*) FROM ratings").fetchone()[0]
        figures = measure(app, database, size, token)
        app.extensions["feedback.db"].close()
        if os.environ.get("BENCH_IMPORT"):
            figures.update(import_figure(database, IMPORT_ROWS, seed=int(time.time())))
        add_to(table, size, figures, started)
    if os.environ.get("BENCH_IMPORT"):
        rows = int(os.environ.get("BENCH_FILE_ROWS", 10_000_000))
        add_to(table, rows, new_database_import(rows, os.path.dirname(databases[0])), started)
    return table


def new_database_import(rows: int, folder: str) -> dict[str, str]:
    """The issue's own figure: a whole history of ``rows`` ratings imported, as one file, into a
    new database of the nation's stations (the move from an earlier system)."""
    from feedback.storage.db import get_db

    folder = tempfile.mkdtemp(dir=folder)
    database = os.path.join(folder, "new.db")
    app, clock = national_app(database)
    with app.app_context():
        add_stations(get_db(), clock)
    app.extensions["feedback.db"].close()
    path = os.path.join(folder, "history.csv")
    ratings_file(path, rows, seed=rows)
    rate, peak = timed_import(database, path, rows)
    shutil.rmtree(folder)
    return {"ratings import of a whole history into a new database": f"{rate:,.0f} rows/s, {peak}"}


def write_results(table: dict[str, dict[int, str]]) -> None:
    sizes = sorted({size for row in table.values() for size in row})
    lines = [f"## national, {date.today().isoformat()}: {STATIONS:,} stations",
             "", f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
             f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
             f"Python {platform.python_version()}, SQLite {__import__('sqlite3').sqlite_version}.", "",
             "| figure | " + " | ".join(f"{size:,}" for size in sizes) + " |",
             "|---|" + "---|" * len(sizes)]
    for name, row in table.items():
        lines.append(f"| {name} | " + " | ".join(row.get(size, "") for size in sizes) + " |")
    previous = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    RESULTS.write_text(previous.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"\nwritten to {RESULTS}")
