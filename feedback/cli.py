"""The commands of ``flask --app app …``: stations, ratings, users, qr and demo."""
import csv
import getpass
import os
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from feedback import accounts, cases, clock, demo, imports, rollups, stations, workdays
from feedback.db import get_db, write
from feedback.progress import Progress
from feedback.ratings import EXPORT_COLUMNS, for_export, insert_staged
from feedback.staging import cores, stage_file
from jobs.cli import Day, echo_json
from qr.cli import qr_cli
from qr.links import station_url

stations_cli = AppGroup("stations", help="Import, export and look up stations.")
ratings_cli = AppGroup("ratings", help="Load historical ratings.")
users_cli = AppGroup("users", help="Staff accounts.")
rollups_cli = AppGroup("rollups", help="Check the rollups against the ratings, or rebuild them.")


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


@stations_cli.command("import")
@click.argument("file", type=click.File("rb"))
def import_stations(file):
    """Insert or update stations by code from a CSV file; all or nothing."""
    parsed = imports.parse_stations(file)
    if parsed.errors:
        fail(parsed.errors, "stations")
    db = get_db()
    with write(db):
        inserted, updated = stations.upsert(db, parsed.rows, clock.today(), clock.now(),
                                            by=f"stations import by {getpass.getuser()}")
    click.echo(f"imported {len(parsed.rows)} station(s): {inserted} new, {updated} updated")


