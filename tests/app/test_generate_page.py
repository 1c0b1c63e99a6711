"""AppTest: every control of the generate page."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from explorer.checkpoint import bundled_checkpoints, load_checkpoint
from explorer.datafiles import load_dataset
from explorer.latent import encode_dataset, mean_kl_per_dim
from explorer.webdecoder import decode_payload, read_payload
from tests.app.conftest import image_urls, live_payloads, no_exception, select_points

TEST_ROWS = load_dataset("mnist5k").test_index


def open_generate(app, model: str | None = None):
    at = app()
    if model:
        at.selectbox(key="model_name").set_value(model).run()
    at.switch_page("explorer/ui/pages/generate.py").run()
    no_exception(at)
    return at


def slider_values(at, dim: int) -> list[float]:
    return [at.slider(key=f"z{d}").value for d in range(dim)]


def test_one_slider_per_dimension_ordered_by_kl_with_the_decoded_image(app):
    at = open_generate(app, "mnist5k-z16")
    sliders = [s for s in at.slider if s.key and re.fullmatch(r"z\d+", s.key)]
    assert len(sliders) == 16
    checkpoint = load_checkpoint(bundled_checkpoints()["mnist5k-z16"])
    latents = encode_dataset(checkpoint.model, load_dataset("mnist5k"), "test")
    kl = mean_kl_per_dim(latents.mu, latents.logvar)
    assert [s.key for s in sliders] == [f"z{d}" for d in np.argsort(-kl, kind="stable")]
    assert sliders[0].label == f"z{np.argmax(kl)} · KL {kl.max():.2f} nats"
    payload = live_payloads(at)["live_slider_decode"]  # the browser decodes while a slider is dragged
    z = np.linspace(-1, 1, 16).astype(np.float32)
    assert np.allclose(decode_payload(payload, z), checkpoint.model.decode(torch.from_numpy(z)[None])[0].numpy(),
                       atol=1e-5)
    assert read_payload(payload)[0]["view"] == {"mode": "sliders", "size": 280}
    assert not image_urls(at, "slider_decode")  # no image made on the server while the browser decodes


def test_a_decoder_too_large_for_the_browser_is_decoded_on_release(app, monkeypatch):
    monkeypatch.setenv("EXPLORER_BROWSER_DECODER_MB", "0")
    at = open_generate(app)
    assert "live_slider_decode" not in live_payloads(at)
    assert any("too large to send to your browser: the image is decoded here when you release" in c.value
               for c in at.caption)
    before = image_urls(at, "slider_decode")
    at.slider(key="z0").set_value(2.0).run()
    moved = image_urls(at, "slider_decode")
    assert len(moved) == 1 and moved != before
    at.button(key="reset_sliders").click().run()
    assert slider_values(at, 2) == [0.0, 0.0] and image_urls(at, "slider_decode") == before


def test_a_decoder_too_much_work_for_the_browser_is_decoded_on_release(app, monkeypatch):
    from explorer.ui import live_decode

    monkeypatch.setattr(live_decode, "MAX_DECODE_MACS", 100_000)  # the bundled model's decode: 533,000
    at = open_generate(app)
    assert "live_slider_decode" not in live_payloads(at)
    assert any(c.value.startswith("One decode of this model takes 1 million multiply-adds, more than a browser does "
                                  "smoothly (0 million): the image is decoded here") for c in at.caption)
    assert len(image_urls(at, "slider_decode")) == 1


def test_start_from_a_picked_point(app):
    at = app()
    select_points(at, TEST_ROWS[7])
    at.switch_page("explorer/ui/pages/generate.py").run()
    assert not at.button(key="start_from_pick").proto.disabled
    at.button(key="start_from_pick").click().run()
    no_exception(at)
    checkpoint = load_checkpoint(bundled_checkpoints()["mnist5k-z2"])
    latents = encode_dataset(checkpoint.model, load_dataset("mnist5k"), "test")
    mu = latents.mu[np.searchsorted(latents.index, TEST_ROWS[7])]
    assert slider_values(at, 2) == pytest.approx(np.round(mu, 2).tolist(), abs=1e-6)


def test_start_from_pick_is_disabled_without_a_pick(app):
    at = open_generate(app)
    assert at.button(key="start_from_pick").proto.disabled


def test_prior_samples_temperature_count_and_resample(app):
    at = open_generate(app)
    grid = lambda: [i.proto.imgs[0].url for i in at.image if "samples at temperature" in i.proto.imgs[0].caption]  # noqa: E731
    first = grid()
    assert len(first) == 1
    at.button(key="resample").click().run()
    assert grid() != first
    at.slider(key="temp").set_value(0.5).run()
    at.select_slider(key="n").set_value(16).run()
    no_exception(at)
    assert any(i.proto.imgs[0].caption == "16 samples at temperature 0.50" for i in at.image)


def test_2d_manifold_grid_with_the_data_overlaid(app):
    at = open_generate(app)
    chart = at.get_by_key("manifold_map")
    assert ';base64,' in chart.proto.spec  # the decoded grid as an image and '"name":"0"' in chart.proto.spec
    at.slider(key="grid").set_value(7).run()
    at.slider(key="half").set_value(1.5).run()
    at.checkbox(key="manifold_overlay").uncheck().run()
    no_exception(at)
    assert '"name":"0"' not in at.get_by_key("manifold_map").proto.spec


def test_grid_over_two_chosen_dimensions_for_a_16d_model(app):
    at = open_generate(app, "mnist5k-z16")
    captions = lambda: [i.proto.imgs[0].caption for i in at.image]  # noqa: E731
    assert any("left to right" in c and "around the origin" in c for c in captions())
    dims = at.selectbox(key="grid_dim_x").options
    at.selectbox(key="grid_dim_y").set_value(int(dims[2].lstrip("z"))).run()
    assert any(f"{dims[2]} top to bottom" in c for c in captions())
    at.selectbox(key="grid_dim_y").set_value(int(dims[0].lstrip("z"))).run()
    assert any("two different dimensions" in w.value for w in at.warning)


def test_conditional_model_label_selector_conditions_everything(app):
    at = open_generate(app, "digits-cvae")
    before = (live_payloads(at)["live_slider_decode"], [i.proto.imgs[0].url for i in at.image])
    at.selectbox(key="label").set_value(7).run()
    no_exception(at)
    after = (live_payloads(at)["live_slider_decode"], [i.proto.imgs[0].url for i in at.image])
    assert after[0] != before[0]  # the browser's decoder now has label 7 folded in
    assert len(set(after[1]) & set(before[1])) == 0  # sliders, samples and grid all redrawn for label 7


def test_rgb_model(app):
    at = open_generate(app, "rgb32-conv")
    assert len([s for s in at.slider if s.key and re.fullmatch(r"z\d+", s.key)]) == 3
    at.slider(key="z1").set_value(-1.5).run()
    no_exception(at)


def test_an_autoencoder_gets_a_note_sliders_that_reach_its_codes_and_a_grid_that_counts_what_it_leaves_out(app):
    at = open_generate(app, "mnist5k-ae-z2")
    assert any(i.value.startswith("mnist5k-ae-z2 is a plain autoencoder: no KL term pulled its codes toward the prior")
               for i in at.info)
    checkpoint = load_checkpoint(bundled_checkpoints()["mnist5k-ae-z2"])
    codes = encode_dataset(checkpoint.model, load_dataset("mnist5k"), "test").mu
    reach = float(np.ceil(np.abs(codes).max()))
    assert reach > 4
    assert any(f"(±{reach:g} here, to reach every code)" in i.value for i in at.info)
    slider = at.slider(key="z0")
    assert slider.max == reach and slider.min == -reach and slider.label.startswith("z0 · spread ")
    slider.set_value(reach - 1).run()
    no_exception(at)
    assert at.checkbox(key="manifold_overlay").label == "Overlay the data's codes"
    outside = int((np.abs(codes) > 2.5 * 15 / 14).any(axis=1).sum())
    assert any(c.value == f"{outside:,} of the 1,000 codes lie outside this square and are not drawn."
               for c in at.caption)


def test_a_vae_keeps_the_priors_slider_range_and_no_autoencoder_note(app):
    at = open_generate(app, "mnist5k-z2")
    assert at.slider(key="z0").max == 4.0
    assert not any("plain autoencoder" in i.value for i in at.info)
