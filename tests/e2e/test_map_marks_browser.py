"""In real Chromium: what a visitor did on Explore's map stays drawn on it (picks, path, selection, groups, also
from a link), the zoom survives clicks, points become images when zoomed in, hover shows a point's image, and the
path is decoded in the browser the moment B is clicked."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.datafiles import load_dataset
from tests.e2e.conftest import (
    click_point, map_points, open_and_pick_a, wait_for_map, wait_idle, wait_past_double_click,
)

CHART = ".st-key-latent_map"
PLOT = f"{CHART} .js-plotly-plot"
OVERLAY = "canvas.vae-marks"
ROWS = load_dataset("mnist5k").test_index

# The overlay's colour at data coordinates (x, y), as [r, g, b, a].
PIXEL_JS = """([x, y]) => {
    const g = document.querySelector('.js-plotly-plot'), L = g._fullLayout, c = g.querySelector('canvas.vae-marks');
    const r = c.width / L._size.w;
    return Array.from(c.getContext('2d').getImageData(Math.round(L.xaxis.d2p(x) * r),
                                                      Math.round(L.yaxis.d2p(y) * r), 1, 1).data);
}"""
DRAWN_JS = "() => Number((document.querySelector('canvas.vae-marks') || {dataset: {}}).dataset.drawn || 0)"


def _range(page) -> list[float]:
    return page.evaluate(f"() => Array.from(document.querySelector({PLOT!r})._fullLayout.xaxis.range)")


def _zoom_in(page, times: int) -> None:
    page.locator(PLOT).hover()
    for _ in range(times):
        drawn = page.evaluate(DRAWN_JS)
        page.locator(f"{CHART} .modebar-btn[data-title='Zoom in']").first.click()
        page.wait_for_function(f"n => ({DRAWN_JS})() > n", arg=drawn)  # the overlay follows the zoom


def _mean_of(row: int) -> list[float]:
    from explorer.checkpoint import bundled_checkpoints, load_checkpoint
    from explorer.latent import encode_dataset

    latents = encode_dataset(load_checkpoint(bundled_checkpoints()["mnist5k-z2"]).model, load_dataset("mnist5k"))
    return latents.mu[np.searchsorted(latents.index, row)].tolist()


@pytest.mark.parametrize("width", [1400, 800])
def test_a_links_picks_path_and_group_are_drawn_and_a_zoom_survives_a_click(page, server, width):
    page.set_viewport_size({"width": width, "height": 1000})
    a, b = int(ROWS[0]), int(ROWS[500])
    page.goto(f"{server.url}/?picks={a},{b}&groups=loops:{ROWS[800]}-{ROWS[900]}")
    wait_for_map(page)
    wait_idle(page)
    page.wait_for_function(f"() => ({DRAWN_JS})() > 0")
    for row in (a, b):  # a crimson star on each pick
        red, green, blue, alpha = page.evaluate(PIXEL_JS, _mean_of(row))
        assert alpha > 200 and red > 180 and green < 80 and blue < 100, (row, red, green, blue, alpha)
    legend = page.locator(f"{CHART} div.vae-groups")
    assert "group: loops" in legend.inner_text()
    legend.locator("input").uncheck()  # the legend hides the group's rings; the map is drawn again at once
    assert not legend.locator("input").is_checked()
    _zoom_in(page, 1)
    zoomed = _range(page)
    points = map_points(page)
    inside = points[(points[:, 0] > zoomed[0] + 0.2) & (points[:, 0] < zoomed[1] - 0.2)]
    wait_past_double_click(page)
    click_point(page, *inside[len(inside) // 2])
    page.wait_for_function("() => new URLSearchParams(location.search).get('picks').split(',').length === 2 "
                           f"&& !location.search.includes('picks={a}%2C')")  # the click made a new pick
    wait_idle(page)
    assert _range(page) == zoomed  # the same chart: its zoom kept
    assert page.locator("[data-testid='stException']").count() == 0


def test_points_become_images_when_zoomed_and_hover_shows_a_points_image(page, server):
    page.goto(server.url)
    wait_for_map(page)
    wait_idle(page)
    page.wait_for_function(f"() => ({DRAWN_JS})() > 0")
    assert page.evaluate("() => document.querySelector('canvas.vae-marks').dataset.thumbs") == "0"  # 1,000: points
    _zoom_in(page, 3)
    shown = int(page.evaluate("() => document.querySelector('canvas.vae-marks').dataset.thumbs"))
    assert 0 < shown <= 400
    page.get_by_label("Model", exact=True).click()  # the 16-D model, on PCA: hover shows the point's own image
    page.get_by_role("option", name="mnist5k-z16").click()
    wait_for_map(page)
    wait_idle(page)
    page.wait_for_function("() => location.search.includes('mnist5k-z16')")
    page.wait_for_function("() => document.querySelectorAll('.map-view-root').length === 1")  # mounted afresh
    assert "Error" not in page.locator(".st-key-hover_latent_map").inner_text()  # (the old chart was purged)
    first = map_points(page)[0]
    box = page.evaluate("""([x, y]) => { const g = document.querySelector('.js-plotly-plot'), L = g._fullLayout,
        r = g.getBoundingClientRect();
        return [r.left + L._size.l + L.xaxis.d2p(x), r.top + L._size.t + L.yaxis.d2p(y)]; }""", first.tolist())
    image = page.locator("canvas.hover-image")
    for _ in range(20):  # the new chart's hover events are followed within 250 ms of it being drawn
        page.mouse.move(box[0] + 30, box[1] + 30)
        page.mouse.move(*box, steps=3)
        if image.count() and image.first.is_visible():
            break
        page.wait_for_timeout(300)
    image.wait_for(state="visible")
    assert image.get_attribute("data-row") is not None and image.bounding_box()["width"] >= 100


def test_the_path_is_drawn_by_the_browser_the_moment_b_is_clicked(page, server):
    _, second = open_and_pick_a(page, server.url)
    page.evaluate("() => { window.__instant = null; new MutationObserver((_, o) => { "
                  "if (document.querySelectorAll('.instant-strip canvas.instant-step').length === 10) { "
                  "window.__instant = performance.now(); o.disconnect(); } }).observe(document.body, "
                  "{subtree: true, childList: true}); }")
    wait_past_double_click(page)
    click_point(page, *map(float, second))
    page.wait_for_selector(".st-key-interp_strip [data-testid='stImage'] img")  # the server's strip follows
    assert page.evaluate("() => window.__instant") is not None, "the browser never drew the path itself"
    wait_idle(page)
    assert page.locator(".instant-strip").count() == 0  # replaced by the server's, with the nearest images
    assert page.locator("[data-testid='stException']").count() == 0


def test_at_800_px_the_sidebar_closes_and_a_long_strip_keeps_its_rows(page, server):
    page.set_viewport_size({"width": 800, "height": 1000})
    page.goto(f"{server.url}/?picks={ROWS[0]},{ROWS[500]}&steps=14")
    wait_for_map(page)
    page.wait_for_selector(".st-key-interp_nearest img")
    wait_idle(page)
    page.wait_for_function("() => document.querySelector('[data-testid=stSidebar]').getBoundingClientRect().width < 50")
    steps = ".st-key-interp_strip [data-testid='stImage']"
    page.wait_for_function("s => document.querySelectorAll(s).length === 16", arg=steps)
    boxes = ("els => els.map(e => { const r = e.getBoundingClientRect(); "
             "return [Math.round(r.left), Math.round(r.top)]; })")
    strip = page.locator(steps).evaluate_all(boxes)
    nearest = page.locator(".st-key-interp_nearest [data-testid='stImage']").evaluate_all(boxes)
    assert len({top for _, top in strip}) == 1 and len({top for _, top in nearest}) == 1  # one row each
    assert all(abs(a[0] - b[0]) <= 2 for a, b in zip(strip[1:-1], nearest)), (strip, nearest)  # under its step
    overflowing = page.evaluate("""() => Array.from(document.querySelectorAll(
        '[data-testid=stImageCaption], .st-key-interp_nearest [data-testid=stMarkdownContainer]'))
        .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)""")
    assert overflowing == []  # every word fits its image's width: none is broken or cut
    page.goto(f"{server.url}/train")  # the sidebar, with its links, is closed
    page.wait_for_selector(".st-key-train_start")
    wait_idle(page)
    cut = page.evaluate("""() => Array.from(document.querySelectorAll('[data-testid=stMain] button p'))
        .filter(p => p.scrollWidth > p.clientWidth + 1).map(p => p.innerText)""")
    assert cut == []  # Start, Stop and the presets read in full


@pytest.fixture(scope="module")
def small_images_server():
    """A server that sends no split's images whole (as for 100k images): the browser asks for those in view."""
    from tests.e2e.conftest import Server

    srv = Server(env={"EXPLORER_BROWSER_IMAGES_MB": "0.1"})
    yield srv
    srv.stop()


def test_on_data_too_large_to_send_the_images_in_view_are_asked_for(browser, small_images_server):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(small_images_server.url)
        wait_for_map(page)
        wait_idle(page)
        page.wait_for_function(f"() => ({DRAWN_JS})() > 0")
        _zoom_in(page, 3)
        page.wait_for_function("() => Number(document.querySelector('canvas.vae-marks').dataset.thumbs) > 0",
                               timeout=30_000)  # after the page's run that sent them
    finally:
        page.close()
