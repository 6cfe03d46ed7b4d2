"""The weekly and the monthly report: weekly correction, monthly improvement.

``week`` and ``month`` are the rules: plain functions of the data and the period. ``load_week``
and ``load_month`` read that data; nothing here sends anything.
"""
import json
import re
import statistics
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, timedelta
from operator import itemgetter

from feedback.clock import add_months, day_start, to_utc_text
from feedback.counts import scale
from feedback.imports import neutralise_formula
from feedback.storage.db import write
from jobs.digest import districts_between, sum_counts

WEEK = re.compile(r"([0-9]{4})-W([0-9]{2})")
MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
CHART_MONTHS = 12
LIST_LIMIT = 1000  # entries of each list of stations a report carries; the totals count them all


class BadPeriod(ValueError):
    """A week or month that is not one, with the reason."""


def parse_week(text: str) -> date:
    """The Monday of an ISO week written YYYY-Www (2026 has a week 53)."""
    found = WEEK.fullmatch(text.strip())
    try:
        if not found or not 2000 <= int(found[1]) <= 2099:
            raise ValueError
        return date.fromisocalendar(int(found[1]), int(found[2]), 1)
    except ValueError:
        raise BadPeriod(f"{text!r} is not a week like 2026-W48 (ISO weeks, 2000 to 2099)") from None


def week_name(monday: date) -> str:
    year, number, _ = monday.isocalendar()
    return f"{year}-W{number:02d}"


def parse_month(text: str) -> date:
    """The first day of a month written YYYY-MM."""
    found = MONTH.fullmatch(text.strip())
    if not found or not 2000 <= int(found[1]) <= 2099 or not 1 <= int(found[2]) <= 12:
        raise BadPeriod(f"{text!r} is not a month like 2026-11 (2000 to 2099)")
    return date(int(found[1]), int(found[2]), 1)


def rated_summary(counts: dict[int, int]) -> dict:
    """ratings_total, satisfaction_rate and mean_score of some counts (a nation's monthly
    report has 12 of these for each of thousands of districts)."""
    total = sum(counts.values())
    if not total:
        return {"ratings_total": 0, "satisfaction_rate": None, "mean_score": None}
    return {"ratings_total": total,
            "satisfaction_rate": scale.satisfaction_rate(counts), "mean_score": scale.mean_score(counts)}


# The weekly report

@dataclass
class WeekData:
    """A week's report data; lists of stations hold only what the report shows (a nation has
    200,000 stations)."""
    monday: date
    counts: dict[str, dict[int, int]]                # district → counts in the week, every
    previous: dict[str, dict[int, int]]              # district of the scope; and the week before
    quiet: list[dict]                                # the first LIST_LIMIT by code of the listed
    quiet_total: int                                 # stations open by Sunday without a counted
                                                     # rating in the week: code, name, district
    repeat_bad: list[dict]                           # the first LIST_LIMIT of the stations with
    repeat_bad_total: int                            # bad ratings this week and the last, longest
                                                     # run first: code, name, district, weeks
    case_steps: list[dict]                           # case_id, code, district, day, action,
                                                     # due_on, opened_on
    scope: str | None = None


def case_states(steps: list[dict], until: date) -> dict[int, dict]:
    """Each case as it stood at the end of ``until``: status, due day, code, opened day."""
    states: dict[int, dict] = {}
    for step in sorted(steps, key=lambda s: (s["at"], s["id"])):
        if date.fromisoformat(step["day"]) > until:
            continue
        state = states.setdefault(step["case_id"], {"code": step["code"], "name": step["name"],
                                                    "district": step["district"],
                                                    "opened_on": step["opened_on"]})
        if step["action"] in ("opened", "reopened"):
            state.update(status="open", due_on=step["due_on"])
        elif step["action"] == "resolved":
            state["status"] = "resolved"
    return states


