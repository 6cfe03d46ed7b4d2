"""The station finder: distances, the GCJ-02 conversion, nearest first, the public JSON and
GeoJSON feed, the /near page with and without JavaScript, moving a station."""
import json
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedback.clock import FixedClock
from feedback.places import finder, geo, stations
from support import AXE, NOON, PHONE, examples

# Around People's Square, Shanghai; coordinates GCJ-02 as Amap shows them. At NOON (12:00 in
# Shanghai) F-NIGHT is closed, F-LUNCH is closed (11:30-13:30 gap), the others open.
FINDER_CSV = """code,name,district,address,latitude,longitude,tier,kind,amenities,hours
F-SQUARE,人民广场驿站,黄浦区,人民大道1号,31.2304,121.4737,national,fixed,water;microwave,24h
F-BANK,南京西路银行驿站,静安区,南京西路100号,31.2292,121.4549,city,partner,water;toilet,09:00-17:00
F-NIGHT,夜班驿站,黄浦区,,31.2330,121.4800,city,fixed,water,22:00-06:00
F-CABIN,滨江工地移动驿站,浦东新区,,31.2397,121.4998,city,mobile,first-aid,07:00-19:00
F-LUNCH,漕溪北路驿站,徐汇区,,31.1880,121.4370,city,fixed,water;sofa,06:00-11:30;13:30-21:00
F-FAR,嘉定驿站,嘉定区,,31.3750,121.2650,city,fixed,water,24h
F-NOWHERE,没有坐标的驿站,黄浦区,,,,city,fixed,water,24h
"""


@pytest.fixture
def finder_stations(runner, write_file):
    result = runner.invoke(args=["stations", "import", write_file("finder.csv", FINDER_CSV)])
    assert result.exit_code == 0, result.output


def standing_at(code_lat: float, code_lon: float, metres_north: float = 0) -> tuple[float, float]:
    """Where a phone (WGS-84) reports itself when standing at a GCJ-02 point, or north of it."""
    lat, lon = geo.to_wgs84(code_lat, code_lon)
    return lat + metres_north / 111_195, lon


def test_distances_match_published_pairs():
    # one degree along the equator: 2πR/360 with the mean radius
    assert geo.distance_m((0, 0), (0, 1)) == pytest.approx(111_195.08, abs=0.01)
    # Rosetta Code's haversine task: Nashville to Los Angeles is 2887.2599506 km with R = 6372.8 km
    nashville_la = geo.distance_m((36.12, -86.67), (33.94, -118.40))
    assert nashville_la * 6372.8e3 / geo.EARTH_RADIUS_M == pytest.approx(2887259.95, abs=0.5)
    # eviltransform's test: Shanghai to Beijing (GCJ-02 points) is 1078164 m with R = 6378137 m
    shanghai_beijing = geo.distance_m((31.17530398364597, 121.531541859215),
                                      (39.91334545536069, 116.38404722455657))
    assert shanghai_beijing * 6378137 / geo.EARTH_RADIUS_M == pytest.approx(1078164, abs=2)


# eviltransform's published test vectors (googollee/eviltransform): WGS-84 → GCJ-02
REFERENCE_POINTS = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),    # Shanghai
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),    # Shenzhen
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),    # Beijing
]


@pytest.mark.parametrize("wgs84, gcj02", REFERENCE_POINTS)
def test_gcj02_conversion_matches_published_reference_points(wgs84, gcj02):
    assert geo.to_gcj02(*wgs84) == pytest.approx(gcj02, abs=1e-9)
    assert geo.distance_m(geo.to_wgs84(*gcj02), wgs84) < 0.001  # back to within a millimetre
    assert geo.distance_m(wgs84, gcj02) > 300  # the offset the conversion exists for


@settings(max_examples=examples(300), deadline=None)
@given(lat=st.floats(18.0, 53.5), lon=st.floats(73.7, 135.0))
def test_a_station_converted_to_wgs84_lands_where_a_phone_there_would_read_it(lat, lon):
    # the inverse conversion is iterative: a phone standing at the answer must see the station
    assert geo.distance_m(geo.to_gcj02(*geo.to_wgs84(lat, lon)), (lat, lon)) < 0.001


