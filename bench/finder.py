"""The finder at national scale: 200,000 stations in 400 cities.

Times the nearest ten stations to a phone (plain, open now with water, and a sparse place where
the box has to grow), beside a bare baseline from the same run (one indexed lookup of a
station by code) and beside measuring every station without the R*Tree. Then the GeoJSON feed:
building it whole, and the 304 an app polling it gets. Set BENCH_STATIONS to change the size.
"""
import os
import random
import statistics
import tempfile
import time
from datetime import date, datetime, timezone

from bench.harness import median_seconds

STATIONS = int(os.environ.get("BENCH_STATIONS", 200_000))
CITIES = 400
QUERIES = 400


def main() -> None:
    os.environ.setdefault("FEEDBACK_SECRET_KEY", "bench-secret")
    from app import create_app
    from feedback.clock import FixedClock
    from feedback.places import finder, geo, stations
    from feedback.storage.db import get_db, write

    clock = FixedClock(datetime(2026, 11, 28, 4, 0, tzinfo=timezone.utc))
    source = random.Random(11)
    # cities across China's populated box; stations scattered around each, ~10 km apart at most
    cities = [(source.uniform(22, 45), source.uniform(100, 125)) for _ in range(CITIES)]
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"DATABASE": os.path.join(folder, "finder.db"), "CLOCK": clock,
                          "SCHEDULER": False})
        with app.app_context():
            db = get_db()
            rows = []
            for number in range(STATIONS):
                lat, lon = source.choice(cities)
                rows.append(stations.validate({
                    "code": f"N-{number:06d}", "name": f"驿站{number}", "district": f"区{number % 2000}",
                    "latitude": f"{lat + source.gauss(0, 0.08):.6f}",
                    "longitude": f"{lon + source.gauss(0, 0.08):.6f}", "tier": "city",
                    "kind": "fixed", "amenities": source.choice(("water;microwave", "water", "sofa")),
                    "hours": source.choice(("24h", "08:00-20:00", "07:00-11:30;13:30-21:00"))})[0])
            start = time.perf_counter()
            with write(db):
                stations.upsert(db, rows, date(2026, 11, 28), clock.now())
            loading = time.perf_counter() - start
            local_now = clock.now().astimezone(app.config["TIMEZONE"])

            def phones(spread: float):
                chosen = random.Random(5)
                for _ in range(QUERIES):
                    lat, lon = chosen.choice(cities)
                    yield geo.to_wgs84(lat + chosen.gauss(0, spread), lon + chosen.gauss(0, spread))

            def timed(questions) -> tuple[float, float]:
                times = []
                for question in questions:
                    start = time.perf_counter()
                    finder.nearest(db, question, local_now)
                    times.append(time.perf_counter() - start)
                times.sort()
                return statistics.median(times), times[int(len(times) * 0.95)]

            lookup = median_seconds(lambda: stations.get(db, "N-104242"), 300)
            results = {
                "nearest 10, in a city": timed(
                    finder.Question(lat, lon) for lat, lon in phones(0.05)),
                "nearest 10 open now with water": timed(
                    finder.Question(lat, lon, open_now=True, amenity="water") for lat, lon in phones(0.05)),
                "nearest 10, 50 km out of town": timed(
                    finder.Question(lat, lon) for lat, lon in phones(0.5)),
            }
            everything = list(db.query("SELECT * FROM stations"))
            here = next(phones(0.05))
            start = time.perf_counter()
            sorted(everything, key=lambda row: geo.distance_m(
                here, geo.to_wgs84(row["latitude"], row["longitude"])))[:10]
            brute = time.perf_counter() - start

        client = app.test_client()
        start = time.perf_counter()
        first = client.get("/api/v1/public/stations.geojson", buffered=True)
        feed = time.perf_counter() - start
        etag = first.headers["ETag"]
        poll = median_seconds(lambda: client.get("/api/v1/public/stations.geojson",
                                                 headers={"If-None-Match": etag}), 50)
        empty = median_seconds(lambda: client.get("/healthz"), 50)
        app.extensions["feedback.db"].close()

    print(f"\nfinder: {STATIONS:,} stations in {CITIES} cities (loaded in {loading:.0f} s)")
    print(f"  baseline, one station by code: {lookup * 1000:.3f} ms")
    for name, (median, p95) in results.items():
        print(f"  {name:34} median {median * 1000:6.2f} ms, p95 {p95 * 1000:6.2f} ms "
              f"({median / lookup:,.0f}x the baseline)   goal: under 10 ms")
    print(f"  measuring every station instead (no index): {brute * 1000:,.0f} ms")
    print(f"  GeoJSON feed, built whole: {feed:.2f} s, {len(first.data) / 1e6:.1f} MB")
    print(f"  GeoJSON feed, unchanged (304): {poll * 1000:.2f} ms; "
          f"an empty request (/healthz): {empty * 1000:.2f} ms")
