"""Per-image scores: they average to what eval reports, they single out images unlike the data, and the CLI writes
them."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from explorer.__main__ import main
from explorer.checkpoint import bundled_checkpoints, load_checkpoint
from explorer.data import make_dataset
from explorer.datafiles import load_dataset
from explorer.evaluation import evaluate
from explorer.datafiles import MAX_SCORED_IMAGES, images_for_model
from explorer.scoring import outside, percentile_of, score_array, score_images


@pytest.fixture(scope="module")
def z16():
    return load_checkpoint(bundled_checkpoints()["mnist5k-z16"])


def test_per_image_scores_average_to_evals_numbers(z16):
    data = load_dataset("mnist5k")
    index = data.test_index[:300]
    scores = score_images(z16.model, data, index, k=20)
    subset = make_dataset("subset", data.pixels(index), data.labels[index], split=(np.arange(0), np.arange(300)))
    overall = evaluate(z16.model, subset, "test", k=20, active_units=False)
    assert scores.log_px.shape == scores.elbo.shape == (300,) and list(scores.index) == list(index)
    assert np.allclose(scores.elbo, -(scores.recon + scores.kl))
    assert scores.log_px.mean() > scores.elbo.mean() + 1  # on average the bound is tighter than a one-sample ELBO
    assert (scores.recon.mean() == pytest.approx(overall.recon, abs=0.5)
            and scores.kl.mean() == pytest.approx(overall.kl, abs=0.1))
    assert scores.log_px.mean() == pytest.approx(overall.iwae, abs=1.0)


def test_images_unlike_digits_score_far_below_the_test_digits(z16):
    data = load_dataset("mnist5k")
    digits = data.pixels(data.test_index[:200])
    rng = np.random.default_rng(0)
    strangers = np.concatenate([rng.random((50, 1, 28, 28)), 1.0 - digits[:50]]).astype(np.float32)  # noise, inverted
    scores = score_images(z16.model, make_dataset("x", np.concatenate([digits, strangers])), np.arange(300), k=10)
    normal, odd = scores.log_px[:200], scores.log_px[200:]
    assert odd.max() < np.percentile(normal, 1) - 100  # every stranger far below the least typical percent of digits


def test_score_refuses_an_autoencoder_and_a_bad_k(tiny_dataset):
    from explorer.config import ModelConfig
    from explorer.model import create_model

    data = tiny_dataset((1, 8, 8), n=20)
    with pytest.raises(ValueError, match="scores need a VAE"):
        score_images(create_model(ModelConfig(kind="ae", hidden_dims=(8,)), data.image_shape), data, data.test_index)
    with pytest.raises(ValueError, match="k must be at least 1"):
        score_images(create_model(ModelConfig(hidden_dims=(8,)), data.image_shape), data, data.test_index, k=0)


def test_the_cli_writes_one_row_per_image(tmp_path, capsys):
    out = tmp_path / "scores.csv"
    assert main(["score", str(bundled_checkpoints()["mnist5k-z2"]), "--k", "5", "--out", str(out)]) == 0
    assert "scored 1,000 test images of mnist5k (k=5" in capsys.readouterr().out
    with open(out) as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1000 and list(rows[0]) == ["index", "label", "label_name", "log_px_iwae_k5", "elbo",
                                                    "reconstruction", "kl"]
    assert all(float(r["log_px_iwae_k5"]) < 0 for r in rows)
    assert main(["score", str(bundled_checkpoints()["mnist5k-z2"]), "--out", str(tmp_path / "x.json")]) == 1


def _png(array: np.ndarray, mode: str = "L") -> io.BytesIO:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(array, mode).save(out, format="PNG")
    out.seek(0)
    return out


def test_uploaded_pictures_are_made_the_models_shape_and_an_npz_must_match(tmp_path):
    big = np.zeros((280, 280, 3), np.uint8)
    big[100:180, 130:150] = 255  # a white bar on black, in colour, ten times too large
    names, images = images_for_model([("one.png", _png(big, "RGB")), ("two.png", _png(big[:, :, 0]))], (1, 28, 28))
    assert names == ["one.png", "two.png"] and images.shape == (2, 1, 28, 28) and images.dtype == np.uint8
    assert images[0, 0, 14, 14] > 200 and images[0, 0, 2, 2] == 0  # the bar survives the resize, the margin stays dark
    npz = tmp_path / "three.npz"
    np.savez(npz, images=np.zeros((3, 28, 28), np.uint8))
    with open(npz, "rb") as f:
        assert images_for_model([("three.npz", f)], (1, 28, 28))[1].shape == (3, 1, 28, 28)
    np.savez(npz, images=np.zeros((3, 32, 32), np.uint8))
    with (open(npz, "rb") as f,
          pytest.raises(ValueError, match=r"'three.npz' holds images shaped \(1, 32, 32\).*\(1, 28, 28\)")):
        images_for_model([("three.npz", f)], (1, 28, 28))


@pytest.mark.parametrize("name, payload, message", [
    ("notes.txt", b"hello", "not a PNG, JPEG or .npz"),
    ("broken.png", b"\x89PNG\r\n\x1a\n garbage", "'broken.png' could not be read"),
    ("fake.npz", b"PK not really", "'fake.npz' is not a readable .npz file"),
])
def test_bad_uploads_to_score_get_one_message_naming_them(name, payload, message):
    with pytest.raises(ValueError, match=message):
        images_for_model([(name, io.BytesIO(payload))], (1, 28, 28))


def test_too_many_images_to_score_at_once_are_refused(tmp_path):
    npz = tmp_path / "many.npz"
    np.savez(npz, images=np.zeros((MAX_SCORED_IMAGES + 1, 28, 28), np.uint8))
    with open(npz, "rb") as f, pytest.raises(ValueError, match="more than 500 images"):
        images_for_model([("many.npz", f)], (1, 28, 28))


def test_percentiles_and_flags_against_the_data():
    reference = np.arange(1.0, 101.0)  # 1 .. 100
    percentiles = percentile_of(reference, np.array([0.0, 1.0, 50.5, 100.0, 200.0]))
    assert percentiles.tolist() == [0.0, 1.0, 50.0, 100.0, 100.0]
    assert outside(percentiles, 1.0, 99.0).tolist() == [True, False, False, True, True]


def test_a_loose_upload_scores_as_the_same_images_in_a_data_set(z16):
    data = load_dataset("mnist5k")
    rows = data.test_index[:8]
    loose = score_array(z16.model, data.images[rows], k=10, seed=3)
    inside = score_images(z16.model, data, rows, k=10, seed=3)
    np.testing.assert_allclose(loose.log_px, inside.log_px, rtol=1e-5)
    assert loose.labels is None


def test_a_decompression_bomb_and_an_npz_of_thousands_of_arrays_get_their_own_message(tmp_path):
    from PIL import Image

    bomb = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(bomb, format="PNG")  # 400 million pixels, a few hundred KB
    bomb.seek(0)
    with pytest.raises(ValueError, match="'bomb.png' is far too large to read"):
        images_for_model([("bomb.png", bomb)], (1, 28, 28))
    crowded = tmp_path / "crowded.npz"
    np.savez(crowded, images=np.zeros((2, 28, 28), np.uint8), **{f"a{i}": np.zeros(1) for i in range(150)})
    with open(crowded, "rb") as f, pytest.raises(ValueError, match="holds 151 arrays"):
        images_for_model([("crowded.npz", f)], (1, 28, 28))


def test_text_from_a_users_file_never_starts_a_spreadsheet_formula():
    from explorer.export import text_cell

    for name in ("=cmd|' /C calc'!A0.png", "+SUM(1,2)", "-2+3", "@x", "\t=x", " =x"):
        assert text_cell(name).startswith("'")
    assert text_cell("seven") == "seven" and text_cell("") == "" and text_cell("\tx") == " x"
