"""Every page of the route table on a 360 px phone: no sideways scroll, no text on top of other
text, cut off or broken a character a line, and axe-core (from npm, injected by Playwright)
finds no WCAG A or AA violation on the staff pages."""
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


# Text that a reader cannot read: boxes of two elements' text on top of each other, text cut
# off at the edge of a chart, a short word broken onto a line a character.
UNREADABLE_TEXT = r"""() => {
  const boxes = [], found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, text = node.textContent.trim();
    const element = node.parentElement;
    if (!text || !element || element.closest('[hidden], script, style, title')) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const rects = [...range.getClientRects()].filter(r => r.width > 1 && r.height > 1);
    if (!/\s/.test(text) && text.length <= 12 && rects.length >= 3)
      found.push('broken a character a line: ' + text);
    const svg = element.closest('svg');
    for (const r of rects) {
      if (svg) {
        const frame = svg.getBoundingClientRect();
        if (r.left < frame.left - 1 || r.right > frame.right + 1 || r.top < frame.top - 1 ||
            r.bottom > frame.bottom + 1) found.push('cut off by its chart: ' + text.slice(0, 30));
      }
      boxes.push({element, r, text: text.slice(0, 30)});
    }
  }
  const overlap = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 2 &&
                            Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 2;
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i], b = boxes[j];
    if (a.element !== b.element && overlap(a.r, b.r))
      found.push('on top of each other: ' + a.text + ' | ' + b.text);
  }
  // a badge or a warning whose background covers text that is not its own
  for (const element of document.body.querySelectorAll('*')) {
    const style = getComputedStyle(element);
    if (style.backgroundColor === 'rgba(0, 0, 0, 0)' || element.closest('[hidden]')) continue;
    for (const r of element.getClientRects()) for (const box of boxes)
      if (!element.contains(box.element) && overlap(r, box.r))
        found.push('covered by a background: ' + box.text);
  }
  return [...new Set(found)].slice(0, 8);
}"""


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
        assert staff_phone.evaluate(UNREADABLE_TEXT) == [], url
        if endpoint not in PUBLIC_ENDPOINTS:
            staff_phone.add_script_tag(path=str(AXE))
            violations = staff_phone.evaluate(
                """async () => (await axe.run(document, {runOnly: {type: 'tag',
                    values: ['wcag2a', 'wcag2aa']}})).violations.map(
                    v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))""")
            assert violations == [], f"{url}: {violations}"
        checked.append(url)
    assert len(checked) >= 12
