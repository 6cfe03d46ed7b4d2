"""The daily digest: what went on at the stations on one day.

``build`` is the rule: a plain function of the data and the day. ``load`` reads that data from
the database; nothing here sends anything.
"""
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from feedback import scale
from feedback.clock import local_iso

RANKING_DAYS = 30      # best and worst are ranked on the last 30 days, not one day's handful
RANKING_PRIOR = 5      # ratings' worth of the overall mean each station starts from
RANKED = 5             # how many best and worst to show
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


@dataclass
class DigestData:
    """Everything a digest is made from, for the stations in its scope."""
    day: date
    stations: list[dict]                       # code, name, district, status, opened_on
    day_counts: dict[str, dict[int, int]]      # code → {score: count} on the day
    window_counts: dict[str, dict[int, int]]   # code → {score: count} over the ranking window
    bad_ratings: list[dict]                    # code, rated_at (UTC text), score, comment, reasons
    last_rated_day: dict[str, date]            # code → its last day with a counted rating, up to
                                               # the day (for those unrated in the window)
    trend: list[tuple[date, dict[int, int]]] = field(default_factory=list)
    flagged_total: int = 0
    scope: str | None = None                   # the district, when the digest is for one
    overdue_cases: list[dict] = field(default_factory=list)  # open, due before the day after


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


