"""The OpenAPI 3 description of /api/v1."""
import copy

from feedback.followup.visits import CHECKLIST
from feedback.typed import MAX_REASON, NOT_BLANK


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERROR = _json(_ref("Error"), "An error, with what to do about it")
CONFLICT = _json(_ref("Error"), "Well formed, but the state of things does not allow it")
UNPROCESSABLE = _json(_ref("Error"), "Well formed, but it cannot be done (a range that ends "
                                     "before it starts)")
# a reason or a note: not blank (feedback.typed), at most MAX_REASON characters
REASON = {"type": "string", "minLength": 1, "maxLength": MAX_REASON, "pattern": NOT_BLANK}
# a local day, as every day the service reads (feedback.clock.parse_day): 2000 to 2099
DAY = {"type": "string", "format": "date", "pattern": "^20[0-9]{2}-[0-9]{2}-[0-9]{2}$"}
NULLABLE_NUMBER = {"type": "number", "nullable": True}
NULLABLE_TIME = {"type": "string", "format": "date-time", "nullable": True,
                 "description": "ISO 8601 with the offset of FEEDBACK_TIMEZONE"}
TIERS = ["city", "provincial", "national"]
CODE = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}
STAFF = [{"session": []}, {"bearer": []}]
# a list's page, without limit the whole list (web.api.paged gives its headers)
PAGE = [{"name": "limit", "in": "query",
         "schema": {"type": "integer", "minimum": 1, "maximum": 1000000}},
        {"name": "offset", "in": "query",
         "schema": {"type": "integer", "default": 0, "minimum": 0, "maximum": 1000000000}}]
CHECKLIST_SCHEMA = {"type": "object", "required": list(CHECKLIST), "additionalProperties": False,
                    "properties": {key: {"type": "string", "enum": ["pass", "fail", "na"]}
                                   for key in CHECKLIST}}
CASE_ID = {"name": "case_id", "in": "path", "required": True,
           "schema": {"type": "integer", "minimum": 0, "maximum": 9223372036854775807}}