@stations_cli.command("export")
@click.argument("file", type=click.File("w", encoding="utf-8"))
def export_stations(file):
    """Write every station as CSV in the import format ('-' for standard output)."""
    writer = csv.DictWriter(file, fieldnames=stations.COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in stations.all_for_export(get_db()):
        # numbers stay numbers; text that Excel or WPS would run as a formula is quoted
        writer.writerow({key: "" if value is None else
                         value if isinstance(value, float) else imports.neutralise_formula(value)
                         for key, value in row.items()})


@stations_cli.command("url")
@click.argument("code")
def url(code):
    """Print the absolute URL that the station's QR code encodes."""
    click.echo(station_url(require_station(code)))


def set_status(code: str, status: str) -> None:
    require_station(code)
    db = get_db()
    with write(db):
        db.execute("UPDATE stations SET status = ? WHERE code = ?", [status, code])
    click.echo(f"{code}: {status}")


@stations_cli.command("reissue")
@click.argument("code")
def reissue(code):
    """Retire the station's printed QR code and print its new URL; print new posters after."""
    require_station(code)
    db = get_db()
    with write(db):
        db.execute("UPDATE stations SET link_version = link_version + 1 WHERE code = ?", [code])
    click.echo(station_url(require_station(code)))


@stations_cli.command("close")
@click.argument("code")
def close(code):
    """Stop a station taking ratings (its page says it is out of service)."""
    set_status(code, "closed")


@stations_cli.command("reopen")
@click.argument("code")
def reopen(code):
    """Let a closed station take ratings again."""
    set_status(code, "listed")


@stations_cli.command("move")
@click.argument("code")
@click.option("--lat", "latitude", required=True, help="new latitude, GCJ-02 as Amap shows it")
@click.option("--lon", "longitude", required=True, help="new longitude, GCJ-02 as Amap shows it")
def move(code, latitude, longitude):
    """New coordinates for a (mobile) station; its poster stays valid and the move is kept in
    its history."""
    require_station(code)
    try:
        new = [stations.parse_coordinate(key, text.strip())
               for key, text in (("latitude", latitude), ("longitude", longitude))]
    except ValueError as bad:
        raise click.ClickException(str(bad)) from None
    db = get_db()
    with write(db):
        what = stations.move(db, code, *new, clock.now(), by=f"stations move by {getpass.getuser()}")
    click.echo(f"{code}: moved, {what}")


@ratings_cli.command("export")
@click.argument("file", type=click.File("w", encoding="utf-8"))
@click.option("--from", "first", type=Day(), required=True, help="first local day, YYYY-MM-DD")
@click.option("--to", "last", type=Day(), required=True, help="last local day, YYYY-MM-DD")
def export_ratings(file, first, last):
    """Write the ratings of a range of days as CSV ('-' for standard output), streamed: with
    their details, and whether each counted."""
    if first > last:
        raise click.ClickException("--from must not be after --to")
    writer = csv.DictWriter(file, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in for_export(get_db(), first, last, current_app.config["TIMEZONE"]):
        writer.writerow({**row, "comment": imports.neutralise_formula(row["comment"])})


@ratings_cli.command("import")
@click.argument("file", type=click.File("rb"))
def import_ratings(file):
    """Load historical ratings from a CSV file; all or nothing, and a file loaded twice adds nothing twice."""
    db = get_db()
    # pages of the indexes stay in memory while the file goes in, rather than going to the
    # write-ahead log again and again; temporary tables and sorts go to disk
    db.execute("PRAGMA cache_size = -32768")
    db.execute("PRAGMA temp_store = FILE")
    db.execute(f"PRAGMA threads = {cores() - 1}")  # helpers for the sorts, on the other cores
    # the file is read into a temporary table on disk before the database is locked, and
    # moved into the ratings in one transaction only if every line was good
    progress = Progress("ratings read")
    staged, errors = stage_file(db.conn, file, stations.ids_by_code(db),
                                current_app.config["TIMEZONE"], clock.now(), progress)
    progress.finish()
    if errors:
        fail(errors, "ratings")
    with write(db):
        added = insert_staged(db, staged)
    click.echo(f"imported {added} rating(s); {staged - added} were already there")


@users_cli.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(accounts.ROLES))
@click.option("--district", help="The district a 'district' account looks after.")
@click.option("--station", "station_code", help="The station a 'manager' account looks after.")
def create_user(username, role, district, station_code):
    """Add a staff account; the password comes from FEEDBACK_PASSWORD or a prompt."""
    if role == "district" and not district:
        raise click.UsageError("a district account needs --district")
    if role == "manager":
        if not station_code:
            raise click.UsageError("a manager account needs --station")
        require_station(station_code)
    if accounts.user_by(get_db(), "username", username):
        raise click.UsageError(f"there is already a user {username!r}")
    password = new_password()
    db = get_db()
    with write(db):
        accounts.create_user(db, username, password, role, district if role == "district" else None,
                         station_code if role == "manager" else None)
    click.echo(f"created {role} {username}")


def new_password() -> str:
    """A new password from FEEDBACK_PASSWORD or a prompt, checked."""
    password = os.environ.get("FEEDBACK_PASSWORD") or click.prompt(
        "Password", hide_input=True, confirmation_prompt=True)
    try:
        accounts.check_new_password(password)
    except accounts.PasswordRefused as refused:
        raise click.UsageError(str(refused)) from None
    return password


def require_user(username: str) -> dict:
    user = accounts.user_by(get_db(), "username", username)
    if user is None:
        raise click.UsageError(f"no user {username!r}; see `users list`")
    return user


@users_cli.command("list")
def list_users():
    """List the staff accounts: role, what they look after, status and live API tokens."""
    rows = get_db().query(
        """SELECT username, role, district, station_code, disabled_at,
                  (SELECT count(*) FROM api_tokens WHERE user_id = users.id
                   AND revoked_at IS NULL) AS tokens
           FROM users ORDER BY username""")
    for row in rows:
        scope = row["district"] or row["station_code"] or "all stations"
        status = f"disabled since {row['disabled_at']}" if row["disabled_at"] else "active"
        click.echo(f"{row['username']}\t{row['role']}\t{scope}\t{status}\t{row['tokens']} token(s)")


def change_user(username: str, change):
    """Run ``change(db, user_id, now)`` on an existing account in one write; its result."""
    user = require_user(username)
    db = get_db()
    with write(db):
        return change(db, user["id"], clock.now())


@users_cli.command("disable")
@click.argument("username")
def disable_user(username):
    """Stop an account: its sessions end and its API tokens stop working."""
    change_user(username, lambda db, user_id, now: accounts.set_disabled(db, user_id, True, now))
    click.echo(f"{username} disabled")


@users_cli.command("enable")
@click.argument("username")
def enable_user(username):
    """Let a disabled account sign in again (revoked tokens stay revoked)."""
    change_user(username, lambda db, user_id, now: accounts.set_disabled(db, user_id, False, now))
    click.echo(f"{username} enabled")


@users_cli.command("passwd")
@click.argument("username")
def change_password(username):
    """Set a new password (FEEDBACK_PASSWORD or a prompt); the user's sessions end."""
    require_user(username)
    password = new_password()
    change_user(username, lambda db, user_id, now: accounts.set_password(db, user_id, password, now))
    click.echo(f"new password set for {username}; their sessions have ended")


@users_cli.command("revoke-tokens")
@click.argument("username")
def revoke_tokens(username):
    """Revoke every API token of an account."""
    count = change_user(username, accounts.revoke_tokens)
    click.echo(f"revoked {count} token(s) of {username}")


@users_cli.command("token")
@click.option("--username", required=True)
def create_token(username):
    """Print a new API token for Authorization: Bearer; it is shown only this once."""
    user = require_user(username)
    db = get_db()
    with write(db):
        click.echo(accounts.create_token(db, user["id"]))


@click.command("demo")
@with_appcontext
def demo_command():
    """Add demo stations to an empty database and print a demo station's rating page."""
    db = get_db()
    if demo.seed_if_empty(db, clock.today(), clock.now()):
        click.echo(f"Added {len(demo.DEMO_STATIONS)} demo stations (codes DEMO-001 to DEMO-005).")
    first = stations.get(db, demo.DEMO_STATIONS[0]["code"])
    if first is not None:
        click.echo(f"Rate a demo station: {station_url(first)}")
        click.echo("Staff pages: create an account with\n"
                   "  flask --app app users create --username admin --role admin\n"
                   "then sign in at /login.")


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


@rollups_cli.command("check")
def check_rollups():
    """Recount the ratings and compare the rollups; non-zero exit with each difference."""
    found = rollups.differences(get_db())
    for line in found:
        click.echo(line, err=True)
    if found:
        sys.exit(1)
    click.echo("the rollups agree with the ratings")


@rollups_cli.command("rebuild")
def rebuild_rollups():
    """Recount every rollup from the ratings, in one transaction, and check the result."""
    db = get_db()
    before = rollups.differences(db)
    with write(db):
        rollups.rebuild(db)
    after = rollups.differences(db)
    for line in after:
        click.echo(line, err=True)
    if after:
        sys.exit(1)
    click.echo(f"rebuilt the rollups from the ratings ({len(before)} difference(s) mended); "
               "they agree with the ratings")


def register(app: Flask) -> None:
    """Attach the command groups to the app's command line."""
    app.cli.add_command(stations_cli)
    app.cli.add_command(ratings_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(rollups_cli)
    app.cli.add_command(cases_cli)
    app.cli.add_command(calendar_cli)
    app.cli.add_command(qr_cli)
    app.cli.add_command(demo_command)
