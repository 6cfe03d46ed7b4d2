"""`ratings import`: time notations, local day and month edges, all or nothing, once only;
`ratings export`."""
import io
import sqlite3
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from feedback import imports, staging
from feedback.counts.counting import exclude_rating
from feedback.progress import Progress
from feedback.storage.db import write
from support import NOON

SHANGHAI = ZoneInfo("Asia/Shanghai")


def rollup(db, code):
    return [dict(row) for row in db.query(
        """SELECT day, n1, n2, n3, n4, n5 FROM station_days
           JOIN stations ON stations.id = station_id WHERE code = ? ORDER BY day""", [code])]


# Five notations of instants around the end of October, Shanghai time (UTC+8).
HISTORY = """station_code,rated_at,score,comment
ST-001,2026-10-31T23:59:59,5,local time without offset: still October in Shanghai
ST-001,2026-10-31T16:00:00Z,4,UTC: midnight 1 November in Shanghai
ST-001,2026-10-31 15:59:59+00:00,2,space separator with offset: 23:59:59 on 31 October local
ST-001,2026-11-01T09:30:00+09:00,1,Tokyo offset: 08:30 on 1 November local
ST-001,2026-11-01T00:00:00.500+08:00,3,
ST-002,2026-11-27T12:00:00,5,
"""


@pytest.fixture
def history_loaded(runner, write_file, stations_loaded):
    result = runner.invoke(args=["ratings", "import", write_file("r.csv", HISTORY)])
    assert result.exit_code == 0, result.output
    return result


def test_each_notation_lands_on_its_local_day(db, history_loaded):
    assert rollup(db, "ST-001") == [
        {"day": "2026-10-31", "n1": 0, "n2": 1, "n3": 0, "n4": 0, "n5": 1},
        {"day": "2026-11-01", "n1": 1, "n2": 0, "n3": 1, "n4": 1, "n5": 0},
    ]


def test_station_json_summarises_the_imported_history(client, history_loaded):
    summary = client.get("/api/v1/stations/ST-001").get_json()
    assert summary["ratings_total"] == 5
    assert summary["satisfaction_rate"] == pytest.approx(3 / 5)
    # the latest instant is 09:30+09:00, shown in Shanghai time
    assert summary["last_rated_at"] == "2026-11-01T08:30:00+08:00"


def test_station_without_ratings_has_null_rate_and_last_rating(client, stations_loaded):
    summary = client.get("/api/v1/stations/ST-003").get_json()
    assert (summary["ratings_total"], summary["satisfaction_rate"], summary["last_rated_at"]) == (
        0, None, None)


def test_stored_instants_are_utc(db, history_loaded):
    stored = [row["rated_at"] for row in db.query(
        "SELECT rated_at FROM ratings WHERE comment LIKE 'Tokyo%'")]
    assert stored == [datetime(2026, 11, 1, 0, 30, tzinfo=timezone.utc).timestamp()]


def test_importing_the_same_file_twice_adds_nothing(runner, write_file, db, history_loaded):
    result = runner.invoke(args=["ratings", "import", write_file("again.csv", HISTORY)])
    assert result.exit_code == 0
    assert "imported 0 rating(s); 6 were already there" in result.output
    assert db.execute("SELECT count(*) FROM ratings").fetchone()[0] == 6


def test_identical_rows_in_one_file_are_separate_ratings(runner, write_file, db, stations_loaded):
    text = "station_code,rated_at,score\nST-002,2026-11-01T10:00:00,4\nST-002,2026-11-01T10:00:00,4\n"
    runner.invoke(args=["ratings", "import", write_file("twice.csv", text)])
    assert rollup(db, "ST-002")[0]["n4"] == 2


