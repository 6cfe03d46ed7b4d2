"""Property-based tests of what strangers send: any rating form and any CSV file gets an answer
(a 4xx page or `line N: reason`), never a 5xx or a traceback, and a refused input changes
nothing."""
import csv
import io
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedback import imports
from feedback.counts.ratings import REASONS
from support import NOON, examples

pytestmark = pytest.mark.fuzz

BOUNDED = settings(max_examples=examples(60), derandomize=True, deadline=None, database=None,
                   suppress_health_check=list(HealthCheck))

any_text = st.text(st.characters(codec="utf-8"), max_size=40)
printable = st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), max_size=40)
field_text = st.one_of(any_text, st.sampled_from(["", "5", "1", "0", "6", " 3", "٣", "3.0", "-1"]))
reason = st.one_of(st.sampled_from(REASONS), any_text)
form = st.fixed_dictionaries({
    "score": field_text,
    "comment": st.one_of(any_text, st.text(max_size=600)),
    "reason": st.lists(reason, max_size=12),
    "key": st.one_of(any_text, st.text("abcXYZ019_-", min_size=14, max_size=70)),
    "lang": st.one_of(st.sampled_from(["zh", "en"]), any_text),
})


def table(db, name):
    return [tuple(row) for row in db.execute(f"SELECT * FROM {name} ORDER BY 1")]


def test_any_rating_form_gets_a_page_and_a_refused_one_records_nothing(client, stations_loaded,
                                                                        station_url, db):
    path = urlsplit(station_url("ST-001")).path

    @given(fields=form)
    @BOUNDED
    def post(fields):
        before = table(db, "ratings")
        response = client.post(path, data=fields)
        assert response.status_code in (303, 400, 413), response.status_code
        after = table(db, "ratings")
        if response.status_code == 303:
            assert len(after) - len(before) in (0, 1)  # 0: that one-time key was used before
        else:
            assert after == before
            assert "<html" in response.get_data(as_text=True)

    post()


cell = st.one_of(any_text, st.sampled_from([
    "ST-001", "ST-002", "城区", "city", "national", "mobile", "fixed", "2024-02-30", "2024-W01-1",
    "2026-11-01T10:00:00", "0001-01-01T00:00:00", "31.2", "121.5", "95", "nan", "=1+1", "'=1",
    "water;fridge", "5", "1", '"', "\x00", "长" * 300]))
STATION_HEADER = ["code", "name", "district", "address", "latitude", "longitude", "tier", "kind",
                  "opened_on", "amenities"]
RATING_HEADER = ["station_code", "rated_at", "score", "comment"]


def as_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def csv_file(header, good_row):
    """Bytes of a CSV file: well-formed files of good and hostile rows, rows of the wrong
    width, a wrong header, raw bytes that are not UTF-8."""
    hostile_row = st.lists(cell, min_size=len(header) - 1, max_size=len(header) + 1)
    rows = st.one_of(st.lists(good_row, max_size=6),
                     st.lists(st.one_of(good_row, hostile_row), max_size=6))
    well_formed = rows.map(lambda body: as_csv([header, *body]))
    return st.one_of(well_formed, well_formed,
                     well_formed.map(lambda b: b + b"ST-001,\xff\xfe\n"),
                     st.tuples(any_text, rows).map(lambda parts: as_csv([[parts[0]], *parts[1]])),
                     st.binary(max_size=200))


good_station = st.tuples(
    st.sampled_from(["ST-001", "ST-009", "NEW-1"]), st.sampled_from(["驿站", "Station <b>", "=1"]),
    st.sampled_from(["城区", "郊区"]), printable, st.sampled_from(["", "31.2"]),
    st.sampled_from(["", "121.5"]), st.sampled_from(["city", "provincial", "national"]),
    st.sampled_from(["fixed", "mobile", "partner"]), st.sampled_from(["", "2024-03-01"]),
    st.sampled_from(["", "water;fridge"])).map(list)
good_rating = st.tuples(
    st.sampled_from(["ST-001", "ST-002", "ST-003"]),
    st.sampled_from(["2026-11-01T10:00:00", "2026-11-27T23:59:59+08:00", "2026-10-31T16:00:00Z"]),
    st.sampled_from(["1", "2", "3", "4", "5"]), printable).map(list)


def import_file(runner, tmp_path, kind, content: bytes):
    path = tmp_path / "fuzz.csv"
    path.write_bytes(content)
    return runner.invoke(args=[kind, "import", str(path)])


def check_refused_or_done(result, before, after):
    assert result.exit_code in (0, 1), (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    if result.exit_code == 1:
        assert after == before
        assert any(line.startswith("line ") for line in result.output.splitlines()), result.output


def test_any_stations_file_is_imported_whole_or_refused_with_nothing_changed(
        runner, tmp_path, db, stations_loaded):
    @given(content=csv_file(STATION_HEADER, good_station))
    @BOUNDED
    def attempt(content):
        before = table(db, "stations")
        result = import_file(runner, tmp_path, "stations", content)
        check_refused_or_done(result, before, table(db, "stations"))

    attempt()


def test_any_ratings_file_is_imported_whole_or_refused_with_nothing_changed(
        runner, tmp_path, db, stations_loaded):
    @given(content=csv_file(RATING_HEADER, good_rating))
    @BOUNDED
    def attempt(content):
        before = (table(db, "ratings"), table(db, "station_days"), table(db, "station_totals"))
        result = import_file(runner, tmp_path, "ratings", content)
        check_refused_or_done(result, before, (table(db, "ratings"), table(db, "station_days"),
                                               table(db, "station_totals")))

    attempt()


multi_line_rating = st.tuples(
    st.sampled_from(["ST-001", "ST-002"]), st.just("2026-11-01T10:00:00"),
    st.sampled_from(["1", "5"]), st.sampled_from(["a\nb", 'say "hi"\n\nbye', "x\r\ny", ""])).map(list)


def test_any_ratings_file_cut_in_parts_reads_as_it_does_whole_or_says_it_cannot(tmp_path):
    """The parts a large import is read in, each parsed on its own, give exactly the lines,
    rows and reasons of the whole file, or show that a cut fell inside a record."""
    path = tmp_path / "parts.csv"
    ids = {"ST-001": 1, "ST-002": 2, "ST-003": 3}

    def parse(binary, part=None):
        return list(imports.parse_ratings(binary, ids, ZoneInfo("Asia/Shanghai"), NOON, part))

    @given(content=st.one_of(csv_file(RATING_HEADER, st.one_of(good_rating, multi_line_rating)),
                             st.lists(multi_line_rating, max_size=8).map(
                                 lambda rows: as_csv([RATING_HEADER, *rows]))),
           count=st.integers(2, 6))
    @BOUNDED
    def attempt(content, count):
        path.write_bytes(content)
        with open(path, "rb") as binary:
            whole = parse(binary)
            cut = imports.parts(binary, count)
            in_parts = []
            for part in cut:
                binary.seek(part.start)
                in_parts += parse(binary, part)
        assert [part.start for part in cut] == sorted({part.start for part in cut})
        if all(part.clean_end for part in cut[:-1]):
            assert in_parts == whole
        else:  # only a quoted field over a line break runs over a cut at a line break
            assert b'"' in content and (b"\n" in content.split(b"\n", 1)[1])

    attempt()
