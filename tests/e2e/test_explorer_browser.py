"""In real Chromium: click two points on the map and see the decoded path (sliders: test_live_decode_browser)."""

from __future__ import annotations

import pytest
from PIL import Image

from tests.e2e.conftest import bundled_lonely_pair, click_point, settled_count, wait_for_map, wait_idle

MAP_CANVAS = "[data-testid='stPlotlyChart'] canvas"  # only the map draws with WebGL
STRIP = ".st-key-interp_strip [data-testid='stImage']"


@pytest.fixture(scope="module")
def isolated_points():
    """Two test-split means of the default model with no neighbour close by, so a click hits exactly them."""
    return bundled_lonely_pair()


def test_click_two_points_and_the_interpolation_strip_appears(page, server, isolated_points):
    page.goto(server.url)
    wait_for_map(page)
    wait_idle(page)
    assert page.locator(STRIP).count() == 0
    first, second = isolated_points
    page.evaluate(f"() => document.querySelectorAll({MAP_CANVAS!r}).forEach(c => c.dataset.before = '1')")
    click_point(page, float(first[0]), float(first[1]))
    page.wait_for_selector(".st-key-pick_A [data-testid='stImage'] img")  # the first pick's details
    wait_idle(page)
    # The click's rerun updates the map in place: the same WebGL canvases, not a rebuilt chart (which costs
    # seconds on a large map).
    kept = page.evaluate(f"() => Array.from(document.querySelectorAll({MAP_CANVAS!r})).map(c => c.dataset.before)")
    assert kept and all(kept), kept
    click_point(page, float(second[0]), float(second[1]))
    page.wait_for_selector(STRIP)
    wait_idle(page)
    assert settled_count(page, STRIP, 12) == 10 + 2  # default 10 decoded steps plus the two originals
    tops = page.locator(STRIP).evaluate_all("els => els.map(e => Math.round(e.getBoundingClientRect().top))")
    assert len(set(tops)) == 1, tops  # one row at 1400 px
    page.wait_for_function("s => Array.from(document.querySelectorAll(s)).every(e => e.complete)", arg=f"{STRIP} img")
    sources = page.locator(f"{STRIP} img").evaluate_all("els => els.map(e => e.naturalWidth)")
    assert len(sources) == 12 and all(width > 0 for width in sources)  # the images really loaded
    nearest = ".st-key-interp_nearest img"
    page.wait_for_function("s => { const i = document.querySelectorAll(s); "
                           "return i.length === 10 && Array.from(i).every(e => e.complete && e.naturalWidth > 0); }",
                           arg=nearest)
    lefts = "els => els.map(e => Math.round(e.getBoundingClientRect().left))"
    steps, below = page.locator(f"{STRIP} img").evaluate_all(lefts), page.locator(nearest).evaluate_all(lefts)
    assert all(abs(a - b) <= 4 for a, b in zip(steps[1:-1], below)), (steps, below)  # each under its decoded step
    assert page.locator("[data-testid='stException']").count() == 0
    # The downloads are made on click: each arrives as a real image file.
    for key, fmt, frames in (("download_strip_png", "PNG", 1), ("download_strip_gif", "GIF", 18)):
        with page.expect_download() as download:
            page.locator(f".st-key-{key} button").click()
        with Image.open(download.value.path()) as picture:
            assert picture.format == fmt and getattr(picture, "n_frames", 1) == frames
