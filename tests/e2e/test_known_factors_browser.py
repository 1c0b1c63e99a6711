"""In real Chromium: a bold vector makes a glyph visibly bolder and the page's score says so; an ink vector thickens
a digit; Generate names what each sprite slider moves; Compare shows the β-VAE's higher MIG."""

from __future__ import annotations

import io
import re

import numpy as np
from PIL import Image

from tests.e2e.conftest import settled_count, wait_idle

STRIP = ".st-key-vector_strip [data-testid='stImage']"


def _ink(page, image) -> float:
    """The mean brightness of an image as the browser received it."""
    src = image.locator("img").get_attribute("src")
    body = page.request.get(src if src.startswith("http") else page.url.split("/vectors")[0] + src).body()
    return float(np.asarray(Image.open(io.BytesIO(body)).convert("L"), np.float64).mean())


def _vector_page(page, server, model: str) -> list:
    page.goto(f"{server.url}/vectors?model={model}")
    page.wait_for_selector("text=vector, scored", timeout=180_000)
    wait_idle(page, timeout=120_000)
    assert settled_count(page, f"{STRIP} img", 9, timeout=60_000) == 9
    return [page.locator(STRIP).nth(i) for i in range(9)]


def test_bold_makes_a_regular_glyph_bolder_and_the_score_says_so(page, server):
    strip = _vector_page(page, server, "glyphs-z16")
    score = page.locator("p:has-text('bold vector, scored')").first.inner_text()
    moved = re.search(r"\+2 on [\d,]+ test glyphs without it: (\d+)% measured more bold", score)
    assert moved and int(moved.group(1)) >= 90
    captions = [s.inner_text() for s in strip]
    assert captions[4].startswith("0: itself") and re.match(r"\+2 · \d+(\.\d)?%", captions[8])
    assert _ink(page, strip[8]) > 1.3 * _ink(page, strip[4]) > 1.3 * _ink(page, strip[0])  # bolder, and lighter at -2


def test_ink_thickens_a_digit(page, server):
    strip = _vector_page(page, server, "mnist5k-z16")
    assert "ink vector, scored" in page.locator("p:has-text('ink vector, scored')").first.inner_text()
    assert _ink(page, strip[8]) > 1.3 * _ink(page, strip[4])


def test_generate_names_each_sprite_sliders_factor_and_compare_shows_what_beta_buys(page, server):
    page.goto(f"{server.url}/generate?model=sprites-z10-beta8")
    page.wait_for_selector("text=names the known factor it moves most", timeout=180_000)
    page.locator(".st-key-z9 input[type='range']").wait_for(timeout=60_000)
    wait_idle(page, timeout=120_000)
    named = " ".join(page.locator("[data-testid='stSlider']").all_inner_texts())
    assert "moves x (" in named and "moves y (" in named and "moves scale (" in named
    page.goto(f"{server.url}/compare")
    page.get_by_role("button", name="β 1 vs β 8 on sprites").click()
    page.wait_for_selector("text=disentanglement (MIG)", timeout=180_000)
    wait_idle(page, timeout=120_000)
    row = page.locator("tr:has-text('disentanglement (MIG)')").inner_text().split()
    a, b = (float(v) for v in row[-2:])
    assert b > a + 0.1


def test_another_model_in_the_sidebar_renames_the_vectors_choices(page, server):
    """'label:0' is a term of both data sets: after sprites -> glyphs the box must read 'label: A', not 'square'."""
    _vector_page(page, server, "sprites-z10")
    boxes = ("X: start from", "Y: take away", "Z: add")
    shown = lambda: [page.get_by_role("combobox", name=b, exact=True).input_value() for b in boxes]  # noqa: E731
    assert shown() == ["label: square", "label: ellipse", "label: heart"]
    page.get_by_role("combobox", name="Model", exact=True).click()
    page.get_by_role("option", name="glyphs-z16", exact=True).click()
    page.wait_for_selector("text=bold vector, scored", timeout=180_000)
    wait_idle(page, timeout=120_000)
    assert shown() == ["label: A", "label: B", "label: C"]
    assert page.get_by_role("combobox", name="Images with the attribute", exact=True).input_value() == "known: bold"
