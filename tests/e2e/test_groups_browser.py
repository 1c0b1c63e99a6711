"""In real Chromium: lasso and box groups on the map, a vector from two of them applied to a pick, the map coloured
by log p(x), the least-likely gallery, and uploaded images scored with flags."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from explorer.datafiles import load_dataset
from tests.e2e.conftest import (
    ARTIFACTS, bundled_lonely_pair, click_point, map_points, wait_for_map, wait_idle, wait_past_double_click,
)

MAP = "[data-testid='stPlotlyChart']"
DATA = load_dataset("mnist5k")
_TO_PAGE_JS = """([sel, points]) => {
    const g = document.querySelector(sel + ' .js-plotly-plot');
    const L = g._fullLayout, r = g.getBoundingClientRect();
    return points.map(([X, Y]) => [r.left + L._size.l + L.xaxis.d2p(X), r.top + L._size.t + L.yaxis.d2p(Y)]);
}"""


def choose(page, label: str, option: str) -> None:
    page.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def draw(page, tool: str, polygon: list[tuple[float, float]]) -> None:
    """Pick the modebar's box or lasso tool and drag it through the polygon (data coordinates) on the map: a lasso
    around it and back, a box from its first corner to its third."""
    page.locator(f"{MAP} .modebar-btn[data-val='{tool}']").first.click()
    wait_past_double_click(page)
    corners = page.evaluate(_TO_PAGE_JS, [MAP, [list(p) for p in polygon]])
    page.mouse.move(*corners[0])
    page.mouse.down()
    for x, y in corners[1:] + corners[:1] if tool == "lasso" else corners[2:3]:
        page.mouse.move(x, y, steps=6)
    page.mouse.up()


def save_group(page, name: str) -> str:
    page.wait_for_selector(".st-key-pending_group")
    heading = page.locator(".st-key-pending_group p").first.inner_text()
    field = page.get_by_role("textbox", name="Name the group")
    field.fill(name)
    field.press("Enter")
    wait_idle(page)
    page.locator(".st-key-save_group button").click()
    page.wait_for_selector(f"text=Saved the group '{name}'")
    wait_idle(page)
    return heading


def loaded_images(page, selector: str, count: int) -> list[int]:
    page.wait_for_function("([s, n]) => { const i = document.querySelectorAll(s); "
                           "return i.length === n && Array.from(i).every(e => e.complete && e.naturalWidth > 0); }",
                           arg=[selector, count])
    return page.locator(selector).evaluate_all("els => els.map(e => e.naturalWidth)")


def test_lasso_and_box_groups_make_a_vector_applied_to_a_pick(page, server):
    page.goto(server.url)
    wait_for_map(page)
    wait_idle(page)
    first, _ = bundled_lonely_pair()
    click_point(page, float(first[0]), float(first[1]))
    page.wait_for_selector(".st-key-pick_A img")
    wait_idle(page)
    draw(page, "lasso", [(-1.5, -1.5), (-0.2, -1.5), (-0.2, -0.2), (-1.5, -0.2)])
    page.wait_for_selector(".st-key-pending_group")
    wait_idle(page)
    _the_selection_is_bright_over_the_rest_greyed(page)
    heading = save_group(page, "lower left")
    assert heading.endswith("images selected") and int(heading.split()[0].replace(",", "")) > 20, heading
    # the map was drawn afresh without the selection, and still picks on a click
    wait_for_map(page)
    draw(page, "select", [(0.2, 0.2), (1.5, 0.2), (1.5, 1.5), (0.2, 1.5)])
    save_group(page, "upper right")
    page.screenshot(path=str(ARTIFACTS / "groups-explore.png"), full_page=True)
    page.get_by_role("link", name="Use it on the Vectors page").click()
    page.wait_for_selector("h1:has-text('Groups and latent arithmetic')")
    wait_idle(page)
    assert "group: lower left" in selectbox_text(page, "Images with the attribute")
    assert "group: upper right" in selectbox_text(page, "Images without it")
    choose(page, "Apply it to", "your picked point A")
    widths = loaded_images(page, ".st-key-vector_strip img", 9)
    before = page.locator(".st-key-vector_strip img").first.get_attribute("src")
    choose(page, "Images without it", "label: 7")  # a label is a group too
    page.wait_for_function("([s, b]) => document.querySelector(s).getAttribute('src') !== b",
                           arg=[".st-key-vector_strip img", before])
    widths = loaded_images(page, ".st-key-vector_strip img", 9)
    assert len(widths) == 9 and min(widths) > 0
    assert len(loaded_images(page, ".st-key-arithmetic_strip img", 4)) == 4
    page.screenshot(path=str(ARTIFACTS / "groups-vectors.png"), full_page=True)
    assert "vec_without=label%3A+7" in page.url and "groups=lower+left" in page.url
    assert page.locator("[data-testid='stException']").count() == 0


def _the_selection_is_bright_over_the_rest_greyed(page) -> None:
    """The browser's overlay (explorer/ui/map_view.js) veils the map in white and draws the selected points over it."""
    pixel = """([x, y]) => { const g = document.querySelector('.js-plotly-plot'), L = g._fullLayout;
        const c = g.querySelector('canvas.vae-marks'), r = c.width / L._size.w;
        return Array.from(c.getContext('2d').getImageData(Math.round(L.xaxis.d2p(x) * r),
                                                          Math.round(L.yaxis.d2p(y) * r), 1, 1).data); }"""
    points = map_points(page)
    inside = points[(points[:, 0] > -1.3) & (points[:, 0] < -0.4) & (points[:, 1] > -1.3) & (points[:, 1] < -0.4)]
    empty = np.array([3.5, -3.5])  # a corner of the map with no point: only the veil is drawn there
    page.wait_for_function(f"p => ({pixel})(p)[3] > 150", arg=empty.tolist())
    veil = page.evaluate(pixel, empty.tolist())
    assert min(veil[:3]) > 230, veil  # white, translucent: the points outside show greyed through it
    selected = page.evaluate(pixel, inside[0].tolist())
    assert selected[3] == 255 and min(selected[:3]) < 200, selected  # the point itself, drawn over the veil


