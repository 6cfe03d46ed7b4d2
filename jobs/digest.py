"""The daily digest: what went on at the stations on one day.

``build`` is the rule: a plain function of the data and the day. ``load`` reads that data from
the database; the two parts of the rule that go over every station of a nation, the ranking and
the quiet lists, are worked out in SQL as it reads (RANKING, QUIET). Nothing here sends
anything.
"""
import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from feedback.clock import local_iso
from feedback.counts import scale, windows
from feedback.counts.ratings import between_days, on_days

RANKING_DAYS = 30      # best and worst are ranked on the last 30 days, not one day's handful
RANKING_PRIOR = 5      # ratings' worth of the overall mean each station starts from
RANKED = 5             # how many best and worst to show
LIST_LIMIT = 1000      # entries of each list (bad ratings, quiet stations) a digest carries
QUIET_DAYS = (30, 60)  # early warnings before the three-month downgrade rule
TREND_DAYS = 30

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE_LIKE = re.compile(r"\+?\(?\d[\d\s\-()]{5,}\d")
DATE_LIKE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
MASK = "***"


def mask_contacts(text: str) -> str:
    """Hide e-mail addresses and phone numbers (7 or more digits, dates aside) in a comment."""
    def phone(match: re.Match) -> str:
        found = match.group()
        if DATE_LIKE.fullmatch(found.strip()) or sum(c.isdigit() for c in found) < 7:
            return found
        return MASK
    return PHONE_LIKE.sub(phone, EMAIL.sub(MASK, text))


def no_quiet() -> dict:
    """The quiet lists of a scope with no quiet station."""
    return {"quiet_30": [], "quiet_30_total": 0, "quiet_60": [], "quiet_60_total": 0}


@dataclass
class DigestData:
    """Everything a digest is made from, for the stations in its scope. Lists of stations hold
    only what the digest may show: a nation has 200,000 stations."""
    day: date
    districts: dict[str, dict[int, int]]       # every district in scope → {score: count} on the day
    bad_ratings: list[dict]                    # the day's first LIST_LIMIT bad ratings: code, name,
                                               # district, rated_at (UTC text), score, comment, reasons
    quiet: dict = field(default_factory=no_quiet)  # quiet stations (QUIET): the first
                                                   # LIST_LIMIT of each list, and how many
    best: list[dict] = field(default_factory=list)   # the top RANKED by ranking_score, and the
    worst: list[dict] = field(default_factory=list)  # bottom RANKED: code, name, district,
    ranked_total: int = 0                      # ratings_total, mean_score, ranking_score; of how
                                               # many (counted up to 2 × RANKED: all build needs)
    trend: list[tuple[date, dict[int, int]]] = field(default_factory=list)
    flagged_total: int = 0
    scope: str | None = None                   # the district, when the digest is for one
    overdue_cases: list[dict] = field(default_factory=list)  # open, due before the day after:
                                                             # code, name, district, opened_on, due_on


def sum_counts(many) -> dict[int, int]:
    """Several {score: count} added up."""
    total: dict[int, int] = {}
    for counts in many:
        for score, n in counts.items():
            total[score] = total.get(score, 0) + n
    return total


def summary(counts: dict[int, int]) -> dict:
    """Totals, distribution, mean and satisfaction rate of a set of counts."""
    counts = {score: counts.get(score, 0) for score in range(1, 6)}
    return {
        "ratings_total": sum(counts.values()),
        "distribution": {str(score): counts[score] for score in range(5, 0, -1)},
        "mean_score": scale.mean_score(counts),
        "satisfaction_rate": scale.satisfaction_rate(counts),
    }


