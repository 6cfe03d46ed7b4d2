"""`stations import / export / url / close / reopen` through Flask's CLI runner."""
import csv
import io

from feedback.places import stations
from support import STATIONS_CSV


def station_codes(db):
    return [row["code"] for row in db.query("SELECT code FROM stations ORDER BY code")]


def test_import_inserts_every_station(runner, write_file, db):
    result = runner.invoke(args=["stations", "import", write_file("s.csv", STATIONS_CSV)])
    assert result.exit_code == 0, result.output
    assert "3 new, 0 changed, 0 unchanged" in result.output
    assert station_codes(db) == ["ST-001", "ST-002", "ST-003"]
    first = stations.get(db, "ST-001")
    assert (first["tier"], first["kind"], first["latitude"], first["amenities"]) == (
        "national", "fixed", 31.2304, "water;microwave;sofa")


def test_missing_opened_on_defaults_to_the_local_import_day(runner, write_file, db, clock):
    from datetime import datetime, timezone

    clock.instant = datetime(2026, 11, 27, 17, 30, tzinfo=timezone.utc)  # 01:30 on the 28th in Shanghai
    runner.invoke(args=["stations", "import", write_file("s.csv", STATIONS_CSV)])
    assert stations.get(db, "ST-003")["opened_on"] == "2026-11-28"


def test_reimport_updates_by_code_and_keeps_an_unstated_opening_day(runner, write_file, db,
                                                                     stations_loaded):
    opened = stations.get(db, "ST-003")["opened_on"]
    changed = ("code,tier,name,district,kind\n"
               "ST-003,national,银行网点驿站(新址),静安区,partner\n"
               "ST-004,city,新驿站,徐汇区,fixed\n")
    result = runner.invoke(args=["stations", "import", write_file("u.csv", changed)])
    assert result.exit_code == 0, result.output
    assert "2 station(s): 1 new, 1 changed, 0 unchanged" in result.output
    updated = stations.get(db, "ST-003")
    assert (updated["name"], updated["tier"], updated["opened_on"]) == (
        "银行网点驿站(新址)", "national", opened)
    assert station_codes(db) == ["ST-001", "ST-002", "ST-003", "ST-004"]


def test_byte_order_mark_and_free_column_order_are_accepted(runner, write_file, db):
    text = "kind,tier,district,name,code\nfixed,city,黄浦区,驿站甲,A-1\n"
    result = runner.invoke(args=["stations", "import", write_file("bom.csv", "\ufeff" + text)])
    assert result.exit_code == 0, result.output
    assert station_codes(db) == ["A-1"]


def test_bad_file_reports_every_bad_row_and_changes_nothing(runner, write_file, db, stations_loaded):
    before = list(db.query("SELECT * FROM stations ORDER BY code"))
    bad = ("code,name,district,tier,kind,opened_on,latitude,longitude\n"
           "ST-001,改了名字,黄浦区,national,fixed,,,\n"          # good on its own: must not land
           "ST-009,,黄浦区,county,fixed,,,\n"                   # line 3: name, tier
           "ST 10,驿站,黄浦区,city,boat,2024-02-30,,\n"          # line 4: code, kind, date
           "ST-011,驿站,黄浦区,city,fixed,,95,121\n"             # line 5: latitude
           "ST-012,驿站,黄浦区,city,fixed,,31.2,\n"              # line 6: half a position
           "ST-001,又一个,黄浦区,city,fixed,,,\n")               # line 7: duplicate code
    result = runner.invoke(args=["stations", "import", write_file("bad.csv", bad)])
    assert result.exit_code != 0
    lines = result.output.splitlines()
    assert "line 3: name is required" in lines
    assert "line 3: tier 'county' must be one of city, provincial, national" in lines
    assert "line 4: code 'ST 10' must be 1 to 32 of A-Z a-z 0-9 -" in lines
    assert "line 4: kind 'boat' must be one of fixed, mobile, partner" in lines
    assert "line 4: opened_on '2024-02-30' is not a date like 2026-11-27" in lines
    assert "line 5: latitude 95 is outside -90 to 90" in lines
    assert "line 6: latitude and longitude go together: give both or neither" in lines
    assert "line 7: code ST-001 is already on line 2" in lines
    assert not any(line.startswith("line 2:") for line in lines)
    assert list(db.query("SELECT * FROM stations ORDER BY code")) == before


def test_line_numbers_count_quoted_newlines_and_blank_lines(runner, write_file):
    text = ('code,name,district,tier,kind,address\n'
            'A-1,驿站,黄浦区,city,fixed,"two\nlines"\n'
            '\n'
            'A-2,驿站,黄浦区,town,fixed,\n')
    result = runner.invoke(args=["stations", "import", write_file("q.csv", text)])
    assert "line 5: tier 'town' must be one of city, provincial, national" in result.output


