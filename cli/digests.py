"""`channels`, `digest`, `downgrade`, `signals` and `report`: what is sent and shown to staff."""
import csv
import re
import sys
from datetime import date, timedelta
from urllib.parse import urlsplit

import click
from flask.cli import AppGroup

from cli.common import Day, echo_json, yesterday
from feedback import clock
from feedback.clock import add_months
from feedback.storage.db import get_db
from jobs import reports, tasks
from jobs.channels import KINDS, describe, text

channels_cli = AppGroup("channels", help="Where digests are posted.")
PLAIN = {"heading": "\n", "bullet": "  - ", "bold": lambda s: s,
         "link": lambda label, url: f"{label}: {url}"}  # chat lines as terminal text
digest_cli = AppGroup("digest", help="The daily digest.")
downgrade_cli = AppGroup("downgrade", help="The three-month downgrade rule.")
signals_cli = AppGroup("signals", help="Signals of ratings that may be gaming the counts.")

EMAIL_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
SIGNED_KINDS = ("dingtalk", "feishu", "webhook")


@channels_cli.command("add")
@click.option("--kind", required=True, type=click.Choice(KINDS))
@click.option("--target", required=True, help="The robot's webhook URL, or an e-mail address.")
@click.option("--district", help="Only this district's stations.")
@click.option("--secret", help="Signing secret (DingTalk 加签, Feishu 签名校验, webhook HMAC).")
def add_channel(kind, target, district, secret):
    """Add a place digests are posted to."""
    if kind == "email":
        if not EMAIL_ADDRESS.fullmatch(target):
            raise click.BadParameter(f"{target!r} is not an e-mail address", param_hint="--target")
    elif urlsplit(target).scheme not in ("http", "https") or not urlsplit(target).netloc:
        raise click.BadParameter(f"{target!r} is not an http(s) URL", param_hint="--target")
    if secret and kind not in SIGNED_KINDS:
        raise click.BadParameter(f"{kind} channels are not signed; leave out --secret",
                                 param_hint="--secret")
    if district and not get_db().execute(
            "SELECT 1 FROM stations WHERE district = ? LIMIT 1", [district]).fetchone():
        click.echo(f"warning: no station is in district {district!r} yet", err=True)
    channel_id = tasks.add_channel(kind, target, district, secret)
    click.echo(f"channel {channel_id}: {kind} {describe(target)}"
               + (f" for {district}" if district else ""))


@channels_cli.command("list")
def list_channels():
    """List the channels (robot keys are not shown)."""
    for row in get_db().query("SELECT * FROM channels ORDER BY id"):
        click.echo(f"{row['id']}\t{row['kind']}\t{describe(row['target'])}\t"
                   f"{row['district'] or 'all districts'}\t{'signed' if row['secret'] else ''}")


@channels_cli.command("remove")
@click.argument("channel_id", type=int)
def remove_channel(channel_id):
    """Stop posting to a channel (its id from `channels list`); its delivery records go with it."""
    if not tasks.remove_channel(channel_id):
        raise click.ClickException(f"no channel {channel_id}; see `channels list`")
    click.echo(f"channel {channel_id} removed")


@digest_cli.command("show")
@click.option("--date", "day", type=Day(), help="The day (default: yesterday).")
@click.option("--district", help="Only this district.")
@click.option("--json", "as_json", is_flag=True, help="Print the digest as JSON.")
def show(day, district, as_json):
    """Print the digest of a day without delivering it."""
    digest = tasks.build_digest(day or yesterday(), district)
    if as_json:
        echo_json(digest)
    else:
        click.echo("\n".join(text.lines(digest, **PLAIN)))


@digest_cli.command("send")
@click.option("--date", "day", type=Day(), help="The day (default: yesterday).")
def send(day):
    """Deliver the digest of a day to every channel that has not had it; non-zero if any failed."""
    day = day or yesterday()
    outcomes = tasks.send_digest(day)
    if not outcomes:
        click.echo("no channels: add one with `channels add`", err=True)
    for outcome in outcomes:
        line = f"{day} {outcome.channel['kind']} {describe(outcome.channel['target'])}: {outcome.status}"
        click.echo(line + (f" ({outcome.detail})" if outcome.detail else ""),
                   err=outcome.status == "failed")
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        click.echo(f"{len(failed)} delivery(ies) failed; they stay pending and the scheduler "
                   "retries them", err=True)
        sys.exit(1)


@downgrade_cli.command("scan")
@click.option("--as-of", "as_of", type=Day(), help="The date D of the rule (default: today).")
@click.option("--json", "as_json", is_flag=True, help="Print the stations flagged at that date.")
def scan(as_of, as_json):
    """Flag stations with three complete calendar months without a rating; no tier changes."""
    found, added = tasks.scan(as_of or clock.today())
    if as_json:
        echo_json(found)
    else:
        for flag in found:
            click.echo(f"{flag['code']}\t{flag['tier']} → {flag['proposed_tier']}\t"
                       f"last rated {flag['last_rated_at'] or 'never'}")
        click.echo(f"{len(found)} station(s) flagged, {added} new", err=True)


@signals_cli.command("scan")
@click.option("--date", "day", type=Day(), help="The day to look through (default: yesterday).")
@click.option("--json", "as_json", is_flag=True, help="Print the signals found.")
def scan_signals(day, as_json):
    """Look through a day's ratings for signals and keep them for /signals, in place of what an
    earlier scan of that day found (the scheduler does yesterday every night)."""
    found = tasks.scan_signals(day or yesterday())
    if as_json:
        echo_json(found)
    else:
        for signal in found:
            click.echo(f"{signal['kind']}\t{signal['station_code']}\t{signal.get('device') or ''}")
        click.echo(f"{len(found)} signal(s) found", err=True)


report_cli = AppGroup("report", help="The weekly and the monthly report.")


def last_week() -> date:
    today = clock.today()
    return today - timedelta(days=today.weekday() + 7)


def last_month() -> date:
    return add_months(clock.today(), -1)


def period(parse, text: str, param: str):
    try:
        return parse(text)
    except reports.BadPeriod as bad:
        raise click.BadParameter(str(bad), param_hint=param) from None


@report_cli.command("week")
@click.option("--week", "week_text", help="The ISO week, like 2026-W48 (default: last week).")
@click.option("--district", help="Only this district.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def report_week(week_text, district, as_json):
    """Print the weekly report: ratings against the week before, cases, stations to watch."""
    monday = period(reports.parse_week, week_text, "--week") if week_text else last_week()
    report = tasks.build_week(monday, district)
    if as_json:
        echo_json(report)
    else:
        click.echo("\n".join(text.week_lines(report, **PLAIN)))


@report_cli.command("month")
@click.option("--month", "month_text", help="The month, like 2026-11 (default: last month).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the rows by district as CSV.")
@click.option("--trend", is_flag=True,
              help="With --json: add each district's twelve months up to the month, for charts.")
def report_month(month_text, as_json, as_csv, trend):
    """Print the monthly report: stations, ratings, cases and decisions, by district and tier."""
    if trend and not as_json:
        raise click.UsageError("--trend adds to the JSON: give --json too")
    first = period(reports.parse_month, month_text, "--month") if month_text else last_month()
    report = tasks.build_month(first, with_trend=trend)
    if as_json:
        echo_json(report)
    elif as_csv:
        csv.writer(sys.stdout, lineterminator="\n").writerows(reports.month_csv_rows(report))
    else:
        click.echo("\n".join(text.month_lines(report, **PLAIN)))
