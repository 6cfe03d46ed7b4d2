"""The finder at national scale, as a city's app and a worker's phone meet it: 200,000 stations in
400 cities brought in by `stations import` into a new file (no planner statistics, as every
import leaves a database), served by gunicorn -c gunicorn.conf.py, asked over HTTP.

Times the nearest ten to a phone through the JSON (plain, open now with water, and 50 km out of
town where the box has to grow), `/near` with a position and with a district, and the GeoJSON
feed (built whole, then the 304 a polling app gets), each beside `/healthz` on the same
connection in the same run: the bare cost of a request. Then `ANALYZE` runs and the searches are
timed again: the plans must not depend on it. Set BENCH_STATIONS to change the size.
"""
import http.client
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlencode

from bench.harness import start_gunicorn

STATIONS = int(os.environ.get("BENCH_STATIONS", 200_000))
CITIES = 400
QUERIES = 300
GOAL_MS = 10
SECRET = "bench-secret"


def write_stations(path: str, cities: list, source: random.Random) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write("code,name,district,latitude,longitude,tier,kind,amenities,hours\n")
        for number in range(STATIONS):
            city = source.randrange(CITIES)
            lat, lon = cities[city]
            out.write(f"N-{number:06d},驿站{number},城{city}区{number % 7},"
                      f"{lat + source.gauss(0, 0.08):.6f},{lon + source.gauss(0, 0.08):.6f},"
                      f"city,fixed,{source.choice(('water;microwave', 'water', 'sofa'))},"
                      f"{source.choice(('24h', '08:00-20:00', '07:00-11:30;13:30-21:00'))}\n")


def timed(connection: http.client.HTTPConnection, paths: list[str]) -> tuple[float, float]:
    """Median and 95th percentile seconds of GETs of ``paths`` on one kept-alive connection."""
    times = []
    for path in paths:
        start = time.perf_counter()
        connection.request("GET", path)
        answer = connection.getresponse()
        answer.read()
        times.append(time.perf_counter() - start)
        if answer.status != 200:
            raise RuntimeError(f"{path}: {answer.status}")
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95)]


def main() -> None:
    source = random.Random(11)
    # cities across China's populated box; stations scattered around each
    cities = [(source.uniform(22, 45), source.uniform(100, 125)) for _ in range(CITIES)]
    os.environ.setdefault("FEEDBACK_SECRET_KEY", SECRET)
    from feedback.places import geo

    def phones(spread: float) -> list[tuple[float, float]]:
        chosen = random.Random(5)
        return [geo.to_wgs84(lat + chosen.gauss(0, spread), lon + chosen.gauss(0, spread))
                for lat, lon in (chosen.choice(cities) for _ in range(QUERIES))]

    def near_json(spread: float, **filters) -> list[str]:
        return [f"/api/v1/public/stations?{urlencode({'lat': f'{lat:.6f}', 'lon': f'{lon:.6f}', **filters})}"
                for lat, lon in phones(spread)]

    searches = {
        "JSON nearest 10, in a city": near_json(0.05),
        "JSON nearest 10 open now with water": near_json(0.05, open_now=1, amenity="water"),
        "JSON nearest 10, 50 km out of town": near_json(0.5),
        "/near with a position": [f"/near?{urlencode({'lat': f'{lat:.6f}', 'lon': f'{lon:.6f}'})}"
                                  for lat, lon in phones(0.05)],
        "/near, a district": [f"/near?{urlencode({'district': f'城{n % CITIES}区{n % 7}'})}"
                              for n in range(QUERIES)],
    }
    with tempfile.TemporaryDirectory() as folder:
        database = os.path.join(folder, "finder.db")
        env = {"FEEDBACK_DATABASE": database, "FEEDBACK_SECRET_KEY": SECRET,
               "FEEDBACK_SCHEDULER": "off"}
        csv_path = os.path.join(folder, "stations.csv")
        write_stations(csv_path, cities, source)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "flask", "--app", "app", "stations", "import",
                        csv_path], env={**os.environ, **env}, check=True, capture_output=True)
        imported = time.perf_counter() - start
        results = {}
        for statistics_state in ("as imported (no statistics)", "after ANALYZE"):
            if statistics_state == "after ANALYZE":
                with sqlite3.connect(database) as conn:
                    conn.execute("ANALYZE")
            service, port = start_gunicorn("app:create_app()", env)
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
                timed(connection, ["/healthz"] * 20)  # both workers up, caches warm
                bare = timed(connection, ["/healthz"] * QUERIES)[0]
                timed(connection, searches["JSON nearest 10, in a city"][:20])
                rows = {name: timed(connection, paths) for name, paths in searches.items()}
                if statistics_state.startswith("as imported"):
                    feed_path = "/api/v1/public/stations.geojson"
                    start = time.perf_counter()
                    connection.request("GET", feed_path)
                    answer = connection.getresponse()
                    body, etag = answer.read(), answer.getheader("ETag")
                    rows["GeoJSON feed, built whole"] = (time.perf_counter() - start,) * 2
                    polls = []
                    for _ in range(50):
                        start = time.perf_counter()
                        connection.request("GET", feed_path, headers={"If-None-Match": etag})
                        connection.getresponse().read()
                        polls.append(time.perf_counter() - start)
                    rows["GeoJSON feed, unchanged (304)"] = (statistics.median(polls),) * 2
                    feed_mb = len(body) / 1e6
                connection.close()
            finally:
                service.terminate()
                service.wait()
            results[statistics_state] = (bare, rows)

    print(f"\nfinder: {STATIONS:,} stations in {CITIES} cities, `stations import` in "
          f"{imported:.0f} s; gunicorn -w 2, one connection, {QUERIES} requests each")
    for state, (bare, rows) in results.items():
        print(f"  {state}: baseline /healthz median {bare * 1000:.2f} ms")
        for name, (median, p95) in rows.items():
            goal = f"   goal: under {GOAL_MS} ms" if name.startswith(("JSON", "/near")) else ""
            print(f"    {name:38} median {median * 1000:8.2f} ms, p95 {p95 * 1000:8.2f} ms "
                  f"({median / bare:,.1f}x the baseline){goal}")
    print(f"  the GeoJSON feed is {feed_mb:.1f} MB")