def test_ratings_alike_but_for_their_row_ids_are_distinct_in_every_file(
        runner, write_file, db, stations_loaded):
    """Two workers tapping the same face in the same second, in this month's file and the
    next's: told apart by the row ids their earlier system gave them; each file imported again
    adds nothing."""
    first = ("station_code,rated_at,score,comment,row_id\n"
             "ST-002,2026-10-31T23:59:59,4,,a-1\nST-002,2026-10-31T23:59:59,4,,a-2\n")
    second = "row_id,station_code,rated_at,score\nb-7,ST-002,2026-10-31T23:59:59,4\n"
    for name, text, added in (("first.csv", first, 2), ("second.csv", second, 1),
                              ("first.csv", first, 0), ("second.csv", second, 0)):
        result = runner.invoke(args=["ratings", "import", write_file(name, text)])
        assert result.exit_code == 0 and f"imported {added} rating(s)" in result.output
    assert rollup(db, "ST-002")[0]["n4"] == 3
    bad = runner.invoke(args=["ratings", "import", write_file(
        "bad.csv", f"station_code,rated_at,score,row_id\nST-002,2026-10-31T20:00:00,4,{'x' * 65}\n")])
    assert bad.exit_code != 0 and "line 2: row_id must be 1 to 64 characters" in bad.output


def test_bad_ratings_file_reports_each_line_and_imports_nothing(runner, write_file, db,
                                                                stations_loaded):
    bad = ("station_code,rated_at,score,comment\n"
           "ST-001,2026-11-01T10:00:00,5,fine on its own\n"
           "NOPE,2026-11-01T10:00:00,5,\n"
           "ST-001,2026-11-01,4,\n"
           "ST-001,yesterday,4,\n"
           "ST-001,2026-11-01T10:00:00,6,\n"
           "ST-001,2026-11-01T10:00:00,4.5,\n"
           "ST-001,2026-12-01T10:00:00,4,\n"
           f"ST-001,2026-11-01T10:00:00,4,{'长' * 2001}\n")
    result = runner.invoke(args=["ratings", "import", write_file("bad.csv", bad)])
    assert result.exit_code != 0
    lines = result.output.splitlines()
    assert "line 3: unknown station_code 'NOPE'" in lines
    assert "line 4: rated_at '2026-11-01' needs a time of day as well as a date" in lines
    assert "line 5: rated_at 'yesterday' is not an ISO 8601 date and time like 2026-11-27T09:30:00" in lines
    assert "line 6: score '6' must be a whole number from 1 to 5" in lines
    assert "line 7: score '4.5' must be a whole number from 1 to 5" in lines
    assert "line 8: rated_at 2026-12-01T10:00:00 is in the future" in lines
    assert "line 9: comment is longer than 2000 characters" in lines
    assert not any(line.startswith("line 2:") for line in lines)
    assert db.execute("SELECT count(*) FROM ratings").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM station_days").fetchone()[0] == 0


