"""A newcomer's first ten minutes: `make run`'s demo stations and the commands it prints, which
run as printed, and the demo stations giving way to real ones."""
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
FLASK = Path(sys.executable).parent / "flask"


def run(args: list[str], tmp_path, **env) -> subprocess.CompletedProcess:
    """A command in a new shell at the repository's root: no virtual environment on the PATH."""
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8",
                   "FEEDBACK_DATABASE": str(tmp_path / "first.db"), **env}
    return subprocess.run(args, cwd=REPOSITORY, env=environment, capture_output=True, text=True,
                          timeout=120)


def test_the_command_the_demo_prints_runs_as_printed_in_a_new_shell(tmp_path):
    shown = run([os.path.relpath(FLASK, REPOSITORY), "--app", "app", "demo"], tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "Rate a demo station: http://127.0.0.1:5000/s/DEMO-001/" in shown.stdout
    [printed] = [line.strip() for line in shown.stdout.splitlines() if "users create" in line]
    created = run(shlex.split(printed), tmp_path, FEEDBACK_PASSWORD="a first password")
    assert created.returncode == 0, created.stderr
    assert "created admin admin" in created.stdout


def test_real_stations_close_the_demo_ones(runner, client, write_file, db, tmp_path):
    assert runner.invoke(args=["demo"]).exit_code == 0
    real = "code,name,district,latitude,longitude,tier,kind\nQD-1,市南区驿站,市南区,36.06,120.38,city,fixed\n"
    imported = runner.invoke(args=["stations", "import", write_file("real.csv", real)])
    assert "closed the 5 demo station(s) (DEMO-001, DEMO-002" in imported.output
    assert [row[0] for row in db.execute("SELECT code FROM stations WHERE status = 'listed'")] == ["QD-1"]
    feed = client.get("/api/v1/public/stations.geojson").get_json()
    assert [feature["id"] for feature in feed["features"]] == ["QD-1"]
    assert "DEMO" not in client.get("/near?lat=31.23&lon=121.47&open_now=0").get_data(as_text=True)
    posters = runner.invoke(args=["qr", "posters", "--out", str(tmp_path / "posters")])
    assert posters.exit_code == 0 and os.listdir(tmp_path / "posters") == ["QD-1.png"]
    digest = json.loads(runner.invoke(args=["digest", "show", "--json"]).output)
    assert [row["district"] for row in digest["districts"]] == ["市南区"]  # not the demo's too
    demo = runner.invoke(args=["demo"])
    assert "Rate a demo station" not in demo.output and "users create" in demo.output


def test_the_demo_stations_can_be_closed_by_hand(runner, db):
    runner.invoke(args=["demo"])
    assert "closed 5 demo station(s)" in runner.invoke(args=["demo", "--remove"]).output
    assert db.execute("SELECT count(*) FROM stations WHERE status = 'listed'").fetchone()[0] == 0


def test_the_readmes_first_ten_minutes_run_as_printed(tmp_path):
    # the repository seen from a folder of its own, so the posters land there
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for entry in REPOSITORY.iterdir():
        if entry.name not in ("posters", "instance", ".git"):
            (checkout / entry.name).symlink_to(entry)
    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    commands = [line.strip() for line in readme.splitlines()
                if line.strip().startswith(".venv/bin/flask")]
    assert len(commands) >= 4
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8",
                   "FEEDBACK_DATABASE": str(tmp_path / "first.db"),
                   "FEEDBACK_PASSWORD": "a first password"}
    for command in [".venv/bin/flask --app app demo", *commands]:
        done = subprocess.run(shlex.split(command), cwd=checkout, env=environment,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{command}: {done.stderr}"
    assert sorted(os.listdir(checkout / "posters")) == ["posters.pdf"]
