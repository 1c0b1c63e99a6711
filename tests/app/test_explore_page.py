"""AppTest: every control of the explore page, picking by injecting what the map sends back."""

from __future__ import annotations

import json
import pickle

import numpy as np

from explorer.checkpoint import bundled_checkpoints, load_checkpoint
from explorer.compare import prior_fit
from explorer.latent import encode_dataset
from explorer.numbers import share
from explorer.data import split_indices
from explorer.datafiles import load_dataset
from explorer.webdecoder import read_bundle, read_payload
from explorer.ui.explore import ExploreState
from tests.app.conftest import image_urls, live_payloads, no_exception, select_points, state_of

TEST_ROWS = load_dataset("mnist5k").test_index


def bundled_latents(name: str):
    model = load_checkpoint(bundled_checkpoints()[name]).model
    return encode_dataset(model, load_dataset("mnist5k"), "test")


def figure(at, key: str) -> dict:
    """The Plotly figure a chart was sent, by the chart's key."""
    return json.loads(next(c for c in at.get("plotly_chart") if c.key == key).proto.spec)


def traces(at, key: str, **match) -> list[dict]:
    return [t for t in figure(at, key)["data"] if all(t.get(k) == v for k, v in match.items())]


def test_starts_on_the_bundled_2d_model_with_an_identity_map(app):
    at = app()
    no_exception(at)
    assert at.selectbox(key="model_name").value == "mnist5k-z2"
    assert at.selectbox(key="proj").value == "identity"
    assert "1,000 test images, latent means, by Identity" in at.caption[0].value
    assert len(at.get("plotly_chart")) == 1
    assert at.button(key="clear_picks").proto.disabled  # nothing picked yet


def browser_view(at, chart: str = "latent_map") -> dict:
    """What the page asks the browser to draw over a map (explorer.ui.live_decode.map_view)."""
    return read_bundle(live_payloads(at)[f"hover_{chart}"])[0]["view"]


def test_one_click_shows_the_point_then_a_second_decodes_the_path(app):
    at = app()
    spec = figure(at, "latent_map")
    select_points(at, TEST_ROWS[0])
    no_exception(at)
    assert figure(at, "latent_map") == spec  # a pick leaves the figure (and so the chart and its zoom) as it was
    instant = browser_view(at)["instant"]  # the browser decodes the path itself when B is clicked
    assert instant == {"a": int(TEST_ROWS[0]), "steps": 10, "method": "linear", "thumb": 60}
    _, sent = read_bundle(live_payloads(at)["hover_latent_map"])
    assert any(key.startswith("latents-") for key in sent)  # ... from the split's means, sent once
    assert at.session_state["visitor"].picks == [TEST_ROWS[0]]
    pick = at.get_by_key("pick_A")
    assert f"row {TEST_ROWS[0]}" in pick.markdown[0].value and "label" in pick.markdown[0].value
    assert [i.proto.imgs[0].caption for i in pick.image] == ["image", "reconstruction"]
    assert "mean μ = [" in pick.caption[0].value and "σ = [" in pick.caption[0].value
    select_points(at, TEST_ROWS[1])
    assert at.session_state["visitor"].picks == list(TEST_ROWS[:2])
    assert len(image_urls(at, "interp_strip")) == 12  # A, 10 decoded steps, B
    nearest = at.get_by_key("interp_nearest")
    assert len(nearest.image) == 10  # under each step, the nearest real image
    captions = [float(i.proto.imgs[0].caption.split()[0]) for i in nearest.image]
    assert captions[0] < 0.01 and captions[-1] < 0.01  # at the ends, A and B themselves
    assert max(captions) > captions[0]
    assert len(at.get("plotly_chart")) == 3  # the map and each pick's σ bars
    marks = browser_view(at)["marks"]  # drawn by the browser over the map, which stays as it was
    assert marks["picks"] == list(TEST_ROWS[:2]) and len(marks["path"]) == 10
    latents = bundled_latents("mnist5k-z2")  # on the identity map the path runs from A's mean to B's
    ends = latents.mu[np.searchsorted(latents.index, TEST_ROWS[:2])]
    assert np.allclose(np.array(marks["path"])[[0, -1]], ends, atol=1e-3)
    assert "instant" not in browser_view(at)  # both picked: the server's strip is there
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


