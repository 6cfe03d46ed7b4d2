"""`cases` and `calendar`: follow-up cases and the working days they are due by."""
import click
from flask.cli import AppGroup

from cli.common import Day, echo_json
from feedback import clock
from feedback.followup import cases, workdays
from feedback.storage.db import get_db

cases_cli = AppGroup("cases", help="Follow-up cases of bad ratings.")
calendar_cli = AppGroup("calendar", help="China's official working days.")


@cases_cli.command("list")
@click.option("--status", type=click.Choice(cases.STATUSES), help="Only cases in this state.")
@click.option("--json", "as_json", is_flag=True, help="Print the cases as JSON.")
def list_cases(status, as_json):
    """List the follow-up cases, overdue first."""
    found = cases.listing(get_db(), "1", [], clock.today(), status)
    if as_json:
        echo_json([cases.as_json(case) for case in found])
        return
    for case in found:
        state = "overdue" if case["overdue"] else case["status"]
        click.echo(f"{case['id']}\t{case['station_code']}\t{state}\topened {case['opened_on']}\t"
                   f"due {case['due_on']}\t{case['ratings_total']} bad rating(s)")


@calendar_cli.command("due")
@click.option("--from", "start", required=True, type=Day(), help="The day a case opened.")
@click.option("--days", required=True, type=click.IntRange(1, 366), help="Working days.")
def due(start, days):
    """Print the date N working days after the given day, by China's official calendar."""
    click.echo(workdays.add_working_days(start, days).isoformat())
