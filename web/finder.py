"""The public station finder: the /near page, and the public JSON and GeoJSON for a city's app.

No sign-in anywhere here. The page works without JavaScript (a district list); a small script
adds "use my location" where the browser may give it (https, or this machine).
"""
from dataclasses import replace

from flask import Blueprint, Response, abort, jsonify, request, send_file, url_for

from feedback import clock
from feedback.places import finder
from feedback.storage.db import get_db
from web import browser
from web.views import WorkerError, render_page

bp = Blueprint("finder", __name__)

GEOJSON_TYPE = "application/geo+json"
# the page's own parameters: what its links carry on (never url_for's "_external", "_scheme")
NEAR_PARAMETERS = ("lat", "lon", "district", "amenity", "open_now", "kind", "lang", "page")


def near_url(**changes) -> str:
    """This search's URL with ``changes``."""
    kept = {name: request.args[name] for name in NEAR_PARAMETERS if name in request.args}
    return url_for(".near", **{**kept, **changes})


def question(need_position: bool, worker_page: bool) -> finder.Question:
    """The request's finder question; a bad one is a 400, in the worker's language on the page."""
    try:
        return finder.read_question(request.args, finder.known_amenities(get_db()), need_position,
                                    empty_is_absent=worker_page)
    except finder.BadQuestion as bad:
        if worker_page:
            raise WorkerError(400, bad.key) from None
        abort(400, str(bad))


@bp.route("/near")
def near():
    """Stations near the worker (with a position) or in a district (without one)."""
    asked = question(need_position=False, worker_page=True)
    db = get_db()
    district = request.args.get("district", "")
    try:
        page = finder.whole_number(request.args, "page", 1, 1, 10_000, "bad_filter")
    except finder.BadQuestion as bad:
        raise WorkerError(400, bad.key) from None
    results, more = [], False
    known = finder.districts(db)
    choices = []  # with many districts the worker types part of a name: the districts it names
    if district and district not in known and len(known) > finder.DISTRICTS_LISTED:
        choices = finder.districts_named(known, district)
        if len(choices) == 1:
            district, choices = choices[0], []
    unknown = bool(district) and district not in known and not choices
    if district and not choices and not unknown:
        results, more = finder.in_district(db, district, asked, clock.local_now(), page)
    elif asked.has_position:  # a page's worth, whatever limit was asked: it stays under 16 KB
        results = finder.nearest(db, replace(asked, limit=min(asked.limit, finder.PAGE_SIZE)),
                                 clock.local_now())
    searched = bool(district or asked.has_position) and not choices and not unknown
    return render_page(
        "near.html", asked=asked, district=district,
        districts=known if len(known) <= finder.DISTRICTS_LISTED else None,
        choices=[(name, near_url(district=name, page=1)) for name in choices], unknown=unknown,
        amenities=sorted(finder.known_amenities(db)), results=results, searched=searched,
        # a first visit starts with "open now" ticked: that is the station a worker wants
        open_now=asked.open_now or not request.args,
        next_page=near_url(page=page + 1) if more else None,
        amap_url=finder.amap_url, geo_uri=finder.geo_uri,
        switch_href=near_url(lang="en" if browser.language() == "zh" else "zh"))


@bp.route("/api/v1/public/stations")
def public_stations():
    """Listed stations nearest a WGS-84 position, nearest first, each with ``distance_m``."""
    asked = question(need_position=True, worker_page=False)
    response = jsonify({"items": finder.nearest(get_db(), asked, clock.local_now())})
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/api/v1/public/stations.geojson")
def public_geojson():
    """Every listed station as GeoJSON; unchanged since the client's copy, a 304."""
    db = get_db()
    local_now = clock.local_now()
    tag, last_modified = finder.feed_validators(db, local_now)
    # a weak match too: a proxy that compresses the feed marks its ETag weak (W/"…")
    unchanged = (request.if_none_match.contains_weak(tag) if request.if_none_match
                 else bool(request.if_modified_since and request.if_modified_since >= last_modified))
    if unchanged:
        response = Response(status=304)
    else:
        response = send_file(finder.feed_file(db, tag, local_now), mimetype=GEOJSON_TYPE,
                             conditional=False, etag=False, max_age=None)
    response.set_etag(tag)
    response.last_modified = last_modified
    response.headers["Cache-Control"] = "public, no-cache"  # keep it, but ask each time: a 304
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
