"""AppTest: the Likelihood page (histogram, least-likely gallery, scoring uploads) and the map coloured by a score."""

from __future__ import annotations

import io
import json
import re

import numpy as np
from PIL import Image

from explorer.datafiles import load_dataset
from explorer.ui.likelihood import LikelihoodState
from tests.app.conftest import image_urls, no_exception, state_of

PAGE = "explorer/ui/pages/likelihood.py"
DATA = load_dataset("mnist5k")


def png(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


def upload(at, *files: tuple[str, bytes]):
    """Hand files to the scoring uploader as the browser would (it gets a new key after each read)."""
    uploader = next(u for u in at.get("file_uploader") if u.key.startswith("score_upload"))
    return uploader.set_value([(name, payload, "application/octet-stream") for name, payload in files]).run()


def test_histogram_gallery_and_csv_for_the_bundled_vae(app):
    at = app(PAGE)
    no_exception(at)
    assert at.get("select_slider")[0].value == 100  # k
    assert len(image_urls(at, "likelihood_gallery")) == 24
    captions = [c.value for c in at.caption if "importance-weighted bound" in c.value]
    assert captions and "k = 100" in captions[0]
    assert any(b.label == "The data's scores (CSV)" for b in at.get("download_button"))
    at.radio(key="gallery_end").set_value("most likely").run()
    assert len(image_urls(at, "likelihood_gallery")) == 24


def test_an_autoencoder_has_no_likelihood(app):
    at = app(PAGE)
    at.selectbox(key="model_name").set_value("mnist5k-ae-z2").run()
    no_exception(at)
    assert "plain autoencoder" in at.info[0].value
    assert not at.get("plotly_chart")


def test_the_map_coloured_by_log_px_and_back_to_labels(app):
    at = app()
    at.selectbox(key="colour").set_value("log_px").run()
    no_exception(at)
    spec = json.loads(next(c for c in at.get("plotly_chart") if c.key.startswith("latent_map")).proto.spec)
    (points,) = [t for t in spec["data"] if t["type"] == "scattergl"]
    assert points["marker"]["colorbar"]["title"]["text"] == "log p(x) (IWAE bound)"
    assert any("Coloured by log p(x)" in c.value for c in at.caption)
    at.selectbox(key="colour").set_value("label").run()
    spec = json.loads(next(c for c in at.get("plotly_chart") if c.key.startswith("latent_map")).proto.spec)
    assert len([t for t in spec["data"] if t["type"] == "scattergl"]) == 10


def test_uploads_are_scored_with_percentiles_and_flags(app):
    at = app(PAGE)
    digit = DATA.images[DATA.test_index[0], 0]
    noise = (np.random.default_rng(0).random((28, 28)) * 255).astype(np.uint8)
    big = np.kron(digit, np.ones((10, 10), np.uint8))  # 280x280: resized to the model's 28x28
    at = upload(at, ("digit.png", png(digit)), ("noise <b>x</b>.png", png(noise)), ("big.png", png(big)))
    no_exception(at)
    table = at.dataframe[0].value
    assert list(table["file"]) == ["digit.png", "noise <b>x</b>.png", "big.png"]  # names as text
    assert list(table["flag"]) == ["", "outside", ""]
    assert table["percentile"][1] == 0.0 and table["percentile"][0] > 5
    assert table["log p(x)"][1] < table["log p(x)"][0] - 100
    assert any("1 of 3 flagged" in c.value for c in at.caption)
    at.number_input(key="flag_low").set_value(50.0).run()  # a narrower band flags more
    assert list(at.dataframe[0].value["flag"]).count("outside") >= 2
    at = upload(at, ("broken.png", b"\x89PNG\r\n\x1a\n not really"))
    assert [e.value for e in at.error] == ["'broken.png' could not be read: it is damaged or of another format."]
    assert len(at.dataframe[0].value) == 3  # the last good scores stay
    at.select_slider(key="k").set_value(10).run()  # another k: the kept images are scored again, not lost
    no_exception(at)
    assert len(at.dataframe[0].value) == 3 and state_of(at, LikelihoodState).scored.scores.k == 10
    assert any(b.label == "Your images' scores (CSV)" for b in at.get("download_button"))


def test_a_blank_image_is_flagged_as_too_likely(app):
    at = app(PAGE)
    at.selectbox(key="model_name").set_value("mnist5k-z16").run()  # -20 nats: above every test digit (-39 at best)
    at = upload(at, ("blank.png", png(np.zeros((28, 28), np.uint8))))
    table = at.dataframe[0].value
    assert table["percentile"][0] == 100.0 and list(table["flag"]) == ["outside"]


def test_another_model_scores_the_kept_images_again_when_they_fit(app):
    at = app(PAGE)
    at = upload(at, ("digit.png", png(DATA.images[DATA.test_index[0], 0])))
    assert len(at.dataframe) == 1
    first = state_of(at, LikelihoodState).scored.model
    at.selectbox(key="model_name").set_value("mnist5k-z16").run()
    no_exception(at)
    no_exception(at)  # the same image shape: scored again by the new model
    assert len(at.dataframe) == 1 and state_of(at, LikelihoodState).scored.model != first
    at.selectbox(key="model_name").set_value("rgb32-conv").run()
    assert not at.dataframe and any("do not fit this one" in i.value for i in at.info)


def test_too_many_files_at_once_are_refused_before_any_is_read(app):
    at = app(PAGE)
    digit = png(DATA.images[DATA.test_index[0], 0])
    at = upload(at, *((f"{i}.png", digit) for i in range(101)))
    assert any("That is 101 files; score at most 100" in e.value for e in at.error)
    assert state_of(at, LikelihoodState).scored is None


def test_label_names_from_a_users_file_are_text_in_the_gallery(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from explorer.config import ModelConfig
    from explorer.ui.markup import plain
    from tests.app.conftest import APP, train_and_save
    from tests.conftest import synthetic_images

    images, labels = synthetic_images(60, (1, 8, 8), classes=2)
    data = tmp_path / "marked.npz"
    np.savez(data, images=images, labels=labels, label_names=np.array(["**bold**", "[x](http://e.vil)"]))
    train_and_save(tmp_path, "marked", str(data), ModelConfig(latent_dim=2, hidden_dims=(16,)))
    monkeypatch.setenv("EXPLORER_MODELS_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page(PAGE).run()
    at.selectbox(key="model_name").set_value("marked").run()
    no_exception(at)
    captions = [i.proto.imgs[0].caption for i in at.get_by_key("likelihood_gallery").image]
    shown = (plain("**bold**"), plain("[x](http://e.vil)"))  # escaped, the link broken
    assert captions and all(c.endswith(shown) for c in captions), captions


def test_the_blank_image_caveat_is_measured_on_the_model_in_use_and_in_plain_sight(app):
    at = app(PAGE)
    at.selectbox(key="model_name").set_value("mnist5k-z16").run()
    [warning] = at.warning
    assert re.match(r"On this model a blank image scores -\d+\.\d nats, higher than 100\.0% of the split's images\. ",
                    warning.value)


def test_a_linked_k_past_the_pages_budget_scores_uploads_at_a_lower_k_and_says_so(models_dir, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import APP

    monkeypatch.setenv("EXPLORER_MODELS_DIR", str(models_dir))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["k"] = "5000"  # the declaration allows it; on 1,000 images it is past the page's budget
    at.switch_page(PAGE).run()
    assert at.select_slider(key="k").value == 5000
    payload = io.BytesIO()
    np.savez(payload, images=DATA.images[DATA.test_index[:300]])
    at = upload(at, ("many.npz", payload.getvalue()))
    no_exception(at)
    assert state_of(at, LikelihoodState).scored.scores.k == 500
    assert any("Your 300 images were scored at k = 500: k = 5000" in i.value for i in at.info)


def test_a_file_past_the_per_file_cap_is_refused_at_the_server(app):
    at = app(PAGE)
    big = png(np.zeros((28, 28), np.uint8)) + b"\0" * (5 * 2**20)  # a client can report any size; the bytes count
    at = upload(at, ("huge.png", big))
    no_exception(at)
    assert [e.value for e in at.error] == ["'huge.png' is 5.0 MB; each file to score can be at most 4 MB."]
    assert state_of(at, LikelihoodState).scored is None
