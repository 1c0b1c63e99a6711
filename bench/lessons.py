"""The Lessons page on a just-started server, in real Chromium: server healthy -> its first picture drawn, its first
chart, and the whole first lesson (the one tab drawn on opening); against the plain single-file peer's first map
(bench/peer_app.py) on a server started the same way.

    python -m bench.lessons [--tries 5]

Prints the median and 95th percentile of each, and the ratio of our first picture to the peer's first map.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench.browser_latency import first_map, summary
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, Server

FIRST = ".st-key-lesson_a_draws [data-testid='stImage'] img"  # lesson a's first picture: the decoded draws
CHART = ".st-key-lesson_a_sigma .js-plotly-plot"  # and its first chart (Plotly's bundle loads first)
LAST = ".st-key-lesson_a_reach .js-plotly-plot"  # lesson a's last picture: the first tab drawn whole


def lessons(browser, tries: int) -> tuple[list[float], list[float], list[float]]:
    first, chart, whole = [], [], []
    for _ in range(tries):
        server = Server(script="serve.py")  # what `make app` serves
        try:
            started = time.perf_counter()  # the server has just answered its health check
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(180_000)
            page.goto(f"{server.url}/lessons")
            page.wait_for_selector(FIRST)
            first.append(time.perf_counter() - started)
            page.wait_for_selector(CHART)
            chart.append(time.perf_counter() - started)
            page.wait_for_selector(LAST)
            whole.append(time.perf_counter() - started)
            page.close()
        finally:
            server.stop()
    return first, chart, whole


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=5)
    args = parser.parse_args()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        first, chart, whole = lessons(browser, args.tries)
        peer = first_map(browser, "bench/peer_app.py", args.tries)
        browser.close()
    print(f"lessons, first picture:  {summary(first)}")
    print(f"lessons, first chart:    {summary(chart)}")
    print(f"lessons, lesson a drawn: {summary(whole)}")
    print(f"peer, first map:         {summary(peer)}")
    print(f"ratio ours/peer, first picture against first map (median): {np.median(first) / np.median(peer):.2f}x")


if __name__ == "__main__":
    main()