SCHEMAS = {
    "Error": {"type": "object", "properties": {"error": {"type": "string"},
                                               "message": {"type": "string"}}},
    "Station": {"type": "object", "required": [
        "code", "name", "district", "tier", "status", "ratings_total", "satisfaction_rate",
        "last_rated_at"], "properties": {
        "code": {"type": "string", "pattern": "^[A-Za-z0-9-]{1,32}$"},
        "name": {"type": "string"}, "district": {"type": "string"},
        "address": {"type": "string"}, "latitude": NULLABLE_NUMBER, "longitude": NULLABLE_NUMBER,
        "tier": {"type": "string", "enum": TIERS},
        "kind": {"type": "string", "enum": ["fixed", "mobile", "partner"]},
        "status": {"type": "string", "enum": ["listed", "closed", "delisted"]},
        "opened_on": {"type": "string", "format": "date"},
        "amenities": {"type": "array", "items": {"type": "string"}},
        "hours": {"type": "string", "nullable": True,
                  "description": "24h, or HH:MM-HH:MM ranges separated by ;; null when unknown"},
        "ratings_total": {"type": "integer", "description": "counted ratings"},
        "held_total": {"type": "integer",
                       "description": "ratings kept but not counted (repeats, staff devices, exclusions)"},
        "satisfaction_rate": {**NULLABLE_NUMBER, "minimum": 0, "maximum": 1,
                              "description": "share of ratings scored 3 or more; null if none"},
        "last_rated_at": NULLABLE_TIME}},
    "Rating": {"type": "object", "required": ["id", "rated_at", "score", "comment", "device",
                                              "counted", "held_reason"], "properties": {
        "id": {"type": "integer"},
        "rated_at": {"type": "string", "format": "date-time"},
        "score": {"type": "integer", "minimum": 1, "maximum": 5},
        "comment": {"type": "string"},
        "reasons": {"type": "array", "items": {"type": "string"}},
        "device": {"type": "string", "nullable": True,
                   "description": "an opaque label, the same for one device's ratings (a phone's "
                                  "cookie, or without one its address and browser)"},
        "counted": {"type": "boolean"},
        "held_reason": {"type": "string", "nullable": True,
                        "enum": ["repeat", "staff_device", "same_network", "excluded", None]}}},
    "Case": {"type": "object", "required": ["id", "station_code", "status", "opened_on", "due_on",
                                            "ratings_total", "reasons", "resolved_at", "note"],
             "properties": {
        "id": {"type": "integer"}, "station_code": {"type": "string"},
        "status": {"type": "string", "enum": ["open", "overdue", "resolved"]},
        "opened_on": {"type": "string", "format": "date"},
        "due_on": {"type": "string", "format": "date"},
        "ratings_total": {"type": "integer", "description": "its counted bad ratings"},
        "reasons": {"type": "object", "additionalProperties": {"type": "integer"},
                    "description": "how often each reason was given"},
        "resolved_at": NULLABLE_TIME, "note": {"type": "string", "nullable": True}}},
    "Visit": {"type": "object", "required": ["kind", "items", "failed", "notes"], "properties": {
        "at": {"type": "string", "format": "date-time"}, "by": {"type": "string"},
        "kind": {"type": "string", "enum": ["unannounced", "assessment"]},
        "items": CHECKLIST_SCHEMA, "failed": {"type": "integer"}, "notes": {"type": "string"}}},
    "Exclusion": {"type": "object", "required": ["id", "ratings"], "properties": {
        "id": {"type": "integer"}, "ratings": {"type": "integer",
                                               "description": "how many ratings it holds (or released)"}}},
    "Signal": {"type": "object", "required": ["kind", "station_code", "found_on"], "properties": {
        "kind": {"type": "string",
                 "enum": ["single_device", "burst", "impossible_travel", "many_stations",
                          "staff_network"]},
        "station_code": {"type": "string"}, "device": {"type": "string", "nullable": True},
        "ratings": {"type": "integer"}, "from": {"type": "string", "format": "date-time"},
        "to": {"type": "string", "format": "date-time"},
        "found_on": {"type": "string", "format": "date",
                     "description": "the day the nightly scan found it on"}}},
    "Flag": {"type": "object", "required": ["code", "tier", "proposed_tier", "last_rated_at"],
             "properties": {
        "code": {"type": "string"}, "tier": {"type": "string", "enum": TIERS},
        "proposed_tier": {"type": "string", "enum": ["provincial", "city", "delisted"]},
        "last_rated_at": NULLABLE_TIME, "name": {"type": "string"},
        "district": {"type": "string"}, "flagged_on": {"type": "string", "format": "date"},
        "window_start": {"type": "string", "format": "date"}}},
    "HistoryEntry": {"type": "object", "required": ["at", "by", "action", "reason"], "properties": {
        "at": {"type": "string", "format": "date-time"}, "by": {"type": "string"},
        "action": {"type": "string", "enum": ["flagged", "confirmed", "dismissed", "tier_changed",
                                               "excluded", "exclusion_lifted", "reinstated", "moved"]},
        "from_tier": {"type": "string", "nullable": True},
        "to_tier": {"type": "string", "nullable": True}, "reason": {"type": "string"}}},
    "PublicStation": {"type": "object", "required": [
        "code", "name", "district", "latitude", "longitude", "hours", "amenities", "open_now"],
        "properties": {
        "code": {"type": "string"}, "name": {"type": "string"}, "district": {"type": "string"},
        "address": {"type": "string"},
        "kind": {"type": "string", "enum": ["fixed", "mobile", "partner"]},
        "latitude": {**NULLABLE_NUMBER, "description": "GCJ-02, as Amap shows it"},
        "longitude": {**NULLABLE_NUMBER, "description": "GCJ-02, as Amap shows it"},
        "hours": {"type": "string", "nullable": True},
        "amenities": {"type": "array", "items": {"type": "string"}},
        "open_now": {"type": "boolean", "nullable": True,
                     "description": "in FEEDBACK_TIMEZONE; null when the hours are unknown"},
        "distance_m": {"type": "integer", "minimum": 0,
                       "description": "true metres from the position asked about"}}},
}


def _case_step(summary: str, field: str, answer: str) -> dict:
    """A POST on one case with one text field."""
    return {"post": {
        "summary": summary, "security": STAFF, "parameters": [CASE_ID],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": [field], "properties": {
                field: REASON}}}}},
        "responses": {"200": _json(_ref("Case"), answer), "400": ERROR, "401": ERROR,
                      "403": ERROR, "404": ERROR, "409": CONFLICT}}}