def selectbox_text(page, label: str) -> str:
    return page.get_by_role("combobox", name=label, exact=True).input_value()


def test_map_coloured_by_log_px_and_the_least_likely_gallery(page, server):
    page.goto(server.url)
    wait_for_map(page)
    wait_idle(page)
    choose(page, "Colour by", "log p(x) (IWAE bound)")
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll("[data-testid='stPlotlyChart'] .js-plotly-plot"))
        .some(g => (g._fullData || []).some(t => t.marker && t.marker.colorbar && t.x && t.x.length === 1000))""")
    page.screenshot(path=str(ARTIFACTS / "groups-coloured-map.png"), full_page=True)
    colours = """() => Array.from(document.querySelectorAll("[data-testid='stPlotlyChart'] .js-plotly-plot"))
        .flatMap(g => (g._fullData || []).filter(t => t.marker && t.marker.colorbar && t.x && t.x.length === 1000))
        .map(t => Array.from(t.marker.color).slice(0, 5).join(','))[0]"""
    by_log_px = page.evaluate(colours)
    choose(page, "Colour by", "reconstruction error")
    page.wait_for_function(f"b => ({colours})() !== b", arg=by_log_px)  # the points take the new score's colours
    first, _ = bundled_lonely_pair()
    click_point(page, float(first[0]), float(first[1]))  # the coloured map still picks
    page.wait_for_selector(".st-key-pick_A img")
    wait_idle(page)
    assert page.locator("[data-testid='stException']").count() == 0
    page.get_by_role("link", name="Likelihood").click()
    page.wait_for_selector("h1:has-text('Likelihood')")
    wait_idle(page)
    assert len(loaded_images(page, ".st-key-likelihood_gallery img", 24)) == 24
    with page.expect_download() as download:  # the CSV is made on the click
        page.get_by_role("button", name="The data's scores (CSV)").click()
    lines = open(download.value.path()).read().splitlines()
    assert lines[0] == "index,label,label_name,log_px_iwae_k100,elbo,reconstruction,kl" and len(lines) == 1 + 1000
    page.screenshot(path=str(ARTIFACTS / "groups-likelihood.png"), full_page=True)


def _png(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


def test_uploaded_images_are_scored_and_the_unlike_ones_flagged(page, server):
    digit = DATA.images[DATA.test_index[0], 0]
    noise = (np.random.default_rng(0).random((28, 28)) * 255).astype(np.uint8)
    page.goto(f"{server.url}/likelihood")
    page.wait_for_selector("h1:has-text('Likelihood')")
    wait_idle(page)
    page.locator("[class*='st-key-score_upload'] input[type='file']").set_input_files([
        {"name": "digit.png", "mimeType": "image/png", "buffer": _png(digit)},
        {"name": "noise.png", "mimeType": "image/png", "buffer": _png(noise)},
    ])
    page.wait_for_selector("text=1 of 2 flagged")
    wait_idle(page)
    colours = page.evaluate(
        """() => Array.from(document.querySelectorAll("[data-testid='stPlotlyChart'] .js-plotly-plot"))
        .flatMap(g => (g._fullData || []).filter(t => t.name === 'your images')).map(t => t.marker.color)[0]""")
    assert colours == ["#2ca02c", "#d62728"]  # the digit inside the band, the noise flagged
    page.locator("[data-testid='stDataFrame']").first.wait_for()  # drawn after the flag's text, on a busy machine late
    assert page.locator("[data-testid='stDataFrame']").count() == 1
    page.screenshot(path=str(ARTIFACTS / "groups-upload.png"), full_page=True)
