"""The commands of ``flask --app app …``: an edge over the core, like web/."""
from flask import Flask

from cli import cases, digests, operations, posters, stations, users


def register(app: Flask) -> None:
    """Attach every command group to the app's command line."""
    for command in (stations.stations_cli, stations.ratings_cli, stations.rollups_cli,
                    stations.demo_command, users.users_cli, cases.cases_cli, cases.calendar_cli,
                    posters.qr_cli, digests.channels_cli, digests.digest_cli,
                    digests.downgrade_cli, digests.signals_cli, digests.report_cli,
                    operations.scheduler_cli, operations.backup, operations.restore,
                    operations.check):
        app.cli.add_command(command)