def week(data: WeekData, base_url: str, working_days_between) -> dict:
    """The weekly report of the week starting ``data.monday``."""
    sunday = data.monday + timedelta(days=6)
    states = case_states(data.case_steps, sunday)
    due_at: dict[int, str] = {}
    opened, on_time, late, durations = defaultdict(int), 0, 0, []
    for step in sorted(data.case_steps, key=lambda s: (s["at"], s["id"])):
        day = date.fromisoformat(step["day"])
        if step["action"] in ("opened", "reopened"):
            due_at[step["case_id"]] = step["due_on"]
        if not data.monday <= day <= sunday:
            continue
        if step["action"] == "opened":
            opened[step["district"]] += 1
        elif step["action"] == "resolved":
            if step["day"] <= due_at[step["case_id"]]:
                on_time += 1
            else:
                late += 1
            durations.append(working_days_between(date.fromisoformat(step["opened_on"]), day))
    still_open = [s for s in states.values() if s["status"] == "open"]
    overdue = [s for s in still_open if s["due_on"] <= sunday.isoformat()]
    overdue_by_district = defaultdict(int)
    for state in overdue:
        overdue_by_district[state["district"]] += 1

    districts = []
    for district, counts in sorted(data.counts.items()):
        found = rated_summary(counts)
        districts.append({"district": district, "ratings_total": found["ratings_total"],
                          "satisfaction_rate": found["satisfaction_rate"],
                          "cases_opened": opened[district],
                          "cases_overdue": overdue_by_district[district]})
    this_week = rated_summary(sum_counts(data.counts.values()))
    before = rated_summary(sum_counts(data.previous.values()))
    name = week_name(data.monday)
    return {
        "week": name, "from": data.monday.isoformat(), "to": sunday.isoformat(),
        "scope": data.scope,
        "ratings_total": this_week["ratings_total"],
        "satisfaction_rate": this_week["satisfaction_rate"],
        "previous": {"ratings_total": before["ratings_total"],
                     "satisfaction_rate": before["satisfaction_rate"]},
        "districts": districts,
        "cases": {"opened": sum(opened.values()), "resolved_on_time": on_time,
                  "resolved_late": late, "open": len(still_open), "overdue": len(overdue),
                  "median_working_days": statistics.median(durations) if durations else None},
        "overdue_cases": sorted(({"station_code": s["code"], "station_name": s["name"],
                                  "district": s["district"], "due_on": s["due_on"]}
                                 for s in overdue), key=lambda c: (c["district"], c["due_on"])),
        "repeat_bad_stations_total": data.repeat_bad_total,
        "repeat_bad_stations": data.repeat_bad[:LIST_LIMIT],
        "quiet_stations_total": data.quiet_total,
        "quiet_stations": data.quiet[:LIST_LIMIT],
        "url": f"{base_url.rstrip('/')}/reports/weeks/{name}",
    }


def scope_sql(district: str | None) -> tuple[str, list]:
    return ("stations.district = ?", [district]) if district else ("1", [])


def load_steps(db, monday: date, where: str, params: list) -> list[dict]:
    """Every step of the cases that matter to the week of ``monday``: opened by its Sunday, and
    open now or resolved on or after its Monday (a case resolved before it, and not reopened
    since, has nothing to say about it)."""
    return [dict(row) for row in db.query(
        f"""SELECT case_steps.id, case_id, code, name, district, case_steps.day, at, action,
                   case_steps.due_on, cases.opened_on
            FROM case_steps JOIN cases ON cases.id = case_id
            JOIN stations ON stations.id = cases.station_id
            WHERE case_id IN (SELECT id FROM cases WHERE status = 'open' AND opened_on <= ?
                              UNION SELECT id FROM cases WHERE resolved_on >= ? AND opened_on <= ?)
              AND {where}""",
        [(monday + timedelta(days=6)).isoformat(), monday.isoformat(),
         (monday + timedelta(days=6)).isoformat(), *params])]


# Stations with bad ratings this week and the week before, and how many weeks running (up to
# RUN_WEEKS). Each such station's bad weeks of the last RUN_WEEKS are one number, bit n set for
# n weeks back, read along its own station_weeks rows; the run is the lowest bit not set (bits
# 0 and 1 are). In SQL, for 200,000 stations: numbering each station's weeks with a window
# function sorted them all (4.8 s at 100 M ratings, where most stations had a bad week running;
# 1.2 s this way).
RUN_WEEKS = 13
WEEKS_RUNNING = ("CASE " + " ".join(f"WHEN bad_weeks & {1 << n} = 0 THEN {n}"
                                    for n in range(2, RUN_WEEKS)) + f" ELSE {RUN_WEEKS} END")
