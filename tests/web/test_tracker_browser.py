"""The tracker in a real browser: Debian's headless Chromium (Playwright, ``executable_path``; no browser
download) on a shop's pages served from another origin than trueroi's collector (a real uvicorn).

A visitor who gives consent lands from a Google Ads click (UTM tags, gclid), moves to a product page and
buys: the warehouse then holds one paid-search, brand session of two page views under the id in the
first-party cookie, and the order under that id. A visitor who refuses lands from a newsletter and moves
on: no cookie, no stored item, no id in any event; the landing counts as one session of its own and the
internal page view as a page view only.
"""

from __future__ import annotations

import functools
import http.server
import threading
import time
from pathlib import Path

import pytest

from trueroi.tracking import WalLoader

from ..tracking.conftest import BROWSER_UA, free_port, make_home, start_collector, stop, wait_http

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"
PAGE = """<!doctype html><html><head><title>{title}</title>
<script async src="{collector}/t.js" data-key="{key}" data-wait-consent="1"></script>
<script>window.trueroi=window.trueroi||function(){{(trueroi.q=trueroi.q||[]).push(arguments)}};</script>
</head><body><h1>{title}</h1><a id="next" href="/product.html">product</a>
<button id="buy"
 onclick="trueroi('track','purchase',{{order_id:'B1',revenue:42.5,currency:'EUR'}})">buy</button>
</body></html>"""


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """trueroi's collector (uvicorn) and a shop's static pages on another port, with Chromium."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: run 'make sysdeps' (installs Debian's chromium)")
    root = tmp_path_factory.mktemp("tracker")
    made = make_home(root, load_interval_seconds=0.2)
    port = free_port()
    collector_url = f"http://127.0.0.1:{port}"
    pages = root / "pages"
    pages.mkdir()
    for name, title in (("index.html", "Acme shop"), ("product.html", "Product")):
        text = PAGE.format(title=title, collector=collector_url, key=made.keys["shop"].write_key)
        (pages / name).write_text(text)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(pages))
    handler.log_message = lambda *a: None
    pages_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=pages_server.serve_forever, daemon=True).start()
    collector = start_collector(made.home.path, port)
    from playwright.sync_api import sync_playwright

    try:
        wait_http(collector_url, collector)
        with sync_playwright() as p:
            # The whole browser gets a desktop Chrome's user agent: "HeadlessChrome" is on the bot list, and a
            # context's override does not reach beacons sent while a page unloads.
            args = ["--no-sandbox", f"--user-agent={BROWSER_UA}"]
            browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
            try:
                yield made, f"http://127.0.0.1:{pages_server.server_address[1]}", browser
            finally:
                browser.close()
    finally:
        stop(collector)
        pages_server.shutdown()
        pages_server.server_close()
        made.home.close()


def _load_until(made, check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        WalLoader(made.home).run_once()
        with made.workspace() as ws:
            found = check(ws)
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def _events(ws, **equal):
    if "tracking_events" not in ws.con.list_tables():
        return []
    events = ws.con.table("tracking_events").execute()
    for column, value in equal.items():
        events = events[events[column] == value]
    return events.to_dict(orient="records")


def test_consent_given_a_campaign_visit_and_a_purchase(shop) -> None:
    made, pages, browser = shop
    context = browser.new_context(user_agent=BROWSER_UA)
    page = context.new_page()
    page.goto(f"{pages}/?utm_source=google&utm_medium=cpc&utm_campaign=Acme_Brand&gclid=G1")
    page.wait_for_function("window.__trueroiLoaded === true")
    page.evaluate("trueroi('consent', true)")
    page.click("#next")
    page.wait_for_load_state()
    page.wait_for_function("window.__trueroiLoaded === true")
    page.click("#buy")
    cookie = next(c for c in context.cookies() if c["name"] == "_trueroi_id")
    visitor = cookie["value"]
    assert cookie["domain"] == "127.0.0.1" and cookie["sameSite"] == "Lax"  # first-party: the shop's host
    orders = _load_until(made, lambda ws: ws.table("orders").execute().to_dict(orient="records"))
    context.close()
    (order,) = orders
    assert (order["order_id"], order["revenue"], order["user_id"]) == ("B1", 42.5, visitor)
    with made.workspace() as ws:
        touches = ws.table("touchpoints").execute()
        views = _events(ws, type="page_view", user_id=visitor)
    mine = touches[touches["user_id"] == visitor]
    assert len(mine) == 1 and len(views) == 2
    (touch,) = mine.to_dict(orient="records")
    assert touch["landing_page"].endswith(
        "?utm_source=google&utm_medium=cpc&utm_campaign=Acme_Brand&gclid=G1"
    )
    assert (touch["source"], touch["medium"], touch["campaign"], touch["click_id"]) == (
        "google",
        "cpc",
        "acme_brand",
        "G1",
    )
    assert (touch["channel"], touch["is_brand"], touch["pageviews"], touch["engaged"]) == (
        "Paid Search",
        True,
        2,
        True,
    )
    assert views[0]["ip"] == "127.0.0.0"  # truncated before storage


def test_consent_refused_no_cookie_and_no_id(shop) -> None:
    made, pages, browser = shop
    context = browser.new_context(user_agent=BROWSER_UA)
    page = context.new_page()
    page.goto(f"{pages}/?utm_source=newsletter&utm_medium=email&utm_campaign=october")
    page.wait_for_function("window.__trueroiLoaded === true")
    page.evaluate("trueroi('consent', false)")
    page.click("#next")
    page.wait_for_load_state()
    page.wait_for_function("window.__trueroiLoaded === true")
    page.evaluate("trueroi('consent', false)")
    storage = page.evaluate("JSON.stringify(window.localStorage)")
    cookies = context.cookies()
    product = f"{pages}/product.html"
    found = _load_until(made, lambda ws: [e for e in _events(ws, url=product) if e["user_id"] is None])
    context.close()
    assert found
    assert cookies == [] and storage == "{}"
    with made.workspace() as ws:
        mine = [e for e in _events(ws, type="page_view") if "newsletter" in e["url"] or e["url"] == product]
        touches = ws.table("touchpoints").execute()
    assert len(mine) == 3 and [e["user_id"] is None for e in mine].count(True) == 2  # and the consented view
    landing = touches[touches["landing_page"].str.contains("newsletter", na=False)]
    (touch,) = landing.to_dict(orient="records")
    assert touch["user_id"].startswith("anon:") and touch["channel"] == "Email"
    assert not touches["landing_page"].str.endswith("/product.html").any()  # internal: no session of its own
