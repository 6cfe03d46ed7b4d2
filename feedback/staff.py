"""Staff pages: the stations a signed-in person looks after."""
from flask import Blueprint, render_template

from feedback import scale
from feedback.auth import current_user, staff_required, visible_stations_sql
from feedback.db import get_db

bp = Blueprint("staff", __name__)


@bp.get("/stations")
@staff_required()
def stations():
    where, params = visible_stations_sql(current_user())
    rows = list(get_db().query(
        f"""SELECT stations.*, n1, n2, n3, n4, n5, last_rated_at FROM stations
            LEFT JOIN station_totals ON station_totals.station_id = stations.id
            WHERE {where} ORDER BY district, code""", params))
    for row in rows:
        counts = scale.counts_from_row(row)
        row["ratings_total"] = sum(counts.values())
        row["satisfaction_rate"] = scale.satisfaction_rate(counts)
    return render_template("stations.html", stations=rows)