def test_a_box_selection_becomes_a_named_group_and_the_map_lets_go_of_it(app):
    at = app()
    select_points(at, *TEST_ROWS[:40])
    me = at.session_state["visitor"]
    assert me.picks == []
    assert "40 images selected" in at.get_by_key("pending_group").markdown[0].value
    # drawn afresh under a new key: the 40 points no longer travel with each rerun
    assert state_of(at, ExploreState).map_round == 1
    assert [c.key for c in at.get("plotly_chart") if c.key.startswith("latent_map")] == ["latent_map-1"]
    assert browser_view(at, "latent_map-1")["marks"]["selected"] == sorted(TEST_ROWS[:40])  # drawn bright
    assert len(image_urls(at, "pending_group")) == 1  # the mean image
    at.text_input(key="group_name").input("slanted <b>ones</b>").run()
    at.button(key="save_group").click().run()
    assert any("cannot name a group" in e.value for e in at.error)  # markup refused, the selection kept
    at.text_input(key="group_name").input("slanted ones").run()
    at.button(key="save_group").click().run()
    no_exception(at)
    groups = at.session_state["visitor"].groups
    (kept,) = groups.values()
    assert list(kept) == ["slanted ones"] and kept["slanted ones"].rows == tuple(sorted(TEST_ROWS[:40]))
    assert any("Saved the group 'slanted ones': 40 images" in s.value for s in at.success)
    assert at.session_state["visitor"].pending_group == ()
    select_points(at, TEST_ROWS[5])  # a click on the fresh map still picks
    assert at.session_state["visitor"].picks == [TEST_ROWS[5]]
    select_points(at, *TEST_ROWS[100:110])
    at.button(key="save_group").click().run()  # unnamed: numbered after the groups kept
    assert list(at.session_state["visitor"].groups.values())[0].keys() == {"slanted ones", "group 2"}
    outlined = {g["name"]: g["rows"] for g in browser_view(at, "latent_map-2")["marks"]["groups"]}
    assert outlined == {"slanted ones": sorted(TEST_ROWS[:40]), "group 2": sorted(TEST_ROWS[100:110])}
    assert not browser_view(at, "latent_map-2")["marks"]["selected"]  # saved: no longer pending
    assert at.query_params["groups"].startswith("slanted ones:")  # the definitions travel in the link


def test_ellipses_and_pca_on_a_2d_model(app):
    at = app()
    assert at.radio(key="map_marks").value == "points"
    at.radio(key="map_marks").set_value("both").run()
    no_exception(at)
    assert len(traces(at, "latent_map", fill="toself")) == 10  # each label's filled bubbles, ...
    assert len(traces(at, "latent_map", name="prior 2σ")) == 1  # ... and the prior's circles
    latents = bundled_latents("mnist5k-z2")  # the caption's numbers are the drawn bubbles' and means'
    sigma, norms = np.exp(0.5 * latents.logvar), np.linalg.norm(latents.mu, axis=1)
    assert any(f"(σ averages {sigma.mean():.3f}; the prior's is 1), and the prior's circles; 90% of the means lie "
               f"within {np.quantile(norms, 0.9):.2f} of the origin." in c.value for c in at.caption)
    at.selectbox(key="proj").set_value("pca").run()
    no_exception(at)
    assert "by PCA" in at.caption[0].value and "PC1 (" in at.get("plotly_chart")[0].proto.spec
    assert '"fill":"toself"' not in at.get("plotly_chart")[0].proto.spec  # bubbles only on the identity map
    assert not [r for r in at.radio if r.key == "map_marks"]


