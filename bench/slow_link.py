"""The rating form on a poor mobile link: 400 ms latency, 50 KB/s each way.

Goal: the form is usable (the faces and the send button are shown) in under 2.5 s. The baseline
is a bare response from the same server over the same emulated link, so the ratio shows what the
page itself costs on top of the network.
"""
from bench.harness import median_seconds, served_app

LINK = {"offline": False, "latency": 400, "downloadThroughput": 50 * 1024,
        "uploadThroughput": 50 * 1024}
GOAL_SECONDS = 2.5
REPEAT = 5
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main() -> None:
    from playwright.sync_api import sync_playwright

    from feedback import demo
    from feedback.db import get_db

    with served_app() as (app, base), sync_playwright() as playwright:
        with app.app_context():
            from feedback import clock
            from qr.links import station_url
            from feedback.stations import get

            demo.seed_if_empty(get_db(), clock.today(), clock.now())
            form_url = station_url(get(get_db(), "DEMO-001"))
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
        form = median_seconds(lambda: load(form_url, "button[type=submit]"), REPEAT)
        browser.close()

    verdict = "meets" if form < GOAL_SECONDS else "MISSES"
    print(f"slow_link: bare response {baseline:.2f} s, rating form usable {form:.2f} s, "
          f"ratio {form / baseline:.2f}; {verdict} the {GOAL_SECONDS} s goal "
          f"(400 ms latency, 50 KB/s, median of {REPEAT})")
