"""Staff pages: the stations a signed-in person looks after, digests, reports, cases, the
downgrade review and signals."""
import csv
import io
import json
from datetime import date, timedelta

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template,
                   request, url_for)
from markupsafe import Markup

from feedback import charts as charts_geometry
from feedback import clock
from feedback.accounts import visible_stations_sql
from feedback.clock import add_months, from_epoch, local_iso, month_start, parse_day
from feedback.counts import counting, scale
from feedback.counts.ratings import between_days
from feedback.followup import cases, signals
from feedback.followup import visits as visits_rules
from feedback.i18n import TIER_LABELS
from feedback.places import stations as station_rules
from feedback.places.stations import summaries
from feedback.places.stations import summary as summary_of
from feedback.storage.db import get_db, write
from jobs import downgrade, reports, tasks
from jobs.digest import sum_counts
from web.auth import current_user, staff_required, visible_case, visible_station

bp = Blueprint("staff", __name__)


STATIONS_PER_PAGE = 50
DISTRICTS_PER_PAGE = 50  # of the monthly report page, each with its chart
FLAGS_PER_PAGE = 50  # of the downgrade list, each with its evidence (a rollout can flag thousands)


def page_asked(total: int, per_page: int) -> tuple[int, int]:
    """(page, pages) for ``total`` items ``per_page`` at a time: ``?page=`` as a page from 1 to
    the last, and the first page for anything else."""
    pages = max(1, -(-total // per_page))
    page = request.args.get("page", "1")
    return (int(page) if page.isascii() and page.isdigit() and 0 < int(page) <= pages else 1), pages


PAGE_LIST_LIMIT = 200  # entries of one list on the digest page


@bp.get("/stations")
@staff_required()
def stations():
    """The stations this account looks after: search by name or code, filter by district, tier
    and status, a page at a time."""
    db = get_db()
    where, params = visible_stations_sql(current_user())
    visible = (where, list(params))
    args = {key: request.args.get(key, "").strip()[:100] for key in ("q", "district", "tier", "status")}
    searched, values = station_rules.matching(**args)
    where, params = f"{where} AND {searched}", [*params, *values]
    total = db.execute(f"SELECT count(*) FROM stations WHERE {where}", params).fetchone()[0]
    page, pages = page_asked(total, STATIONS_PER_PAGE)
    rows = summaries(db, current_app.config["TIMEZONE"], where, params, STATIONS_PER_PAGE,
                     (page - 1) * STATIONS_PER_PAGE)
    flagged = {row[0] for row in db.execute(
        """SELECT code FROM stations  -- the page's stations, each one's open flag
           CROSS JOIN flags ON flags.station_id = stations.id AND flags.status = 'open'
           WHERE code IN (SELECT value FROM json_each(?))""",
        [json.dumps([row["code"] for row in rows])])}
    districts = [row[0] for row in db.execute(
        f"SELECT DISTINCT district FROM stations WHERE {visible[0]} ORDER BY district", visible[1])]
    return render_template("stations.html", stations=rows, flagged=flagged, args=args, total=total,
                           page=page, pages=pages, districts=districts, statuses=STATUS_LABELS)


def district_asked() -> str | None:
    """The district of ``?district=``: staff who see every station can read one district's
    digest or weekly report, whose lists are short. 404 for a district without stations."""
    district = request.args.get("district") or None
    if district is not None and not get_db().execute(
            "SELECT 1 FROM stations WHERE district = ? LIMIT 1", [district]).fetchone():
        abort(404, "没有这个区 / no such district")
    return district


def digest_for(user: dict, day: date, district: str | None = None) -> dict:
    """The digest this staff member may read: all (or ``district``), their district, or their
    station."""
    if user["role"] == "district":
        return tasks.build_digest(day, district=user["district"])
    if user["role"] == "manager":
        return tasks.build_digest(day, codes=[user["station_code"]])
    return tasks.build_digest(day, district=district)


@bp.get("/digests/<day_text>")
@staff_required()
def digest_page(day_text: str):
    try:
        day = parse_day(day_text)
    except ValueError:
        abort(404)
    today = clock.today()
    if day >= today:
        abort(404, f"{day} 的日报在当天结束后生成,于次日 {current_app.config['DIGEST_AT'][0]:02d}:"
                   f"{current_app.config['DIGEST_AT'][1]:02d} 发送 / the digest of {day} exists once "
                   "the day is over")
    digest = digest_for(current_user(), day, district_asked())
    chart = Markup(render_template("_rate_chart.svg", title="近30天评价数(柱)与满意率(线)",
                                   c=charts_geometry.rate_and_count(digest["trend"], "date")))
    following = day + timedelta(days=1)
    # a nation's day can hold tens of thousands of quiet stations: the page lists the first
    return render_template("digest.html", digest=digest, chart=chart, limit=PAGE_LIST_LIMIT,
                           elsewhere="完整名单见各区日报 / the full lists: each district's digest",
                           previous=(day - timedelta(days=1)).isoformat(),
                           next=following.isoformat() if following < today else None)


@bp.get("/flags")
@staff_required("inspector", "admin")
def flags():
    """The downgrade list for inspectors to review, each flag with its evidence, a page at a
    time."""
    db, tz = get_db(), current_app.config["TIMEZONE"]
    total, dense = downgrade.open_flag_count(db)
    page, pages = page_asked(total, FLAGS_PER_PAGE)
    shown = downgrade.open_flags(db, tz, limit=FLAGS_PER_PAGE, offset=(page - 1) * FLAGS_PER_PAGE,
                                 dense=dense)
    return render_template("flags.html", flags=[flag_evidence(db, flag) for flag in shown],
                           total=total, page=page, pages=pages)


def flag_evidence(db, flag: dict) -> dict:
    """A flag with what an inspector decides on: the three months checked, the counted ratings
    since them and the last one, the station's kind, address, opening day and poster version."""
    start = date.fromisoformat(flag["window_start"])
    end = add_months(start, downgrade.SILENT_MONTHS)
    station = next(db.query("SELECT * FROM stations WHERE code = ?", [flag["code"]]))
    # from the rollups: a station flagged in a sparse rollout may have thousands since
    since = db.execute("""SELECT coalesce(sum(n1 + n2 + n3 + n4 + n5), 0) FROM station_days
                          WHERE station_id = ? AND day >= ?""",
                       [station["id"], end.isoformat()]).fetchone()[0]
    # with a counted rating since, the station's last counted rating is one of them
    last = flag["last_rated_at"] if since else None
    return {**flag, "station": station, "window_end": (end - timedelta(days=1)).isoformat(),
            "ratings_since": since, "last_since": last,
            "follows": ("摘牌:驿站页面停止接受评价 delisted: its page stops taking ratings"
                        if flag["proposed_tier"] == "delisted" else
                        f"降为{TIER_LABELS[flag['proposed_tier']]} steps down to {flag['proposed_tier']}")}


@bp.get("/flags/<code>/confirm")
@staff_required("inspector", "admin")
def confirm_page(code: str):
    """The second look before a downgrade: what will follow, and the reason."""
    db, tz = get_db(), current_app.config["TIMEZONE"]
    found = downgrade.open_flags(db, tz, "stations.code = ?", [code])
    if not found:
        abort(404, f"{code} 没有待复核的降级线索 / has no open flag")
    return render_template("flag_confirm.html", flag=flag_evidence(db, found[0]), reason="")


@bp.post("/flags/<code>/decision")
@staff_required("inspector", "admin")
def decide(code: str):
    decision = request.form.get("decision")
    if decision == "confirm" and request.form.get("confirmed") != "yes":
        # a downgrade is asked for twice: the second page says what will follow, the reason
        # typed carried in its form (never in a URL, which access logs keep)
        db, tz = get_db(), current_app.config["TIMEZONE"]
        found = downgrade.open_flags(db, tz, "stations.code = ?", [code])
        if not found:
            abort(404, f"{code} 没有待复核的降级线索 / has no open flag")
        return render_template("flag_confirm.html", flag=flag_evidence(db, found[0]),
                               reason=request.form.get("reason", ""))
    db = get_db()
    try:
        with write(db):
            result = downgrade.decide(db, code, decision, request.form.get("reason", ""),
                                      current_user()["username"], clock.now())
    except downgrade.BadDecision:
        flash(f"{code}: 请选择确认或驳回,并写明理由 / choose confirm or dismiss and give a reason")
        return redirect(url_for(".flags"), 303)
    except downgrade.NoOpenFlag:
        abort(404, f"station {code} has no open flag")
    flash(f"{code}: " + (f"已降为{TIER_LABELS.get(result['new_tier'], '摘牌')} / now {result['new_tier']}"
                         if decision == "confirm" else "已驳回 / dismissed"))
    return redirect(url_for(".flags"), 303)


SIGNAL_TITLES = {
    "single_device": "近90天评价只来自一两部手机 Kept alive by one or two phones",
    "burst": "10分钟内集中评价 Burst of ratings",
    "impossible_travel": "同一手机移动过快 Impossible travel",
    "many_stations": "同一手机一天评价过多驿站 One phone, many stations",
    "staff_network": "工作人员登录过的网络和浏览器评价本站 Rated from a staff sign-in's address and browser",
}


SIGNALS_PER_PAGE = 50  # a sparse national rollout has many stations rated by one phone


def exclusion_days(signal: dict) -> tuple[str, str]:
    """The local days an exclusion proposed from a signal covers."""
    if signal["kind"] == "single_device":
        scanned = date.fromisoformat(signal["found_on"])
        return (scanned - timedelta(days=signals.SINGLE_DEVICE_DAYS - 1)).isoformat(), scanned.isoformat()
    if signal["kind"] == "staff_network":
        return signal["day"], signal["day"]
    return signal["from"][:10], signal["to"][:10]


@bp.get("/signals")
@staff_required("inspector", "admin")
def signal_list():
    """What the nightly scans found that may be gaming the counts, each with its ratings and a
    way to exclude them, a page at a time."""
    db = get_db()
    total = signals.kept_total(db)
    page, pages = page_asked(total, SIGNALS_PER_PAGE)
    shown = signals.kept(db, current_app.config["TIMEZONE"], limit=SIGNALS_PER_PAGE,
                         offset=(page - 1) * SIGNALS_PER_PAGE)
    for signal in shown:
        signal["days"] = exclusion_days(signal)
    return render_template("signals.html", signals=shown, titles=SIGNAL_TITLES, total=total,
                           page=page, pages=pages, scanned=signals.latest_scan(db))


@bp.post("/signals/exclude")
@staff_required("inspector", "admin")
def exclude_from_signal():
    """Exclude what a signal points at: one device's ratings at a station over days, or the
    ratings of a burst one by one."""
    form, db = request.form, get_db()
    by, now = current_user()["username"], clock.now()
    station = visible_station(form.get("station", ""))
    try:
        with write(db):
            if form.get("device"):
                result = counting.exclude_device(db, station["id"], form["device"],
                                                 parse_day(form.get("from", "")),
                                                 parse_day(form.get("to", "")),
                                                 form.get("reason"), by, now)
                held = result["ratings"]
            else:
                ids = [int(part) for part in form.get("rating_ids", "").split(",") if part.isdigit()]
                held = sum(counting.exclude_rating(db, rating_id, form.get("reason"), by, now)["ratings"]
                           for rating_id in ids)
    except (counting.BadExclusion, ValueError) as error:
        flash(f"{station['code']}: 未排除,{error} / nothing excluded: {error}")
    except counting.NotFound:
        abort(404)
    else:
        flash(f"{station['code']}: 已排除 {held} 条评价 / {held} rating(s) excluded")
    return redirect(url_for(".signal_list"), 303)


CASE_STATUS = {"open": "待整改 Open", "overdue": "已逾期 Overdue", "resolved": "已整改 Resolved"}


@bp.get("/cases")
@staff_required()
def case_list():
    """Follow-up cases of the stations this account looks after, overdue first."""
    user = current_user()
    status = request.args.get("status")
    if status not in (None, *cases.STATUSES):
        abort(404)
    where, params = visible_stations_sql(user)
    today = clock.today()
    found = cases.listing(get_db(), where, params, today, status)
    return render_template("cases.html", cases=found, status=status, statuses=CASE_STATUS,
                           may_resolve=user["role"] in ("manager", "admin"),
                           may_reopen=user["role"] in ("district", "inspector", "admin"),
                           reopen_since=clock.now() - timedelta(days=cases.REOPEN_DAYS))


@bp.post("/cases/<int(max=9223372036854775807):case_id>/<any(resolve, reopen):action>")
@staff_required()
def case_step(case_id: int, action: str):
    user = current_user()
    allowed = ("manager", "admin") if action == "resolve" else ("district", "inspector", "admin")
    if user["role"] not in allowed:
        abort(403, f"this needs the role {' or '.join(allowed)}")
    case = visible_case(case_id)
    db, now, tz = get_db(), clock.now(), current_app.config["TIMEZONE"]
    try:
        with write(db):
            if action == "resolve":
                cases.resolve(db, case, request.form.get("note"), user["username"], now, tz)
                flash(f"{case['station_code']}: 已整改 / resolved")
            else:
                due = cases.reopen(db, case, request.form.get("reason"), user["username"], now,
                                   tz, current_app.config["FOLLOWUP_DAYS"])
                flash(f"{case['station_code']}: 已重新打开,{due} 前整改 / reopened, due {due}")
    except cases.BadStep as refused:
        flash(f"{case['station_code']}: 未保存,{refused} / not saved: {refused}")
    return redirect(url_for(".case_list"), 303)


@bp.get("/reports/weeks/<week_text>")
@staff_required()
def week_report(week_text: str):
    """A week's report; a district account sees its district."""
    try:
        monday = reports.parse_week(week_text)
    except reports.BadPeriod:
        abort(404)
    this_monday = clock.today() - timedelta(days=clock.today().weekday())
    if monday >= this_monday:
        abort(404, f"a week's report exists once the week is over: {week_text} ends on "
                   f"{monday + timedelta(days=6)}")
    user = current_user()
    report = tasks.build_week(monday, user["district"] if user["role"] == "district"
                              else district_asked())
    following = monday + timedelta(days=7)
    return render_template("report_week.html", report=report, limit=PAGE_LIST_LIMIT,
                           previous=reports.week_name(monday - timedelta(days=7)),
                           next=reports.week_name(following) if following < this_monday else None)


def month_asked(month_text: str) -> date:
    """The first day of a month that is over; 404 otherwise."""
    try:
        first = reports.parse_month(month_text)
    except reports.BadPeriod:
        abort(404)
    if first >= month_start(clock.today()):
        abort(404, f"a month's report exists once the month is over: {month_text}")
    return first


@bp.get("/reports/months/<month_text>")
@staff_required("admin", "inspector", "district")
def month_report(month_text: str):
    """A month's report, with twelve months of each district drawn: a page of districts at a
    time (a nation has thousands)."""
    first = month_asked(month_text)
    db = get_db()
    data = reports.load_month(db, first, current_app.config["TIMEZONE"])
    names = reports.district_names(data)
    page, pages = page_asked(len(names), DISTRICTS_PER_PAGE)
    shown = names[(page - 1) * DISTRICTS_PER_PAGE:page * DISTRICTS_PER_PAGE]
    report = reports.month(data, current_app.config["BASE_URL"], districts=shown)
    data.chart = reports.load_chart(db, first, shown)
    drawn = reports.trend(data, shown)
    charts = [(district, Markup(render_template(
        "_rate_chart.svg", title=f"{district} {report['month']}",
        c=charts_geometry.rate_and_count(months, "month"))))
        for district, months in drawn.items()]
    following = add_months(first, 1)
    return render_template("report_month.html", report=report, charts=charts,
                           districts_total=len(names), page=page, pages=pages,
                           previous=add_months(first, -1).strftime("%Y-%m"),
                           next=following.strftime("%Y-%m")
                           if following < month_start(clock.today()) else None)


@bp.get("/reports/months/<month_text>.csv")
@staff_required("admin", "inspector", "district")
def month_report_csv(month_text: str):
    """The month's rows by district, as `report month --csv` prints them."""
    report = tasks.build_month(month_asked(month_text))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(reports.month_csv_rows(report))
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="report-{report["month"]}.csv"'})


STATUS_LABELS = {"listed": "在册 Listed", "closed": "停用 Closed", "delisted": "摘牌 Delisted"}
PAGE_DAYS = 90
COMMENTS_PER_PAGE = 20


def station_evidence(db, station: dict, today: date, tz) -> dict:
    """What a station's page shows: 90 days of counted ratings by day and by hour and weekday,
    the reasons of its bad ratings, and its satisfaction over those days."""
    first = today - timedelta(days=PAGE_DAYS - 1)
    by_day = {row["day"]: scale.counts_from_row(row) for row in db.query(
        """SELECT day, n1, n2, n3, n4, n5 FROM station_days
           WHERE station_id = ? AND day BETWEEN ? AND ?""",
        [station["id"], first.isoformat(), today.isoformat()])}
    points = []
    for i in range(PAGE_DAYS):
        day = (first + timedelta(days=i)).isoformat()
        counts = by_day.get(day, {})
        points.append({"day": day, "ratings_total": sum(counts.values()),
                       "satisfaction_rate": scale.satisfaction_rate(counts)})
    heat = [[0] * 24 for _ in range(7)]
    reasons: dict[str, int] = {}
    days, values = between_days(first, table="counted_ratings")
    for row in db.query(
            f"""SELECT rated_at, score, coalesce(nullif(rating_details.reasons, ''), counted_ratings.reasons) AS reasons
                FROM counted_ratings LEFT JOIN rating_details ON rating_details.rating_id = counted_ratings.id
                WHERE station_id = ? AND {days}""", [station["id"], *values]):
        local = from_epoch(row["rated_at"]).astimezone(tz)
        heat[local.weekday()][local.hour] += 1
        if scale.is_bad(row["score"]):
            for reason in filter(None, row["reasons"].split(";")):
                reasons[reason] = reasons.get(reason, 0) + 1
    return {"points": points, "heat": heat, "heat_most": max(max(row) for row in heat) or 1,
            "reasons": sorted(reasons.items(), key=lambda item: -item[1]),
            "satisfaction": scale.satisfaction_rate(sum_counts(by_day.values()))}


@bp.get("/stations/<code>")
@staff_required()
def station_page(code: str):
    """A station's page for those who may see it: its ratings, comments, flags, cases, visits
    and history, and the inspectors' tools."""
    station = visible_station(code)
    db, tz, today = get_db(), current_app.config["TIMEZONE"], clock.today()
    page = request.args.get("page", "1")
    if not page.isascii() or not page.isdigit() or not 1 <= int(page) <= 100_000:
        abort(404)
    evidence = station_evidence(db, station, today, tz)
    # the comments of the page's 90 days (older ones: the ratings API, any window)
    days, values = between_days(today - timedelta(days=PAGE_DAYS - 1))
    comments = [{**row, "rated_at": local_iso(row["rated_at"], tz)} for row in db.query(
        f"""SELECT rated_at, score, coalesce(rating_details.comment, ratings.comment) AS comment,
                   held_reason FROM ratings LEFT JOIN rating_details ON rating_details.rating_id = ratings.id
            WHERE station_id = ? AND {days} AND coalesce(rating_details.comment, ratings.comment) != ''
            ORDER BY rated_at DESC, ratings.id DESC LIMIT ? OFFSET ?""",
        [station["id"], *values, COMMENTS_PER_PAGE + 1, (int(page) - 1) * COMMENTS_PER_PAGE])]
    found_visits = visits_rules.listing(db, station["id"], tz)
    chart = Markup(render_template("_rate_chart.svg", title=f"{code} 90 days",
                                   c=charts_geometry.rate_and_count(evidence["points"], "day")))
    user = current_user()
    return render_template(
        "station.html", station=station, summary=summary_of(db, code, tz), chart=chart,
        evidence=evidence, comments=comments[:COMMENTS_PER_PAGE],
        more_comments=len(comments) > COMMENTS_PER_PAGE, page=int(page),
        flags=list(db.query("""SELECT flagged_on, window_start, tier, proposed_tier, status FROM flags
                               WHERE station_id = ? ORDER BY flagged_on DESC""", [station["id"]])),
        cases=cases.listing(db, "stations.id = ?", [station["id"]], today),
        visits=found_visits, checklist=visits_rules.CHECKLIST,
        disagrees=visits_rules.disagrees(evidence["satisfaction"],
                                         found_visits[0]["failed"] if found_visits else None),
        history=downgrade.history(db, station["id"], tz), statuses=STATUS_LABELS,
        inspector=user["role"] in ("inspector", "admin"), weekdays="一二三四五六日")


@bp.post("/stations/<code>/visits")
@staff_required("inspector", "admin")
def record_visit(code: str):
    station = visible_station(code)
    form, db = request.form, get_db()
    items = {key: form.get(f"item-{key}") for key in visits_rules.CHECKLIST}
    try:
        with write(db):
            visit = visits_rules.record(db, station["id"], form.get("kind"), items,
                                        form.get("notes", ""), current_user()["username"],
                                        clock.now())
    except visits_rules.BadVisit as refused:
        flash(f"未保存 not saved: {refused}")
    else:
        flash(f"已记录走访,{visit['failed']} 项不合格 / visit recorded, {visit['failed']} item(s) failed")
    return redirect(url_for(".station_page", code=code), 303)


@bp.post("/stations/<code>/reinstate")
@staff_required("inspector", "admin")
def reinstate(code: str):
    visible_station(code)
    db = get_db()
    try:
        with write(db):
            step = downgrade.reinstate(db, code, request.form.get("reason"),
                                       current_user()["username"], clock.now())
    except (downgrade.BadDecision, downgrade.NoTierAbove) as refused:
        flash(f"未恢复 not reinstated: {refused}")
    else:
        flash(f"{code}: 已恢复为{TIER_LABELS[step['new_tier']]} / reinstated as {step['new_tier']}")
    return redirect(url_for(".station_page", code=code), 303)
