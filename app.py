"""The station feedback service: ``flask --app app run`` serves it, ``flask --app app --help`` lists its commands."""
import os

from flask import Flask

import cli
from feedback import config, events, i18n
from feedback.clock import SystemClock
from feedback.counts.scale import LABELS
from feedback.storage import schema
from feedback.storage.db import Connections, get_db
from jobs import scheduler
from jobs.channels.text import inert, reason_label
from web import api, auth, edge, finder, metrics, posters, staff, views


def warn_once_served(app: Flask) -> None:
    """The development key's warning, once per serving process at its first request: not at
    every command of the command line."""
    warned = set()

    @app.before_request
    def warn():
        if os.getpid() not in warned:
            warned.add(os.getpid())
            app.logger.warning(config.DEVELOPMENT_WARNING)


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app from the environment; ``overrides`` (tests) win over it.

    ``overrides["CLOCK"]`` replaces the system clock.
    """
    app = Flask(__name__, static_folder="static", template_folder="templates")
    settings = dict(overrides or {})
    clock = settings.pop("CLOCK", None) or SystemClock()
    try:
        app.config.update(config.from_environment())
    except config.ConfigError as error:
        if os.environ.get("FLASK_RUN_FROM_CLI") == "true":  # `flask --app app …`: what to fix,
            raise SystemExit(f"configuration: {error}") from None  # in a line, not a traceback
        raise  # gunicorn stops with it: "Worker failed to boot"
    app.config.update(settings)
    if app.config["SECRET_KEY"] == config.DEVELOPMENT_SECRET:
        warn_once_served(app)
    app.json.ensure_ascii = False  # station names stay readable in the JSON

    app.extensions["feedback.clock"] = clock
    app.extensions["feedback.db"] = Connections(app.config["DATABASE"])
    with app.app_context():
        schema.migrate(get_db())

    events.configure(app.config["LOG_FORMAT"])
    edge.configure(app)
    metrics.configure(app)
    auth.configure(app)
    for blueprint in (views.bp, api.bp, api.health, auth.bp, staff.bp, posters.bp, finder.bp):
        app.register_blueprint(blueprint)
    cli.register(app)
    app.jinja_env.globals["labels"] = LABELS["zh"]
    app.jinja_env.globals["tier_labels"] = i18n.TIER_LABELS
    app.jinja_env.globals["history_actions"] = i18n.HISTORY_ACTIONS
    app.jinja_env.globals["held_reasons"] = i18n.HELD_REASONS
    app.jinja_env.filters["actor"] = i18n.actor_label
    app.jinja_env.filters["reason_label"] = reason_label
    app.jinja_env.filters["inert"] = inert
    if app.config["SCHEDULER"] and not app.testing:
        scheduler.start_with_web(app)
    return app
