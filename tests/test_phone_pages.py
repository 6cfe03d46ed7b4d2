"""Every page of the route table on a 360 px phone: no sideways scroll, and axe-core (from npm,
injected by Playwright) finds no WCAG A or AA violation on the staff pages."""
from urllib.parse import urlsplit

import pytest

from support import AXE, PASSWORD, PUBLIC_ENDPOINTS, get_routes, signed_in_phone

NOT_PAGES = {"static", "feedback.favicon", "api.station", "api.openapi", "health.healthz",
             "qr.qr_code", "qr.poster", "staff.month_report_csv", "finder.public_stations",
             "finder.public_geojson", "metrics.metrics"}


@pytest.fixture
def staff_phone(app, browser, live_server, runner, make_user, write_file, station_url):
    """A 360 px phone signed in as an admin; the pages' CSP is bypassed only so that the test
    can inject axe-core."""
    assert runner.invoke(args=["downgrade", "scan"]).exit_code == 0  # a flag to review
    history = "station_code,rated_at,score,comment\n" + "".join(
        f"ST-00{1 + n % 3},2026-11-27T{8 + n:02d}:00:00,{1 + n % 5},{'厕所门坏了没人修，热水也没有。' * 4}\n"
        for n in range(10))
    assert runner.invoke(args=["ratings", "import", write_file("h.csv", history)]).exit_code == 0
    path = urlsplit(station_url("ST-001")).path
    app.test_client().post(path, data={"score": "1", "key": "phone-page-key-0001"})  # a case
    phone = app.test_client()  # one phone tapping ten times at once: signals with their actions
    phone.get(path)
    for n in range(10):
        phone.post(path, data={"score": "5", "key": f"phone-page-burst-{n:04d}"})
    scanned = runner.invoke(args=["signals", "scan", "--date", "2026-11-28"])
    assert scanned.output.startswith("burst\tST-001"), scanned.output
    make_user("wang", "admin")
    page = signed_in_phone(browser, live_server, "wang", PASSWORD, bypass_csp=True)
    yield page
    page.context.close()


def test_every_page_fits_360_px_and_staff_pages_pass_axe(app, staff_phone, live_server,
                                                          station_url):
    if not AXE.exists():
        pytest.fail("node_modules/axe-core is missing: `make test` installs it with npm ci")
    checked = []
    for endpoint, url in get_routes(app, station_url):
        if endpoint in NOT_PAGES or endpoint.startswith("api."):
            continue
        staff_phone.goto(live_server + url)
        width, viewport = staff_phone.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]")
        assert width <= viewport, f"{url} is {width} px wide on a {viewport} px phone"
        if endpoint not in PUBLIC_ENDPOINTS:
            staff_phone.add_script_tag(path=str(AXE))
            violations = staff_phone.evaluate(
                """async () => (await axe.run(document, {runOnly: {type: 'tag',
                    values: ['wcag2a', 'wcag2aa']}})).violations.map(
                    v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))""")
            assert violations == [], f"{url}: {violations}"
        checked.append(url)
    assert len(checked) >= 12
