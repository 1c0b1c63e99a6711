"""AppTest: every control of the explore page, picking by injecting what the map sends back."""

from __future__ import annotations

import pickle

from explorer.checkpoint import bundled_checkpoints
from explorer.data import load_dataset, split_indices
from tests.app.conftest import image_urls, no_exception, select_points

TEST_ROWS = load_dataset("mnist5k").test_index


def test_starts_on_the_bundled_2d_model_with_an_identity_map(app):
    at = app()
    no_exception(at)
    assert at.selectbox(key="model_name").value == "mnist5k-z2"
    assert at.selectbox(key="proj").value == "identity"
    assert "1,000 test images, latent means, by Identity" in at.caption[0].value
    assert len(at.get("plotly_chart")) == 1
    assert at.button(key="clear_picks").proto.disabled  # nothing picked yet


def test_one_click_shows_the_point_then_a_second_decodes_the_path(app):
    at = app()
    select_points(at, TEST_ROWS[0])
    no_exception(at)
    assert at.session_state["visitor"].picks == [TEST_ROWS[0]]
    pick = at.get_by_key("pick_A")
    assert f"row {TEST_ROWS[0]}" in pick.markdown[0].value and "label" in pick.markdown[0].value
    assert [i.proto.imgs[0].caption for i in pick.image] == ["image", "reconstruction"]
    assert "mean μ = [" in pick.caption[0].value and "σ = [" in pick.caption[0].value
    select_points(at, TEST_ROWS[1])
    assert at.session_state["visitor"].picks == list(TEST_ROWS[:2])
    assert len(image_urls(at, "interp_strip")) == 12  # A, 10 decoded steps, B
    assert len(at.get("plotly_chart")) == 2  # the map, and the path drawn on a second chart
    assert {"download_strip_png", "download_strip_gif"} <= {b.key for b in at.download_button}


def test_a_third_click_keeps_the_newest_two_and_rerun_does_not_repick(app):
    at = app()
    for row in TEST_ROWS[:3]:
        select_points(at, row)
    assert at.session_state["visitor"].picks == list(TEST_ROWS[1:3])
    at.run()  # the chart re-sends the same selection on every rerun: no change
    assert at.session_state["visitor"].picks == list(TEST_ROWS[1:3])


def test_steps_and_interpolation_type_change_the_strip(app):
    at = app()
    select_points(at, TEST_ROWS[0])
    select_points(at, TEST_ROWS[500])
    linear = image_urls(at, "interp_strip")
    at.slider(key="steps").set_value(5).run()
    assert len(image_urls(at, "interp_strip")) == 7
    linear5 = image_urls(at, "interp_strip")
    at.radio(key="interp").set_value("slerp").run()
    no_exception(at)
    slerp5 = image_urls(at, "interp_strip")
    assert len(slerp5) == 7 and slerp5[0] == linear5[0] and slerp5[-1] == linear5[-1]  # same ends
    assert slerp5[1:-1] != linear5[1:-1] and len(linear) == 12  # a different path between them


def test_clear_picks(app):
    at = app()
    select_points(at, TEST_ROWS[0])
    select_points(at, TEST_ROWS[1])
    at.button(key="clear_picks").click().run()
    assert at.session_state["visitor"].picks == []
    assert len(at.get("plotly_chart")) == 1
    try:
        at.get_by_key("interp_strip")
        raise AssertionError("the strip should be gone")
    except KeyError:
        pass


def test_a_box_selection_gives_a_hint_instead_of_picks(app):
    at = app()
    select_points(at, *TEST_ROWS[:40])
    assert at.session_state["visitor"].picks == []
    assert any("holds 40 points" in i.value for i in at.info)


def test_ellipses_and_pca_on_a_2d_model(app):
    at = app()
    at.checkbox(key="show_sigma").check().run()
    no_exception(at)
    assert '"mode":"lines"' in at.get("plotly_chart")[0].proto.spec  # the ellipse traces
    at.selectbox(key="proj").set_value("pca").run()
    no_exception(at)
    assert "by PCA" in at.caption[0].value and "PC1 (" in at.get("plotly_chart")[0].proto.spec


def test_16d_model_offers_pca_umap_and_tsne_with_their_parameters(app):
    at = app()
    at.selectbox(key="model_name").set_value("mnist5k-z16").run()
    assert at.selectbox(key="proj").options == ["PCA", "UMAP", "t-SNE"]
    assert "by PCA" in at.caption[0].value
    at.selectbox(key="proj").set_value("tsne").run()
    no_exception(at)
    assert "by t-SNE" in at.caption[0].value
    at.slider(key="perp").set_value(15).run()
    at.number_input(key="seed").set_value(2).run()
    no_exception(at)
    at.selectbox(key="proj").set_value("umap").run()
    at.slider(key="nn").set_value(10).run()
    at.slider(key="md").set_value(0.3).run()
    no_exception(at)
    assert "by UMAP" in at.caption[0].value
    select_points(at, TEST_ROWS[0])
    select_points(at, TEST_ROWS[1])
    assert len(image_urls(at, "interp_strip")) == 12
    assert any("approximate" in c.value for c in at.caption)


def test_the_train_split(app):
    at = app()
    select_points(at, TEST_ROWS[0])
    at.radio(key="split").set_value("train").run()
    assert "4,000 training images" in at.caption[0].value and at.session_state["visitor"].picks == []
    at.radio(key="split").set_value("all").run()
    assert "5,000 images (the whole data set)" in at.caption[0].value


def test_a_bad_upload_shows_one_message_and_the_model_stays(app, tmp_path):
    at = app()
    at.file_uploader(key="upload_checkpoint").set_value(("evil.safetensors", pickle.dumps({"a": 1}), "application/octet-stream")).run()
    no_exception(at)
    assert len(at.error) == 1 and "pickle or torch.save file" in at.error[0].value
    assert "current model stays" in at.error[0].value
    assert at.selectbox(key="model_name").value == "mnist5k-z2" and len(at.get("plotly_chart")) == 1


def test_a_good_upload_becomes_the_model_in_use(app):
    at = app()
    payload = bundled_checkpoints()["mnist5k-z16"].read_bytes()
    at.file_uploader(key="upload_checkpoint").set_value(("mine.safetensors", payload, "application/octet-stream")).run()
    no_exception(at)
    assert at.selectbox(key="model_name").value == "uploaded: mine.safetensors"
    assert "by PCA" in at.caption[0].value  # its data (mnist5k) is a built-in, so the map shows


def test_models_on_8x8_grey_and_32x32_rgb_data(app):
    at = app()
    rgb_test_rows = split_indices(120)[1]  # the server-side .npz of 120 RGB images has the standard split
    for name, rows in (("digits-cvae", load_dataset("digits").test_index), ("rgb32-conv", rgb_test_rows)):
        at.selectbox(key="model_name").set_value(name).run()
        no_exception(at)
        select_points(at, rows[0])
        select_points(at, rows[1])
        no_exception(at)
        assert len(image_urls(at, "interp_strip")) == 12, name
        at.button(key="clear_picks").click().run()


def test_exports_of_the_map_and_model(app):
    at = app()
    keys = {b.key for b in at.download_button}
    assert {"export_csv", "export_projector", "export_checkpoint"} <= keys
