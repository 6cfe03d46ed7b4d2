"""The weekly and the monthly report: weekly correction, monthly improvement.

``week`` and ``month`` are the rules: plain functions of the data and the period. ``load_week``
and ``load_month`` read that data; nothing here sends anything.
"""
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from feedback import scale
from feedback.clock import add_months, day_start, to_utc_text
from jobs.digest import sum_counts, summary

WEEK = re.compile(r"([0-9]{4})-W([0-9]{2})")
MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
CHART_MONTHS = 12


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
    """ratings_total, satisfaction_rate and mean_score of some counts."""
    found = summary(counts)
    return {"ratings_total": found["ratings_total"],
            "satisfaction_rate": found["satisfaction_rate"], "mean_score": found["mean_score"]}


# The weekly report

@dataclass
class WeekData:
    monday: date
    stations: list[dict]                             # code, name, district, status, opened_on
    counts: dict[str, dict[int, int]]                # code → counts in the week
    previous: dict[str, dict[int, int]]              # code → counts in the week before
    bad_weeks: dict[str, list[date]]                 # code → Mondays of weeks with bad ratings
    case_steps: list[dict]                           # case_id, code, day, action, due_on, opened_on
    scope: str | None = None


def case_states(steps: list[dict], until: date) -> dict[int, dict]:
    """Each case as it stood at the end of ``until``: status, due day, code, opened day."""
    states: dict[int, dict] = {}
    for step in sorted(steps, key=lambda s: (s["at"], s["id"])):
        if date.fromisoformat(step["day"]) > until:
            continue
        state = states.setdefault(step["case_id"], {"code": step["code"],
                                                    "opened_on": step["opened_on"]})
        if step["action"] in ("opened", "reopened"):
            state.update(status="open", due_on=step["due_on"])
        elif step["action"] == "resolved":
            state["status"] = "resolved"
    return states


def week(data: WeekData, base_url: str, working_days_between) -> dict:
    """The weekly report of the week starting ``data.monday``."""
    sunday = data.monday + timedelta(days=6)
    by_code = {s["code"]: s for s in data.stations}
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
            opened[by_code[step["code"]]["district"]] += 1
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
        overdue_by_district[by_code[state["code"]]["district"]] += 1

    codes_by_district = defaultdict(list)
    for station in data.stations:
        codes_by_district[station["district"]].append(station["code"])
    districts = []
    for district, codes in sorted(codes_by_district.items()):
        found = rated_summary(sum_counts(data.counts.get(code, {}) for code in codes))
        districts.append({"district": district, "ratings_total": found["ratings_total"],
                          "satisfaction_rate": found["satisfaction_rate"],
                          "cases_opened": opened[district],
                          "cases_overdue": overdue_by_district[district]})
    this_week = rated_summary(sum_counts(data.counts.values()))
    before = rated_summary(sum_counts(data.previous.values()))
    repeat_bad = []
    for code, mondays in sorted(data.bad_weeks.items()):
        run, monday = 0, data.monday
        while monday in mondays:
            run += 1
            monday -= timedelta(days=7)
        if run >= 2 and code in by_code:
            repeat_bad.append({"code": code, "name": by_code[code]["name"],
                               "district": by_code[code]["district"], "weeks": run})
    quiet = [{"code": s["code"], "name": s["name"], "district": s["district"]}
             for s in data.stations
             if s["status"] == "listed" and s["opened_on"] <= sunday.isoformat()
             and not sum(data.counts.get(s["code"], {}).values())]
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
        "overdue_cases": sorted(({"station_code": s["code"], "station_name": by_code[s["code"]]["name"],
                                  "district": by_code[s["code"]]["district"], "due_on": s["due_on"]}
                                 for s in overdue), key=lambda c: (c["district"], c["due_on"])),
        "repeat_bad_stations": repeat_bad,
        "quiet_stations": quiet,
        "url": f"{base_url.rstrip('/')}/reports/weeks/{name}",
    }


