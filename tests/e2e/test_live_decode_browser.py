"""In real Chromium: the decoder runs in the browser, so a dragged slider redraws the image before it is released,
and the image under the cursor follows it over a 2-D map; what the browser draws is what the server decodes."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.checkpoint import bundled_checkpoints, load_checkpoint, save_checkpoint
from explorer.config import ModelConfig, TrainConfig
from explorer.datafiles import load_dataset
from explorer.latent import encode_dataset
from explorer.model import create_model
from explorer.train import train_steps
from explorer.webdecoder import decode_payload, decoder_payload
from tests.e2e.conftest import wait_for_map, wait_idle

LIVE = "canvas.live-decode"
HOVER = "canvas.hover-decode"


@pytest.fixture(scope="module")
def conv_checkpoint(tmp_path_factory):
    """A small conditional conv model on the 8x8 digits: transposed convolutions and a folded label in the browser."""
    data = load_dataset("digits")
    model = create_model(ModelConfig(arch="conv", latent_dim=3, hidden_dims=(32,), conv_channels=(8,),
                                     conditional=True),
                         data.image_shape, data.num_classes)
    list(train_steps(model, data, TrainConfig(epochs=1, batch_size=64)))
    return save_checkpoint(tmp_path_factory.mktemp("live") / "conv-digits.safetensors", model, dataset="digits",
                           label_names=data.label_names)


def _pixels(page, selector: str) -> np.ndarray:
    canvas = page.locator(selector).first
    flat = canvas.evaluate("c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)")
    height, width = (int(canvas.get_attribute(a)) for a in ("height", "width"))
    return np.array(flat, np.uint8).reshape(height, width, 4)


def _expected(model, z: np.ndarray, label: int | None = None) -> np.ndarray:
    """The browser's canvas as the numpy reading of the same payload draws it: RGB, grey spread over the three."""
    image = decode_payload(decoder_payload(model, label), z)  # (C, H, W)
    rgb = np.repeat(image, 3, axis=0) if image.shape[0] == 1 else image
    return np.round(rgb.transpose(1, 2, 0) * 255).astype(np.int16)


def _slider_values(page, dim: int) -> np.ndarray:
    return np.array([float(page.locator(f".st-key-z{d} input[type='range']").input_value()) for d in range(dim)],
                    np.float32)


def _drag_first_slider(page, moves: int = 8) -> list[str]:
    """Press on the first slider's middle, move right in steps, and return the image drawn after each move, all
    before the mouse is released."""
    track = page.locator("[data-testid='stSlider'] [data-orientation='horizontal'][style*='touch-action']").first
    box = track.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    seen = []
    for step in range(1, moves + 1):
        page.mouse.move(box["x"] + box["width"] * (0.5 + 0.05 * step), y)
        page.wait_for_timeout(40)
        seen.append(page.locator(LIVE).evaluate("c => c.toDataURL()"))
    return seen


def _open_generate(page, server, model: str | None, upload=None) -> None:
    page.goto(f"{server.url}/?model={model}" if model else server.url)
    wait_for_map(page)
    wait_idle(page)
    if upload is not None:
        page.locator("[class*='st-key-upload_checkpoint'] input[type='file']").set_input_files(str(upload))
        page.wait_for_function("() => document.body.innerText.includes('CONV VAE · 3-D latent')")  # the sidebar's note
        wait_idle(page)
    page.get_by_role("link", name="Generate").click()
    page.locator(LIVE).wait_for()
    wait_idle(page)


@pytest.mark.parametrize("model", ["mnist5k-z2", "mnist5k-z16", "conv upload"])
def test_a_dragged_slider_redraws_the_image_before_release(page, server, model, conv_checkpoint):
    conv = model == "conv upload"
    _open_generate(page, server, None if conv else model, conv_checkpoint if conv else None)
    checkpoint = load_checkpoint(conv_checkpoint if conv else bundled_checkpoints()[model])
    dim = checkpoint.model_config.latent_dim
    first = page.locator(LIVE).evaluate("c => c.toDataURL()")
    seen = _drag_first_slider(page)
    held = _slider_values(page, dim)
    assert len(set(seen) - {first}) >= 3, "fewer than 3 new images while the mouse was still down"
    # What the browser drew for the values the sliders hold now is what the model decodes (label 0 when conditional).
    _assert_draws(page, checkpoint.model, held, 0 if conv else None)
    page.mouse.up()
    wait_idle(page)
    moved = int(np.argmax(np.abs(held)))
    page.wait_for_function("k => new URLSearchParams(location.search).has(k)", arg=f"z{moved}")  # Python has it now
    label = 0
    if conv:  # another label: the browser gets a decoder with that label folded in, and draws with it at once
        page.get_by_role("combobox", name="Condition on label").click()
        page.get_by_role("option", name="7", exact=True).click()
        page.wait_for_function("() => location.search.includes('label=7')")
        wait_idle(page)
        label = 7
    assert page.locator(LIVE).count() == 1
    _assert_draws(page, checkpoint.model, _slider_values(page, dim), label if conv else None)
    page.get_by_role("button", name="Reset to 0").click()
    page.wait_for_function(f"() => !location.search.includes('z{moved}=')")
    wait_idle(page)
    assert not _slider_values(page, dim).any()
    _assert_draws(page, checkpoint.model, np.zeros(dim, np.float32), label if conv else None)
    assert page.locator("[data-testid='stException']").count() == 0


