"""A whole province: 10,000 stations and (by default) 2,000,000 ratings over three years.

Times the daily digest, the downgrade scan, the staff station list and the public station JSON,
and recording one rating through the form's path, each beside a bare baseline from the same run:
one indexed lookup of a station by code. Set BENCH_RATINGS to change the number of ratings.
"""
import os
import random
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from bench.harness import median_seconds

STATIONS = 10_000
RATINGS = int(os.environ.get("BENCH_RATINGS", 2_000_000))
TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 27)


def main() -> None:
    os.environ.setdefault("FEEDBACK_SECRET_KEY", "bench-secret")
    from app import create_app
    from feedback.clock import FixedClock, to_epoch
    from feedback.counts.ratings import record
    from feedback.places import stations
    from feedback.storage.db import get_db, once_key, write
    from jobs import tasks

    clock = FixedClock(datetime(2026, 11, 28, 1, 0, tzinfo=timezone.utc))
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"DATABASE": os.path.join(folder, "province.db"), "CLOCK": clock,
                          "SCHEDULER": False})
        with app.app_context():
            db = get_db()
            rows = [stations.validate({"code": f"P-{i:05d}", "name": f"驿站{i}",
                                       "district": f"区{i % 97}", "tier": "city", "kind": "fixed",
                                       "opened_on": "2023-01-01"})[0] for i in range(STATIONS)]
            with write(db):
                stations.upsert(db, rows, DAY, clock.now())
            start, random_source = time.perf_counter(), random.Random(7)
            first = datetime(2023, 12, 1, tzinfo=timezone.utc)
            span = (datetime(2026, 11, 28, tzinfo=timezone.utc) - first).total_seconds()
            batch = 50_000
            for offset in range(0, RATINGS, batch):
                with write(db):
                    values = []
                    for _ in range(min(batch, RATINGS - offset)):
                        at = first + timedelta(seconds=random_source.random() * span)
                        values.append((random_source.randrange(1, STATIONS - 300), to_epoch(at),
                                       at.astimezone(TZ).date().isoformat(),
                                       random_source.choice((5, 5, 5, 4, 4, 3, 2, 1)), "import"))
                    db.conn.executemany(
                        "INSERT INTO ratings (station_id, rated_at, day, score, source) VALUES (?, ?, ?, ?, ?)",
                        values)
            loading = time.perf_counter() - start

            lookup = median_seconds(lambda: stations.get(db, "P-04242"), 200)
            timings = {
                "digest of a day (all stations)": median_seconds(lambda: tasks.build_digest(DAY), 3),
                "digest of a day (one district)": median_seconds(
                    lambda: tasks.build_digest(DAY, district="区7"), 3),
                "downgrade scan rule (read + flags)": median_seconds(
                    lambda: tasks.scan(date(2026, 12, 1)), 3),
                "station list JSON (10,000)": median_seconds(
                    lambda: stations.summaries(db, TZ, "status != 'delisted'"), 3),
                "one station's JSON": median_seconds(lambda: stations.summary(db, "P-04242", TZ), 50),
            }
            keys = iter(range(10**9))

            def rate_once():
                with write(db):
                    record(db, station_id=4242, rated_at=clock.now(), score=4, source="form",
                           once_key=once_key(f"form:bench-{next(keys)}"), tz=TZ)
            timings["record one rating (form path)"] = median_seconds(rate_once, 200)
        app.extensions["feedback.db"].close()

    print(f"province: {STATIONS} stations, {RATINGS:,} ratings loaded in {loading:.0f} s "
          f"({RATINGS / loading:,.0f} a second with the rollup trigger)")
    print(f"  baseline: one station looked up by code {lookup * 1e6:.0f} µs")
    for name, seconds in timings.items():
        print(f"  {name}: {seconds * 1000:.1f} ms, ratio {seconds / lookup:,.0f}")
