"""Per-image scores: they average to what eval reports, they single out images unlike the data, and the CLI writes
them."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from explorer.__main__ import main
from explorer.checkpoint import bundled_checkpoints, load_checkpoint
from explorer.data import load_dataset, make_dataset
from explorer.evaluation import evaluate
from explorer.scoring import score_images


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
    assert scores.recon.mean() == pytest.approx(overall.recon, abs=0.5) and scores.kl.mean() == pytest.approx(overall.kl, abs=0.1)
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
