"""AppTest: the Compare page, by default the bundled autoencoder beside the bundled VAE."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer.checkpoint import load_checkpoint
from explorer.datafiles import load_dataset
from explorer.webdecoder import read_payload
from explorer.latent import encode_dataset, interpolate
from tests.app.conftest import APP, ROOT, live_payloads

PAGE = "explorer/ui/pages/compare.py"


def _table(at) -> dict[str, list[str]]:
    frame = at.table[0].value
    return {row: list(frame.loc[row]) for row in frame.index}


def _click(at, key: str, row: int):
    point = {"curve_number": 0, "point_index": 0, "x": 0.0, "y": 0.0, "customdata": row}
    at.session_state[key] = {"selection": {"points": [point], "point_indices": [0], "box": [], "lasso": []}}
    return at.run()


def test_it_opens_on_the_autoencoder_beside_the_vae_and_the_numbers_tell_them_apart(app):
    at = app(PAGE)
    assert not at.exception and not at.error
    assert [s.value for s in at.selectbox] == ["mnist5k-ae-z16", "mnist5k-z16"]
    table = _table(at)
    assert table["model"] == ["mnist5k-ae-z16 (MLP autoencoder, 16-D)", "mnist5k-z16 (MLP VAE, 16-D)"]
    assert table["KL from the prior, nats/image"][0] == "none: a point, no bubble"
    assert float(table["KL from the prior, nats/image"][1]) == pytest.approx(18.1, abs=0.2)
    covered = [float(v.rstrip("%")) for v in table["prior covered by the data"]]
    inside = [float(v.rstrip("%")) for v in table["data inside the prior's 99% ball"]]
    labels = [int(v.rstrip("%")) for v in table["prior samples' labels off the data's mix"]]
    assert covered[0] < 20 < 90 < covered[1] and inside[0] < 20 < 95 < inside[1] and labels[0] > 3 * labels[1]
    gaps = [float(v) for v in table["gap from the prior (Gaussian fit), nats"]]
    assert gaps[0] > 100 > 1 > gaps[1]
    captions = [i.proto.imgs[0].caption for i in at.image]
    assert captions == ["A: 36 prior samples", "B: 36 prior samples", "A: image A, 9 decoded steps, image B",
                        "B: image A, 9 decoded steps, image B"]
    assert [h.value for h in at.subheader][:1] == ["Samples from the prior N(0, I)"]
    assert any(h.value.startswith("The path from image 4 (a 0) to image 500 (a 1)") for h in at.subheader)


def test_the_vae_beside_the_bundled_iwae_is_one_click(app):
    """The IWAE (explorer/kinds/iwae.py) as it ships: the same network, data, epochs and seed as the 16-D VAE."""
    at = app(PAGE)
    at.button(key="compare_pair_iwae").click().run()
    assert not at.exception and not at.error
    assert [s.value for s in at.selectbox] == ["mnist5k-z16", "mnist5k-iwae-z16"]
    table = _table(at)
    assert table["model"] == ["mnist5k-z16 (MLP VAE, 16-D)", "mnist5k-iwae-z16 (MLP IWAE, 16-D)"]
    assert [float(v) for v in table["KL from the prior, nats/image"]] == pytest.approx([18.1, 18.5], abs=0.2)


def test_the_captions_state_the_numbers_of_their_figures(app):
    """Each caption's claim is computed from what its figure draws: the table's shares, the path's distances."""
    at = app(PAGE)
    table, text = _table(at), " ".join(c.value for c in at.caption)
    covered, inside = table["prior covered by the data"], table["data inside the prior's 99% ball"]
    assert f"{covered[0]} near one of A's, {covered[1]} near one of B's encoded test images" in text
    assert f"{inside[0]} of A's, {inside[1]} of B's lie inside the prior's 99% ball" in text
    data = load_dataset("mnist5k")
    for tag, name in zip("AB", ("mnist5k-ae-z16", "mnist5k-z16")):
        latents = encode_dataset(load_checkpoint(ROOT / "checkpoints" / f"{name}.safetensors").model, data, "test")
        a, b = latents.mu[np.searchsorted(latents.index, [4, 500])]
        line = interpolate(a, b, 9)
        nearest = np.sqrt(((line[:, None] - latents.mu[None]) ** 2).sum(-1)).min(axis=1).max()
        assert f"lies {nearest:.2f} for {tag}" in text or f", {nearest:.2f} for {tag}" in text
    assert "leaves gaps" not in text and "noise" not in text  # claims the bundled pair's figures do not show


