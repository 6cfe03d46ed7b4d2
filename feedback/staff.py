"""Staff pages: the stations a signed-in person looks after, and the daily digests."""
from datetime import date, timedelta

from flask import Blueprint, abort, render_template
from markupsafe import Markup

from feedback import clock, scale
from feedback.auth import current_user, staff_required, visible_stations_sql
from feedback.db import get_db
from jobs import tasks

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


def trend_chart(trend: list[dict], width: int = 640, height: int = 180) -> dict:
    """Geometry of the 30-day chart: a bar per day's ratings, a line of satisfaction."""
    left, right, top, bottom = 8, 8, 22, height - 20
    max_count = max((day["ratings_total"] for day in trend), default=0) or 1
    step = (width - left - right) / max(len(trend), 1)
    bars, points = [], []
    for i, day in enumerate(trend):
        h = (bottom - top) * day["ratings_total"] / max_count
        x = left + i * step
        bars.append({"x": round(x + 1, 1), "y": round(bottom - h, 1), "w": round(step - 2, 1),
                     "h": round(h, 1), "date": day["date"], "count": day["ratings_total"]})
        if day["satisfaction_rate"] is not None:
            y = bottom - (bottom - top) * day["satisfaction_rate"]
            points.append(f"{x + step / 2:.1f},{y:.1f}")
    return {"width": width, "height": height, "left": left, "right": right, "bottom": bottom,
            "bars": bars, "line": " ".join(points), "max_count": max_count,
            "first": trend[0]["date"] if trend else "", "last": trend[-1]["date"] if trend else ""}


def digest_for(user: dict, day: date) -> dict:
    """The digest this staff member may read: all, their district, or their station."""
    if user["role"] == "district":
        return tasks.build_digest(day, district=user["district"])
    if user["role"] == "manager":
        return tasks.build_digest(day, codes=[user["station_code"]])
    return tasks.build_digest(day)


@bp.get("/digests/<day_text>")
@staff_required()
def digest_page(day_text: str):
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        abort(404)
    today = clock.today()
    if day >= today:
        abort(404, "a day's digest exists once the day is over")
    digest = digest_for(current_user(), day)
    chart = Markup(render_template("_trend.svg", c=trend_chart(digest["trend"])))
    following = day + timedelta(days=1)
    return render_template("digest.html", digest=digest, chart=chart,
                           previous=(day - timedelta(days=1)).isoformat(),
                           next=following.isoformat() if following < today else None)
