"""Diagnostics a user can trust: per-dimension collapse, a stall judged on the test ELBO, an exploding run."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.config import ModelConfig, TrainConfig
from explorer.datafiles import load_dataset
from explorer.diagnostics import collapse, seconds_left, stall
from explorer.latent import active_units, mean_kl_per_dim
from explorer.model import create_model
from explorer.train import StepMetrics, TrainingDiverged, train_steps


def metric(step, recon=100.0, kl=5.0, total=100, epoch=1, test_elbo=None):
    return StepMetrics(step=step, epoch=epoch, total_steps=total, steps_per_epoch=total, recon=recon, kl=kl, beta=1.0,
                       loss=recon + kl, kl_per_dim=(kl,), grad_norm=1.0, samples_per_s=100.0, elapsed_s=step * 0.1,
                       test_elbo=test_elbo, test_recon=None if test_elbo is None else -test_elbo, test_kl=0.0)


def kl(active: int, dims: int = 16) -> np.ndarray:
    """Per-dimension KL where the first `active` dimensions carry information and the rest stay at the prior."""
    mu = np.zeros((500, dims), np.float32)
    mu[:, :active] = np.random.default_rng(0).normal(size=(500, active))
    mu[:, active:] += np.random.default_rng(1).normal(scale=0.15, size=(500, dims - active))  # means that wander
    return mean_kl_per_dim(mu, np.zeros_like(mu))  # posteriors as wide as the prior


def test_collapse_names_how_many_dimensions_and_which():
    assert collapse(kl(16)) is None
    heavy = collapse(kl(3))
    assert heavy.level == "warning" and heavy.text.startswith("Posterior collapse: 13 of 16 latent dimensions")
    assert "z3, z4, z5, z6, z7, z8, z9, z10 and 5 more" in heavy.text and "free bits" in heavy.text
    light = collapse(kl(14))
    assert light.level == "info" and "2 of 16 latent dimensions have collapsed (z14 and z15)" in light.text
    assert int(active_units(kl(3)).sum()) == 3  # the one definition, as eval and the map captions count it
    iwae = collapse(kl(3), weighs_kl=False)  # its loss weighs no KL: no β, warm-up or free bits to offer
    assert iwae.text.endswith("Try more importance samples k.") and "β" not in iwae.text
    assert "β" not in collapse(kl(14), weighs_kl=False).text


def epochs(elbos, steps_per_epoch=10):
    """A run's metrics whose batch losses are noisy but whose epoch ends carry these test ELBOs."""
    rng = np.random.default_rng(0)
    out = []
    for e, elbo in enumerate(elbos, start=1):
        for i in range(1, steps_per_epoch + 1):
            out.append(metric((e - 1) * steps_per_epoch + i, recon=150 + rng.normal(scale=5), epoch=e,
                              test_elbo=elbo if i == steps_per_epoch else None))
    return out


def test_a_stall_is_judged_on_the_test_elbo_not_batch_noise():
    improving = epochs([-200 + 2 * e for e in range(12)])
    assert stall(improving) is None  # the batch losses wander, but every epoch is better than the last
    assert stall(epochs([-160, -155, -154] + [-154.0] * 3)) is None  # not yet 5 epochs without a better one
    flat = stall(epochs([-160, -155, -154] + [-154.05] * 5))
    assert flat.level == "info" and "has not improved for 5 epochs (best -154.0 nats at epoch 3)" in flat.text
    assert "smaller β" in flat.text
    assert "β" not in stall(epochs([-160, -155, -154] + [-154.05] * 5), weighs_kl=False).text  # an IWAE's


def test_a_finite_but_exploding_run_ends_like_a_nan_one():
    ds = load_dataset("digits")  # at learning rate 10 its loss jumps from 45 to 1.5e9 nats, still finite
    model = create_model(ModelConfig(latent_dim=2, hidden_dims=(64,)), ds.image_shape)
    with pytest.raises(TrainingDiverged,
                       match=r"step 2 .*reconstruction exploded to 1.\d+e\+09 nats per image.*lower learning"):
        for _ in train_steps(model, ds, TrainConfig(epochs=5, batch_size=64, beta=0.0, lr=10.0)):
            pass
    assert all(np.isfinite(p.detach().numpy()).all() and np.abs(p.detach().numpy()).max() < 1e6
               for p in model.parameters())


def test_time_left():
    assert seconds_left([]) is None
    assert seconds_left([metric(10, total=40)]) == pytest.approx(3.0)  # 1 s for 10 steps, 30 to go