def test_the_two_d_pair_is_one_click_and_a_click_on_either_map_picks_an_end_of_the_path(app):
    at = app(PAGE)
    at.button(key="compare_pair_2-D").click().run()
    assert [s.value for s in at.selectbox] == ["mnist5k-ae-z2", "mnist5k-z2"]
    assert _table(at)["model"][1] == "mnist5k-z2 (MLP VAE, 2-D)"
    first, second = (int(r) for r in load_dataset("mnist5k").test_index[[10, 20]])
    at = _click(at, "compare_map_b", first)
    assert any(h.value.startswith(f"The path from image 500 (a 1) to image {first} (a ") for h in at.subheader)
    at = _click(at, "compare_map_a", second)
    assert any(h.value.startswith(f"The path from image {first} (") and f"to image {second} (" in h.value
               for h in at.subheader)
    at.run()  # the maps re-send their selections on every rerun: nothing changes
    assert any(h.value.startswith(f"The path from image {first} (") for h in at.subheader)


def test_models_of_different_image_shapes_get_one_message(app):
    at = app(PAGE)
    at.selectbox(key="compare_b").set_value("rgb32-conv").run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "These two models take different images ((1, 28, 28) and (3, 32, 32), as channels, height, width). Choose two "
        "models of the same image shape."
    ]


def test_a_conditional_model_is_compared_on_its_own_data_and_says_which_label_it_decodes(app):
    at = app(PAGE)
    at.selectbox(key="compare_a").set_value("digits-cvae")
    at.selectbox(key="compare_b").set_value("digits-cvae").run()
    assert not at.exception and not at.error
    assert _table(at)["model"][0] == "digits-cvae (CONV VAE, 2-D)"
    assert any("decode every free z (prior samples, paths, grids) as the first label, 0" in c.value for c in at.caption)


def test_each_map_sends_its_decoder_and_plane_to_the_browser_for_decoding_under_the_cursor(app):
    at = app(PAGE)
    payloads = live_payloads(at)
    for tag, _name in (("a", "mnist5k-ae-z16"), ("b", "mnist5k-z16")):
        header, _ = read_payload(payloads[f"hover_compare_map_{tag}"])
        assert header["view"]["mode"] == "map" and header["view"]["chart"] == f".st-key-compare_map_{tag}"
        basis = np.array(header["view"]["basis"])
        assert basis.shape == (2, 16) and np.allclose(basis @ basis.T, np.eye(2), atol=1e-5)  # the map's plane


def _open_link(models_dir, monkeypatch, **params) -> AppTest:
    monkeypatch.setenv("EXPLORER_MODELS_DIR", str(models_dir))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(params)
    at.switch_page(PAGE)
    return at.run()


def test_a_link_names_the_servers_models_and_a_bad_one_gets_a_notice(models_dir, monkeypatch):
    at = _open_link(models_dir, monkeypatch, compare_a="mnist5k-z2", compare_b="<b>x</b>")
    assert [s.value for s in at.selectbox] == ["mnist5k-z2", "mnist5k-z16"]
    assert [w.value for w in at.warning] == [
        "This link had settings that could not be used, so their defaults are shown: the model "
        "'\\<b\\>x\\</b\\>' is not one of this server's models."
    ]
    assert at.query_params["compare_a"] == "mnist5k-z2" and "compare_b" not in at.query_params


def test_a_visitors_own_model_never_goes_into_the_link(app, models_dir):
    at = app("explorer/ui/pages/explore.py")
    with open(models_dir / "digits-cvae.safetensors", "rb") as handle:
        checkpoint = load_checkpoint(handle.read(), name="secret-client <b>x</b>.safetensors")
    at.session_state["visitor"].models["uploaded: secret-client <b>x</b>.safetensors"] = checkpoint
    at.switch_page(PAGE).run()
    at.selectbox(key="compare_a").set_value("uploaded: secret-client <b>x</b>.safetensors")
    at.selectbox(key="compare_b").set_value("digits-cvae").run()
    assert not at.exception and not at.error
    assert _table(at)["model"][0].startswith("uploaded: secret-client \\<b\\>x\\</b\\>.safetensors")
    assert at.query_params["compare_b"] == "digits-cvae" and "compare_a" not in at.query_params  # the server's only
    assert not any("secret" in str(value) for value in dict(at.query_params).values())
