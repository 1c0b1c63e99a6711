"""In real Chromium: a run's live chart moves, a stopped run's model is usable on Explore, closing a tab frees its
slot."""

from __future__ import annotations

import time
import uuid

import numpy as np
import pytest

from explorer.checkpoint import saved_models_dir
from tests.e2e.conftest import Server, click_point, lonely_pair, map_points, settled_count, wait_for_map, wait_idle

LIVE_CHART = ".st-key-train_live [data-testid='stVegaLiteChart']"  # the first one: the loss balance


def live_drawing(page) -> tuple[str, int] | None:
    """The loss chart's drawn areas (their SVG path data), and which chart element drew them (0 for the first one
    seen, 1 for the next, ...): a chart redrawn in place keeps its element, one rebuilt on every poll (blank much of
    the time) gets a new one each time. None before it is drawn."""
    return page.evaluate(
        """sel => { const chart = document.querySelector(sel);
                    if (!chart) return null;
                    const areas = Array.from(chart.querySelectorAll('.mark-area path'), p => p.getAttribute('d') || '');
                    if (!areas.join('')) return null;
                    window.__liveCharts = window.__liveCharts || [];
                    if (!window.__liveCharts.includes(chart)) window.__liveCharts.push(chart);
                    return [areas.join('|'), window.__liveCharts.indexOf(chart)]; }""",
        LIVE_CHART,
    )


def progress_step(page) -> int:
    text = page.locator(".st-key-train_live [data-testid='stProgress']").first.inner_text()
    return int(text.split("step ")[1].split("/")[0].replace(",", "")) if "step " in text else 0


def test_live_chart_moves_then_a_stopped_runs_model_is_usable_on_explore(page, server):
    page.goto(f"{server.url}/train")
    page.wait_for_selector("h3:has-text(\"What a run shows: the bundled model's own training\")")  # before a run
    page.wait_for_selector("[data-testid='stVegaLiteChart']")
    page.locator(".st-key-train_start button").click()
    page.wait_for_selector(LIVE_CHART)
    seen, deadline = [], time.monotonic() + 300
    while not page.locator(".st-key-train_use").count():  # until the run ends
        assert time.monotonic() < deadline, f"the run did not end in 300 s; {len(seen)} drawings seen"
        drawing = live_drawing(page)
        if drawing is not None and (not seen or drawing[0] != seen[-1][0]):
            seen.append(drawing)
        time.sleep(0.2)
    assert len(seen) >= 3, f"the live chart changed only {len(seen) - 1} time(s) before the run ended"
    # One new element is allowed, when the page's first run gives way to the polling one; after that, in place.
    elements = [element for _, element in seen]
    assert elements[-1] <= 1 and elements.index(elements[-1]) < 2, (
        f"the live chart was rebuilt, not redrawn: {elements}")
    assert page.locator("[data-testid='stAlertContentSuccess']").first.inner_text() == "Training finished."

    wait_idle(page)
    page.locator(".st-key-train_start button").click()
    page.wait_for_function(
        "() => /step [1-9]/.test(document.querySelector('.st-key-train_live [data-testid=stProgress]')"
        "?.innerText || '')"
    )
    time.sleep(1.5)
    page.locator(".st-key-train_stop button").click()
    page.wait_for_selector("text=Stopped after")
    wait_idle(page)  # the run that ends the polling redraws the buttons: click the button it leaves
    page.locator(".st-key-train_use button").click()
    page.wait_for_selector("text=In use: trained: mnist5k z2")
    wait_idle(page)
    page.get_by_role("link", name="Explore").click()
    wait_for_map(page)  # not the training page's charts, which stay on screen until the new page replaces them
    wait_idle(page)
    chosen = page.locator("[data-testid='stSidebar'] input[aria-label='Model']").input_value()
    assert chosen.startswith("trained: mnist5k z2")
    points = map_points(page)
    first, second = lonely_pair(points, apart=0.3 * np.ptp(points, axis=0).max())
    click_point(page, *first)
    page.wait_for_selector(".st-key-pick_A img")
    wait_idle(page)
    click_point(page, *second)
    page.wait_for_selector(".st-key-interp_strip [data-testid='stImage'] img")
    assert settled_count(page, ".st-key-interp_strip [data-testid='stImage']", 12) == 12
    assert page.locator("[data-testid='stException']").count() == 0
    _save_and_share(page)


def _save_and_share(page) -> None:
    """Save the run on the server: it becomes the model in use, and the page's link opens it in a fresh browser."""
    name = f"e2e-saved-{uuid.uuid4().hex[:8]}"
    page.get_by_role("link", name="Train").click()
    page.wait_for_selector(".st-key-train_save")
    wait_idle(page)
    page.get_by_label("Save on the server as").fill(name)
    page.get_by_label("Save on the server as").press("Enter")
    wait_idle(page)
    page.locator(".st-key-train_save button").click()
    try:
        page.wait_for_selector(f"text=Saved as '{name}' and now in use")
        page.wait_for_function(f"() => location.search.includes('model={name}')")
        assert page.locator("[data-testid='stSidebar'] input[aria-label='Model']").input_value() == name
        fresh = page.context.browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        try:
            fresh.goto(page.url.replace("/train", "/"))
            wait_for_map(fresh)
            wait_idle(fresh)
            assert fresh.locator("[data-testid='stSidebar'] input[aria-label='Model']").input_value() == name
            assert fresh.locator("[data-testid='stAlertContentWarning']").count() == 0
        finally:
            fresh.context.close()
    finally:
        (saved_models_dir() / f"{name}.safetensors").unlink(missing_ok=True)


@pytest.fixture(scope="module")
def one_slot_server():
    srv = Server(env={"EXPLORER_MAX_RUNS": "1"})
    yield srv
    srv.stop()


def test_the_cap_queues_a_second_visitor_and_closing_a_tab_ends_its_run(browser, one_slot_server):
    url = f"{one_slot_server.url}/train"
    first = browser.new_context().new_page()
    second = browser.new_context().new_page()
    for tab in (first, second):
        tab.set_default_timeout(60_000)  # as the page fixture's: a just-started server on a busy machine
    try:
        first.goto(url)
        first.locator(".st-key-train_start button").click()
        first.wait_for_function("() => /step [1-9]/.test(document.body.innerText)")
        second.goto(url)
        second.locator(".st-key-train_start button").click()
        second.wait_for_selector("text=Waiting: you are next in line")
        first.context.close()  # the first visitor leaves mid-run
        second.wait_for_function("() => /step [1-9]/.test(document.body.innerText)")
    except Exception:
        second.screenshot(path=str(one_slot_server.log_path.with_suffix(".second.png")))
        raise
    finally:
        second.context.close()


def test_the_autoencoder_preset_trains_an_autoencoder_and_says_it_has_no_kl(page, server):
    page.goto(f"{server.url}/train")
    page.locator(".st-key-preset_ae button").click()
    page.wait_for_selector("text=greyed out")  # β and the other KL settings are switched off for it
    wait_idle(page)
    epochs = page.locator(".st-key-train_epochs input")
    epochs.fill("2")
    epochs.press("Enter")
    wait_idle(page)
    page.locator(".st-key-train_start button").click()
    page.wait_for_selector("text=An autoencoder has no KL term")
    page.wait_for_selector("text=Training finished.", timeout=120_000)
    wait_idle(page)
    titles = page.locator(".st-key-train_live [data-testid='stVegaLiteChart']").evaluate_all(
        "els => els.map(e => e.innerText)")
    assert not any("KL" in t for t in titles), titles  # no KL, β or KL heatmap chart for it
    assert page.locator("[data-testid='stException']").count() == 0