# Best and worst stations by mean score shrunk towards the overall mean (a Bayesian average),
# so that a station with one 5 does not top a station with a hundred 4s: over the ranking window,
# each station's (RANKING_PRIOR × overall mean + its scores' sum) / (RANKING_PRIOR + its count).
# In SQL because it ranks every station of a nation; ``load`` takes the ends of the order.
RANKING = f"""
    SELECT code, name, district, n AS ratings_total, total * 1.0 / n AS mean_score,
           ({RANKING_PRIOR} * ? + total) / ({RANKING_PRIOR} + n) AS ranking_score
    FROM (SELECT station_id, n1 + n2 + n3 + n4 + n5 AS n,
                 n1 + 2 * n2 + 3 * n3 + 4 * n4 + 5 * n5 AS total
          FROM ({{rows}}) WHERE n1 + n2 + n3 + n4 + n5 > 0 {{scope}}) AS counts
    JOIN stations ON stations.id = counts.station_id
    ORDER BY {{order}} LIMIT {{limit}}"""
BEST_FIRST, WORST_FIRST = "ranking_score DESC, code", "ranking_score, code DESC"


# Listed stations without a counted rating in the ranking window, by the days since their last
# one up to the day (or since they opened): QUIET_DAYS[0] to QUIET_DAYS[1] - 1 days, and
# QUIET_DAYS[1] or more; each list longest first, its first LIST_LIMIT and how many. Only the
# stations unrated in the ranking window can be quiet (QUIET_DAYS start at RANKING_DAYS). In SQL,
# as the ranking is: in a sparse rollout most of a nation's 200,000 stations are quiet.
QUIET = f"""
    WITH unrated AS MATERIALIZED (  -- MATERIALIZED: each station's last rating looked up once
        SELECT code, name, district, opened_on,
               (SELECT max(day) FROM station_days WHERE station_id = stations.id AND day <= ?
                  AND n1 + n2 + n3 + n4 + n5 > 0) AS last
        FROM stations  -- +status: by the window's ids, not every listed station
        WHERE +status = 'listed' AND {{where}} AND {{unrated}}),
    aged AS MATERIALIZED (
        SELECT code, name, district, last,
               CAST(julianday(?) - julianday(coalesce(last, opened_on)) AS INTEGER) AS days
        FROM unrated)
    SELECT * FROM (SELECT code, name, district, last AS last_rated_on, days, 1 AS long,
                          (SELECT count(*) FROM aged WHERE days >= {QUIET_DAYS[1]}) AS total
                   FROM aged WHERE days >= {QUIET_DAYS[1]} ORDER BY days DESC, code LIMIT {{limit}})
    UNION ALL
    SELECT * FROM (SELECT code, name, district, last, days, 0,
                          (SELECT count(*) FROM aged
                           WHERE days BETWEEN {QUIET_DAYS[0]} AND {QUIET_DAYS[1] - 1})
                   FROM aged WHERE days BETWEEN {QUIET_DAYS[0]} AND {QUIET_DAYS[1] - 1}
                   ORDER BY days DESC, code LIMIT {{limit}})"""


