"""Mutation testing of the rule modules: ``make mutate`` (not part of ``make test``).

mutmut changes the code one small way at a time (a ``<`` for a ``<=``, a constant, a dropped
argument) and runs, for each change, the tests that run the changed function; a change that no
test notices is a mutant that survived. The tracked files are copied into ``bench/out/mutate``
and mutated there, so the checkout is never touched. The kill rate of each module goes into
``bench/RESULTS.md`` as a table, between two markers, replacing the last run's.

``python -m bench.mutate [PATH…]`` runs only the named modules (a quick look after a test is
written); the table is written only after a run of all of them.
"""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
WORK = REPOSITORY / "bench" / "out" / "mutate"
RESULTS = REPOSITORY / "bench" / "RESULTS.md"
BEGIN, END = "<!-- make mutate: begin -->", "<!-- make mutate: end -->"
MODULES = [
    "jobs/downgrade.py", "jobs/digest.py", "jobs/outbox.py", "jobs/backups.py",
    "feedback/counts/counting.py", "feedback/counts/rollups.py", "feedback/followup/cases.py",
    "qr/links.py", "web/auth.py", "feedback/imports.py",
]
# what the tests need beside the packages mutmut copies
ALSO_COPY = ["templates", "static", "gunicorn.conf.py", "pytest.ini", "bench", "node_modules",
             "docs", "README.md", "deploy", "requirements.txt"]
# a mutant is killed by a test failing; these are mutmut's other verdicts
KILLED, SURVIVED = {1, 3}, {0}
TIMEOUT = {36, 24, -24, 152, 255}


def config(modules: list[str]) -> str:
    lines = ["[mutmut]", "source_paths =", *(f"    {p}" for p in
                                             ("feedback", "jobs", "web", "qr", "cli", "app.py")),
             "only_mutate =", *(f"    {module}" for module in modules),
             "pytest_add_cli_args_test_selection =", "    tests",
             "also_copy =", *(f"    {path}" for path in ALSO_COPY)]
    return "\n".join(lines) + "\n"


def copy_checkout() -> None:
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPOSITORY, check=True,
                             capture_output=True).stdout.decode().split("\0")
    for name in filter(None, tracked):
        if name.startswith("bench/out/") or not (REPOSITORY / name).exists():
            continue
        (WORK / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPOSITORY / name, WORK / name)
    if (REPOSITORY / "node_modules").exists():  # axe-core for the staff pages' tests
        (WORK / "node_modules").symlink_to(REPOSITORY / "node_modules")


def verdicts(module: str) -> dict[str, int | None]:
    meta = WORK / "mutants" / f"{module}.meta"
    return json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}


def tally(module: str) -> dict:
    codes = list(verdicts(module).values())
    killed = sum(code in KILLED for code in codes)
    timeouts = sum(code in TIMEOUT for code in codes)
    survived = sum(code in SURVIVED for code in codes)
    return {"module": module, "mutants": len(codes), "killed": killed, "timeout": timeouts,
            "survived": survived, "other": len(codes) - killed - timeouts - survived,
            # a mutant that hangs the tests is caught by the timeout: counted as killed
            "rate": (killed + timeouts) / len(codes) if codes else 0.0}


def table(rows: list[dict], minutes: float, commit: str) -> str:
    lines = [BEGIN, "",
             f"## Mutation testing, {time.strftime('%Y-%m-%d')} (code of {commit}, "
             f"{minutes:.0f} minutes on {os.cpu_count()} cores)", "",
             "`make mutate`: mutmut on the rule modules, each mutant against the tests that run "
             "its function. Killed counts the mutants a test failed on (or that hung the tests "
             "past mutmut's timeout); survived, those no test noticed; other, those no test ran.",
             "", "| module | mutants | killed | survived | other | kill rate |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| `{row['module']}` | {row['mutants']} | {row['killed'] + row['timeout']} "
                     f"| {row['survived']} | {row['other']} | {row['rate']:.1%} |")
    lines += ["", END]
    return "\n".join(lines)


def write_table(text: str) -> None:
    results = RESULTS.read_text(encoding="utf-8")
    if BEGIN in results:
        before, rest = results.split(BEGIN, 1)
        results = before + text + rest.split(END, 1)[1]
    else:  # first run: after the page's title and opening paragraph
        title, rest = results.split("\n\n", 1)
        results = f"{title}\n\n{text}\n\n{rest}"
    RESULTS.write_text(results, encoding="utf-8")


def main(modules: list[str]) -> int:
    unknown = [module for module in modules if module not in MODULES]
    if unknown:
        print(f"not a rule module of bench/mutate.py: {', '.join(unknown)}", file=sys.stderr)
        return 2
    chosen = modules or MODULES
    copy_checkout()
    (WORK / "setup.cfg").write_text(config(chosen))
    started = time.monotonic()
    run = subprocess.run([str(Path(sys.executable).parent / "mutmut"), "run",
                          "--max-children", str(os.cpu_count() or 2)], cwd=WORK)
    minutes = (time.monotonic() - started) / 60
    if run.returncode != 0:
        print(f"mutmut stopped with exit {run.returncode}", file=sys.stderr)
        return run.returncode
    rows = [tally(module) for module in chosen]
    for row in rows:
        print(f"{row['module']:32} {row['killed'] + row['timeout']:4}/{row['mutants']:<4} "
              f"{row['rate']:6.1%}  ({row['survived']} survived, {row['other']} other)")
    print(f"survivors: cd {WORK.relative_to(REPOSITORY)} && "
          f"{os.path.relpath(Path(sys.executable).parent / 'mutmut', WORK)} results")
    if not modules:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPOSITORY,
                                capture_output=True, text=True).stdout.strip()
        write_table(table(rows, minutes, commit))
        print(f"the table is in {RESULTS.relative_to(REPOSITORY)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
