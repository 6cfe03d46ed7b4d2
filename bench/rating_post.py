"""The rating form's GET and POST under gunicorn -c gunicorn.conf.py (two workers), beside a bare
Flask app that inserts one row into SQLite per POST (bench/bare_app.py), served the same way, in
one run. The load is wrk's: 32 connections, each request a phone (one of PHONES device cookies)
at one of the city's 757 stations, so almost every rating counts and runs every rollup. Rounds
alternate the three, so a noisy moment hurts each; the figure is the median of the rounds'
ratios. Goals: the POST at GOAL_POST of the bare app's requests a second or more, the GET at
GOAL_GET (issue 26; they stay for every later feature on the rating path).
"""
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

from bench.harness import start_gunicorn

GOAL_POST, GOAL_GET = 0.8, 0.5
ROUNDS = 7
SECONDS = 5
CONNECTIONS = 32
STATIONS = 757   # the city we model
PHONES = 4_000
SECRET = "bench-secret"

# each request a random one-time key; a phone and a station in turn
LUA = """
local cookies = {%(cookies)s}
local paths = {%(paths)s}
local n = 0
local chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
local seeded = false
function setup(thread)  -- keys must differ from thread to thread and run to run
  if not seeded then math.randomseed(os.time() + math.floor(os.clock() * 1e6)); seeded = true end
  thread:set("offset", math.random(1, 1000000000))
end
function init(args) n = offset; math.randomseed(offset) end
local function key()
  local t = {}
  for i = 1, 22 do local r = math.random(1, #chars); t[i] = chars:sub(r, r) end
  return table.concat(t)
end
request = function()
  n = n + 1
  local headers = {["Cookie"] = "device=" .. cookies[1 + n %% #cookies],
                   ["Content-Type"] = "application/x-www-form-urlencoded"}
  if "%(method)s" == "GET" then
    return wrk.format("GET", paths[1 + (n * 7) %% #paths], headers)
  end
  return wrk.format("POST", paths[1 + (n * 7) %% #paths], headers,
                    "score=" .. (1 + n %% 5) .. "&key=" .. key())
end
"""


def bare_app_table() -> str:
    os.environ.setdefault("BARE_DATABASE", ":memory:")  # read when the module is imported
    from bench.bare_app import TABLE
    return TABLE


def wrk(port: int, script: str, seconds: int = SECONDS) -> float:
    """Requests a second wrk sees; every answer must be a 303 (POST) or a 200 (GET)."""
    out = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "-s", script,
                          f"http://127.0.0.1:{port}"], capture_output=True, text=True,
                         check=True).stdout
    if "Non-2xx or 3xx responses" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main() -> None:
    if not shutil.which("wrk"):
        sys.exit("bench rating_post needs wrk: apt-get install wrk")
    os.environ.setdefault("FEEDBACK_SECRET_KEY", SECRET)
    from feedback.counts.devices import new_cookie_value
    from qr import links

    with tempfile.TemporaryDirectory() as directory:
        env = {"FEEDBACK_DATABASE": os.path.join(directory, "service.db"),
               "FEEDBACK_SECRET_KEY": SECRET, "FEEDBACK_SCHEDULER": "off",
               "BARE_DATABASE": os.path.join(directory, "bare.db")}
        csv_path = os.path.join(directory, "stations.csv")
        with open(csv_path, "w", encoding="utf-8") as out:
            out.write("code,name,district,tier,kind\n")
            out.writelines(f"B-{n:03d},驿站{n},区{n % 12},city,fixed\n" for n in range(STATIONS))
        subprocess.run([sys.executable, "-m", "flask", "--app", "app", "stations", "import",
                        csv_path], env={**os.environ, **env}, check=True, capture_output=True)
        scripts = {}
        values = {"cookies": ", ".join(f'"{new_cookie_value(SECRET)}"' for _ in range(PHONES)),
                  "paths": ", ".join(f'"{links.path(SECRET, f"B-{n:03d}", 1)}"'
                                     for n in range(STATIONS))}
        for method in ("GET", "POST"):
            scripts[method] = os.path.join(directory, f"{method}.lua")
            with open(scripts[method], "w") as out:
                out.write(LUA % {**values, "method": method})
        scripts["bare"] = os.path.join(directory, "bare.lua")
        with open(scripts["bare"], "w") as out:
            out.write(LUA % {"cookies": '"none"', "paths": '"/rate"', "method": "POST"})
        with sqlite3.connect(env["BARE_DATABASE"]) as conn:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(bare_app_table())
        service, service_port = start_gunicorn("app:create_app()", env)
        bare, bare_port = start_gunicorn("bench.bare_app:app", env)
        rounds = []
        try:
            for port, script in ((bare_port, "bare"), (service_port, "POST"), (service_port, "GET")):
                wrk(port, scripts[script], seconds=1)  # every worker started, every cache warm
            for _ in range(ROUNDS):
                rounds.append({"bare": wrk(bare_port, scripts["bare"]),
                               "POST": wrk(service_port, scripts["POST"]),
                               "GET": wrk(service_port, scripts["GET"])})
        finally:
            for process in (service, bare):
                process.terminate()
                process.wait()

    def median(values):
        return sorted(values)[len(values) // 2]
    print(f"\nrating_post: gunicorn -w 2, wrk {CONNECTIONS} connections, {STATIONS} stations, "
          f"{PHONES} phones, median of {ROUNDS} rounds of {SECONDS} s")
    print(f"  bare Flask+SQLite insert: {median([r['bare'] for r in rounds]):.0f}/s")
    for method, goal in (("POST", GOAL_POST), ("GET", GOAL_GET)):
        ratios = [r[method] / r["bare"] for r in rounds]
        print(f"  rating form {method}: {median([r[method] for r in rounds]):.0f}/s, "
              f"{median(ratios):.2f}x the bare insert (rounds: "
              f"{', '.join(f'{ratio:.2f}' for ratio in ratios)}); "
              f"goal {goal}x: {'met' if median(ratios) >= goal else 'MISSED'}")
