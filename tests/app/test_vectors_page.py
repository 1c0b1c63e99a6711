"""AppTest: the Vectors page: groups kept from the Explore map, attribute vectors, A - B + C, and their link."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from explorer.attributes import MEASURES
from explorer.checkpoint import load_checkpoint
from explorer.datafiles import load_dataset
from explorer.groups import positions, rows_text
from explorer.latent import encode_dataset
from explorer.ui.sidebar import DEFAULT_MODEL
from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP, image_urls, no_exception, select_points

PAGE = "explorer/ui/pages/vectors.py"
DATA = load_dataset("mnist5k")
TEST_ROWS = DATA.test_index


def visit(**params) -> AppTest:
    """A first visit to the Vectors page from a link with these parameters."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(params)
    return at.switch_page(PAGE).run()


def lasso(at, rows, name):
    select_points(at, *rows)
    at.text_input(key="group_name").input(name).run()
    return at.button(key="save_group").click().run()


def test_a_measured_attribute_makes_a_scored_vector_before_any_group(app):
    at = app(PAGE)
    no_exception(at)
    assert "No groups yet" in at.info[0].value
    assert at.selectbox(key="vec_with").value == "most:ink" and at.selectbox(key="vec_without").value == "least:ink"
    assert at.selectbox(key="vec_to").value == "example:"  # one real thin digit, not a label's blurred mean
    caption = next(c.value for c in at.caption if "vector = mean latent of" in c.value).replace("\\", "")  # unescaped
    row = int(re.search(r"The strip decodes row (\d+) \(digit \d\)", caption).group(1))
    latents = encode_dataset(load_checkpoint(f"checkpoints/{DEFAULT_MODEL}.safetensors").model, DATA, "test")
    least = positions("least:ink", latents, {}, [], {"ink": MEASURES["ink"](DATA.pixels(TEST_ROWS))})
    assert row in TEST_ROWS[least] and "is a real image of least ink (a quarter): of the 16 nearest" in caption
    assert any("ink vector, scored" in m.value for m in at.markdown)
    assert len(image_urls(at, "vector_strip")) == 9 and len(image_urls(at, "arithmetic_strip")) == 4


def test_two_lasso_groups_make_a_vector_applied_to_a_pick(app):
    at = app()
    sevens = TEST_ROWS[DATA.labels[TEST_ROWS] == 7][:30]
    ones = TEST_ROWS[DATA.labels[TEST_ROWS] == 1][:30]
    lasso(at, sevens, "sevens")
    lasso(at, ones, "ones")
    select_points(at, TEST_ROWS[0])
    at.switch_page(PAGE).run()
    no_exception(at)
    assert at.selectbox(key="vec_with").value == "group:sevens"
    assert at.selectbox(key="vec_without").value == "group:ones"
    at.selectbox(key="vec_to").set_value("pick:A").run()
    strip = image_urls(at, "vector_strip")
    assert len(strip) == 9
    assert [e.label for e in at.expander][:2] == ["sevens: 30 images (30 in this split)",
                                                  "ones: 30 images (30 in this split)"]
    caption = next(c.value for c in at.caption if "vector = mean latent of group: sevens" in c.value)
    assert "30 images" in caption and "length is" in caption
    at.selectbox(key="vec_to").set_value("label:3").run()
    assert image_urls(at, "vector_strip") != strip
    link = parse_qs(urlsplit(at.get("code")[0].value).query)  # the share box's link
    assert link["vec_with"] == ["group: sevens"] and link["vec_to"] == ["label: 3"]  # as the bound widgets read them
    assert link["groups"] == [f"sevens:{rows_text(sevens)};ones:{rows_text(ones)}"]


def test_arithmetic_on_picks_and_a_deleted_group_falls_back(app):
    at = app()
    lasso(at, TEST_ROWS[:20], "first")
    select_points(at, TEST_ROWS[30])
    select_points(at, TEST_ROWS[40])
    at.switch_page(PAGE).run()
    assert at.selectbox(key="arith_a").value == "pick:A"  # X starts from a pick when there is one
    at.selectbox(key="arith_b").set_value("pick:B").run()
    at.selectbox(key="arith_c").set_value("group:first").run()
    no_exception(at)
    assert len(image_urls(at, "arithmetic_strip")) == 4
    at.button(key="delete_group_0").click().run()
    no_exception(at)
    assert at.selectbox(key="arith_c").value != "group:first"
    assert "group:first" not in at.selectbox(key="arith_c").options


def test_a_link_brings_its_groups_and_choices(app):
    fresh = visit(groups=f"from link:{rows_text(TEST_ROWS[:12])}", vec_with="group: from link")
    no_exception(fresh)
    assert fresh.selectbox(key="vec_with").value == "group:from link"
    assert not fresh.warning


def test_a_damaged_link_gets_one_notice(app):
    fresh = visit(groups="x:~!!!;<b>y</b>:1")
    no_exception(fresh)
    assert "its groups could not be read" in fresh.warning[0].value
    assert "<b>" not in fresh.warning[0].value


def test_a_links_unknown_choices_join_the_links_one_notice(app):
    fresh = visit(vec_with="group: <b>nope</b>", arith_a="nor this", model="nor-this-model")
    no_exception(fresh)
    (warning,) = [w.value.replace("\\", "") for w in fresh.warning]  # one message for all three
    assert warning.startswith("This link had settings that could not be used") and "model 'nor-this-model'" in warning
    assert "vec_with='group: <b>nope</b>' is not one of the attributes" in warning
    assert "('Images with the attribute' shows most ink (a quarter))" in warning and "arith_a='nor this'" in warning
    assert fresh.selectbox(key="vec_with").value == "most:ink"
    fresh.run()
    assert [w.value.replace("\\", "") for w in fresh.warning] == [warning]  # kept until read, said once
    fresh.button(key="url_notices_ok").click().run()
    assert not fresh.warning


def test_the_work_a_page_asks_for_is_capped_with_a_lower_k():
    from explorer.config import ScoreConfig
    from explorer.ui.scores import affordable

    assert affordable(ScoreConfig(k=500), 1_000).k == 500
    assert affordable(ScoreConfig(k=500), 5_000).k == 200
    assert affordable(ScoreConfig(k=100), 5_000).k == 100
