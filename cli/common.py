"""What the commands share: a day parameter, JSON output, `line N: reason` failures."""
import json
import os
import shutil
import sys
from datetime import date, timedelta

import click

from feedback import clock, imports
from feedback.clock import parse_day
from feedback.places import stations
from feedback.storage.db import get_db


class Day(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, date):
            return value
        try:
            return parse_day(value)
        except ValueError as bad:
            self.fail(str(bad), param, ctx)


def echo_json(value) -> None:
    """JSON on standard output: indented for a person at a terminal, compact for a pipe (the
    pure-Python indenting encoder takes seconds over a nation's stations)."""
    click.echo(json.dumps(value, ensure_ascii=False, indent=2 if sys.stdout.isatty() else None))


def yesterday() -> date:
    return clock.today() - timedelta(days=1)


def fail(problems: imports.Problems, what: str) -> None:
    """Report the bad lines as `line N: reason` and stop with a non-zero exit."""
    for line in problems.report():
        click.echo(line, err=True)
    click.echo(f"{problems.total} error(s): no {what} were imported; the database is unchanged.",
               err=True)
    sys.exit(1)


def require_station(code: str) -> dict:
    station = stations.get(get_db(), code)
    if station is None:
        raise click.ClickException(f"no station with code {code!r}")
    return station


def this_command() -> str:
    """How to run ``flask --app app`` from here, as this command was run: a command printed for a
    newcomer to copy must work in a shell where the virtual environment is not active."""
    program = sys.argv[0] if sys.argv and sys.argv[0] else "flask"
    if os.path.basename(program) != "flask":  # python -m flask, or a test
        return "flask --app app"
    if os.path.isabs(program) and shutil.which("flask") != program:
        relative = os.path.relpath(program)
        program = relative if not relative.startswith("..") else program
    return f"{program} --app app"