def test_ratings_cannot_be_changed_or_deleted(db, history_loaded):
    import sqlite3

    for statement in ("UPDATE ratings SET score = 5", "DELETE FROM ratings"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(statement)


def test_a_different_time_zone_moves_the_day_boundary(runner, write_file, db, stations_loaded, app):
    from zoneinfo import ZoneInfo

    app.config["TIMEZONE"] = ZoneInfo("Europe/London")
    text = "station_code,rated_at,score\nST-002,2026-10-31T16:00:00Z,5\nST-002,2026-10-31T23:30:00,5\n"
    runner.invoke(args=["ratings", "import", write_file("london.csv", text)])
    assert [row["day"] for row in rollup(db, "ST-002")] == ["2026-10-31"]
    assert rollup(db, "ST-002")[0]["n5"] == 2


def test_a_line_that_is_not_utf8_is_named_exactly_and_nothing_is_imported(runner, write_file, db,
                                                                         stations_loaded):
    good = "".join(f"ST-001,2026-11-01T10:{i % 60:02d}:00,4,第{i}条很好很好很好\n" for i in range(600))
    data = ("station_code,rated_at,score,comment\n" + good).encode() + \
        "ST-001,2026-11-01T10:00:00,4,旧系统的编码\n".encode("gbk")
    result = runner.invoke(args=["ratings", "import", write_file("gbk.csv", data)])
    assert result.exit_code != 0
    assert "line 602: not UTF-8 text" in result.output
    assert db.execute("SELECT count(*) FROM ratings").fetchone()[0] == 0


GBK_SAID = ("not UTF-8 text: the file reads as GBK (GB18030), which Excel and WPS write as CSV "
            "on a Chinese system; save it as “CSV UTF-8” and import it again")


def test_a_file_saved_as_gbk_is_told_so_once_not_at_every_line(runner, write_file, db,
                                                              stations_loaded):
    data = "station_code,rated_at,score,comment\n".encode() + "".join(
        f"ST-001,2026-11-01T10:{i:02d}:00,4,第{i}条\n" for i in range(50)).encode("gbk") + \
        b"ST-001,2026-11-01T11:00:00,4,\xff\xfe\xff\n"  # not text in any encoding
    result = runner.invoke(args=["ratings", "import", write_file("gbk.csv", data)])
    assert result.exit_code != 0
    errors = [line for line in result.output.splitlines() if line.startswith("line ")]
    assert errors == ["line 2: " + GBK_SAID, "line 52: not UTF-8 text (save the file as CSV UTF-8)"]
    assert db.execute("SELECT count(*) FROM ratings").fetchone()[0] == 0


def test_every_bad_line_is_reported_after_an_over_long_and_a_non_utf8_line(runner, write_file,
                                                                            db, stations_loaded):
    content = ("station_code,rated_at,score,comment\n"
               "ST-001,2026-11-01T10:00:00,5,fine\n"
               + "ST-001,2026-11-01T10:00:00,5," + "长" * 40_000 + "\n"       # line 3: 120 KB
               + "ST-001,2026-11-01T10:00:00,9,\n").encode()                  # line 4
    content += "ST-001,2026-11-01T10:00:00,4,坏".encode("gb18030") + b"\n"     # line 5
    content += ("ST-001,0001-01-01T00:00:00,4,\n"                             # line 6: year 1
                "ST-001,2024-W01-1T10:00:00,4,\n"                             # line 7: a week date
                "ST-001,2026-11-01T10:00:00,4,\"nul\x00inside\"\n"            # line 8
                "ST-001,2026-11-01T10:00:00,4,fine again\n").encode()
    result = runner.invoke(args=["ratings", "import", write_file("bad.csv", content)])
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("line ")]
    assert errors == [
        "line 3: the line is longer than 64 KB",
        "line 4: score '9' must be a whole number from 1 to 5",
        "line 5: " + GBK_SAID,
        "line 6: rated_at '0001-01-01T00:00:00' is not between 2000 and 2099",
        "line 7: rated_at '2024-W01-1T10:00:00' is not an ISO 8601 date and time like 2026-11-27T09:30:00",
        "line 8: comment holds a control character (only line breaks and tabs may)",
    ]
    assert "Traceback" not in result.output
    assert db.execute("SELECT count(*) FROM ratings").fetchone()[0] == 0


def test_a_file_of_many_bad_lines_shows_a_hundred_and_counts_the_rest(runner, write_file, db,
                                                                      stations_loaded):
    rows = ["station_code,rated_at,score,comment"] + ["NOPE,2026-11-01T10:00:00,5,"] * 250
    result = runner.invoke(args=["ratings", "import", write_file("bad.csv", "\n".join(rows) + "\n")])
    lines = result.output.splitlines()
    assert sum(line.startswith("line ") for line in lines) == 100
    assert lines[99] == "line 101: unknown station_code 'NOPE'"
    assert "... and 150 more bad line(s)" in lines
    assert "250 error(s): no ratings were imported; the database is unchanged." in lines


EXPORTED = """station_code,rated_at,score,comment
ST-001,2026-10-01T10:00:00,5,
ST-001,2026-10-01T11:00:00,1,
ST-002,2026-11-02T10:00:00,3,
"""


