"""In real Chromium: the Lessons page draws every lesson's pictures, its map of the training plays, one click scores
the unusual images, a word's tooltip defines it, and a lesson opens its full page on the same view."""

from __future__ import annotations

from tests.e2e.conftest import settled_count, wait_for_map, wait_idle

LESSONS = "/lessons"
PLAY = ".st-key-lesson_d_play"


def _open(page, server, lesson: str = "") -> None:
    """The Lessons page, on the tab whose label starts with `lesson` (the first when empty)."""
    page.goto(f"{server.url}{LESSONS}")
    page.wait_for_selector("h1:has-text('What a VAE learns, in six questions')")
    wait_idle(page, timeout=120_000)
    if lesson:
        page.get_by_role("tab", name=lesson).click()
        page.wait_for_selector(f"h2:has-text('{lesson[0]}. ')")
        wait_idle(page, timeout=120_000)


def _epoch_shown(page) -> str:
    """The animated map's slider label ('epoch 0', ...), as Plotly draws it."""
    return page.locator(f"{PLAY} .slider-container .slider-label").first.text_content() or ""


def test_every_lessons_pictures_are_drawn_and_the_forming_map_plays(page, server):
    pictures = {"a": ["lesson_a_sigma", "lesson_a_reach"], "b": ["lesson_b_norms", "lesson_b_forces"],
                "d": ["lesson_d_play"], "e": ["lesson_e_measured"]}
    strips = {"a": [("lesson_a_draws", 9)], "c": [("lesson_c_linear", 10), ("lesson_c_slerp_nearest", 10)],
              "e": [("lesson_e_strip", 9)]}
    _open(page, server)
    for letter in "abcde":
        if letter != "a":  # through the tabs, as a reader goes: Next at the end of each lesson
            page.locator(f".st-key-next_{chr(ord(letter) - 1)} button").click()
            page.wait_for_selector(f"h2:has-text('{letter}. ')")
            wait_idle(page, timeout=120_000)
        for key in pictures.get(letter, []):
            page.locator(f".st-key-{key} .js-plotly-plot").wait_for()
        for key, count in strips.get(letter, []):
            assert settled_count(page, f".st-key-{key} [data-testid='stImage'] img", count) == count, key
    assert "lesson=e." in page.url  # the open lesson is in the link
    _open(page, server, "d. The map forming")
    page.locator(PLAY).scroll_into_view_if_needed()
    assert _epoch_shown(page).strip() == "epoch 0"
    page.locator(f"{PLAY} .updatemenu-button").first.click()  # ▶ Play
    page.wait_for_function(
        "sel => !/epoch 0$/.test(document.querySelector(sel + ' .slider-container .slider-label')?.textContent || '')",
        arg=PLAY, timeout=20_000)
    assert _epoch_shown(page).strip() != "epoch 0"


def test_one_click_scores_the_unusual_images_and_a_words_tooltip_defines_it(page, server):
    _open(page, server, "f. Flagging the unusual")
    page.locator(".st-key-lesson_f_score button").click()
    assert settled_count(page, ".st-key-lesson_f_images [data-testid='stImage'] img", 4, timeout=60_000) == 4
    page.locator(".st-key-lesson_f_histogram .js-plotly-plot").wait_for()
    warning = page.locator("[data-testid='stAlertContentWarning']").first
    assert "Careful: a blank image scores higher than every test digit." in warning.inner_text()
    # The (?) beside lesson f's opening words defines log p(x), the IWAE bound and nats.
    intro = page.locator("[data-testid='stMarkdown']:has-text('A VAE gives every image a score')")
    intro.locator("[data-testid='stTooltipIcon']").first.hover()
    tooltip = page.locator("[data-testid='stTooltipContent']")
    tooltip.wait_for()
    assert "IWAE bound" in tooltip.inner_text() and "nats" in tooltip.inner_text()


def test_the_path_lesson_opens_explore_with_both_ends_picked_and_the_path_decoded(page, server):
    _open(page, server, "c. From a 3 to an 8")
    page.locator(".st-key-lesson_c_open button").scroll_into_view_if_needed()
    assert page.evaluate("() => document.querySelector(\"[data-testid='stMain']\").scrollTop") > 200  # at the end
    page.locator(".st-key-lesson_c_open button").click()
    wait_for_map(page)  # Explore, the page served at /
    page.wait_for_selector("#path", timeout=120_000)  # opened at the path's heading, not where the lesson was
    page.wait_for_function("() => { const top = document.getElementById('path').getBoundingClientRect().top; "
                           "return top >= 0 && top < window.innerHeight - 150; }")  # in view, with its controls
    # (scrolled to the heading; the pick panels above may still grow a little after, so not pinned to the top)
    page.wait_for_selector(".st-key-interp_strip [data-testid='stImage'] img")
    assert settled_count(page, ".st-key-interp_strip [data-testid='stImage']", 12) == 12  # A, 10 steps, B
    assert page.locator("[data-testid='stSidebar'] input[aria-label='Model']").input_value() == "mnist5k-z16"
    assert "lesson=" not in page.url  # the lesson's tab stays behind


def test_the_prior_lesson_opens_generate_at_its_prior_samples(page, server):
    _open(page, server)
    page.locator(".st-key-lesson_a_open button").click()
    page.wait_for_selector("#samples-from-the-prior", timeout=120_000)
    wait_idle(page, timeout=120_000)
    page.wait_for_function("() => { const top = document.getElementById('samples-from-the-prior')"
                           ".getBoundingClientRect().top; return top >= 0 && top < 200; }")  # the heading in sight
    assert "/generate" in page.url
