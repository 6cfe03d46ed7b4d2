"""`scheduler`, `backup`, `restore` and `check`: running the service."""
import logging
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from feedback import clock
from feedback.counts import rollups
from feedback.storage.db import get_db
from jobs import backups, health, scheduler


@click.group("scheduler", help="The scheduled jobs.")
def scheduler_cli():
    pass


@scheduler_cli.command("run")
@click.option("--once", is_flag=True, help="Run what is due now and exit (for cron).")
@with_appcontext
def run_scheduler(once):
    """Run the scheduled jobs in the foreground (set FEEDBACK_SCHEDULER=off on the web workers)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if once:
        scheduler.run_all_due()
        return
    click.echo("scheduler running; Ctrl-C stops it", err=True)
    try:
        scheduler.build(current_app._get_current_object(), blocking=True).start()
    except (KeyboardInterrupt, SystemExit):
        pass


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--full", is_flag=True, help="Recount every rollup, not only what changed since "
              "the last checked copy (done anyway once a week).")
@with_appcontext
def backup(path, full):
    """A consistent copy of the database at PATH, taken while the service runs, then checked
    (its pages, the schema, the rollups of what changed since the last checked copy against a
    recount); non-zero exit if it fails."""
    try:
        whole = backups.take(get_db(), path, clock.now(), full)
    except backups.BackupFailed as failed:
        raise click.ClickException(f"no backup made: {failed}") from None
    click.echo(f"{path}: backed up and checked"
               + (" (every rollup recounted)" if whole else " (what changed recounted)"))


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False))
@with_appcontext
def restore(path):
    """Put the backup at PATH in place of the configured database; refused while a service or
    another command holds it, or if PATH is not a good database of ours."""
    database = current_app.config["DATABASE"]
    current_app.extensions["feedback.db"].close()  # this command's own hold on it
    try:
        backups.restore(database, path)
    except backups.RestoreRefused as refused:
        raise click.ClickException(f"nothing restored: {refused}") from None
    click.echo(f"{database}: restored from {path}; start the service again")


@click.command("check")
@click.option("--quick", is_flag=True, help="Only what does not grow with the history: the "
              "schema, the scheduler, the outbox and today's rollups (for monitoring).")
@with_appcontext
def check(quick):
    """Integrity, rollups, schema, configuration, the scheduler's last runs and the outbox:
    one line per problem and a non-zero exit, or "all well"."""
    db = get_db()
    if quick:
        found = rollups.differences(db, [clock.today().isoformat()])
    else:
        found = [f"integrity check: {line}" for line in
                 (row[0] for row in db.execute("PRAGMA integrity_check")) if line != "ok"]
        found += rollups.differences(db)
    found += health.problems(health.state(db), clock.now(), current_app.config)
    for line in found:
        click.echo(line, err=True)
    if found:
        sys.exit(1)
    click.echo("all well: " + ("today's rollups, schema, scheduler and outbox" if quick else
                               "integrity, rollups, schema, scheduler and outbox"))
