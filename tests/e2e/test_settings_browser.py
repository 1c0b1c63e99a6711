"""In real Chromium: what a visitor sets survives page switches, in the page and in the address bar."""

from __future__ import annotations

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e.conftest import wait_for_map, wait_idle

RUNNING = "[data-testid='stApp'][data-test-script-state='running']"


def number_input(page, label: str):
    return page.get_by_label(label, exact=True)


def set_number(page, label: str, value: str, tries: int = 3) -> None:
    """Type a value and commit it with Enter, as a visitor does; typed while the previous change's rerun redraws the
    widget, the text can be lost, so a visitor (and this) checks it stuck and types it again."""
    box = number_input(page, label)
    for _ in range(tries):
        box.fill(value)
        box.press("Enter")
        try:  # the run the value starts: "not running" can still be the state from before it (then a page switch
            page.wait_for_selector(RUNNING, timeout=3_000)  # can leave before the server has the value)
        except PlaywrightTimeout:
            pass  # a quick run has come and gone
        wait_idle(page)
        if float(box.input_value()) == float(value):
            return
    raise AssertionError(f"{label} did not keep {value} after {tries} tries (it shows {box.input_value()})")


def go(page, name: str) -> None:
    page.get_by_role("link", name=name).click()
    page.wait_for_selector("h1:has-text('"
                           f"{ {'Train': 'Train a VAE', 'Generate': 'Generate', 'Explore': 'Explore'}[name]}')")
    wait_idle(page)


def test_train_settings_survive_a_visit_to_another_page(page, server):
    page.goto(f"{server.url}/train")
    page.wait_for_selector("h1:has-text('Train a VAE')")
    wait_idle(page)
    set_number(page, "Latent dimensions", "16")
    set_number(page, "Epochs", "5")
    set_number(page, "Free bits (nats per dimension)", "0.5")
    go(page, "Generate")
    go(page, "Train")
    assert number_input(page, "Latent dimensions").input_value() == "16"
    assert number_input(page, "Epochs").input_value() == "5"
    assert number_input(page, "Free bits (nats per dimension)").input_value() == "0.50"


def choose(page, label: str, option: str) -> None:
    page.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def test_projection_parameters_survive_a_switch_and_back(page, server):
    page.goto(f"{server.url}/?model=mnist5k-z16")
    wait_for_map(page)
    wait_idle(page)
    choose(page, "Projection", "UMAP")
    slider = page.locator("[data-testid='stSlider']").filter(has_text="Neighbours")
    thumb = slider.get_by_role("slider")
    thumb.focus()
    for _ in range(15):  # 15 -> 30, one step a key, sent on each key press
        thumb.press("ArrowRight")
    wait_idle(page)
    set_number(page, "Seed", "1")
    page.wait_for_function("() => location.search.includes('nn=30') && location.search.includes('seed=1')")
    choose(page, "Projection", "PCA")
    page.wait_for_function("() => !location.search.includes('nn=')")
    choose(page, "Projection", "UMAP")
    page.wait_for_function("() => location.search.includes('nn=30') && location.search.includes('seed=1')")
    assert slider.locator("[data-testid='stSliderThumbValue']").inner_text() == "30"
    assert number_input(page, "Seed").input_value() == "1"
    go(page, "Generate")
    go(page, "Explore")
    wait_for_map(page)
    page.wait_for_function("() => location.search.includes('nn=30') && location.search.includes('seed=1')")
    assert page.locator("[data-testid='stException']").count() == 0
