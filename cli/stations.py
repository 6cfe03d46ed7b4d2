"""`stations`, `ratings`, `rollups` and `demo`: the stations and their ratings."""
import csv
import getpass
import sys

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from cli.common import Day, fail, require_station, this_command
from feedback import clock, imports
from feedback.counts import rollups
from feedback.counts.ratings import EXPORT_COLUMNS, for_export, insert_staged
from feedback.places import demo, stations
from feedback.progress import Progress
from feedback.staging import cores, stage_file
from feedback.storage.db import get_db, write
from qr.links import station_url

stations_cli = AppGroup("stations", help="Import, export and look up stations.")
ratings_cli = AppGroup("ratings", help="Load historical ratings.")
rollups_cli = AppGroup("rollups", help="Check the rollups against the ratings, or rebuild them.")


@stations_cli.command("import")
@click.argument("file", type=click.File("rb"))
def import_stations(file):
    """Insert or update stations by code from a CSV file; all or nothing."""
    parsed = imports.parse_stations(file)
    if parsed.errors:
        fail(parsed.errors, "stations")
    db = get_db()
    with write(db):
        inserted, changed = stations.upsert(db, parsed.rows, clock.today(), clock.now(),
                                            by=f"stations import by {getpass.getuser()}")
        # real stations are here: the demo ones leave the posters, the finder and the feed
        closed = demo.close_demo(db) if any(
            not row["code"].startswith("DEMO-") for row in parsed.rows) else []
    unchanged = len(parsed.rows) - inserted - changed
    click.echo(f"imported {len(parsed.rows)} station(s): {inserted} new, {changed} changed, "
               f"{unchanged} unchanged")
    if closed:
        click.echo(f"closed the {len(closed)} demo station(s) ({', '.join(sorted(closed))}): "
                   "real stations are here")


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


@click.command("demo")
@click.option("--remove", is_flag=True, help="Close the demo stations (a stations import of real "
              "ones does it too).")
@with_appcontext
def demo_command(remove):
    """Add demo stations to an empty database and print a demo station's rating page."""
    db = get_db()
    if remove:
        with write(db):
            closed = demo.close_demo(db)
        click.echo(f"closed {len(closed)} demo station(s)" + (f": {', '.join(closed)}" if closed else ""))
        return
    if demo.seed_if_empty(db, clock.today(), clock.now()):
        click.echo(f"Added {len(demo.DEMO_STATIONS)} demo stations (codes DEMO-001 to DEMO-005).")
    first = stations.get(db, demo.DEMO_STATIONS[0]["code"])
    if first is not None and first["status"] == "listed":
        click.echo(f"Rate a demo station: {station_url(first)}")
    click.echo("Staff pages: create an account with\n"
               f"  {this_command()} users create --username admin --role admin\n"
               f"then sign in at {current_app.config['BASE_URL'].rstrip('/')}/login")


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