def test_the_offset_in_qingdao_is_hundreds_of_metres_and_none_abroad():
    qingdao = (36.0671, 120.3826)  # May Fourth Square
    assert 400 < geo.distance_m(qingdao, geo.to_gcj02(*qingdao)) < 600
    assert geo.to_gcj02(48.8566, 2.3522) == (48.8566, 2.3522)  # Paris: no offset outside China


def test_nearest_first_with_true_distances_open_now_and_filters(client, finder_stations):
    lat, lon = standing_at(31.2304, 121.4737)  # at F-SQUARE
    answer = client.get(f"/api/v1/public/stations?lat={lat}&lon={lon}")
    assert answer.status_code == 200 and answer.headers["Access-Control-Allow-Origin"] == "*"
    items = answer.get_json()["items"]
    assert [item["code"] for item in items] == [
        "F-SQUARE", "F-NIGHT", "F-BANK", "F-CABIN", "F-LUNCH", "F-FAR"]
    assert items[0]["distance_m"] == 0
    night = items[1]
    assert night["open_now"] is False and night["hours"] == "22:00-06:00"
    assert set(night) >= {"code", "name", "district", "latitude", "longitude", "hours",
                          "amenities", "open_now", "distance_m"}
    # both stations' points are GCJ-02, so their true distance equals theirs in WGS-84
    expected = geo.distance_m(geo.to_wgs84(31.2304, 121.4737), geo.to_wgs84(31.2330, 121.4800))
    assert night["distance_m"] == round(expected)

    def codes(query):
        response = client.get(f"/api/v1/public/stations?lat={lat}&lon={lon}&{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return [item["code"] for item in response.get_json()["items"]]

    assert codes("open_now=1") == ["F-SQUARE", "F-BANK", "F-CABIN", "F-FAR"]
    assert codes("amenity=toilet") == ["F-BANK"]
    assert codes("kind=mobile") == ["F-CABIN"]
    assert codes("radius_m=2000") == ["F-SQUARE", "F-NIGHT", "F-BANK"]
    assert codes("limit=2&open_now=1&amenity=water") == ["F-SQUARE", "F-BANK"]


@pytest.mark.parametrize("query, message", [
    ("lat=91&lon=121", "lat 91 is outside -90 to 90"),
    ("lat=31&lon=-181", "lon -181 is outside -180 to 180"),
    ("lat=north&lon=121", "lat 'north' is not a number"),
    ("lat=nan&lon=121", "lat nan is outside -90 to 90"),
    ("lat=31", "lat and lon go together"),
    ("", "lat and lon are required"),
    ("lat=31&lon=121&amenity=swimming-pool", "unknown amenity 'swimming-pool'"),
    ("lat=31&lon=121&radius_m=50001", "radius_m must be a whole number from 1 to 50000"),
    ("lat=31&lon=121&limit=0", "limit must be a whole number from 1 to 50"),
    ("lat=31&lon=121&kind=tent", "kind must be one of fixed, mobile, partner"),
    ("lat=31&lon=121&open_now=yes", "open_now must be 1 or 0"),
])
def test_the_public_json_refuses_bad_questions_with_a_message(client, finder_stations, query,
                                                             message):
    answer = client.get(f"/api/v1/public/stations?{query}")
    assert answer.status_code == 400
    assert message in answer.get_json()["message"]


@pytest.mark.fuzz
@settings(max_examples=examples(60), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lat=st.floats(31.05, 31.45), lon=st.floats(121.2, 121.7),
       radius=st.integers(1, 50_000), limit=st.integers(1, 8), open_now=st.booleans())
def test_nearest_is_what_measuring_every_station_gives(app, db, finder_stations, lat, lon, radius,
                                                       limit, open_now):
    local_now = NOON.astimezone(app.config["TIMEZONE"])
    asked = finder.Question(lat, lon, radius_m=radius, limit=limit, open_now=open_now)
    every = []
    for row in db.query("SELECT * FROM stations WHERE latitude IS NOT NULL"):
        item = finder.listing(row, local_now, geo.distance_m(
            (lat, lon), geo.to_wgs84(row["latitude"], row["longitude"])))
        if item["distance_m"] <= radius and (item["open_now"] or not open_now):
            every.append(item)
    every.sort(key=lambda item: (item["distance_m"], item["code"]))
    assert finder.nearest(db, asked, local_now) == every[:limit]


@pytest.mark.fuzz
# Both points stay inside the box where GCJ-02 applies (longitude 73.66 to 135.05, latitude up to
# 53.55): across its edge the shift stops at once, and no two stations are on either side of it.
@settings(max_examples=examples(1000), deadline=None)
@given(lat=st.floats(18.0, 53.0), lon=st.floats(74.2, 134.5), bearing=st.floats(0, 6.283),
       degrees=st.floats(0, 0.5))
def test_the_finders_box_margin_covers_the_gcj02_drift_anywhere_in_china(lat, lon, bearing, degrees):
    import math
    other = (lat + degrees * math.sin(bearing), lon + degrees * math.cos(bearing))
    true = geo.distance_m((lat, lon), other)
    in_gcj02 = geo.distance_m(geo.to_gcj02(lat, lon), geo.to_gcj02(*other))
    assert true <= in_gcj02 * finder.MARGIN_SHARE + finder.MARGIN_M
    assert in_gcj02 <= true * finder.MARGIN_SHARE + finder.MARGIN_M


def test_closed_and_delisted_stations_leave_the_finder(client, runner, db, finder_stations):
    lat, lon = standing_at(31.2304, 121.4737)

    def codes():
        return [item["code"] for item in
                client.get(f"/api/v1/public/stations?lat={lat}&lon={lon}").get_json()["items"]]

    runner.invoke(args=["stations", "close", "F-SQUARE"])
    assert "F-SQUARE" not in codes()
    runner.invoke(args=["stations", "reopen", "F-SQUARE"])
    assert codes()[0] == "F-SQUARE"
    db.execute("UPDATE stations SET status = 'delisted' WHERE code = 'F-NIGHT'")
    db.conn.commit()
    assert "F-NIGHT" not in codes()


def feed(client, **headers):
    # buffered: a streamed body read to its end, as a server does, closes its request
    return client.get("/api/v1/public/stations.geojson", headers=headers, buffered=True)


def test_the_geojson_feed_is_wgs84_and_an_unchanged_feed_is_a_304(client, runner, write_file,
                                                                   clock, finder_stations):
    first = feed(client)
    assert first.status_code == 200 and first.mimetype == "application/geo+json"
    collection = json.loads(first.get_data(as_text=True))
    assert collection["type"] == "FeatureCollection"
    by_code = {feature["id"]: feature for feature in collection["features"]}
    assert set(by_code) == {"F-SQUARE", "F-BANK", "F-NIGHT", "F-CABIN", "F-LUNCH", "F-FAR"}
    square = by_code["F-SQUARE"]
    lon, lat = square["geometry"]["coordinates"]  # RFC 7946: longitude first, WGS-84
    assert geo.distance_m((lat, lon), geo.to_wgs84(31.2304, 121.4737)) < 0.05
    assert geo.distance_m((lat, lon), (31.2304, 121.4737)) > 300
    assert square["properties"]["latitude"] == 31.2304  # the GCJ-02 the CSV gave
    assert square["properties"]["open_now"] is True and "distance_m" not in square["properties"]

    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    polled = feed(client, **{"If-None-Match": etag})
    assert polled.status_code == 304 and polled.get_data() == b"" and polled.headers["ETag"] == etag
    assert feed(client, **{"If-None-Match": f"W/{etag}"}).status_code == 304  # a gzipping proxy's
    assert feed(client, **{"If-Modified-Since": modified}).status_code == 304
    # the same file imported again changes nothing the feed shows
    runner.invoke(args=["stations", "import", write_file("again.csv", FINDER_CSV)])
    assert feed(client, **{"If-None-Match": etag}).status_code == 304

    # a station that moves changes the feed
    assert runner.invoke(args=["stations", "move", "F-CABIN", "--lat", "31.2410",
                               "--lon", "121.5010"]).exit_code == 0
    moved = feed(client, **{"If-None-Match": etag})
    assert moved.status_code == 200 and moved.headers["ETag"] != etag
    # so does the clock passing a station's opening time: F-LUNCH opens again at 13:30
    etag = moved.headers["ETag"]
    clock.advance(hours=1, minutes=29)
    assert feed(client, **{"If-None-Match": etag}).status_code == 304
    clock.advance(minutes=1)
    reopened = feed(client, **{"If-None-Match": etag})
    assert reopened.status_code == 200
    lunch = next(f for f in json.loads(reopened.get_data(as_text=True))["features"]
                 if f["id"] == "F-LUNCH")
    assert lunch["properties"]["open_now"] is True


def test_moving_a_station_keeps_its_poster_valid_and_its_history(client, runner, finder_stations,
                                                                  station_url):
    printed = urlsplit(station_url("F-CABIN")).path
    result = runner.invoke(args=["stations", "move", "F-CABIN", "--lat", "31.2410", "--lon", "121.5010"])
    assert result.exit_code == 0
    assert "F-CABIN: moved, 31.2397,121.4998 → 31.241,121.501" in result.output
    assert client.get(printed).status_code == 200  # the poster on the cabin still works
    station = client.get("/api/v1/stations/F-CABIN").get_json()
    assert (station["latitude"], station["longitude"]) == (31.241, 121.501)

    refused = runner.invoke(args=["stations", "move", "F-CABIN", "--lat", "95", "--lon", "121.5"])
    assert refused.exit_code != 0 and "latitude 95 is outside -90 to 90" in refused.output
    unknown = runner.invoke(args=["stations", "move", "NOPE", "--lat", "31", "--lon", "121"])
    assert unknown.exit_code != 0 and "no station with code 'NOPE'" in unknown.output


def test_a_move_is_in_the_station_history(client, runner, finder_stations, monkeypatch):
    runner.invoke(args=["stations", "move", "F-CABIN", "--lat", "31.2410", "--lon", "121.5010"])
    monkeypatch.setenv("FEEDBACK_PASSWORD", "inspector password")
    runner.invoke(args=["users", "create", "--username", "li", "--role", "inspector"])
    token = runner.invoke(args=["users", "token", "--username", "li"]).output.strip()
    history = client.get("/api/v1/stations/F-CABIN/history",
                         headers={"Authorization": f"Bearer {token}"}).get_json()["items"]
    assert history[-1]["action"] == "moved"
    assert history[-1]["reason"] == "31.2397,121.4998 → 31.241,121.501"


def test_the_thank_you_page_lists_the_three_nearest_other_open_stations(client, finder_stations,
                                                                        station_url):
    thanks = client.get(urlsplit(station_url("F-SQUARE")).path + "/thanks").get_data(as_text=True)
    nearby = thanks[thanks.index("附近其他正在开放的驿站"):]
    # F-NIGHT is nearer but closed at noon; F-SQUARE is where the worker is
    assert [name for name in ("南京西路银行驿站", "滨江工地移动驿站", "嘉定驿站", "夜班驿站", "人民广场驿站")
            if name in nearby] == ["南京西路银行驿站", "滨江工地移动驿站", "嘉定驿站"]
    assert nearby.index("南京西路银行驿站") < nearby.index("滨江工地移动驿站") < nearby.index("嘉定驿站")
    assert "https://uri.amap.com/navigation?to=121.4549,31.2292," in nearby


@pytest.mark.parametrize("query, lang, message", [
    ("lat=95&lon=121", "zh", "位置不正确"),
    ("lat=31&lon=121&amenity=pool", "en", "There is no such amenity to choose."),
    ("lat=31&lon=121&radius_m=90000", "zh", "查找范围最大为50公里"),
])
def test_the_near_page_refuses_bad_input_in_the_workers_language(client, finder_stations, query,
                                                                  lang, message):
    page = client.get(f"/near?{query}&lang={lang}")
    assert page.status_code == 400 and message in page.get_data(as_text=True)


def test_the_near_page_stays_under_16_kb(client, runner, write_file):
    rows = "".join(f"N-{n:03},驿站{n:03}号 很长的名字用来量页面,城区,长长的地址 {n} 号,"
                   f"31.{2000 + n},121.4737,city,fixed,water;microwave;sofa;fridge;first-aid,24h\n"
                   for n in range(60))
    header = "code,name,district,address,latitude,longitude,tier,kind,amenities,hours\n"
    runner.invoke(args=["stations", "import", write_file("many.csv", header + rows)])
    lat, lon = standing_at(31.2000, 121.4737)
    for query in (f"lat={lat}&lon={lon}&limit=50", "district=城区", ""):
        page = client.get(f"/near?{query}")
        assert page.status_code == 200 and len(page.data) < 16 * 1024, (query, len(page.data))
    assert "下一页" in client.get("/near?district=城区").get_data(as_text=True)


def test_a_phone_without_javascript_finds_stations_by_district(browser, live_server,
                                                               finder_stations):
    context = browser.new_context(java_script_enabled=False, **PHONE)
    page = context.new_page()
    page.goto(live_server + "/near")
    assert not page.locator("#locate").is_visible()  # the location button needs the script
    page.select_option("#district", "黄浦区")
    with page.expect_navigation():
        page.locator("button[type=submit]").tap()
    names = page.locator("ol.near li strong").all_inner_texts()
    # by name; "open now" was ticked, so 夜班驿站 (closed at noon) is not there
    assert names == ["人民广场驿站", "没有坐标的驿站"]
    navigate = page.locator("ol.near a.go").first
    assert navigate.get_attribute("href").startswith("https://uri.amap.com/navigation?to=121.4737,31.2304,")
    assert page.locator("ol.near a.alt").first.get_attribute("href").startswith("geo:31.23")
    box = navigate.bounding_box()
    assert box["height"] >= 44 and page.evaluate("document.documentElement.scrollWidth") <= 360
    context.close()


def test_a_phone_that_shares_its_location_gets_the_nearest_open_station_first(
        browser, live_server, finder_stations):
    lat, lon = standing_at(31.2330, 121.4800, metres_north=50)  # just north of F-NIGHT
    context = browser.new_context(geolocation={"latitude": lat, "longitude": lon},
                                  permissions=["geolocation"], bypass_csp=True, **PHONE)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_server + "/near")
    with page.expect_navigation():
        page.locator("#locate").tap()
    assert "lat=31.2" in page.url
    first = page.locator("ol.near li").first
    assert "人民广场驿站" in first.inner_text() and "正在开放" in first.inner_text()
    assert " 米" in first.locator(".d").inner_text() or "公里" in first.locator(".d").inner_text()
    assert "夜班驿站" not in page.locator("ol.near").inner_text()  # closed now, and the box was ticked
    assert errors == []
    page.add_script_tag(path=str(AXE))  # the CSP is bypassed only to inject axe-core
    violations = page.evaluate("""async () => (await axe.run(document, {runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa']}})).violations.map(v => v.id)""")
    assert violations == []
    context.close()