def scope_sql(district: str | None) -> tuple[str, list]:
    return ("stations.district = ?", [district]) if district else ("1", [])


def counts_by_station(db, first: date, last: date, where: str, params: list) -> dict:
    return {row["code"]: scale.counts_from_row(row) for row in db.query(
        f"""SELECT code, sum(n1) n1, sum(n2) n2, sum(n3) n3, sum(n4) n4, sum(n5) n5
            FROM station_days JOIN stations ON stations.id = station_id
            WHERE day BETWEEN ? AND ? AND {where} GROUP BY code""",
        [first.isoformat(), last.isoformat(), *params])}


def counts_in_month(db, first: date) -> dict:
    """code → {score: count} for the month starting ``first``, from the monthly rollup."""
    return {row["code"]: scale.counts_from_row(row) for row in db.query(
        """SELECT code, n1, n2, n3, n4, n5 FROM station_months
           JOIN stations ON stations.id = station_id WHERE month = ?""", [first.strftime("%Y-%m")])}


def load_steps(db, where: str, params: list) -> list[dict]:
    return [dict(row) for row in db.query(
        f"""SELECT case_steps.id, case_id, code, case_steps.day, at, action, case_steps.due_on,
                   cases.opened_on
            FROM case_steps JOIN cases ON cases.id = case_id
            JOIN stations ON stations.id = cases.station_id WHERE {where}""", params)]


def load_week(db, monday: date, district: str | None = None) -> WeekData:
    where, params = scope_sql(district)
    stations = [dict(row) for row in db.query(
        f"SELECT code, name, district, status, opened_on FROM stations WHERE {where}", params)]
    sunday = monday + timedelta(days=6)
    bad_weeks: dict[str, list[date]] = defaultdict(list)
    for row in db.query(
            f"""SELECT code, day FROM station_days JOIN stations ON stations.id = station_id
                WHERE day BETWEEN ? AND ? AND n1 + n2 > 0 AND {where}""",
            [(monday - timedelta(weeks=12)).isoformat(), sunday.isoformat(), *params]):
        day = date.fromisoformat(row["day"])
        bad_weeks[row["code"]].append(day - timedelta(days=day.weekday()))
    return WeekData(
        monday=monday, stations=stations,
        counts=counts_by_station(db, monday, sunday, where, params),
        previous=counts_by_station(db, monday - timedelta(days=7), monday - timedelta(days=1),
                                   where, params),
        bad_weeks=bad_weeks, case_steps=load_steps(db, where, params), scope=district)


# The monthly report

@dataclass
class MonthData:
    first: date
    stations: list[dict]              # code, district, tier, status, opened_on, delisted_after
    counts: dict[str, dict[int, int]]  # code → counts in the month
    cases: list[dict]                 # code, opened_on, due_on, status, resolved_on
    flags_raised: int
    decisions: dict[str, int]         # confirmed, dismissed, reinstated
    visits: list[dict] = field(default_factory=list)  # code, kind, failed: the month's visits
    chart: dict[str, dict[str, dict[int, int]]] = field(default_factory=dict)  # district → month → counts


def month_row(stations: list[dict], data: MonthData, last: date) -> dict:
    """One row of the monthly report: a district's or a tier's stations."""
    codes = {s["code"] for s in stations}
    rated = [code for code in codes if sum(data.counts.get(code, {}).values())]
    found = rated_summary(sum_counts(data.counts.get(code, {}) for code in codes))
    # the cases and visits are few: walking them is cheaper than indexing them by station
    opened = [c for c in data.cases if data.first.isoformat() <= c["opened_on"] <= last.isoformat()
              and c["code"] in codes]
    on_time = [c for c in opened if c["status"] == "resolved" and c["resolved_on"] <= c["due_on"]]
    visits = [v for v in data.visits if v["code"] in codes]
    return {"stations_listed": len(codes), "stations_rated": len(rated),
            "stations_quiet": len(codes) - len(rated), **found,
            "ratings_per_station": found["ratings_total"] / len(codes) if codes else None,
            "cases_opened": len(opened),
            "cases_on_time_rate": len(on_time) / len(opened) if opened else None,
            "visits": len(visits), "visit_items_failed": sum(v["failed"] for v in visits)}