def test_ratings_export_a_range_of_days_with_whether_each_counted(runner, write_file, stations_loaded,
                                                                  db):
    history = EXPORTED + "ST-001,2026-10-02T09:00:00,2,=HYPERLINK(\"x\")\n"
    assert runner.invoke(args=["ratings", "import", write_file("r.csv", history)]).exit_code == 0
    eleven = db.execute("SELECT id FROM ratings WHERE rated_at = strftime('%s', '2026-10-01T03:00:00Z')").fetchone()[0]
    with write(db):
        exclude_rating(db, eleven, "a test", "li", NOON)
    result = runner.invoke(args=["ratings", "export", "-", "--from", "2026-10-01", "--to", "2026-10-31"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "station_code,rated_at,score,comment,reasons,counted,held_reason",
        "ST-001,2026-10-01T10:00:00+08:00,5,,,yes,",
        "ST-001,2026-10-01T11:00:00+08:00,1,,,no,excluded",
        "ST-001,2026-10-02T09:00:00+08:00,2,\"'=HYPERLINK(\"\"x\"\")\",,yes,",
    ]  # November's rating is outside the range; a formula is quoted, as in every export
    refused = runner.invoke(args=["ratings", "export", "-", "--from", "2026-11-01", "--to", "2026-10-01"])
    assert refused.exit_code != 0 and "--from must not be after --to" in refused.output


DAY_INDEX = "SELECT sql FROM sqlite_master WHERE name = 'ratings_day_number'"


def test_the_day_index_holds_every_rating_after_a_large_a_small_and_a_refused_import(
        runner, write_file, db, stations_loaded):
    """A file large beside the ratings held builds the day index afresh, a small one inserts
    into it (feedback.counts.ratings.REBUILT_DAY_INDEX_SHARE), a refused one changes nothing: each time
    the index is the schema's, agrees with the table, and serves a day's export."""
    schema_index = db.execute(DAY_INDEX).fetchone()[0]
    header = "station_code,rated_at,score\n"
    files = {"large.csv": header + "".join(f"ST-001,2026-10-{day:02d}T10:00:00,4\n"
                                            for day in range(1, 9)),
             "small.csv": header + "ST-002,2026-10-03T12:00:00,1\n",
             "refused.csv": header + "ST-002,2026-10-03T13:00:00,9\n"}
    for name, text in files.items():
        result = runner.invoke(args=["ratings", "import", write_file(name, text)])
        assert (result.exit_code == 0) == (name != "refused.csv"), result.output
        assert db.execute(DAY_INDEX).fetchone()[0] == schema_index
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    exported = runner.invoke(args=["ratings", "export", "-", "--from", "2026-10-03",
                                   "--to", "2026-10-03"])
    assert [line.split(",")[:3] for line in exported.output.splitlines()[1:]] == [
        ["ST-001", "2026-10-03T10:00:00+08:00", "4"], ["ST-002", "2026-10-03T12:00:00+08:00", "1"]]


def many_ratings(count: int, bad: dict[int, str] | None = None, long_comment_at: int | None = None) -> str:
    """A ratings file of ``count`` rows over the fixture's stations, with commas and quotes in
    comments; ``bad``: rows replaced by bad lines; ``long_comment_at``: a row whose comment runs
    over 250 lines."""
    lines = ["station_code,rated_at,score,comment"]
    for n in range(count):
        comment = ['', f'第{n}条, 很好', f'"水" {n}', 'ok'][n % 4]
        if n == long_comment_at:
            comment = "\n".join(f"第{k}行" for k in range(250))
        quoted = '"' + comment.replace('"', '""') + '"'
        lines.append((bad or {}).get(n) or f"ST-00{1 + n % 3},2026-11-{1 + n % 27:02d}T{n % 24:02d}:"
                                            f"{n % 60:02d}:00,{1 + n % 5},{quoted}")
    return "\n".join(lines) + "\n"


def staged_rows(conn):
    return conn.execute("SELECT * FROM temp.imported ORDER BY line").fetchall()


def stage_both_ways(path, count=3):
    """(staged whole, rows), (staged in ``count`` parts in their own processes, rows)."""
    ids = {"ST-001": 1, "ST-002": 2, "ST-003": 3}
    whole, parted = (sqlite3.connect(":memory:", isolation_level=None) for _ in range(2))
    with open(path, "rb") as binary:
        read_whole = staging.stage_read(whole, binary, ids, SHANGHAI, NOON)
    with open(path, "rb") as binary:
        read_in_parts = staging.stage_in_parts(parted, binary, ids, SHANGHAI, NOON,
                                               Progress("read", stream=io.StringIO()), count)
    return (read_whole, whole), (read_in_parts, parted)


def test_a_file_read_in_parts_at_once_stages_what_reading_it_whole_does(write_file):
    (whole, by_one), (in_parts, by_parts) = stage_both_ways(write_file("r.csv", many_ratings(3000)))
    assert in_parts is not None  # every cut fell between records
    assert (in_parts[0], in_parts[1].total) == (whole[0], whole[1].total) == (3000, 0)
    assert staged_rows(by_parts) == staged_rows(by_one)


def test_bad_lines_in_every_part_are_reported_as_reading_the_file_whole_reports_them(write_file):
    # the over-long line is where the first cut would fall: the cut moves to its end
    bad = {40: "ST-009,2026-11-01T10:00:00,5,", 1400: "ST-001,yesterday,5,",
           1500: "ST-001,2026-11-01T10:00:00,5," + "长" * 30_000, 2990: "ST-001,,9"}
    (whole, _), (in_parts, _) = stage_both_ways(write_file("r.csv", many_ratings(3000, bad)))
    assert in_parts[1].report() == whole[1].report()
    assert whole[1].report() == [
        "line 42: unknown station_code 'ST-009'",
        "line 1402: rated_at 'yesterday' is not an ISO 8601 date and time like 2026-11-27T09:30:00",
        "line 1502: the line is longer than 64 KB",
        "line 2992: 3 fields, but the header has 4"]


def test_a_cut_inside_a_comment_over_many_lines_has_the_file_read_whole(
        runner, write_file, db, stations_loaded, monkeypatch):
    path = write_file("r.csv", many_ratings(100, long_comment_at=50))
    _, (in_parts, _) = stage_both_ways(path, count=2)
    assert in_parts is None  # the middle of the file is inside that comment
    monkeypatch.setattr(staging, "PARTS_FROM_BYTES", 0)
    result = runner.invoke(args=["ratings", "import", path])
    assert result.output == "imported 100 rating(s); 0 were already there\n"
    comment = db.execute("SELECT comment FROM ratings WHERE comment LIKE '第0行%'").fetchone()[0]
    assert comment.splitlines() == [f"第{k}行" for k in range(250)]


def test_the_import_command_reads_a_large_file_in_parts_all_or_nothing(
        runner, write_file, db, stations_loaded, monkeypatch):
    if staging.cores() < 2:
        pytest.skip("one core: a file is read whole")
    refused_whole = runner.invoke(args=["ratings", "import", write_file(
        "bad.csv", many_ratings(3000, {2500: "ST-001,2026-11-01T10:00:00,7,"}))])
    monkeypatch.setattr(staging, "PARTS_FROM_BYTES", 0)
    refused = runner.invoke(args=["ratings", "import", write_file(
        "bad.csv", many_ratings(3000, {2500: "ST-001,2026-11-01T10:00:00,7,"}))])
    assert (refused.exit_code, refused.output) == (refused_whole.exit_code, refused_whole.output)
    assert refused.exit_code == 1 and "line 2502: score '7' must be" in refused.output
    assert db.execute("SELECT count(*) FROM ratings").fetchone()[0] == 0

    path = write_file("good.csv", many_ratings(3000))
    assert runner.invoke(args=["ratings", "import", path]).output == (
        "imported 3000 rating(s); 0 were already there\n")
    assert runner.invoke(args=["ratings", "import", path]).output == (
        "imported 0 rating(s); 3000 were already there\n")
    assert runner.invoke(args=["rollups", "check"]).exit_code == 0
    assert db.execute("SELECT count(*), sum(score) FROM ratings").fetchone() == (3000, 9000)


def test_the_progress_hears_of_every_line_read_the_last_included():
    parsed = ((line, {"line": line}, []) for line in range(2, 25_002))
    heard = []
    assert len(list(imports.good_rows(parsed, imports.Problems(), heard.append))) == 25_000
    assert heard == [10_000, 20_000, 25_000]


def test_a_rating_whose_local_day_falls_outside_the_checked_years_is_still_rolled_up(
        runner, write_file, db, stations_loaded):
    # 01:00 on 1 January 2000 at +14:00 is 19:00 on 31 December 1999 in Shanghai
    edge = "station_code,rated_at,score,comment\nST-001,2000-01-01T01:00:00+14:00,4,\n"
    assert runner.invoke(args=["ratings", "import", write_file("edge.csv", edge)]).exit_code == 0
    assert rollup(db, "ST-001") == [{"day": "1999-12-31", "n1": 0, "n2": 0, "n3": 0, "n4": 1, "n5": 0}]
    assert runner.invoke(args=["rollups", "check"]).exit_code == 0