def test_demo_stations_have_places_and_hours(runner, client):
    runner.invoke(args=["demo"])
    lat, lon = standing_at(31.2304, 121.4737)
    items = client.get(f"/api/v1/public/stations?lat={lat}&lon={lon}").get_json()["items"]
    assert len(items) == 5 and all(item["hours"] for item in items)


def test_the_finder_index_is_built_for_stations_that_existed_before_it(tmp_path, clock):
    from app import create_app
    from feedback.storage import schema
    from feedback.storage.db import Connections

    path = str(tmp_path / "old.db")
    connections = Connections(path)
    old = connections.get()
    schema.migrate(old, upto=10)
    stations.upsert(old, [stations.validate({"code": "OLD-1", "name": "老驿站", "district": "城区",
                                             "latitude": "31.2304", "longitude": "121.4737",
                                             "tier": "city", "kind": "fixed", "hours": "24h"})[0]],
                    NOON.date(), NOON)
    old.conn.commit()
    connections.close()
    app = create_app({"DATABASE": path, "CLOCK": FixedClock(NOON + timedelta(0)), "TESTING": True})
    lat, lon = standing_at(31.2304, 121.4737)
    items = app.test_client().get(f"/api/v1/public/stations?lat={lat}&lon={lon}").get_json()["items"]
    assert [item["code"] for item in items] == ["OLD-1"]
    app.extensions["feedback.db"].close()


