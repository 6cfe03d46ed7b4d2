"""/metrics in Prometheus' text format, for the addresses in FEEDBACK_METRICS_ALLOW.

Counters and the latency histogram live in each process; under gunicorn they are shared through
prometheus-client's multiprocess files (PROMETHEUS_MULTIPROC_DIR, set by gunicorn.conf.py). What
the database knows (deliveries, the last digest and scan, its size) is read at each scrape.
"""
import ipaddress
import os
import time

from flask import Blueprint, Response, abort, current_app, g, request
from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram,
                               generate_latest, multiprocess)
from prometheus_client.core import GaugeMetricFamily

from feedback.clock import from_utc_text
from feedback.storage.db import get_db

bp = Blueprint("metrics", __name__)

RATINGS_RECORDED = Counter("feedback_ratings_recorded", "Ratings recorded from the form",
                           ["counted"])
RATINGS_REFUSED = Counter("feedback_ratings_refused", "Rating posts refused, by reason", ["reason"])
LATENCY = Histogram("feedback_request_seconds", "Time to answer a request, by route",
                    ["route", "method"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


def allowed(address: str | None, allow: list) -> bool:
    """Whether a client address is in the allowed networks (the rule, pure)."""
    try:
        client = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(client in network for network in allow)


class DatabaseCollector:
    """Gauges read from the database at each scrape."""

    def __init__(self, app):
        self.app = app

    def collect(self):
        with self.app.app_context():
            db = get_db()
            deliveries = GaugeMetricFamily("feedback_deliveries", "Deliveries by channel kind and state",
                                           labels=["kind", "state"])
            for kind, state, n in db.execute(
                    """SELECT kind, CASE WHEN status = 'sent' THEN 'sent'
                                         WHEN attempts > 0 THEN 'failing' ELSE 'pending' END, count(*)
                       FROM deliveries JOIN channels ON channels.id = channel_id GROUP BY 1, 2"""):
                deliveries.add_metric([kind, state], n)
            yield deliveries
            age = GaugeMetricFamily("feedback_job_age_seconds",
                                    "Seconds since a scheduled job last finished", labels=["job"])
            now = time.time()
            for job, finished in db.execute(
                    """SELECT job, max(finished_at) FROM job_runs WHERE status = 'done'
                       AND job IN ('digest', 'downgrade', 'report', 'backup') GROUP BY job"""):
                age.add_metric([job], now - from_utc_text(finished).timestamp())
            yield age
            path = self.app.config["DATABASE"]
            size = sum(os.path.getsize(p) for p in (path, f"{path}-wal") if os.path.exists(p))
            yield GaugeMetricFamily("feedback_database_bytes", "The database file and its log",
                                    value=size)


def configure(app) -> None:
    """Time every request and serve /metrics."""

    @app.before_request
    def start_timer():
        g.started = time.perf_counter()

    @app.after_request
    def observe(response):
        if "started" in g:
            LATENCY.labels(request.url_rule.rule if request.url_rule else "unmatched",
                           request.method).observe(time.perf_counter() - g.started)
        return response

    app.register_blueprint(bp)


@bp.get("/metrics")
def metrics():
    if not allowed(request.remote_addr, current_app.config["METRICS_ALLOW"]):
        abort(403, "metrics are for the addresses in FEEDBACK_METRICS_ALLOW")
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        for metric in (RATINGS_RECORDED, RATINGS_REFUSED, LATENCY):
            registry.register(metric)
    registry.register(DatabaseCollector(current_app._get_current_object()))
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