def test_bubbles_dim_the_points_which_stay_clickable(app):
    at = app()
    at.radio(key="map_marks").set_value("bubbles").run()
    markers = traces(at, "latent_map", mode="markers")
    assert traces(at, "latent_map", fill="toself") and len(markers) == 10
    assert all(t["marker"]["opacity"] <= 0.3 and t["customdata"] for t in markers)  # dimmed, still carrying rows
    select_points(at, TEST_ROWS[3])
    no_exception(at)
    assert at.session_state["visitor"].picks == [TEST_ROWS[3]]


def test_the_bubble_of_bubbles_draws_the_aggregate_posterior_when_opened(app):
    at = app()
    assert len(at.get("plotly_chart")) == 1  # closed: nothing computed, no second chart
    at.session_state["bubble_of_bubbles"] = True
    at.run()
    no_exception(at)
    assert len(at.get("plotly_chart")) == 2
    assert (traces(at, "aggregate_density", type="heatmap", name="q(z)")
            and traces(at, "aggregate_density", name="prior 3σ"))
    fit = prior_fit(bundled_latents("mnist5k-z2"))
    assert any(f"{share(fit.inside)} of the encoded images lie inside the prior's 99% disc, and "
               f"{share(fit.covered)} of prior samples land near one" in c.value for c in at.caption)
    at.selectbox(key="model_name").set_value("mnist5k-ae-z2").run()
    no_exception(at)
    assert any(i.value.startswith("An autoencoder has no bubbles") for i in at.info)
    assert len(at.get("plotly_chart")) == 2 and traces(at, "code_histogram", type="heatmap", name="histogram of codes")
    assert not [r for r in at.radio if r.key == "map_marks"]  # no σ: no bubbles to draw on the map either


def test_a_picks_sigma_shows_as_bars_against_the_priors_one_and_an_autoencoder_has_none(app):
    at = app()
    select_points(at, TEST_ROWS[0])
    pick = at.get_by_key("pick_A")
    bars = figure(at, "sigma_A")
    assert bars["data"][0]["type"] == "bar" and bars["data"][0]["x"] == ["z0", "z1"]
    assert bars["layout"]["shapes"][0]["y0"] == 1.0 and bars["layout"]["annotations"][0]["text"] == "prior σ = 1"
    assert any("the KL term pulls it back toward the prior's 1" in c.value for c in pick.caption)
    at.selectbox(key="model_name").set_value("mnist5k-ae-z2").run()
    select_points(at, TEST_ROWS[1])
    no_exception(at)
    pick = at.get_by_key("pick_A")
    assert "no σ" in pick.caption[0].value and len(at.get("plotly_chart")) == 1


def test_16d_model_offers_pca_umap_tsne_and_pacmap_with_their_parameters(app):
    at = app()
    at.selectbox(key="model_name").set_value("mnist5k-z16").run()
    assert at.selectbox(key="proj").options == ["PCA", "UMAP", "t-SNE", "PaCMAP"]
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
    at.selectbox(key="proj").set_value("pacmap").run()
    at.slider(key="pnn").set_value(12).run()
    no_exception(at)
    assert "by PaCMAP" in at.caption[0].value and not [s for s in at.slider if s.key == "perp"]
    at.selectbox(key="proj").set_value("umap").run()
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
    at.file_uploader(key="upload_checkpoint").set_value(("evil.safetensors", pickle.dumps({"a": 1}),
                                                         "application/octet-stream")).run()
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


def test_a_2d_identity_map_sends_its_decoder_for_the_cursor_and_other_maps_their_images(app):
    at = app()
    header, floats = read_payload(live_payloads(at)["hover_latent_map"])
    assert header["view"]["basis"] == [[1.0, 0.0], [0.0, 1.0]] and header["view"]["chart"] == ".st-key-latent_map"
    assert floats is not None and header["latent_dim"] == 2
    assert any(c.value.startswith("Move the cursor over the map: the image decoded there follows it")
               for c in at.caption)
    at.selectbox(key="proj").set_value("pca").run()
    header, sent = read_bundle(live_payloads(at)["hover_latent_map"])
    assert "basis" not in header["view"]  # a projection's axes are not z: hover shows the point's own image
    assert [b["kind"] for b in header["blobs"]] == ["images"] and not sent  # sent on the first run: a reference now
    at.checkbox(key="images").check().run()  # every point as its image
    assert read_bundle(live_payloads(at)["hover_latent_map"])[0]["view"]["thumbs"] == "always"
    assert "images=true" in [c.value for c in at.sidebar.code][-1]  # the link keeps it


