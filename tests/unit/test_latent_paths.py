"""Latent maths behind the pages: interpolation, prior samples, grids, decoding, KL per dimension."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.config import ModelConfig
from explorer.latent import decode_latents, grid_latents, interpolate, mean_kl_per_dim, prior_samples
from explorer.model import create_model
from explorer.objectives import kl_per_dimension


def test_linear_interpolation_runs_straight_and_hits_both_ends():
    path = interpolate(np.array([0.0, 0.0]), np.array([2.0, 4.0]), 5, "linear")
    assert np.allclose(path, [[0, 0], [0.5, 1], [1, 2], [1.5, 3], [2, 4]])


def test_slerp_follows_the_great_circle():
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    path = interpolate(a, b, 3, "slerp")
    assert np.allclose(path[0], a) and np.allclose(path[-1], b)
    assert np.allclose(path[1], [np.sqrt(0.5), np.sqrt(0.5)], atol=1e-6)  # the midpoint keeps norm 1
    assert np.allclose(np.linalg.norm(path, axis=1), 1.0, atol=1e-6)
    # Equal-norm endpoints: slerp keeps the norm where the straight line dips through the middle.
    rng = np.random.default_rng(0)
    z0, z1 = rng.standard_normal(16), rng.standard_normal(16)
    z1 *= np.linalg.norm(z0) / np.linalg.norm(z1)
    assert np.linalg.norm(interpolate(z0, z1, 11, "slerp")[5]) > np.linalg.norm(interpolate(z0, z1, 11, "linear")[5])


def test_slerp_of_parallel_vectors_falls_back_to_the_line():
    path = interpolate(np.array([1.0, 1.0]), np.array([2.0, 2.0]), 3, "slerp")
    assert np.allclose(path, [[1, 1], [1.5, 1.5], [2, 2]])


@pytest.mark.parametrize("far", [-1.0, -0.999])  # exactly and nearly opposite
def test_slerp_stays_between_the_ends_norms(far):
    """Between near-opposite points of unequal norm the textbook formula swings far outside both; the path here
    keeps every step's norm between the ends' and never passes near the origin."""
    z0 = np.array([1.0, 0.2, 0.0])
    z1 = far * 3.0 * z0 / np.linalg.norm(z0) + np.array([0.0, 0.0, 1e-3 * (far != -1.0)])
    path = interpolate(z0, z1, 9, "slerp")
    norms = np.linalg.norm(path, axis=1)
    assert np.allclose(path[0], z0, atol=1e-6) and np.allclose(path[-1], z1, atol=1e-5)
    assert norms.min() >= np.linalg.norm(z0) - 1e-5 and norms.max() <= np.linalg.norm(z1) + 1e-5
    assert np.all(np.diff(norms) > 0)  # the norm moves straight from one end's to the other's


def test_interpolation_arguments():
    with pytest.raises(ValueError, match="at least 2 steps"):
        interpolate(np.zeros(2), np.ones(2), 1)
    with pytest.raises(ValueError, match="linear or slerp"):
        interpolate(np.zeros(2), np.ones(2), 3, "cubic")


def test_prior_samples_are_seeded_and_scaled_by_temperature():
    a = prior_samples(4000, 3, 0.5, seed=1)
    assert np.array_equal(a, prior_samples(4000, 3, 0.5, seed=1))
    assert not np.array_equal(a, prior_samples(4000, 3, 0.5, seed=2))
    assert abs(a.std() - 0.5) < 0.02 and a.dtype == np.float32


def test_grid_latents_span_two_dimensions_top_row_first():
    base = np.array([9.0, 1.0, 2.0], np.float32)
    grid = grid_latents(base, (1, 2), extent=1.0, n=3)
    assert grid.shape == (9, 3) and np.all(grid[:, 0] == 9.0)
    assert np.allclose(grid[:3, 1], [0, 1, 2]) and np.allclose(grid[:3, 2], 3.0)  # top row: y = 2 + 1
    assert np.allclose(grid[-3:, 2], 1.0)


def test_mean_kl_per_dim_matches_the_objective():
    rng = np.random.default_rng(0)
    mu, logvar = rng.normal(size=(50, 4)), rng.normal(size=(50, 4))
    expected = kl_per_dimension(torch.tensor(mu), torch.tensor(logvar)).mean(0).numpy()
    assert np.allclose(mean_kl_per_dim(mu, logvar), expected)


def test_decode_latents_in_batches_and_with_a_label():
    model = create_model(ModelConfig(conditional=True, hidden_dims=(16,)), (3, 8, 8), num_classes=4)
    z = np.zeros((5, 2), np.float32)
    images = decode_latents(model, z, label=2, batch_size=2)
    assert images.shape == (5, 3, 8, 8) and 0 <= images.min() and images.max() <= 1
    assert not np.allclose(images, decode_latents(model, z, label=3))
