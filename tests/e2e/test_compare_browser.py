"""In real Chromium: the Compare page draws both models' prior samples, paths and maps, and a click on either map
picks an end of the path."""

from __future__ import annotations

from tests.e2e.conftest import bundled_lonely_pair, click_point, settled_count, wait_idle

IMAGES = "[data-testid='stImage'] img"
PATH_HEADING = "h3:has-text('The path from image')"
MAP_B = ".st-key-compare_map_b"


def _loaded_widths(page) -> list[int]:
    page.wait_for_function("s => Array.from(document.querySelectorAll(s)).every(e => e.complete)", arg=IMAGES)
    return page.locator(IMAGES).evaluate_all("els => els.map(e => e.naturalWidth)")


def test_compare_shows_both_models_and_a_click_on_a_map_picks_an_end_of_the_path(page, server):
    page.goto(f"{server.url}/compare")
    page.wait_for_selector("[data-testid='stTable']", timeout=90_000)
    wait_idle(page)
    table = page.locator("[data-testid='stTable']").inner_text()
    assert "mnist5k-ae-z16 (MLP autoencoder, 16-D)" in table and "mnist5k-z16 (MLP VAE, 16-D)" in table
    assert "none: a point, no bubble" in table
    assert settled_count(page, IMAGES, 4) == 4 and all(w > 0 for w in _loaded_widths(page))  # samples and paths

    page.get_by_role("button", name="Autoencoder vs VAE, 2-D").click()
    page.wait_for_function("() => document.querySelector(\"[data-testid='stTable']\").innerText"
                           ".includes('mnist5k-z2 (MLP VAE, 2-D)')")
    wait_idle(page)
    page.wait_for_function("s => { const g = document.querySelector(s + ' .js-plotly-plot');"
                           " return g && (g._fullData || []).some(t => t.mode === 'markers' && t.x.length > 50); }",
                           arg=MAP_B, timeout=60_000)
    assert page.locator(PATH_HEADING).inner_text() == "The path from image 4 (a 0) to image 500 (a 1)"
    point, _ = bundled_lonely_pair()  # a mnist5k-z2 mean with no neighbour close by: the click hits it
    page.locator(MAP_B).scroll_into_view_if_needed()  # the maps are below the fold: a click lands where it is seen
    click_point(page, float(point[0]), float(point[1]), chart=MAP_B)
    page.wait_for_function("() => Array.from(document.querySelectorAll('h3')).some(h => "
                           "h.innerText.startsWith('The path from image 500 (a 1) to image '))")
    wait_idle(page)
    heading = page.locator(PATH_HEADING).inner_text()
    assert heading.startswith("The path from image 500 (a 1) to image "), heading
    assert settled_count(page, IMAGES, 4) == 4 and all(w > 0 for w in _loaded_widths(page))
    assert page.locator("[data-testid='stException']").count() == 0
