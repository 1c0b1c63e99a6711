"""Latents: encoding a split, and counting the dimensions a model uses."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from explorer.config import ModelConfig
from explorer.evaluation import evaluate
from explorer.latent import (
    Latents, aggregate_density, count_active_units, decode_latents, density_grid, encode_dataset, point_histogram,
    reconstruct, slider_reach,
)
from explorer.model import create_model, evaluating


def test_encode_dataset_returns_the_posterior_of_every_row(tiny_dataset):
    ds = tiny_dataset(n=50)
    model = create_model(ModelConfig(latent_dim=4, hidden_dims=(16,)), ds.image_shape)
    latents = encode_dataset(model, ds, "test", batch_size=3)  # batches smaller than the split
    assert latents.mu.shape == latents.logvar.shape == (10, 4) and latents.mu.dtype == np.float32
    assert np.array_equal(latents.index, ds.test_index)
    assert np.array_equal(latents.labels, ds.labels[ds.test_index])
    mu, logvar = model.encode(torch.tensor(ds.pixels(ds.test_index)))
    assert np.allclose(latents.mu, mu.detach().numpy(), atol=1e-6)
    assert len(encode_dataset(model, ds, "all").index) == 50


def test_active_units_count_dimensions_that_carry_information():
    rng = np.random.default_rng(0)
    mu = np.concatenate([rng.normal(0, 1, (500, 3)), rng.normal(0, 0.01, (500, 2))], axis=1)
    assert count_active_units(mu, np.zeros_like(mu)) == 3
    # Means that vary a little, posteriors as wide as the prior: almost nothing carried, so not active.
    spread = rng.normal(0, 0.15, (500, 4))
    assert count_active_units(spread, np.zeros_like(spread)) == 0


@pytest.mark.parametrize("training", [True, False])
def test_inference_helpers_leave_the_models_mode_as_they_found_it(tiny_dataset, training):
    ds = tiny_dataset(n=20)
    model = create_model(ModelConfig(latent_dim=2, hidden_dims=(8,)), ds.image_shape).train(training)
    seen = []
    model.decoder_dense.register_forward_pre_hook(lambda module, args: seen.append(module.training))
    encode_dataset(model, ds)
    reconstruct(model, ds, np.arange(3))
    decode_latents(model, np.zeros((2, 2), np.float32))
    evaluate(model, ds, k=0)
    assert model.training is training and seen and not any(seen)  # decoded in eval mode, then restored
    with pytest.raises(RuntimeError), evaluating(model):
        raise RuntimeError("mid-way")
    assert model.training is training


def _cell(xs, ys) -> float:
    return float((xs[1] - xs[0]) * (ys[1] - ys[0]))


def test_the_aggregate_posterior_is_a_density_that_peaks_at_a_lone_mean():
    rng = np.random.default_rng(0)
    mu = rng.normal(0, 1.5, (200, 2)).astype(np.float32)
    logvar = rng.normal(-1, 0.3, (200, 2)).astype(np.float32)
    xs = ys = np.linspace(-12, 12, 241)
    q = aggregate_density(mu, logvar, xs, ys)
    assert q.shape == (241, 241) and (q >= 0).all()
    assert q.sum() * _cell(xs, ys) == pytest.approx(1.0, abs=1e-3)
    one = aggregate_density(np.array([[1.0, -2.0]]), np.log(np.array([[0.25, 0.04]])), xs, ys)
    row, col = np.unravel_index(np.argmax(one), one.shape)  # rows run along y, columns along x
    assert (xs[col], ys[row]) == (pytest.approx(1.0), pytest.approx(-2.0))
    assert one.max() == pytest.approx(1 / (2 * np.pi * 0.5 * 0.2), rel=1e-6)  # the peak of N(mu, diag(.25, .04))


def test_unit_bubbles_at_prior_draws_make_a_density_close_to_the_priors():
    """Means drawn from N(0, I) with σ = 1 give q = N(0, 2I), the prior smeared once more; means from N(0, 0)
    would give the prior itself. Both are checked against their closed forms."""
    mu = np.random.default_rng(1).standard_normal((4000, 2))
    xs = ys = np.linspace(-5, 5, 51)
    q = aggregate_density(mu, np.zeros_like(mu), xs, ys)
    r2 = xs[None, :] ** 2 + ys[:, None] ** 2
    assert np.abs(q - np.exp(-r2 / 4) / (4 * np.pi)).max() < 0.006  # N(0, 2I), peak 0.080
    prior = np.exp(-r2 / 2) / (2 * np.pi)
    assert np.abs(aggregate_density(np.zeros((1, 2)), np.zeros((1, 2)), xs, ys) - prior).max() < 1e-12


def test_aggregate_density_is_fast_and_refuses_other_than_2d():
    rng = np.random.default_rng(0)
    mu, logvar = rng.normal(size=(1000, 2)), rng.normal(-2, 0.5, (1000, 2))
    xs, ys = density_grid(mu, logvar, 60)
    start = time.perf_counter()
    aggregate_density(mu, logvar, xs, ys)
    assert time.perf_counter() - start < 0.3
    with pytest.raises(ValueError, match="2-D latents"):
        aggregate_density(np.zeros((5, 3)), np.zeros((5, 3)), xs, ys)


def test_the_density_grid_holds_the_prior_and_every_bubble():
    xs, ys = density_grid(np.zeros((3, 2)), np.zeros((3, 2)))
    assert len(xs) == len(ys) == 60 and xs[0] == -3.5 and xs[-1] == 3.5  # the prior's 3σ circle, with a margin
    xs, _ = density_grid(np.array([[9.0, 0.0]]), np.log(np.array([[4.0, 1.0]])), 30)
    assert len(xs) == 30 and xs[-1] == pytest.approx(13.0)  # the far mean, with 2σ of its bubble
    xs, _ = density_grid(np.array([[0.0, -20.0]]), None)  # an autoencoder's codes: no σ
    assert xs[0] == -20.0


def test_an_autoencoders_points_histogram_is_a_density_too():
    points = np.array([[0.1, 0.1], [0.1, 0.1], [-2.0, 1.0], [50.0, 0.0]])  # the last one falls off the grid
    xs = ys = np.linspace(-3, 3, 7)
    h = point_histogram(points, xs, ys)
    assert h.shape == (7, 7) and h.sum() * _cell(xs, ys) == pytest.approx(0.75)
    assert h[3, 3] == pytest.approx(0.5) and h[4, 1] == pytest.approx(0.25)  # row: y = 0 and 1; column: x = 0, -2


def test_the_sliders_reach_the_priors_range_or_an_autoencoders_farthest_code():
    mu = np.array([[0.5, -9.2], [3.0, 1.0]], np.float32)
    assert slider_reach(None) == 4.0
    assert slider_reach(Latents(mu, np.zeros_like(mu), None, np.arange(2))) == 4.0  # a VAE: the prior's range
    assert slider_reach(Latents(mu, None, None, np.arange(2))) == 10.0  # an autoencoder: every code within reach
    assert slider_reach(Latents(mu / 10, None, None, np.arange(2))) == 4.0  # never less than the prior's