def test_an_unsaved_group_is_dropped_with_the_map_it_came_from(app):
    at = app()
    select_points(at, *TEST_ROWS[-40:])  # rows past the end of the 8x8 digits' data
    assert len(at.session_state["visitor"].pending_group) == 40
    at.selectbox(key="model_name").set_value("digits-cvae").run()
    no_exception(at)
    assert at.session_state["visitor"].pending_group == ()
    select_points(at, 3, 7, 9)  # a group on a conditional model's map, on its own data
    at.button(key="save_group").click().run()
    no_exception(at)
    assert [list(g) for g in at.session_state["visitor"].groups.values() if g] == [["group 1"]]


def test_a_visitor_keeps_at_most_twenty_groups(app):
    from explorer.groups import MAX_GROUPS, make_group

    at = app()
    select_points(at, *TEST_ROWS[:5])
    data = next(iter(at.session_state["visitor"].groups)) if at.session_state["visitor"].groups else None
    kept = at.session_state["visitor"].groups.setdefault(data or load_dataset("mnist5k").fingerprint, {})
    kept.update({f"g{i}": make_group(f"g{i}", [int(TEST_ROWS[i])]) for i in range(MAX_GROUPS)})
    at.button(key="save_group").click().run()
    assert any("You keep 20 groups already" in e.value for e in at.error)
    assert len(kept) == MAX_GROUPS and len(at.session_state["visitor"].pending_group) == 5


def test_images_too_large_to_send_whole_are_sent_for_the_rows_in_view(app, monkeypatch):
    monkeypatch.setenv("EXPLORER_BROWSER_IMAGES_MB", "0.1")  # as 100k images would be
    at = app()
    header, sent = read_bundle(live_payloads(at)["hover_latent_map"])
    assert header["view"]["rows_wanted"] is True and not [b for b in header["blobs"] if b["kind"] == "images"]
    state_of(at, ExploreState).rows_in_view = [int(r) for r in TEST_ROWS[:30]]  # what the browser asked for
    at.run()
    header, sent = read_bundle(live_payloads(at)["hover_latent_map"])
    (images,) = [b for b in header["blobs"] if b["kind"] == "images"]
    assert images["meta"] == {"n": 30, "shape": [1, 28, 28]} and images["key"] in sent


def test_what_a_browser_asks_for_is_read_as_rows_or_not_at_all():
    from explorer.ui.live_decode import ROWS_WANTED, asked_rows

    assert asked_rows([4, 12, 26]) == [4, 12, 26]
    assert asked_rows([1.5, True, -3, 2**40, "7", None, 9]) == [9]
    assert asked_rows({"rows": [1]}) == [] and asked_rows(7) == [] and asked_rows(None) == []
    assert len(asked_rows(list(range(100_000)))) == ROWS_WANTED


def test_a_map_that_cannot_be_made_says_so_and_keeps_the_quick_one(app, monkeypatch):
    from explorer.ui import resources

    project = resources.project

    def refuse(mu, method, *args, **kwargs):
        if method == "pacmap":
            raise ValueError("The number of further points can't be less than 1")
        return project(mu, method, *args, **kwargs)

    monkeypatch.setattr(resources, "project", refuse)
    at = app()
    at.selectbox(key="model_name").set_value("mnist5k-z16").run()  # its PCA map: computed before the refusal
    at.selectbox(key="proj").set_value("pacmap").run()
    no_exception(at)
    assert [e.value for e in at.error] == ["The PaCMAP map could not be made with these settings (The number of "
                                           "further points can't be less than 1); showing PCA."]
    assert at.get("plotly_chart")  # the quick map stays
