"""AppTest: the Lessons page answers the six questions, with captions computed from what each figure draws, and
each lesson opens its full page on the same view."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from explorer.checkpoint import bundled_checkpoints, load_checkpoint
from explorer.datafiles import load_dataset
from explorer.glossary import TERMS
from explorer.history import history_path, load_history
from explorer.latent import encode_dataset
from explorer.lessons import forming, paths, sampling
from explorer.lessons.common import typical_row
from explorer.reader import reader_for
from explorer.ui.lessons.page import GLOSSARY, LESSONS
from explorer.vectors import class_reader
from tests.app.conftest import APP, no_exception, plotly_array

PAGE = "explorer/ui/pages/lessons.py"


def _bundled(name: str):
    checkpoint = load_checkpoint(bundled_checkpoints()[name])
    return checkpoint, encode_dataset(checkpoint.model, load_dataset("mnist5k"), "test")


def _captions(at) -> list[str]:
    return [c.value for c in at.caption]


def _visit(app, lesson: str | None = None):
    """The Lessons page, on one lesson's tab (the first when None): only the open tab is computed."""
    at = app(PAGE)
    if lesson is not None:
        at.session_state["lesson"] = next(label for label in (*LESSONS, GLOSSARY) if label.startswith(lesson))
        at.run()
    no_exception(at)
    return at


def test_six_lessons_each_with_pictures_an_answer_and_a_way_into_the_full_page(app):
    charts = {"a": {"lesson_a_sigma", "lesson_a_reach"},
              "b": {"lesson_b_norms", "lesson_b_forces", *(f"lesson_b_beta_{b}" for b in (0, 1, 50))}, "c": set(),
              "d": {"lesson_d_play", *(f"lesson_d_epoch_{i}" for i in (0, 5, 10, 24))}, "e": {"lesson_e_measured"},
              "f": set()}
    for letter, keys in charts.items():
        at = _visit(app, letter)
        assert [h.value.split(".")[0] for h in at.header] == [letter]  # one lesson drawn: the open tab's
        assert {c.key for c in at.get("plotly_chart")} == keys, letter
        assert len(at.success) == (0 if letter == "f" else 1)  # f's answer comes with its one click
        assert at.button(key=f"next_{letter}")
        if letter != "f":
            assert at.button(key=f"lesson_{letter}_open")
    at = _visit(app, "Words")
    assert all(f"**{term}**" in at.markdown[-1].value for term in TERMS)  # the glossary, every word once


def test_next_opens_the_following_lesson_and_the_tab_is_in_the_link(app):
    at = _visit(app)
    at.button(key="next_a").click().run()
    assert [h.value for h in at.header][0].startswith("b. What is wrong with a plain autoencoder")
    assert at.query_params["lesson"] in ("b. Autoencoder vs VAE", ["b. Autoencoder vs VAE"])


def test_the_captions_state_what_their_figures_draw(app):
    data = load_dataset("mnist5k")
    at = _visit(app, "a")
    text = _captions(at) + _captions(_visit(app, "c")) + _captions(_visit(app, "d"))
    checkpoint, latents = _bundled("mnist5k-z16")
    bubble = sampling.bubble_draws(checkpoint.model, latents, typical_row(latents, 3))
    assert sampling.draws_caption(bubble, data.label_names) in text
    sigma = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]["y"]  # the bars the caption describes
    assert f"from {min(plotly_array(sigma)):.2f} to {max(plotly_array(sigma)):.2f}" in text[0]
    lesson = paths.path_lesson(checkpoint.model, latents, class_reader(reader_for(data)))
    assert [paths.path_caption(lesson, p, data.label_names, data.labels) in text for p in lesson.paths] == [True, True]
    z2, latents2 = _bundled("mnist5k-z2")
    history = load_history(history_path(bundled_checkpoints()["mnist5k-z2"]), fingerprint=z2.fingerprint)
    for stage in (forming.stages(history)[i] for i in forming.small_multiples(history)):
        assert forming.stage_caption(stage) in text
    assert "leaves gaps" not in " ".join(text)


def test_one_click_scores_the_unusual_images_with_the_blank_image_caveat_in_sight(app):
    at = _visit(app, "f")
    assert not at.warning and "lesson_f_histogram" not in {c.key for c in at.get("plotly_chart")}
    at.button(key="lesson_f_score").click().run()
    no_exception(at)
    assert "lesson_f_histogram" in {c.key for c in at.get("plotly_chart")}
    [warning] = at.warning
    assert warning.value.startswith("Careful: a blank image scores higher than every test digit.")
    assert any("3 of 4 are flagged" in c for c in _captions(at))
    at.run()  # it stays scored on the next run
    assert "lesson_f_histogram" in {c.key for c in at.get("plotly_chart")}


def test_the_path_lesson_opens_explore_on_the_same_path(app):
    at = _visit(app, "c")
    _, latents = _bundled("mnist5k-z16")
    at.button(key="lesson_c_open").click().run()
    no_exception(at)
    assert at.session_state["model_name"] == "mnist5k-z16"
    assert at.session_state["visitor"].picks == [typical_row(latents, 3), typical_row(latents, 8)]
    assert at.get_by_key("interp_strip") is not None and at.subheader[0].value == "The path from A to B, decoded"


def test_the_vector_lesson_opens_vectors_on_the_same_vector(app):
    at = _visit(app, "e")
    at.button(key="lesson_e_open").click().run()
    no_exception(at)
    assert at.session_state["model_name"] == "glyphs-z16"
    assert [at.selectbox(key=k).value for k in ("vec_with", "vec_without", "vec_to")] == [
        "level:bold", "level:regular", "pick:A"]
    assert any(m.value.startswith("**bold vector, scored**") for m in at.markdown)
    assert at.get_by_key("vector_strip") is not None


def test_the_comparison_lesson_opens_compare_on_its_pair(app):
    at = _visit(app, "b")
    at.button(key="lesson_b_open").click().run()
    no_exception(at)
    assert [at.selectbox(key=k).value for k in ("compare_a", "compare_b")] == ["mnist5k-ae-z16", "mnist5k-z16"]


def test_a_link_to_a_lesson_that_does_not_exist_says_so_and_opens_the_first():
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params.update(lesson="z. <b>nope</b>")
    at.switch_page(PAGE).run()
    no_exception(at)
    (warning,) = [w.value.replace("\\", "") for w in at.warning]
    assert "lesson='z. <b>nope</b>' is not one of the lessons, so the first is open" in warning
