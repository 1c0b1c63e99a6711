"""In real Chromium: a shared link opens the same view in a fresh browser; a tampered one shows defaults and a
notice."""

from __future__ import annotations

from tests.e2e.conftest import click_point, open_and_pick_a, settled_count, wait_for_map, wait_idle

STRIP = ".st-key-interp_strip [data-testid='stImage']"


def test_a_shared_link_opens_the_same_picks_and_path_in_a_fresh_browser(browser, server, page):
    _, second = open_and_pick_a(page, server.url)
    click_point(page, *map(float, second))
    page.wait_for_selector(STRIP)
    wait_idle(page)
    page.get_by_text("spherical (slerp)").click()
    wait_idle(page)
    page.wait_for_function("() => location.search.includes('interp=spherical')")
    link = page.url
    picked = [page.locator(f".st-key-pick_{tag} p").first.inner_text() for tag in "AB"]

    fresh = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    try:
        fresh.goto(link)
        fresh.wait_for_selector(STRIP)
        wait_idle(fresh)
        assert [fresh.locator(f".st-key-pick_{tag} p").first.inner_text() for tag in "AB"] == picked
        assert settled_count(fresh, STRIP, 12) == 12
        assert fresh.get_by_role("radio", name="spherical (slerp)").is_checked()
        assert fresh.locator("[data-testid='stAlertContentWarning']").count() == 0
    finally:
        fresh.context.close()


def test_a_tampered_link_shows_the_default_view_and_a_notice(page, server):
    page.goto(f"{server.url}/?model=..%2F..%2Fetc%2Fpasswd&proj=umap&nn=1e99&picks=12,abc&steps=-3&split=%00")
    wait_for_map(page)
    wait_idle(page)
    notice = page.locator("[data-testid='stAlertContentWarning']").first.inner_text()
    assert "could not be used" in notice and "../../etc/passwd" in notice and "nn=" in notice and "steps=" in notice
    assert page.locator("[data-testid='stSidebar'] input[aria-label='Model']").input_value() == "mnist5k-z2"
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator(STRIP).count() == 0


def test_a_link_cannot_put_links_or_images_on_the_page(page, server):
    requests = []
    page.on("request", lambda r: requests.append(r.url) if "127.0.0.1:9/" in r.url else None)
    page.goto(f"{server.url}/?model=%21%5Bx%5D%28http%3A%2F%2F127.0.0.1%3A9%2Ft.png%29"
              "&nn=%5Blog+in+again%5D%28http%3A%2F%2F127.0.0.1%3A9%2Fx%29")
    notice = page.locator("[data-testid='stAlertContentWarning']").first
    notice.wait_for()
    wait_idle(page)
    assert "![x](http" in notice.inner_text() and "[log in again](http" in notice.inner_text()  # shown as typed
    assert notice.locator("a, img").count() == 0 and requests == []