PATHS = {
    "/stations/{code}": {"get": {
        "summary": "A station's public summary", "parameters": [CODE],
        "responses": {"200": _json(_ref("Station"), "The station"), "404": ERROR}}},
    "/stations": {"get": {
        "summary": "Every listed station the signed-in staff member may see, by code",
        "description": "Without limit, every one. X-Total-Count gives how many match; a Link "
                       "header (rel=next) names the next page.",
        "security": STAFF,
        "parameters": [
            {"name": "q", "in": "query", "schema": {"type": "string"},
             "description": "part of the code or the name (the first 100 characters count)"},
            {"name": "district", "in": "query", "schema": {"type": "string"}},
            {"name": "tier", "in": "query", "schema": {"type": "string", "enum": TIERS}},
            {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["listed", "closed"]}},
            *PAGE],
        "responses": {"200": _json({"type": "array", "items": _ref("Station")}, "The stations"),
                      "400": ERROR, "401": ERROR}}},
    "/stations/{code}/ratings": {"get": {
        "summary": "A station's ratings between two local days, inclusive", "security": STAFF,
        "parameters": [CODE] + [
            {"name": name, "in": "query", "schema": DAY,
             "description": description} for name, description in (
                ("from", "first day (default: 29 days before `to`)"), ("to", "last day (default: today)"))] + [
            {"name": "limit", "in": "query",
             "schema": {"type": "integer", "default": 1000, "minimum": 1, "maximum": 10000}},
            {"name": "offset", "in": "query",
             "schema": {"type": "integer", "default": 0, "minimum": 0, "maximum": 1000000000}}],
        "responses": {"200": _json({"type": "object", "required": ["items"], "properties": {
            "code": {"type": "string"}, "from": {"type": "string", "format": "date"},
            "to": {"type": "string", "format": "date"}, "total": {"type": "integer"},
            "offset": {"type": "integer"}, "limit": {"type": "integer"},
            "items": {"type": "array", "items": _ref("Rating")}}}, "The ratings"),
            "400": ERROR, "401": ERROR, "404": ERROR, "422": UNPROCESSABLE}}},
    "/stations/{code}/history": {"get": {
        "summary": "Tier changes and decisions about a station", "security": STAFF,
        "parameters": [CODE],
        "responses": {"200": _json({"type": "object", "properties": {
            "code": {"type": "string"},
            "items": {"type": "array", "items": _ref("HistoryEntry")}}}, "The history"),
            "401": ERROR, "404": ERROR}}},
    "/flags": {"get": {
        "summary": "The open downgrade flags by station code (inspectors)",
        "description": "Without limit, every one. X-Total-Count gives how many are open; a Link "
                       "header (rel=next) names the next page.",
        "security": STAFF, "parameters": PAGE,
        "responses": {"200": _json({"type": "array", "items": _ref("Flag")}, "Open flags"),
                      "400": ERROR, "401": ERROR, "403": ERROR}}},
    "/flags/{code}/decision": {"post": {
        "summary": "Confirm (the tier steps down) or dismiss a station's open flag (inspectors)",
        "security": STAFF, "parameters": [CODE],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["decision", "reason"], "properties": {
                "decision": {"type": "string", "enum": ["confirm", "dismiss"]},
                "reason": REASON}}}}},
        "responses": {"200": _json({"type": "object", "properties": {
            "code": {"type": "string"}, "decision": {"type": "string"},
            "tier": {"type": "string"}, "new_tier": {"type": "string"}}}, "The decision"),
            "400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR}}},
    "/exclusions": {"post": {
        "summary": "Keep one rating, or one device's ratings at a station over days, out of every "
                   "figure (inspectors, admins)", "security": STAFF,
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"anyOf": [
            {"type": "object", "required": ["rating_id", "reason"], "properties": {
                "rating_id": {"type": "integer", "minimum": 1},
                "reason": REASON}},
            {"type": "object", "required": ["station", "device", "from", "to", "reason"],
             "properties": {
                 "station": {"type": "string"}, "device": {"type": "string"},
                 "from": DAY, "to": DAY,
                 "reason": REASON}}]}}}},
        "responses": {"201": _json(_ref("Exclusion"), "The exclusion and the ratings it holds"),
                      "400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR,
                      "422": UNPROCESSABLE}}},
    "/exclusions/{exclusion_id}/lift": {"post": {
        "summary": "End an exclusion, with a reason (inspectors, admins)", "security": STAFF,
        "parameters": [{"name": "exclusion_id", "in": "path", "required": True,
                        "schema": {"type": "integer", "minimum": 0,
                                   "maximum": 9223372036854775807}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["reason"], "properties": {
                "reason": REASON}}}}},
        "responses": {"200": _json(_ref("Exclusion"), "The exclusion and the ratings it released"),
                      "400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR, "409": CONFLICT}}},
    "/cases": {"get": {
        "summary": "Follow-up cases of the stations this account may see, overdue first",
        "security": STAFF, "parameters": [
            {"name": "status", "in": "query",
             "schema": {"type": "string", "enum": ["open", "overdue", "resolved"]},
             "description": "open includes overdue"}],
        "responses": {"200": _json({"type": "object", "required": ["items"], "properties": {
            "items": {"type": "array", "items": _ref("Case")}}}, "The cases"),
            "400": ERROR, "401": ERROR}}},
    "/cases/{case_id}/resolve": _case_step(
        "The station's manager says what was done (managers, admins)", "note", "The case, resolved"),
    "/cases/{case_id}/reopen": _case_step(
        "Open a case resolved in the last 14 days again (districts, inspectors, admins)", "reason",
        "The case, open with a new due day"),
    "/stations/{code}/reinstate": {"post": {
        "summary": "One step up, with a reason: delisted → city → provincial → national "
                   "(inspectors, admins)", "security": STAFF, "parameters": [CODE],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["reason"], "properties": {
                "reason": REASON}}}}},
        "responses": {"200": _json({"type": "object", "properties": {
            "code": {"type": "string"}, "tier": {"type": "string"},
            "new_tier": {"type": "string"}}}, "The step"),
            "400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR,
            "409": CONFLICT}}},
    "/stations/{code}/visits": {
        "post": {
            "summary": "Record an inspection visit (inspectors, admins)", "security": STAFF,
            "parameters": [CODE],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["kind", "items"], "properties": {
                    "kind": {"type": "string", "enum": ["unannounced", "assessment"]},
                    "items": CHECKLIST_SCHEMA,
                    "notes": {"type": "string", "maxLength": 2000}}}}}},
            "responses": {"201": _json(_ref("Visit"), "The visit"),
                          "400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR}},
        "get": {
            "summary": "A station's inspection visits, newest first", "security": STAFF,
            "parameters": [CODE],
            "responses": {"200": _json({"type": "object", "required": ["items"], "properties": {
                "code": {"type": "string"},
                "items": {"type": "array", "items": _ref("Visit")}}}, "The visits"),
                "401": ERROR, "404": ERROR}}},
    "/signals": {"get": {
        "summary": "What may be gaming the counts (inspectors, admins)", "security": STAFF,
        "responses": {"200": _json({"type": "object", "required": ["items"], "properties": {
            "items": {"type": "array", "items": _ref("Signal")}}},
            "The signals the nightly scans found: the last 30 days scanned"),
            "401": ERROR, "403": ERROR}}},
    "/public/stations": {"get": {
        "summary": "Listed stations nearest a position, nearest first (no sign-in)",
        "parameters": [
            {"name": "lat", "in": "query", "required": True, "description": "WGS-84, as a phone reports it",
             "schema": {"type": "number", "minimum": -90, "maximum": 90}},
            {"name": "lon", "in": "query", "required": True, "description": "WGS-84",
             "schema": {"type": "number", "minimum": -180, "maximum": 180}},
            {"name": "radius_m", "in": "query",
             "schema": {"type": "integer", "minimum": 1, "maximum": 50000, "default": 50000}},
            {"name": "amenity", "in": "query", "schema": {"type": "string"},  # its enum: document()
             "description": "only stations offering it, e.g. water: one the pages have words "
                            "for, or one a listed station offers"},
            {"name": "kind", "in": "query",
             "schema": {"type": "string", "enum": ["fixed", "mobile", "partner"]}},
            {"name": "open_now", "in": "query", "schema": {"type": "string", "enum": ["0", "1"]}},
            {"name": "limit", "in": "query",
             "schema": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10}}],
        "responses": {"200": _json({"type": "object", "required": ["items"], "properties": {
            "items": {"type": "array", "items": _ref("PublicStation")}}}, "The stations"),
            "400": ERROR}}},
    "/public/stations.geojson": {"get": {
        "summary": "Every listed station as a GeoJSON FeatureCollection (no sign-in)",
        "description": "Geometry in WGS-84 (RFC 7946); each feature's properties are a "
                       "PublicStation without distance_m. Send If-None-Match (or "
                       "If-Modified-Since) to get a 304 while nothing changed.",
        "parameters": [{"name": "If-None-Match", "in": "header", "schema": {"type": "string"}}],
        "responses": {
            "200": {"description": "The stations", "content": {"application/geo+json": {
                "schema": {"type": "object", "required": ["type", "features"]}}}},
            "304": {"description": "Unchanged since the ETag or date sent"}}}},
    "/openapi.json": {"get": {"summary": "This description",
                              "responses": {"200": {"description": "OpenAPI 3"}}}},
}


def document(base_url: str, amenities: list[str]) -> dict:
    """The description, with what depends on the stations: the amenities a finder may ask for."""
    finder = copy.deepcopy(PATHS["/public/stations"])
    for parameter in finder["get"]["parameters"]:
        if parameter["name"] == "amenity":
            parameter["schema"]["enum"] = amenities
    return {
        "openapi": "3.0.3",
        "info": {"title": "Station feedback API", "version": "1"},
        "servers": [{"url": f"{base_url}/api/v1"}],
        "paths": {**PATHS, "/public/stations": finder},
        "components": {"schemas": SCHEMAS, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "a token from `flask --app app users token`"},
            "session": {"type": "apiKey", "in": "cookie", "name": "session",
                        "description": "the cookie set by signing in at /login"}}},
    }
