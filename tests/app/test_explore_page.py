"""AppTest: the explorer page starts on the bundled model and shows its map."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


def test_starts_on_the_bundled_2d_model_with_its_map():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.selectbox(key="model_name").value == "mnist5k-z2"
    assert "2-D latent" in at.caption[0].value and "1,000 test images" in at.caption[0].value
    charts = at.get("plotly_chart")
    assert len(charts) == 1


def test_switching_to_the_16d_model_projects_with_pca():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.selectbox(key="model_name").set_value("mnist5k-z16").run()
    assert not at.exception
    assert "16-D latent" in at.caption[0].value and "by pca" in at.caption[0].value
