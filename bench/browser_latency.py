"""Interaction latency in real Chromium, this app against a plain single-file peer (bench/peer_app.py):
server healthy -> first map visible; slider stepped -> new decoded image; second point clicked -> strip shown
(this app's browser-drawn path, or a server's strip; "server strip" times the server's strip of images alone).
The first map is timed on a just-started server; slider and strip once its background warm-up has finished.

    python -m bench.browser_latency [--tries 10]

Prints the median and 95th percentile of each, and peer/ours ratios of the medians.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from explorer.ui.resources import WARM_UP_DONE
from tests.e2e.conftest import (
    CHROMIUM, CHROMIUM_ARGS, MAP_DRAWN_JS, Server, click_point, lonely_pair, map_points, wait_idle,
    wait_past_double_click,
)

STRIP = ".st-key-interp_strip [data-testid='stImage'] img"


def first_map(browser, script: str, tries: int) -> list[float]:
    times = []
    for _ in range(tries):
        server = Server(script=script)
        try:
            started = time.perf_counter()  # the server has just answered its health check
            page = browser.new_page()
            page.goto(server.url)
            page.wait_for_function(MAP_DRAWN_JS, arg=50)  # the map itself, not the app's early empty chart
            times.append(time.perf_counter() - started)
            page.close()
        finally:
            server.stop()
    return times


LIVE_FRAMES_JS = """() => { for (const h of document.querySelectorAll('[data-testid=stBidiComponentIsolated]')) {
    const c = h.shadowRoot && h.shadowRoot.querySelector('canvas.live-decode'); if (c) return c.dataset.frames || '0'; }
    return null; }"""


def slider(browser, server, tries: int) -> list[float]:
    """A keyboard step on a latent slider -> the new decoded image: the server's image (the peer, or a decoder too
    large for the browser), or this app's canvas, which the browser redraws itself."""
    page = browser.new_page()
    page.goto(f"{server.url}/generate?page=generate")
    page.wait_for_selector(".st-key-slider_decode")
    wait_idle(page)
    page.wait_for_timeout(500)
    live = page.evaluate(LIVE_FRAMES_JS) is not None
    times = []
    for i in range(tries):
        before = (page.evaluate(LIVE_FRAMES_JS) if live
                  else page.locator(".st-key-slider_decode img").get_attribute("src"))
        page.locator("[data-testid='stSlider'] input[type='range']").first.focus()
        started = time.perf_counter()
        # a keyboard step sends at once, like a release
        page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
        if live:
            page.wait_for_function(f"b => ({LIVE_FRAMES_JS})() !== b", arg=before)
        else:
            page.wait_for_function(
                "b => { const i = document.querySelector('.st-key-slider_decode img'); "
                "return i && i.src !== b && i.complete; }",
                arg=before)
        times.append(time.perf_counter() - started)
        wait_idle(page)
    page.close()
    return times


SHOWN_JS = f"""() => {{ const i = document.querySelectorAll({STRIP!r});
    return i.length >= 12 && Array.from(i).every(e => e.complete && e.naturalWidth > 0); }}"""
# This app's path as the browser draws it the moment B is clicked (explorer/ui/map_view.js): the 10 decoded steps.
BROWSER_STRIP_JS = "() => document.querySelectorAll('.instant-strip canvas.instant-step').length >= 10"


def strip(browser, server, tries: int, server_times: list[float]) -> list[float]:
    """Each try on a fresh page (a new session): click one point, then time the second click to the strip as the
    visitor first sees it (this app's browser-drawn path, or a server's strip of images); server_times gets the
    time to the server's strip too."""
    times, pair = [], None
    for _ in range(tries):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(server.url)
        page.wait_for_function(MAP_DRAWN_JS, arg=50)
        wait_idle(page)
        pair = pair or lonely_pair(map_points(page), apart=2)
        click_point(page, *pair[0])
        wait_idle(page)
        wait_past_double_click(page)  # here, not inside the timed click
        started = time.perf_counter()
        click_point(page, *pair[1])
        page.wait_for_function(f"() => ({SHOWN_JS})() || ({BROWSER_STRIP_JS})()")
        times.append(time.perf_counter() - started)
        page.wait_for_function(SHOWN_JS)
        server_times.append(time.perf_counter() - started)
        page.close()
    return times


def settle(browser, server) -> None:
    """Let the app's one-off background warm-up (numba compiles, 8-30 s, started 8 s after the first visit)
    finish, so slider and strip times are those of a running server, not of its first minute."""
    page = browser.new_page()
    page.goto(server.url)
    page.wait_for_function(MAP_DRAWN_JS, arg=50)
    page.close()
    server.wait_for_log(WARM_UP_DONE)


def summary(times: list[float]) -> str:
    return f"median {np.median(times):6.2f} s  p95 {np.percentile(times, 95):6.2f} s  (n={len(times)})"


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=10)
    args = parser.parse_args()
    apps = {"ours": "streamlit_app.py", "peer": "bench/peer_app.py"}
    results: dict[tuple[str, str], list[float]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for who, script in apps.items():
            results[(who, "first map")] = first_map(browser, script, args.tries)
            for what in ("slider", "strip"):
                server = Server(script=script)  # a fresh server per measurement: no state carries over
                try:
                    if who == "ours":
                        settle(browser, server)
                    if what == "slider":
                        results[(who, what)] = slider(browser, server, args.tries)
                    else:
                        results[(who, "server strip")] = []
                        results[(who, what)] = strip(browser, server, args.tries, results[(who, "server strip")])
                except Exception as error:  # noqa: BLE001 - report what broke and go on with the rest
                    print(f"{what} {who}: failed ({type(error).__name__}: {str(error).splitlines()[0]})", flush=True)
                    results[(who, what)] = [float("nan")]
                finally:
                    server.stop()
        browser.close()
    targets = {"first map": 5.0, "slider": 0.3, "strip": 1.0, "server strip": 1.0}
    for what, target in targets.items():
        for who in apps:
            print(f"{what:<10} {who}: {summary(results[(who, what)])}")
        ratio = np.median(results[("peer", what)]) / np.median(results[("ours", what)])
        print(f"ratio peer/ours {what} (median): {ratio:.2f}x  (target for ours: median <= {target} s)")


if __name__ == "__main__":
    main()
