"""AppTest: a shared link restores the view; a tampered one falls back to defaults with a notice."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from explorer.data import load_dataset
from tests.app.conftest import APP, image_urls, no_exception, select_points

TEST_ROWS = load_dataset("mnist5k").test_index


def open_link(models_dir, monkeypatch, page: str | None = None, **params) -> AppTest:
    monkeypatch.setenv("EXPLORER_MODELS_DIR", str(models_dir))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({k: str(v) for k, v in params.items()})
    if page:
        at.run()
        at.switch_page(page)
    return at.run()


def test_a_link_restores_model_projection_picks_and_path(models_dir, monkeypatch):
    a, b = TEST_ROWS[3], TEST_ROWS[400]
    at = open_link(models_dir, monkeypatch, model="mnist5k-z16", proj="tsne", perp=30, seed=0,
                   picks=f"{a},{b}", interp="slerp", steps=6)
    no_exception(at)
    assert at.selectbox(key="model_name").value == "mnist5k-z16" and at.selectbox(key="projection").value == "tsne"
    assert at.slider(key="tsne_perplexity").value == 30 and at.radio(key="interp_method").value == "slerp"
    assert at.session_state["picks"] == [a, b] and len(image_urls(at, "interp_strip")) == 8
    assert not at.warning  # nothing in the link was refused
    # The shipped t-SNE map was used: its path placement is by neighbours, so approximate.
    assert any("approximate" in c.value for c in at.caption)


def test_the_url_follows_the_view(app):
    at = app()
    select_points(at, TEST_ROWS[0])
    select_points(at, TEST_ROWS[1])
    at.radio(key="interp_method").set_value("slerp").run()
    assert at.query_params["picks"] == f"{TEST_ROWS[0]},{TEST_ROWS[1]}"
    assert at.query_params["interp"] == "slerp" and at.query_params["model"] == "mnist5k-z2"
    assert at.query_params["proj"] == "identity" and at.query_params["steps"] == "10"


@pytest.mark.parametrize(
    "params, notice",
    [
        (dict(model="../../etc/passwd"), "the model '../../etc/passwd' is not one of this server's models"),
        (dict(model="/work/main/checkpoints/mnist5k-z16.safetensors"), "is not one of this server's models"),
        (dict(split="evil"), "the split 'evil' is not test, train or all"),
        (dict(proj="umap", nn="abc"), "nn='abc' is not a number from 2 to 100"),
        (dict(proj="identity", md="nan"), "md='nan' is not a number"),
        (dict(steps="1000"), "steps='1000' is not a number from 3 to 24"),
        (dict(picks="99999999,x"), "the picked points are not in this model's data split"),
        (dict(picks="4,0"), "the picked points are not in this model's data split"),  # row 0 is a training image
        (dict(interp="cubic"), "the interpolation 'cubic' is not linear or slerp"),
        (dict(model="mnist5k-z16", proj="identity"), "the projection 'identity' is not available for this model"),
    ],
)
def test_tampered_links_fall_back_to_defaults_with_a_notice(models_dir, monkeypatch, params, notice):
    at = open_link(models_dir, monkeypatch, **params)
    no_exception(at)
    assert any(notice in w.value for w in at.warning), [w.value for w in at.warning]
    assert at.session_state["picks"] == []
    assert len(at.get("plotly_chart")) == 1  # the default view still shows its map
    at.button(key="url_notices_ok").click().run()
    assert not at.warning


def test_a_generate_link_sets_the_sliders_and_label(models_dir, monkeypatch):
    at = open_link(models_dir, monkeypatch, page="explorer/ui/pages/generate.py", model="digits-cvae",
                   z="1.5,-2", label="7")
    no_exception(at)
    assert [at.slider(key="z_0").value, at.slider(key="z_1").value] == [1.5, -2.0]
    assert at.selectbox(key="condition_label").value == 7 and not at.warning


def test_a_generate_link_with_the_wrong_number_of_values(models_dir, monkeypatch):
    at = open_link(models_dir, monkeypatch, page="explorer/ui/pages/generate.py", z="1,2,3,9", label="x")
    assert any("z needs 2 numbers from -4 to 4" in w.value and "label" in w.value for w in at.warning)
    assert [at.slider(key="z_0").value, at.slider(key="z_1").value] == [0.0, 0.0]