def test_header_problems_are_reported_on_line_1(runner, write_file, db):
    result = runner.invoke(args=["stations", "import", write_file("h.csv", "code,name,tire\nA,b,c\n")])
    assert result.exit_code != 0
    assert "line 1: unknown column 'tire'" in result.output
    assert "line 1: missing column 'district', 'tier', 'kind'" in result.output
    assert station_codes(db) == []


def test_a_file_that_is_not_utf8_is_refused_with_its_line(runner, write_file, db):
    data = "code,name,district,tier,kind\nA-1,驿站,黄浦区,city,fixed\n".encode("gbk")
    result = runner.invoke(args=["stations", "import", write_file("gbk.csv", data)])
    assert result.exit_code != 0
    assert "line 2: not UTF-8 text" in result.output
    assert station_codes(db) == []


def test_export_writes_the_import_format_and_reimports_unchanged(runner, write_file, tmp_path, db,
                                                                 stations_loaded):
    out = tmp_path / "out.csv"
    assert runner.invoke(args=["stations", "export", str(out)]).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert list(rows[0]) == list(stations.COLUMNS)
    assert rows[0]["code"] == "ST-001" and rows[0]["amenities"] == "water;microwave;sofa"
    assert rows[1]["latitude"] == ""
    before = list(db.query("SELECT * FROM stations ORDER BY code"))
    again = runner.invoke(args=["stations", "import", str(out)])
    assert again.exit_code == 0 and "0 new, 0 changed, 3 unchanged" in again.output
    assert list(db.query("SELECT * FROM stations ORDER BY code")) == before  # updated_at too


def test_url_prints_only_the_absolute_signed_url(runner, stations_loaded, app):
    result = runner.invoke(args=["stations", "url", "ST-002"])
    assert result.exit_code == 0
    assert result.stdout.count("\n") == 1
    assert result.stdout.startswith("http://127.0.0.1:5000/s/ST-002/1-")


def test_url_of_an_unknown_station_is_an_error(runner, stations_loaded):
    result = runner.invoke(args=["stations", "url", "NOPE"])
    assert result.exit_code != 0
    assert "no station with code 'NOPE'" in result.output


def test_closed_station_is_reported_in_json_and_can_reopen(runner, client, stations_loaded):
    assert runner.invoke(args=["stations", "close", "ST-001"]).exit_code == 0
    assert client.get("/api/v1/stations/ST-001").get_json()["status"] == "closed"
    assert runner.invoke(args=["stations", "reopen", "ST-001"]).exit_code == 0
    assert client.get("/api/v1/stations/ST-001").get_json()["status"] == "listed"


def test_demo_seeds_an_empty_database_once_and_prints_a_working_url(runner, client, db):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "Added 5 demo stations" in first.output
    url = next(line.split(": ", 1)[1] for line in first.output.splitlines()
               if line.startswith("Rate a demo station:"))
    assert client.get(url.replace("http://127.0.0.1:5000", "")).status_code == 200
    assert all(row["name"].startswith("【演示】") for row in db.query("SELECT name FROM stations"))
    again = runner.invoke(args=["demo"])
    assert "Added" not in again.output
    assert db.execute("SELECT count(*) FROM stations").fetchone()[0] == 5


def test_demo_adds_nothing_to_a_database_with_stations(runner, stations_loaded, db):
    runner.invoke(args=["demo"])
    assert db.execute("SELECT count(*) FROM stations WHERE is_demo = 1").fetchone()[0] == 0


def test_export_neutralises_spreadsheet_formulas_and_reimports_the_same_names(
        runner, write_file, tmp_path, db):
    hostile = ("code,name,district,address,latitude,longitude,tier,kind\n"
               'F-1,"=HYPERLINK(""http://evil.example"",""点我"")",+区,@SUM(A1),-33.5,-70.25,city,fixed\n'
               "F-2,-2+3,普通区,\"=1+1\",,,city,fixed\n")
    assert runner.invoke(args=["stations", "import", write_file("h.csv", hostile)]).exit_code == 0
    before = [dict(row) for row in db.query("SELECT code, name, district, address, latitude, longitude FROM stations ORDER BY code")]
    exported = tmp_path / "out.csv"
    assert runner.invoke(args=["stations", "export", str(exported)]).exit_code == 0
    import csv
    cells = [cell for row in csv.reader(exported.open(encoding="utf-8")) for cell in row]
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)
    assert "-33.5" in cells and "-70.25" in cells  # numbers stay numbers
    assert "'=HYPERLINK(\"http://evil.example\",\"点我\")" in cells and "'-2+3" in cells
    assert runner.invoke(args=["stations", "import", str(exported)]).exit_code == 0
    after = [dict(row) for row in db.query("SELECT code, name, district, address, latitude, longitude FROM stations ORDER BY code")]
    assert after == before