def test_the_near_pages_links_carry_only_its_own_parameters(client, finder_stations):
    page = client.get("/near?district=黄浦区&open_now=0&_scheme=javascript&_external=1"
                      "&x=%0Aalert(1)").get_data(as_text=True)
    assert "javascript" not in page and "alert" not in page
    assert 'href="/near?district=' in page  # the language switch keeps the search


def test_the_geojson_feed_is_built_once_for_every_process_until_it_changes(
        app, client, runner, db_path, finder_stations, monkeypatch):
    built = []
    original = finder.feature_collection
    monkeypatch.setattr(finder, "feature_collection",
                        lambda *args: built.append(1) or original(*args))
    first = feed(client).get_data()
    other = app.test_client()  # another request, as another worker would
    assert [feed(other).get_data() for _ in range(3)] == [first] * 3
    assert len(built) == 1
    runner.invoke(args=["stations", "move", "F-CABIN", "--lat", "31.2410", "--lon", "121.5010"])
    assert feed(client).get_data() != first and len(built) == 2
    import os
    assert len([name for name in os.listdir(db_path + ".feed") if name.endswith(".geojson")]) == 1


def test_the_districts_are_listed_in_pinyin_order(client, runner, write_file):
    names = ["徐汇区", "黄浦区", "静安区", "浦东新区", "长宁区", "嘉定区"]  # code points: 嘉 徐 浦 …
    rows = "".join(f"P-{n},驿站{n},{name},,31.2,121.4,city,fixed,,\n" for n, name in enumerate(names))
    runner.invoke(args=["stations", "import", write_file("d.csv", FINDER_CSV.splitlines()[0] + "\n" + rows)])
    page = client.get("/near").get_data(as_text=True)
    listed = re.findall(r"<option>([^<]+)</option>", page)
    # Changning, Huangpu, Jiading, Jing'an, Pudong, Xuhui
    assert listed == ["长宁区", "黄浦区", "嘉定区", "静安区", "浦东新区", "徐汇区"]