REPEAT_BAD = f"""
    WITH bad AS MATERIALIZED (
        SELECT stations.id AS station_id,
               (SELECT sum(1 << CAST((julianday(?) - julianday(monday)) / 7 AS INTEGER))
                FROM station_weeks WHERE station_id = stations.id AND monday BETWEEN ? AND ?
                  AND n1 + n2 > 0) AS bad_weeks
        FROM stations  -- each station's week and the week before, by station_weeks' key
        CROSS JOIN station_weeks AS this ON this.station_id = stations.id
             AND this.monday = ? AND this.n1 + this.n2 > 0
        CROSS JOIN station_weeks AS before ON before.station_id = stations.id
             AND before.monday = ? AND before.n1 + before.n2 > 0
        WHERE {{where}})
    SELECT code, name, district, {WEEKS_RUNNING} AS weeks, (SELECT count(*) FROM bad) AS total
    FROM bad JOIN stations ON stations.id = station_id
    ORDER BY weeks DESC, code LIMIT {{limit}}"""


def station_lists(db, monday: date, where: str, params: list) -> dict:
    """The week's two lists over every station of the scope, each its first LIST_LIMIT and its
    total: quiet (open by Sunday, listed, and without a counted rating in the week) and bad
    weeks running."""
    week_of = lambda weeks: (monday - timedelta(weeks=weeks)).isoformat()  # noqa: E731
    found = {"quiet": [], "quiet_total": 0, "repeat_bad": [], "repeat_bad_total": 0}
    for code, name, district_name, found["quiet_total"] in db.execute(
            f"""SELECT code, name, district, count(*) OVER () FROM stations
                WHERE status = 'listed' AND opened_on <= ? AND {where}
                  AND NOT EXISTS (SELECT 1 FROM station_weeks WHERE station_id = stations.id
                                  AND monday = ? AND n1 + n2 + n3 + n4 + n5 > 0)
                ORDER BY code LIMIT {LIST_LIMIT}""",
            [(monday + timedelta(days=6)).isoformat(), *params, monday.isoformat()]):
        found["quiet"].append({"code": code, "name": name, "district": district_name})
    for code, name, district_name, weeks, found["repeat_bad_total"] in db.execute(
            REPEAT_BAD.format(where=where, limit=LIST_LIMIT),
            [week_of(0), week_of(RUN_WEEKS - 1), week_of(0), week_of(0), week_of(1), *params]):
        found["repeat_bad"].append({"code": code, "name": name, "district": district_name,
                                    "weeks": weeks})
    return found


def kept_station_lists(db, monday: date, district: str | None) -> dict:
    """station_lists() of the week, kept in week_lists once made: they pass over every station,
    and a finished week's change only when a rating of the RUN_WEEKS they look at, or a station,
    does (the triggers then forget them). Made under the write lock, so no change slips in."""
    key = [monday.isoformat(), district or ""]
    kept = db.execute("SELECT lists FROM week_lists WHERE monday = ? AND district = ?", key).fetchone()
    if kept:
        return json.loads(kept[0])
    with nullcontext() if db.conn.in_transaction else write(db):
        found = station_lists(db, monday, *scope_sql(district))
        db.execute("INSERT OR REPLACE INTO week_lists (monday, district, lists) VALUES (?, ?, ?)",
                   [*key, json.dumps(found, ensure_ascii=False)])
    return found


def load_week(db, monday: date, district: str | None = None) -> WeekData:
    where, params = scope_sql(district)
    sunday = monday + timedelta(days=6)
    return WeekData(
        monday=monday, **kept_station_lists(db, monday, district),
        counts=districts_between(db, monday, sunday, where, params),
        previous=districts_between(db, monday - timedelta(days=7), monday - timedelta(days=1),
                                    where, params),
        case_steps=load_steps(db, monday, where, params), scope=district)


# The monthly report

@dataclass
class MonthData:
    first: date
    groups: list[dict]                # the stations listed in the month, by district and tier:
                                      # district, tier, listed, rated, n1..n5 (ratings in the month)
    cases: list[dict]                 # the month's openings: district, tier, opened_on, due_on,
                                      # status, resolved_on
    flags_raised: int
    decisions: dict[str, int]         # confirmed, dismissed, reinstated
    visits: list[dict] = field(default_factory=list)  # district, tier, kind, failed, listed:
                                                      # the month's visits
    chart: dict[str, dict[str, dict[int, int]]] = field(default_factory=dict)  # district → month → counts