def ranked(data: DigestData, by_code: dict) -> tuple[list[dict], list[dict]]:
    """Best and worst stations by mean score shrunk towards the overall mean (Bayesian average),
    so that a station with one 5 does not top a station with a hundred 4s."""
    overall = scale.mean_score(sum_counts(data.window_counts.values()))
    if overall is None:
        return [], []
    scored = []
    for code, counts in data.window_counts.items():
        n = sum(counts.values())
        if n == 0 or code not in by_code:
            continue
        total = sum(score * k for score, k in counts.items())
        station = by_code[code]
        scored.append({"code": code, "name": station["name"], "district": station["district"],
                       "ratings_total": n, "mean_score": total / n,
                       "ranking_score": (RANKING_PRIOR * overall + total) / (RANKING_PRIOR + n)})
    scored.sort(key=lambda s: (-s["ranking_score"], s["code"]))
    shown = min(RANKED, len(scored) // 2)  # with few stations, none is both best and worst
    return scored[:shown], scored[::-1][:shown]


def quiet(data: DigestData) -> tuple[list[dict], list[dict]]:
    """Listed stations without a rating for 30 to 59 days, and for 60 days or more."""
    lists = ([], [])
    for station in data.stations:
        if station["status"] != "listed" or sum(data.window_counts.get(station["code"], {}).values()):
            continue  # rated in the ranking window: not quiet (QUIET_DAYS start at RANKING_DAYS)
        last = data.last_rated_day.get(station["code"])
        since = last or date.fromisoformat(station["opened_on"])
        days = (data.day - since).days
        entry = {"code": station["code"], "name": station["name"],
                 "district": station["district"],
                 "last_rated_on": last.isoformat() if last else None, "days": days}
        if days >= QUIET_DAYS[1]:
            lists[1].append(entry)
        elif days >= QUIET_DAYS[0]:
            lists[0].append(entry)
    for entries in lists:
        entries.sort(key=lambda e: (-e["days"], e["code"]))
    return lists


def build(data: DigestData, base_url: str, tz) -> dict:
    """The digest of ``data.day`` as plain JSON-ready data."""
    by_code = {s["code"]: s for s in data.stations}
    districts = sorted({s["district"] for s in data.stations})
    day_total = sum_counts(data.day_counts.values())
    bad = [
        {"station_code": r["code"], "station_name": by_code[r["code"]]["name"],
         "district": by_code[r["code"]]["district"], "rated_at": local_iso(r["rated_at"], tz),
         "score": r["score"], "label": scale.LABELS["zh"][r["score"]],
         "comment": mask_contacts(r["comment"]),
         "reasons": [reason for reason in r["reasons"].split(";") if reason]}
        for r in sorted(data.bad_ratings, key=lambda r: (r["rated_at"], r["code"]))
        if r["code"] in by_code
    ]
    best, worst = ranked(data, by_code)
    quiet_30, quiet_60 = quiet(data)
    counts_in, bad_in = defaultdict(list), defaultdict(int)
    for code, counts in data.day_counts.items():
        if code in by_code:
            counts_in[by_code[code]["district"]].append(counts)
    for rating in bad:
        bad_in[rating["district"]] += 1
    per_district = [{"district": district, **summary(sum_counts(counts_in[district])),
                     "bad_ratings_total": bad_in[district]} for district in districts]
    return {
        "date": data.day.isoformat(),
        "scope": data.scope,
        **summary(day_total),
        "bad_ratings_total": len(bad),
        "bad_ratings": bad,
        "districts": per_district,
        "best": best,
        "worst": worst,
        "quiet_30": quiet_30,
        "quiet_60": quiet_60,
        "flagged_total": data.flagged_total,
        "overdue_cases": sorted(
            ({"station_code": c["code"], "station_name": by_code[c["code"]]["name"],
              "district": by_code[c["code"]]["district"], "opened_on": c["opened_on"],
              "due_on": c["due_on"]} for c in data.overdue_cases if c["code"] in by_code),
            key=lambda c: (c["district"], c["due_on"], c["station_code"])),
        "trend": [{"date": d.isoformat(), **summary(c)} for d, c in data.trend],
        "url": f"{base_url.rstrip('/')}/digests/{data.day.isoformat()}",
    }


def load(db, day: date, district: str | None = None, codes: list[str] | None = None) -> DigestData:
    """Read a digest's data: every station, or one district's, or the stations in ``codes``."""
    where, params = "1", []
    if district is not None:
        where, params = "stations.district = ?", [district]
    elif codes is not None:
        where, params = f"stations.code IN ({','.join('?' * len(codes))})", list(codes)
    stations = list(db.query(
        f"SELECT id, code, name, district, status, opened_on FROM stations WHERE {where}", params))
    codes_by_id = {s["id"]: s["code"] for s in stations}

    def counts_between(first: date, last: date) -> dict[str, dict[int, int]]:
        result: dict[str, dict[int, int]] = {}
        for row in db.query(
                f"""SELECT station_id, sum(n1) n1, sum(n2) n2, sum(n3) n3, sum(n4) n4, sum(n5) n5
                    FROM station_days JOIN stations ON stations.id = station_id
                    WHERE day BETWEEN ? AND ? AND {where} GROUP BY station_id""",
                [first.isoformat(), last.isoformat(), *params]):
            result[codes_by_id[row["station_id"]]] = scale.counts_from_row(row)
        return result

    trend_from = (day - timedelta(days=TREND_DAYS - 1)).isoformat()
    if where == "1":  # the whole city: its own daily rollup, thirty rows
        trend_rows = db.query("SELECT * FROM city_days WHERE day BETWEEN ? AND ?",
                              [trend_from, day.isoformat()])
    else:
        trend_rows = db.query(
            f"""SELECT day, sum(n1) n1, sum(n2) n2, sum(n3) n3, sum(n4) n4, sum(n5) n5
                FROM station_days JOIN stations ON stations.id = station_id
                WHERE day BETWEEN ? AND ? AND {where} GROUP BY day""",
            [trend_from, day.isoformat(), *params])
    by_day = {row["day"]: scale.counts_from_row(row) for row in trend_rows}
    trend = [(d, by_day.get(d.isoformat(), {}))
             for d in (day - timedelta(days=TREND_DAYS - 1 - i) for i in range(TREND_DAYS))]

    window_counts = counts_between(day - timedelta(days=RANKING_DAYS - 1), day)
    # only a station without a counted rating in the ranking window can be quiet (QUIET_DAYS
    # start at RANKING_DAYS): the others need no search for their last day
    unrated = [s["code"] for s in stations if not sum(window_counts.get(s["code"], {}).values())]
    last_rated = {code: date.fromisoformat(last_day) for code, last_day in db.execute(
        """SELECT code, (SELECT max(day) FROM station_days
                         WHERE station_id = stations.id AND day <= ?
                           AND n1 + n2 + n3 + n4 + n5 > 0)
           FROM stations WHERE code IN (SELECT value FROM json_each(?))""",
        [day.isoformat(), json.dumps(unrated)]) if last_day}

    bad_ratings = list(db.query(
        f"""SELECT code, rated_at, score, coalesce(rating_details.comment, ratings.comment) AS comment,
                   coalesce(nullif(rating_details.reasons, ''), ratings.reasons) AS reasons
            FROM counted_ratings AS ratings JOIN stations ON stations.id = station_id
            LEFT JOIN rating_details ON rating_details.rating_id = ratings.id
            WHERE ratings.day = ? AND score < {scale.SATISFIED_FROM} AND {where}""",
        [day.isoformat(), *params]))
    flagged = db.execute(
        f"""SELECT count(*) FROM flags JOIN stations ON stations.id = station_id
            WHERE flags.status = 'open' AND {where}""", params).fetchone()[0]
    # the digest is read the morning after its day: a case due on the day itself is overdue
    overdue = list(db.query(
        f"""SELECT code, cases.opened_on, due_on FROM cases JOIN stations ON stations.id = station_id
            WHERE cases.status = 'open' AND due_on <= ? AND {where}""", [day.isoformat(), *params]))
    return DigestData(
        overdue_cases=overdue,
        day=day, stations=stations, day_counts=counts_between(day, day),
        window_counts=window_counts,
        bad_ratings=bad_ratings, last_rated_day=last_rated, trend=trend,
        flagged_total=flagged,
        # a district's digest, or a manager's that names the station
        scope=district if district is not None else
        (", ".join(s["name"] for s in stations) if codes is not None else None))