def build(data: DigestData, base_url: str, tz) -> dict:
    """The digest of ``data.day`` as plain JSON-ready data. Its lists hold at most LIST_LIMIT
    entries each; the totals beside them count them all."""
    day_total = sum_counts(data.districts.values())
    bad = [
        {"station_code": r["code"], "station_name": r["name"], "district": r["district"],
         "rated_at": local_iso(r["rated_at"], tz),
         "score": r["score"], "label": scale.LABELS["zh"][r["score"]],
         "comment": mask_contacts(r["comment"]),
         "reasons": [reason for reason in r["reasons"].split(";") if reason]}
        for r in sorted(data.bad_ratings, key=lambda r: (r["rated_at"], r["code"]))[:LIST_LIMIT]
    ]
    shown = min(RANKED, data.ranked_total // 2)  # with few stations, none is both best and worst
    return {
        "date": data.day.isoformat(),
        "scope": data.scope,
        **summary(day_total),
        "bad_ratings_total": bad_count(day_total),
        "bad_ratings": bad,
        "districts": [{"district": district, **summary(counts),
                       "bad_ratings_total": bad_count(counts)}
                      for district, counts in sorted(data.districts.items())],
        "best": data.best[:shown],
        "worst": data.worst[:shown],
        "quiet_30_total": data.quiet["quiet_30_total"],
        "quiet_30": data.quiet["quiet_30"],
        "quiet_60_total": data.quiet["quiet_60_total"],
        "quiet_60": data.quiet["quiet_60"],
        "flagged_total": data.flagged_total,
        "overdue_cases": sorted(
            ({"station_code": c["code"], "station_name": c["name"], "district": c["district"],
              "opened_on": c["opened_on"], "due_on": c["due_on"]} for c in data.overdue_cases),
            key=lambda c: (c["district"], c["due_on"], c["station_code"])),
        "trend": [{"date": d.isoformat(), **summary(c)} for d, c in data.trend],
        "url": f"{base_url.rstrip('/')}/digests/{data.day.isoformat()}",
    }


def bad_count(counts: dict[int, int]) -> int:
    return sum(n for score, n in counts.items() if scale.is_bad(score))


def scope_days(db, first: date, last: date, where: str, params: list, district: str | None,
               named: bool) -> dict[str, dict[int, int]]:
    """Day → counts of the scope from ``first`` to ``last``: the city's or a district's own
    rollup, or (for named stations) their station-days."""
    span = [first.isoformat(), last.isoformat()]
    if named:
        rows = db.query(f"""SELECT day, sum(n1) n1, sum(n2) n2, sum(n3) n3, sum(n4) n4, sum(n5) n5
                            FROM station_days JOIN stations ON stations.id = station_id
                            WHERE day BETWEEN ? AND ? AND {where} GROUP BY day""", [*span, *params])
    elif district is None:
        rows = db.query("SELECT * FROM city_days WHERE day BETWEEN ? AND ?", span)
    else:
        rows = db.query("SELECT * FROM district_days WHERE district = ? AND day BETWEEN ? AND ?",
                        [district, *span])
    return {row["day"]: scale.counts_from_row(row) for row in rows}


def districts_between(db, first: date, last: date, where: str, params: list,
                      named: bool = False) -> dict:
    """District → counts from ``first`` to ``last`` for every district of the scope with a
    listed station or a rating (those without ratings too): from the districts' own rollup, or
    for named stations (a manager's digest) from their station-days, since their districts
    hold other stations too."""
    # a district left with closed stations only (the demo's, once real ones came) is not listed
    listed = dict(db.execute(
        f"SELECT district, max(status = 'listed') FROM stations WHERE {where} GROUP BY district",
        params).fetchall())
    found = {name: {} for name, has_listed in listed.items() if has_listed}
    # a nation's 2,800 districts: rows as tuples, and the districts' rollup searched for the
    # names found above rather than for those of every station again
    source, values = ((f"""station_days JOIN stations ON stations.id = station_id
                           WHERE day BETWEEN ? AND ? AND {where}""", params) if named else
                      ("""district_days WHERE day BETWEEN ? AND ?
                          AND district IN (SELECT value FROM json_each(?))""",
                       [json.dumps(list(listed))]))
    for name, *counts in db.execute(
            f"""SELECT district, sum(n1), sum(n2), sum(n3), sum(n4), sum(n5) FROM {source}
                GROUP BY district""", [first.isoformat(), last.isoformat(), *values]):
        if name in found or any(counts):
            found[name] = dict(enumerate(counts, start=1))
    return found


def load(db, day: date, district: str | None = None, codes: list[str] | None = None) -> DigestData:
    """Read a digest's data: every station, or one district's, or the stations in ``codes``."""
    where, params = "1", []
    if district is not None:
        where, params = "stations.district = ?", [district]
    elif codes is not None:
        where, params = f"stations.code IN ({','.join('?' * len(codes))})", list(codes)
    first = day - timedelta(days=RANKING_DAYS - 1)
    ranking_window = windows.window(db, first, day)

    def quiet_lists() -> dict:
        quiet = no_quiet()
        unrated = ranking_window.unrated
        if where != "1":  # a district's or the named stations by their own index: not the
            unrated = f"+{unrated}"  # unrated of the whole nation, most of it when sparse
        for row in db.query(QUIET.format(where=where, unrated=unrated, limit=LIST_LIMIT),
                            [day.isoformat(), *params, *ranking_window.unrated_params,
                             day.isoformat()]):
            listed = "quiet_60" if row.pop("long") else "quiet_30"
            quiet[f"{listed}_total"] = row.pop("total")
            quiet[listed].append(row)
        return quiet

    districts = districts_between(db, day, day, where, params, named=codes is not None)
    # one read of the days for the trend and the ranking window's overall mean (not another
    # pass over the stations)
    days = scope_days(db, min(first, day - timedelta(days=TREND_DAYS - 1)), day, where, params,
                      district, codes is not None)
    trend = [(d, days.get(d.isoformat(), {}))
             for d in (day - timedelta(days=TREND_DAYS - 1 - i) for i in range(TREND_DAYS))]
    # the best are read to twice RANKED, all the rule of build() needs to know
    overall = scale.mean_score(sum_counts(
        counts for d, counts in days.items() if d >= first.isoformat()))
    scope = "" if where == "1" else f"AND station_id IN (SELECT id FROM stations WHERE {where})"

    def rank() -> dict:
        best, worst = ([], []) if overall is None else (
            list(db.query(RANKING.format(rows=ranking_window.rows, scope=scope, order=order,
                                         limit=limit),
                          [overall, *ranking_window.rows_params, *params]))
            for order, limit in ((BEST_FIRST, 2 * RANKED), (WORST_FIRST, RANKED)))
        return {"best": best[:RANKED], "worst": worst, "ranked_total": len(best),
                "quiet": quiet_lists()}
    # what the window says of the nation is remembered with it; a district's or a station's is
    # quick to work out
    ranking = (windows.ranking(db, ranking_window, rank)
               if where == "1" and ranking_window.kept else rank())

    # the nation's first bad ratings along the day index, (day, rated_at); a district's or a
    # station's through each of its stations' own ratings of the day
    if where == "1":
        source = "counted_ratings AS ratings JOIN stations"
        _, that_day, day_values = on_days(day, day)
    else:
        source = "stations CROSS JOIN counted_ratings AS ratings"
        that_day, day_values = between_days(day, day)
    bad_ratings = list(db.query(
        f"""SELECT code, name, district, rated_at, score,
                   coalesce(rating_details.comment, ratings.comment) AS comment,
                   coalesce(nullif(rating_details.reasons, ''), ratings.reasons) AS reasons
            FROM {source} ON stations.id = station_id
            LEFT JOIN rating_details ON rating_details.rating_id = ratings.id
            WHERE {that_day} AND score < {scale.SATISFIED_FROM} AND {where}
            ORDER BY ratings.rated_at, ratings.id LIMIT {LIST_LIMIT}""",
        [*day_values, *params]))
    flagged = db.execute(  # the nation's by the status index alone
        "SELECT count(*) FROM flags WHERE status = 'open'" if where == "1" else
        f"""SELECT count(*) FROM stations  -- the scope's stations first, each one's open flag
            CROSS JOIN flags ON flags.station_id = stations.id AND flags.status = 'open'
            WHERE {where}""", params).fetchone()[0]
    # the digest is read the morning after its day: a case due on the day itself is overdue
    overdue = list(db.query(
        f"""SELECT code, name, district, cases.opened_on, due_on FROM cases
            JOIN stations ON stations.id = station_id
            WHERE cases.status = 'open' AND due_on <= ? AND {where}""", [day.isoformat(), *params]))
    return DigestData(
        day=day, districts=districts, bad_ratings=bad_ratings, quiet=ranking["quiet"],
        best=ranking["best"], worst=ranking["worst"], ranked_total=ranking["ranked_total"],
        trend=trend, flagged_total=flagged, overdue_cases=overdue,
        # a district's digest, or a manager's that names the station
        scope=district if district is not None else
        (", ".join(row["name"] for row in db.query(
            f"SELECT name FROM stations WHERE {where}", params)) if codes is not None else None))