@pytest.mark.parametrize("width, height", [(1400, 900), (800, 900)])
def test_the_live_image_stays_in_view_while_the_last_slider_is_dragged(page, server, width, height):
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{server.url}/generate?model=mnist5k-z16")  # by its address: at 800 px the sidebar closes itself
    page.locator(LIVE).wait_for()
    wait_idle(page)
    slider = page.locator(".st-key-z15 [data-orientation='horizontal'][style*='touch-action']")
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    first = page.locator(LIVE).evaluate("c => c.toDataURL()")
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] / 2, steps=4)
    page.wait_for_timeout(100)
    image = page.locator(LIVE).bounding_box()
    drawn = page.locator(LIVE).evaluate("c => c.toDataURL()")
    page.mouse.up()
    assert drawn != first  # it redrew for z15 ...
    assert 0 <= image["y"] and image["y"] + image["height"] / 2 <= height, image  # ... where the visitor sees it
    assert 0 <= image["x"] and image["x"] + image["width"] <= width


def _assert_draws(page, model, z: np.ndarray, label: int | None, tries: int = 20) -> None:
    """The live canvas shows the decode of z (it redraws on the next animation frame after a rerun)."""
    for _ in range(tries):
        if np.abs(_pixels(page, LIVE)[..., :3].astype(np.int16) - _expected(model, z, label)).max() <= 1:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"the browser does not show the decode of z={z.tolist()} (label {label})")


def test_the_image_under_the_cursor_follows_it_over_the_z2_map_between_clusters(page, server):
    page.goto(server.url)
    wait_for_map(page)
    wait_idle(page)
    checkpoint = load_checkpoint(bundled_checkpoints()["mnist5k-z2"])
    means = encode_dataset(checkpoint.model, load_dataset("mnist5k"), "test").mu
    grid = np.stack(np.meshgrid(np.linspace(-2.5, 2.5, 41), np.linspace(-2.5, 2.5, 41)), -1).reshape(-1, 2)
    gap = grid[np.argmax(np.linalg.norm(grid[:, None] - means[None], axis=-1).min(axis=1))]  # farthest from any mean
    where = page.evaluate(
        """([X, Y]) => { const g = document.querySelector(".st-key-latent_map .js-plotly-plot");
           const L = g._fullLayout, r = g.getBoundingClientRect();
           return {x: r.left + L._size.l + L.xaxis.d2p(X), y: r.top + L._size.t + L.yaxis.d2p(Y)}; }""",
        [float(gap[0]), float(gap[1])])
    page.mouse.move(where["x"] - 40, where["y"])
    page.mouse.move(where["x"], where["y"], steps=4)
    hover = page.locator(HOVER)
    z = None
    for _ in range(20):  # drawn on the next animation frame
        shown = hover.evaluate("c => c.style.display === 'block' ? c.dataset.z : null")
        z = None if shown is None else np.array([float(v) for v in shown.split(",")], np.float32)
        if z is not None and np.abs(z - gap).max() < 0.05:
            break
        page.wait_for_timeout(50)
    assert z is not None and np.abs(z - gap).max() < 0.05, z  # decoded at the cursor, in the gap between clusters
    assert np.abs(_pixels(page, HOVER)[..., :3].astype(np.int16) - _expected(checkpoint.model, z)).max() <= 1
    page.mouse.move(5, 5)
    page.wait_for_function("() => true")
    page.wait_for_timeout(100)
    assert hover.evaluate("c => c.style.display") == "none"  # gone when the cursor leaves the map
