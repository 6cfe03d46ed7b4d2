"""The rating form, the thank-you page and the finder on a poor mobile link: 400 ms latency,
50 KB/s each way.

Goal: each is usable (the faces; the details form; the finder's first navigate link) in under a
second. The baseline is a bare
response from the same server over the same emulated link, so the ratio shows what each page
itself costs on top of the network.
"""
from bench.harness import median_seconds, served_app

LINK = {"offline": False, "latency": 400, "downloadThroughput": 50 * 1024,
        "uploadThroughput": 50 * 1024}
GOAL_SECONDS = 1.0
REPEAT = 5
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main() -> None:
    from playwright.sync_api import sync_playwright

    from feedback.places import demo
    from feedback.storage.db import get_db

    with served_app() as (app, base), sync_playwright() as playwright:
        with app.app_context():
            from feedback import clock
            from feedback.places.stations import get
            from qr.links import station_url

            demo.seed_if_empty(get_db(), clock.today(), clock.now())
            form_url = station_url(get(get_db(), "DEMO-001"))
        # a thank-you page with its details form: the Location a one-tap rating redirects to
        rated = app.test_client().post(form_url.removeprefix(base),
                                       data={"score": "2", "key": "bench-key-0000000000"})
        thanks_url = base + rated.headers["Location"]
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)

        def load(url: str, ready: str | None):
            # a new context each time: nothing cached, a new connection, as a first scan would be
            context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True,
                                          has_touch=True)
            page = context.new_page()
            context.new_cdp_session(page).send("Network.emulateNetworkConditions", LINK)
            page.goto(url, wait_until="commit")
            if ready:
                page.locator(ready).wait_for(state="visible")
            else:
                page.wait_for_load_state("domcontentloaded")
            context.close()

        baseline = median_seconds(lambda: load(base + "/healthz", None), REPEAT)
        form = median_seconds(lambda: load(form_url, "button[name=score][value='1']"), REPEAT)
        thanks = median_seconds(lambda: load(thanks_url, "form button[type=submit]"), REPEAT)
        near = median_seconds(lambda: load(base + "/near?district=黄浦区", "ol.near a.go >> nth=0"), REPEAT)
        browser.close()

    for name, seconds in (("rating form", form), ("thank-you page with details", thanks),
                          ("finder, a district's stations", near)):
        verdict = "meets" if seconds < GOAL_SECONDS else "MISSES"
        print(f"slow_link: bare response {baseline:.2f} s, {name} usable {seconds:.2f} s, "
              f"ratio {seconds / baseline:.2f}; {verdict} the {GOAL_SECONDS} s goal "
              f"(400 ms latency, 50 KB/s, median of {REPEAT})")
