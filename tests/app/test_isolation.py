"""Two visitors never see each other's results: caches are keyed by the data's content, not its (file) name."""

from __future__ import annotations

import io

import numpy as np
from streamlit.testing.v1 import AppTest

from explorer.checkpoint import load_checkpoint, save_checkpoint
from explorer.config import ModelConfig
from explorer.datafiles import load_dataset_file
from explorer.latent import encode_dataset
from explorer.model import create_model
from tests.app.conftest import APP, no_exception, select_points
from tests.app.test_train_page import npz_payload
from tests.conftest import synthetic_images


def visit_with_upload(payload: bytes) -> AppTest:
    """A visitor who uploads data.npz on the Train page, then opens the shared model on Explore."""
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("explorer/ui/pages/train.py").run()
    at.file_uploader(key="train_upload").set_value(("data.npz", payload, "application/octet-stream")).run()
    at.switch_page("explorer/ui/pages/explore.py").run()
    at.selectbox(key="model_name").set_value("shared").run()
    no_exception(at)
    return at


def two_uploads() -> dict[str, bytes]:
    """Visitors a and b's data.npz: the same name, different images."""
    uploads = {}
    for who, seed in (("a", 1), ("b", 2)):
        images, labels = synthetic_images(60, (1, 8, 8), seed=seed)
        uploads[who] = npz_payload(images=(images[:, 0] * 255).astype(np.uint8), labels=labels)
    return uploads


def mean_shown(at: AppTest) -> str:
    return next(c.value for c in at.caption if c.value.startswith("mean μ"))


def test_two_visitors_with_same_named_uploads_see_their_own_latents(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_MODELS_DIR", str(tmp_path))
    uploads = two_uploads()
    # A's model, saved on the server: it records only the display name of the data it was trained on.
    first = load_dataset_file(io.BytesIO(uploads["a"]), "data.npz")
    model = create_model(ModelConfig(latent_dim=2, hidden_dims=(16,)), first.image_shape, seed=0)
    save_checkpoint(tmp_path / "shared.safetensors", model, dataset="upload: data.npz", label_names=first.label_names)

    row = int(first.test_index[0])
    shown = {}
    for who in ("a", "b"):
        at = visit_with_upload(uploads[who])
        select_points(at, row)
        shown[who] = mean_shown(at)
    assert shown["a"] != shown["b"]
    assert any("does not record which file it was trained on" in w.value for w in at.sidebar.warning)
    # Each sees the means of their own images under the shared model, row for row.
    checkpoint = load_checkpoint(tmp_path / "shared.safetensors")
    for who in ("a", "b"):
        own = encode_dataset(checkpoint.model, load_dataset_file(io.BytesIO(uploads[who]), "data.npz"))
        mu = own.mu[int(np.searchsorted(own.index, row))]
        assert shown[who].startswith("mean μ = [" + ", ".join(f"{x:+.2f}" for x in mu) + "]")


def test_a_saved_model_says_whether_the_upload_shown_is_its_training_data(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_MODELS_DIR", str(tmp_path))
    uploads = two_uploads()
    first = load_dataset_file(io.BytesIO(uploads["a"]), "data.npz")
    model = create_model(ModelConfig(latent_dim=2, hidden_dims=(16,)), first.image_shape, seed=0)
    save_checkpoint(tmp_path / "shared.safetensors", model, dataset="upload: data.npz", label_names=first.label_names,
                    data_fingerprint=first.fingerprint)
    notes = {who: [w.value for w in visit_with_upload(uploads[who]).sidebar.warning] for who in ("a", "b")}
    assert not any("Shown on your upload" in n for n in notes["a"])  # A's own file: nothing to say
    assert any("which is not the file this model was trained on" in n for n in notes["b"])
