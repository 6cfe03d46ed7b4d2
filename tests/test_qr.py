"""QR codes and posters, read back by a real decoder (zxing-cpp) from what would be printed."""
import io
import re
from urllib.parse import urlsplit

import noto_cjk_sans_otc
import pypdfium2
import pytest
import zxingcpp
from PIL import Image, ImageChops, ImageDraw, ImageFont, ImageStat

from qr import codes, posters

MM_PER_PX = 25.4 / posters.DPI


def decode(image: Image.Image):
    found = zxingcpp.read_barcodes(image)
    assert len(found) == 1, f"expected one QR code, found {len(found)}"
    return found[0]


def make_posters(runner, out, *args):
    result = runner.invoke(args=["qr", "posters", "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    return result


def test_qr_png_and_svg_decode_to_the_station_url(stations_loaded, station_url, app, browser):
    url = station_url("ST-002")
    assert decode(Image.open(io.BytesIO(codes.png(url)))).text == url
    page = browser.new_page(device_scale_factor=2)
    page.set_content(f"<body style='margin:0;background:#fff'>{codes.svg(url, module_mm=1.5)}</body>")
    shot = Image.open(io.BytesIO(page.screenshot(full_page=True)))
    page.close()
    assert decode(shot).text == url


def test_qr_uses_level_q_and_a_four_module_quiet_zone(stations_loaded, station_url):
    url = station_url("ST-001")
    modules = codes.matrix(url)
    border = modules[:4] + modules[-4:] + [row[:4] + row[-4:] for row in modules]
    assert not any(any(row) for row in border)
    assert any(modules[4]) and any(row[4] for row in modules)  # dark modules start right after
    assert decode(Image.open(io.BytesIO(codes.png(url)))).ec_level == "Q"


def test_png_posters_decode_to_each_station_and_open_its_form(runner, tmp_path, stations_loaded,
                                                               station_url, client):
    make_posters(runner, tmp_path / "new" / "folder")
    files = sorted(p.name for p in (tmp_path / "new" / "folder").iterdir())
    assert files == ["ST-001.png", "ST-002.png", "ST-003.png"]
    for code in ("ST-001", "ST-002", "ST-003"):
        image = Image.open(tmp_path / "new" / "folder" / f"{code}.png")
        assert image.size == (1748, 2480)  # A5 at 300 dpi
        assert round(image.info["dpi"][0]) == 300
        found = decode(image)
        assert found.text == station_url(code)
        width_mm = (found.position.top_right.x - found.position.top_left.x) * MM_PER_PX
        assert width_mm >= 60
        form = client.get(urlsplit(found.text).path)
        assert form.status_code == 200
        assert posters_station_name(code) in form.get_data(as_text=True)


def posters_station_name(code):
    return {"ST-001": "人民广场驿站", "ST-002": "滨江工地移动驿站", "ST-003": "银行网点驿站"}[code]


def test_pdf_has_one_a5_page_per_station_each_decoding_to_its_url(runner, tmp_path, stations_loaded,
                                                                  station_url):
    make_posters(runner, tmp_path, "--format", "pdf", "--station", "ST-003",
                 "--station", "ST-001")
    document = pypdfium2.PdfDocument(tmp_path / "posters.pdf")
    assert len(document) == 2
    for page, code in zip(document, ("ST-003", "ST-001")):
        width_pt, height_pt = page.get_size()
        assert (round(width_pt / 72 * 25.4), round(height_pt / 72 * 25.4)) == (148, 210)
        assert decode(page.render(scale=150 / 72).to_pil()).text == station_url(code)


def test_svg_poster_decodes_in_a_browser_with_no_font_installed(runner, tmp_path, stations_loaded,
                                                                station_url, browser):
    make_posters(runner, tmp_path, "--format", "svg", "--station", "ST-002")
    svg = (tmp_path / "ST-002.svg").read_text()
    assert "<text" not in svg  # the words are outlines: a print shop needs no CJK font
    assert 'width="148mm" height="210mm"' in svg
    page = browser.new_page(viewport={"width": 560, "height": 794}, device_scale_factor=2)
    page.set_content(f"<body style='margin:0'>{svg}</body>")
    shot = Image.open(io.BytesIO(page.screenshot()))
    page.close()
    assert decode(shot).text == station_url("ST-002")


def test_unknown_station_is_a_clear_error_and_makes_nothing(runner, tmp_path, stations_loaded):
    result = runner.invoke(args=["qr", "posters", "--out", str(tmp_path / "out"),
                                 "--station", "ST-001", "--station", "NOPE"])
    assert result.exit_code != 0
    assert "no station with code 'NOPE'" in result.output
    assert not (tmp_path / "out").exists()


def test_without_station_only_listed_stations_get_posters(runner, tmp_path, stations_loaded):
    runner.invoke(args=["stations", "close", "ST-002"])
    make_posters(runner, tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["ST-001.png", "ST-003.png"]


def test_poster_headline_is_drawn_in_cjk_not_boxes(stations_loaded, station_url):
    url = station_url("ST-001")
    poster = posters.draw_png(posters.layout({"name": "人民广场驿站", "district": "黄浦区",
                                              "code": "ST-001", "tier": "national"}, url))
    band = poster.crop((0, 0, posters.WIDTH, 560)).convert("L")

    def headline_with(font):
        # drawn here straight from the font, not through the poster code
        image = Image.new("RGB", (posters.WIDTH, 560), posters.RED)
        draw = ImageDraw.Draw(image)
        for line, baseline in zip(posters.HEADLINE, (240, 450)):
            draw.text((posters.WIDTH / 2, baseline), line, font=font, fill="#ffffff", anchor="ms",
                      stroke_width=3, stroke_fill="#ffffff")
        return image.convert("L")

    cjk = headline_with(ImageFont.truetype(str(noto_cjk_sans_otc.FONT_PATH), 150, index=2))
    tofu = headline_with(ImageFont.load_default(150))  # a font with no Chinese: boxes

    def difference(a, b):
        small = (posters.WIDTH // 8, 70)  # forgive sub-pixel placement
        return ImageStat.Stat(ImageChops.difference(a.resize(small), b.resize(small))).mean[0]

    assert difference(band, cjk) < 4
    assert difference(band, tofu) > 4 * difference(band, cjk)
    assert difference(cjk, tofu) > 10


@pytest.fixture
def post_rating(client):
    def post(path):
        return client.post(path, data={"score": "5", "key": "k" * 22})
    return post


def test_forged_altered_and_cross_station_links_are_refused(client, stations_loaded, station_url,
                                                            db, post_rating):
    path = urlsplit(station_url("ST-001")).path
    signature = path.rsplit("-", 1)[1]
    other = urlsplit(station_url("ST-002")).path
    tampered = [
        path[:-1] + ("A" if path[-1] != "A" else "B"),           # one character changed
        path.replace("ST-001", "ST-002"),                        # moved to another station
        other.replace("ST-002", "ST-001"),                       # another station's signature
        re.sub(r"/1-", "/2-", path),                             # a version never issued
        "/s/ST-001/1-",                                          # no signature
        "/s/ST-001/" + signature,                                # no version
    ]
    for bad in tampered:
        for response in (client.get(bad), post_rating(bad)):
            assert response.status_code == 404, bad
            assert "找不到这个驿站" in response.get_data(as_text=True)
    assert db.execute("SELECT count(*) FROM ratings").fetchone()[0] == 0


def test_reissued_link_retires_old_posters(runner, client, stations_loaded, station_url, db,
                                           post_rating):
    old = urlsplit(station_url("ST-001")).path
    result = runner.invoke(args=["stations", "reissue", "ST-001"])
    assert result.exit_code == 0
    new_url = result.output.strip()
    assert new_url == station_url("ST-001") and urlsplit(new_url).path != old
    for response in (client.get(old), post_rating(old)):
        assert response.status_code == 404
        assert "此二维码已更换" in response.get_data(as_text=True)
    assert db.execute("SELECT count(*) FROM ratings").fetchone()[0] == 0
    english = client.get(old, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "This QR code has been replaced" in english
    assert client.get(urlsplit(new_url).path).status_code == 200
    assert post_rating(urlsplit(new_url).path).status_code == 303


def test_links_signed_with_another_key_are_refused(stations_loaded, client):
    from qr import links

    forged = links.path("someone-elses-key", "ST-001", 1)
    assert client.get(forged).status_code == 404