def month_row(groups: list[dict], cases: list[dict], visits: list[dict], first: date,
              last: date) -> dict:
    """One row of the monthly report: the stations of some groups (a district's, a tier's, all),
    with their cases and visits."""
    listed = sum(map(itemgetter("listed"), groups))
    rated = sum(map(itemgetter("rated"), groups))
    found = rated_summary(scale.counts_of_rows(groups))
    opened = [c for c in cases if first.isoformat() <= c["opened_on"] <= last.isoformat()]
    on_time = [c for c in opened if c["status"] == "resolved" and c["resolved_on"] <= c["due_on"]]
    return {"stations_listed": listed, "stations_rated": rated,
            "stations_quiet": listed - rated, **found,
            "ratings_per_station": found["ratings_total"] / listed if listed else None,
            "cases_opened": len(opened),
            "cases_on_time_rate": len(on_time) / len(opened) if opened else None,
            "visits": len(visits), "visit_items_failed": sum(v["failed"] for v in visits)}


def trend(data: MonthData, districts) -> dict[str, list[dict]]:
    """The twelve months up to the report's of each of ``districts`` that had ratings in them."""
    months = [add_months(data.first, -i).strftime("%Y-%m") for i in range(CHART_MONTHS - 1, -1, -1)]
    return {district: [{"month": m, **rated_summary(data.chart[district].get(m, {}))} for m in months]
            for district in sorted(set(districts) & data.chart.keys())}


def district_names(data: MonthData) -> list[str]:
    """The districts of a month's report, in the order of its rows."""
    return sorted({group["district"] for group in data.groups})


def month(data: MonthData, base_url: str, with_trend: bool = False,
          districts: list[str] | None = None) -> dict:
    """The monthly report of the month starting ``data.first``, with a row for each district,
    or for ``districts`` only (its page's fifty); with every district's twelve months
    (``trend``) only when asked: a nation's are 33,600 months, more than the report itself."""
    last = add_months(data.first, 1) - timedelta(days=1)

    visits = [visit for visit in data.visits if visit["listed"]]

    def rows(key: str, names) -> list[dict]:
        grouped = {name: ([], [], []) for name in names}
        for index, items in enumerate((data.groups, data.cases, visits)):
            for item in items:
                if item[key] in grouped:
                    grouped[item[key]][index].append(item)
        return [{key: name, **month_row(*grouped[name], data.first, last)} for name in names]

    overall = month_row(data.groups, data.cases, visits, data.first, last)
    by_district = rows("district", district_names(data) if districts is None else districts)
    by_tier = rows("tier", [tier for tier in ("national", "provincial", "city")
                            if any(group["tier"] == tier for group in data.groups)])
    name = data.first.strftime("%Y-%m")
    report = {
        "month": name, "from": data.first.isoformat(), "to": last.isoformat(),
        "stations_listed": overall["stations_listed"], "stations_rated": overall["stations_rated"],
        "stations_quiet": overall["stations_quiet"], "ratings_total": overall["ratings_total"],
        "satisfaction_rate": overall["satisfaction_rate"], "mean_score": overall["mean_score"],
        "ratings_per_station": overall["ratings_per_station"],
        "cases_opened": overall["cases_opened"], "cases_on_time_rate": overall["cases_on_time_rate"],
        "by_district": by_district, "by_tier": by_tier,
        "flags_raised": data.flags_raised, "decisions": data.decisions,
        "visits": {"total": len(data.visits),
                   "unannounced": sum(v["kind"] == "unannounced" for v in data.visits),
                   "assessment": sum(v["kind"] == "assessment" for v in data.visits),
                   "items_failed": sum(v["failed"] for v in data.visits)},
        "url": f"{base_url.rstrip('/')}/reports/months/{name}",
    }
    if with_trend:
        report["trend"] = trend(data, data.chart)
    return report


