"""The JSON API under /api/v1, and the health check."""
import sqlite3

from flask import Blueprint, abort, current_app

from feedback import stations
from feedback.db import get_db

bp = Blueprint("api", __name__)


@bp.get("/api/v1/stations/<code>")
def station(code: str):
    """A station's public summary."""
    row = stations.get(get_db(), code)
    if row is None:
        abort(404, f"no station with code {code}")
    return stations.summary(get_db(), row, current_app.config["TIMEZONE"])


@bp.get("/healthz")
def healthz():
    """200 when the database answers."""
    try:
        get_db().execute("SELECT count(*) FROM stations").fetchone()
    except sqlite3.Error as error:
        return {"status": "unavailable", "message": str(error)}, 503
    return {"status": "ok"}