def month(data: MonthData, base_url: str) -> dict:
    """The monthly report of the month starting ``data.first``."""
    last = add_months(data.first, 1) - timedelta(days=1)
    listed = [s for s in data.stations if s["opened_on"] <= last.isoformat()
              and (s["status"] == "listed" or s["delisted_after"])]
    overall = month_row(listed, data, last)
    in_district, in_tier = defaultdict(list), defaultdict(list)
    for station in listed:
        in_district[station["district"]].append(station)
        in_tier[station["tier"]].append(station)
    by_district = [{"district": district, **month_row(group, data, last)}
                   for district, group in sorted(in_district.items())]
    by_tier = [{"tier": tier, **month_row(in_tier[tier], data, last)}
               for tier in ("national", "provincial", "city") if in_tier[tier]]
    name = data.first.strftime("%Y-%m")
    months = [add_months(data.first, -i).strftime("%Y-%m") for i in range(CHART_MONTHS - 1, -1, -1)]
    return {
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
        "trend": {district: [{"month": m, **rated_summary(per_month.get(m, {}))} for m in months]
                  for district, per_month in sorted(data.chart.items())},
        "url": f"{base_url.rstrip('/')}/reports/months/{name}",
    }


def load_month(db, first: date, tz) -> MonthData:
    last = add_months(first, 1) - timedelta(days=1)
    end = to_utc_text(day_start(last + timedelta(days=1), tz))
    start = to_utc_text(day_start(first, tz))
    delisted_after = {row[0] for row in db.execute(
        """SELECT code FROM station_history JOIN stations ON stations.id = station_id
           WHERE action = 'confirmed' AND to_tier = 'delisted' AND at >= ?""", [end])}
    stations = [{**row, "delisted_after": row["code"] in delisted_after} for row in db.query(
        "SELECT code, district, tier, status, opened_on FROM stations")]
    cases = [dict(row) for row in db.query(
        """SELECT code, cases.opened_on, due_on, cases.status, resolved_on FROM cases
           JOIN stations ON stations.id = station_id""")]
    decisions = {action: 0 for action in ("confirmed", "dismissed", "reinstated")}
    for action, n in db.execute(
            """SELECT action, count(*) FROM station_history WHERE at >= ? AND at < ?
               AND action IN ('confirmed', 'dismissed', 'reinstated') GROUP BY action""", [start, end]):
        decisions[action] = n
    flags_raised = db.execute("SELECT count(*) FROM flags WHERE flagged_on BETWEEN ? AND ?",
                              [first.isoformat(), last.isoformat()]).fetchone()[0]
    chart: dict[str, dict[str, dict[int, int]]] = defaultdict(dict)
    for row in db.query(
            """SELECT district, month, sum(n1) n1, sum(n2) n2, sum(n3) n3, sum(n4) n4, sum(n5) n5
               FROM station_months JOIN stations ON stations.id = station_id
               WHERE month BETWEEN ? AND ? GROUP BY district, month""",
            [add_months(first, -(CHART_MONTHS - 1)).strftime("%Y-%m"), last.strftime("%Y-%m")]):
        chart[row["district"]][row["month"]] = scale.counts_from_row(row)
    visits = [dict(row) for row in db.query(
        """SELECT code, visits.kind, failed FROM visits JOIN stations ON stations.id = station_id
           WHERE at >= ? AND at < ?""", [start, end])]
    return MonthData(first=first, stations=stations, counts=counts_in_month(db, first),
                     cases=cases, flags_raised=flags_raised, decisions=decisions, chart=dict(chart),
                     visits=visits)


MONTH_CSV_COLUMNS = ("district", "stations_listed", "stations_rated", "stations_quiet",
                     "ratings_total", "satisfaction_rate", "mean_score", "ratings_per_station",
                     "cases_opened", "cases_on_time_rate")