def test_with_thousands_of_districts_a_worker_types_part_of_a_name(client, runner, write_file):
    rows = "".join(f"M-{n:04d},驿站{n},第{n}区,,31.2,121.4,city,fixed,,\n" for n in range(2801))
    runner.invoke(args=["stations", "import", write_file("m.csv", FINDER_CSV.splitlines()[0] + "\n" + rows)])
    first = client.get("/near")
    assert len(first.data) < 16 * 1024 and "<select id=\"district\"" not in first.get_data(as_text=True)
    several = client.get("/near?district=第12").get_data(as_text=True)  # 第12区, 第120区, …
    assert "请选择您说的区" in several and "第12区" in several and "驿站12<" not in several
    assert len(re.findall(r'<li><a href="/near\?district=', several)) == finder.DISTRICTS_FOUND
    one = client.get("/near?district=第2800").get_data(as_text=True)  # names one district
    assert "驿站2800" in one
    none = client.get("/near?district=火星").get_data(as_text=True)
    assert "没有名称含“火星”的区" in none


def test_a_workers_error_page_points_to_the_nearest_open_stations(client, runner, finder_stations,
                                                                 station_url):
    """A closed station, or a replaced poster, is no dead end: the nearest other stations open
    now, and the finder."""
    path = urlsplit(station_url("F-SQUARE")).path
    runner.invoke(args=["stations", "close", "F-SQUARE"])
    closed = client.get(path)
    page = closed.get_data(as_text=True)
    assert closed.status_code == 410 and "附近其他正在开放的驿站" in page
    assert "南京西路银行驿站" in page and 'href="/near?lang=zh"' in page
    lost = client.get("/s/NOPE/1-AAAAAAAAAAAAAAAA").get_data(as_text=True)
    assert 'href="/near?lang=zh"' in lost and "附近其他" not in lost
