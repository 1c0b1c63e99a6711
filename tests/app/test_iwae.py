"""AppTest: the IWAE, a third model kind (explorer/kinds/iwae.py): trained from the Train page, scored on the
Likelihood page, put beside a VAE on Compare."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from explorer.checkpoint import save_checkpoint
from explorer.config import ModelConfig, TrainConfig
from explorer.datafiles import load_dataset
from explorer.model import create_model
from explorer.train import train_steps
from tests.app.conftest import APP, image_urls, no_exception
from tests.app.test_train_page import open_train, wait_until_finished


@pytest.fixture(scope="module")
def iwae_dir(tmp_path_factory):
    """A models folder holding an IWAE trained on mnist5k (one epoch, k 5)."""
    folder = tmp_path_factory.mktemp("iwae-models")
    dataset = load_dataset("mnist5k")
    model = create_model(ModelConfig(kind="iwae", latent_dim=16, hidden_dims=(128,)), dataset.image_shape)
    config = TrainConfig(epochs=1, iwae_samples=5)
    history = [m.to_dict() for m in train_steps(model, dataset, config)]
    save_checkpoint(folder / "mnist5k-iwae-z16.safetensors", model, dataset="mnist5k",
                    label_names=dataset.label_names, train_config=config, step_history=history)
    return folder


def _open(iwae_dir, monkeypatch, page: str, **params) -> AppTest:
    monkeypatch.setenv("EXPLORER_MODELS_DIR", str(iwae_dir))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(params)
    at.run()
    at.switch_page(page)
    return at.run()


def test_the_train_page_offers_the_iwae_with_its_k_and_trains_it(app):
    at = open_train(app, epochs=1)
    assert at.radio(key="train_kind").options == ["VAE", "Autoencoder", "IWAE"]
    at.radio(key="train_kind").set_value("iwae").run()
    no_exception(at)
    assert at.number_input(key="train_iwae_samples").value == 5
    for key in ("train_beta", "train_warmup_steps", "train_free_bits"):  # its loss is the bound: no β to weigh
        assert at.get_by_key(key).proto.disabled, key
    assert any("importance-weighted bound" in c.value for c in at.caption)
    at.number_input(key="train_iwae_samples").set_value(3).run()
    at.button(key="train_start").click().run()
    at = wait_until_finished(at)
    no_exception(at)
    assert [s.value for s in at.success] == ["Training finished."]
    titles = [str(c.proto.spec) for c in at.get_by_key("train_live").get("vega_lite_chart")]
    assert any("importance-weighted bound" in t for t in titles) and not any("β" in t for t in titles), titles
    assert "β" not in [m.label for m in at.metric]  # nothing weighs its KL
    at.button(key="train_use").click().run()
    assert at.session_state["model_name"].startswith("trained: digits iwae z2 ")
    at.switch_page("explorer/ui/pages/likelihood.py").run()
    no_exception(at)
    assert "MLP IWAE · 2-D latent" in at.sidebar.caption[0].value


def test_the_likelihood_page_scores_an_iwae(iwae_dir, monkeypatch):
    at = _open(iwae_dir, monkeypatch, "explorer/ui/pages/likelihood.py", model="mnist5k-iwae-z16")
    no_exception(at)
    assert at.selectbox(key="model_name").value == "mnist5k-iwae-z16"
    assert len(image_urls(at, "likelihood_gallery")) == 24
    assert any("importance-weighted bound" in c.value for c in at.caption)


def test_compare_puts_an_iwae_beside_a_vae(iwae_dir, monkeypatch):
    at = _open(iwae_dir, monkeypatch, "explorer/ui/pages/compare.py")
    at.selectbox(key="compare_a").set_value("mnist5k-iwae-z16").run()
    no_exception(at)
    frame = at.table[0].value
    assert list(frame.loc["model"]) == ["mnist5k-iwae-z16 (MLP IWAE, 16-D)", "mnist5k-z16 (MLP VAE, 16-D)"]
    assert all(v not in ("", "none: a point, no bubble") for v in frame.loc["KL from the prior, nats/image"])
