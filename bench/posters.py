"""Posters for 757 stations (the city we model), PNG and then PDF, through the real command.

Goals: all PNG posters in under 60 s, and the PDF in under 60 s, on this 2-core machine. The
baseline writes the same number of blank A5 PNGs at 300 dpi in one process: the floor cost of
putting that many pages on disk, so the ratios show what drawing the posters adds.
"""
import os
import tempfile
import time

from PIL import Image

from bench.harness import served_app
from qr import posters

STATIONS = 757
GOAL_SECONDS = 60


def stations_csv(count: int) -> str:
    tiers, kinds = ("city", "provincial", "national"), ("fixed", "mobile", "partner")
    rows = ["code,name,district,tier,kind"]
    rows += [f"ST-{i:05d},第{i}号户外劳动者驿站,第{i % 16 + 1}区,{tiers[i % 3]},{kinds[i % 3]}"
             for i in range(count)]
    return "\n".join(rows) + "\n"


def blank_pngs(folder: str, count: int) -> float:
    start = time.perf_counter()
    for i in range(count):
        Image.new("RGB", (posters.WIDTH, posters.HEIGHT), "#ffffff").save(
            os.path.join(folder, f"{i}.png"), dpi=(300, 300), compress_level=1, compress_type=3)
    return time.perf_counter() - start


def main() -> None:
    with served_app() as (app, _), tempfile.TemporaryDirectory() as folder:
        runner = app.test_cli_runner()
        csv_path = os.path.join(folder, "stations.csv")
        with open(csv_path, "w", encoding="utf-8") as out:
            out.write(stations_csv(STATIONS))
        assert runner.invoke(args=["stations", "import", csv_path]).exit_code == 0

        os.makedirs(os.path.join(folder, "blank"))
        baseline = blank_pngs(os.path.join(folder, "blank"), STATIONS)
        timings = {}
        for kind in ("png", "pdf"):
            start = time.perf_counter()
            result = runner.invoke(args=["qr", "posters", "--out", os.path.join(folder, kind),
                                         "--format", kind])
            timings[kind] = time.perf_counter() - start
            assert result.exit_code == 0, result.output

    print(f"posters: {STATIONS} stations on {os.cpu_count()} cores; "
          f"baseline {STATIONS} blank A5 PNGs {baseline:.1f} s")
    for kind, seconds in timings.items():
        verdict = "meets" if seconds < GOAL_SECONDS else "MISSES"
        print(f"  {kind}: {seconds:.1f} s ({seconds / STATIONS * 1000:.0f} ms a poster), "
              f"ratio to baseline {seconds / baseline:.2f}; {verdict} the {GOAL_SECONDS} s goal")