def load_month(db, first: date, tz, with_chart: bool = False) -> MonthData:
    last = add_months(first, 1) - timedelta(days=1)
    end = to_utc_text(day_start(last + timedelta(days=1), tz))
    start = to_utc_text(day_start(first, tz))
    # listed in the month: opened by its end, and listed now or delisted only after it
    listed = """stations.opened_on <= :last AND (stations.status = 'listed' OR stations.id IN (
        SELECT station_id FROM station_history WHERE action = 'confirmed' AND to_tier = 'delisted'
        AND at >= :end))"""
    known = {"first": first.isoformat(), "last": last.isoformat(), "end": end, "start": start,
             "month": first.strftime("%Y-%m")}
    # every station's month from the groups' rollup, less the few stations not listed in it
    groups = {(district_name, tier): {"district": district_name, "tier": tier, "listed": listed_total,
                                      "rated": 0, "n1": 0, "n2": 0, "n3": 0, "n4": 0, "n5": 0}
              for district_name, tier, listed_total in db.execute(
                  "SELECT district, tier, count(*) FROM stations GROUP BY district, tier")}
    for district_name, tier, rated, n1, n2, n3, n4, n5 in db.execute(  # 8,400 at national scale
            "SELECT district, tier, rated, n1, n2, n3, n4, n5 FROM group_months WHERE month = ?",
            [known["month"]]):
        if group := groups.get((district_name, tier)):
            group.update(rated=rated, n1=n1, n2=n2, n3=n3, n4=n4, n5=n5)
    for row in db.query(
            f"""SELECT district, tier, coalesce(n1, 0) n1, coalesce(n2, 0) n2, coalesce(n3, 0) n3,
                       coalesce(n4, 0) n4, coalesce(n5, 0) n5
                FROM (SELECT * FROM stations WHERE opened_on > :last
                      UNION SELECT * FROM stations WHERE status != 'listed')
                     AS stations
                LEFT JOIN station_months ON station_id = stations.id AND month = :month
                WHERE NOT ({listed})""", known):
        group = groups[row["district"], row["tier"]]
        group["listed"] -= 1
        group["rated"] -= sum(row[f"n{n}"] for n in range(1, 6)) > 0
        for n in range(1, 6):
            group[f"n{n}"] -= row[f"n{n}"]
    groups = [group for group in groups.values() if group["listed"]]
    cases = [dict(row) for row in db.query(
        f"""SELECT district, tier, cases.opened_on, due_on, cases.status, resolved_on FROM cases
            CROSS JOIN stations ON stations.id = station_id  -- the month's cases first
            WHERE cases.opened_on BETWEEN :first AND :last AND {listed}""", known)]
    visits = [dict(row) for row in db.query(
        f"""SELECT district, tier, visits.kind, failed, {listed} AS listed FROM visits
            CROSS JOIN stations ON stations.id = station_id  -- the month's visits first
            WHERE at >= :start AND at < :end""", known)]
    decisions = {action: 0 for action in ("confirmed", "dismissed", "reinstated")}
    for action, n in db.execute(
            """SELECT action, count(*) FROM station_history WHERE at >= ? AND at < ?
               AND action IN ('confirmed', 'dismissed', 'reinstated') GROUP BY action""", [start, end]):
        decisions[action] = n
    flags_raised = db.execute("SELECT count(*) FROM flags WHERE flagged_on BETWEEN ? AND ?",
                              [first.isoformat(), last.isoformat()]).fetchone()[0]
    return MonthData(first=first, groups=groups, cases=cases, flags_raised=flags_raised,
                     decisions=decisions, visits=visits,
                     chart=load_chart(db, first) if with_chart else {})


def load_chart(db, first: date, districts: list[str] | None = None) -> dict:
    """District → month → counts, for the CHART_MONTHS up to the month of ``first``: of every
    district, or of ``districts`` (a page of the report draws fifty of a nation's thousands)."""
    chart: dict[str, dict[str, dict[int, int]]] = defaultdict(dict)
    some = "" if districts is None else "AND district IN (SELECT value FROM json_each(?))"
    for district_name, month_name, *counts in db.execute(
            f"""SELECT district, month, n1, n2, n3, n4, n5 FROM district_months
                WHERE month BETWEEN ? AND ? AND n1 + n2 + n3 + n4 + n5 > 0 {some}""",
            [add_months(first, -(CHART_MONTHS - 1)).strftime("%Y-%m"), first.strftime("%Y-%m"),
             *([] if districts is None else [json.dumps(districts)])]):
        chart[district_name][month_name] = dict(enumerate(counts, start=1))
    return dict(chart)


MONTH_CSV_COLUMNS = ("district", "stations_listed", "stations_rated", "stations_quiet",
                     "ratings_total", "satisfaction_rate", "mean_score", "ratings_per_station",
                     "cases_opened", "cases_on_time_rate")


def month_csv_rows(report: dict):
    """The month's rows by district for a spreadsheet, the header first: numbers as they are, and
    text that Excel or WPS would run as a formula (a district named "=1+1") quoted."""
    yield list(MONTH_CSV_COLUMNS)
    for row in report["by_district"]:
        yield ["" if row[key] is None else row[key] if isinstance(row[key], (int, float))
               else neutralise_formula(str(row[key])) for key in MONTH_CSV_COLUMNS]
