"""Comparing latent spaces with the prior: the plane, the region, and the coverage measures on known answers."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.compare import (aggregate_kl, inside_prior, label_gap, plane_for, posterior_draws, prior_coverage,
                              prior_fit, region, region_grid)
from explorer.latent import Latents


def _latents(mu, logvar=None, labels=None) -> Latents:
    return Latents(np.asarray(mu, np.float32), None if logvar is None else np.asarray(logvar, np.float32), labels,
                   np.arange(len(mu)))


def test_a_two_dimensional_latent_is_its_own_plane():
    mu = np.random.default_rng(0).normal(size=(50, 2)).astype(np.float32)
    plane = plane_for(mu)
    assert plane.titles == ("z0", "z1") and np.allclose(plane.to_plane(mu), mu)


def test_a_wider_latent_is_seen_on_its_principal_plane_through_the_origin():
    rng = np.random.default_rng(0)
    mu = np.zeros((400, 6), np.float32)
    mu[:, 2], mu[:, 4] = rng.normal(0, 5, 400), rng.normal(0, 2, 400)  # all the spread in z2, then z4
    plane = plane_for(mu + 3.0)  # an offset: the plane still passes through the origin
    assert np.allclose(plane.basis @ plane.basis.T, np.eye(2), atol=1e-5)  # orthonormal: circles keep their radii
    assert abs(plane.basis[0, 2]) > 0.99 and abs(plane.basis[1, 4]) > 0.99
    assert np.allclose(plane.to_plane(np.zeros((1, 6))), 0)
    c = np.array([[1.5, -2.0]], np.float32)
    assert np.allclose(plane.to_plane(plane.from_plane(c)), c, atol=1e-5)


def test_the_region_holds_every_point_and_its_grid_reads_like_an_image():
    points = np.array([[0.0, 0.0], [4.0, 1.0], [1.0, -2.0]])
    (x0, x1), (y0, y1) = region(points)
    assert x0 < 0 and x1 > 4 and y0 < -2 and y1 > 1 and np.isclose(x1 - x0, y1 - y0)  # square
    grid = region_grid((0, 1), (0, 1), 3)
    assert grid.shape == (9, 2) and tuple(grid[0]) == (0, 1) and tuple(grid[-1]) == (1, 0)  # top left, bottom right


@pytest.mark.parametrize("dim", [2, 16])
def test_prior_draws_cover_the_prior_and_shifted_or_clustered_ones_do_not(dim):
    rng = np.random.default_rng(1)
    prior = rng.standard_normal((1000, dim))
    assert 0.9 < prior_coverage(prior, seed=3) < 0.99  # about the 95% quantile the radius is drawn at
    assert inside_prior(prior) > 0.97 and abs(aggregate_kl(prior)) < 0.1 * dim
    spread = prior * 6  # an autoencoder's codes: the right shape, the wrong scale
    assert prior_coverage(spread, seed=3) < 0.5 and inside_prior(spread) < 0.3 and aggregate_kl(spread) > 10 * dim
    clusters = np.repeat(rng.standard_normal((5, dim)) * 2, 200, axis=0) + rng.normal(0, 0.05, (1000, dim))
    assert prior_coverage(clusters, seed=3) < 0.3


def test_aggregate_kl_is_the_gaussian_formula():
    rng = np.random.default_rng(2)
    draws = rng.normal([1.0, -2.0], [2.0, 0.5], (200_000, 2))
    expected = 0.5 * ((4 + 0.25) + (1 + 4) - 2 - np.log(4 * 0.25))
    assert aggregate_kl(draws) == pytest.approx(expected, rel=0.02)
    assert aggregate_kl(np.zeros((10, 2))) == float("inf")  # all on one point: no spread at all


def test_label_gap_is_zero_when_sampling_reaches_every_class_and_large_when_it_misses_one():
    rng = np.random.default_rng(4)
    draws = rng.standard_normal((2000, 2))
    labels = (draws[:, 0] > 0).astype(np.int64)  # two halves of the prior
    assert label_gap(draws, labels, 2) < 0.05
    far = draws.copy()
    far[labels == 1] += 50  # class 1 moved out of the prior's reach
    assert label_gap(far, labels, 2) > 0.45


def test_posterior_draws_sample_a_vae_and_keep_an_autoencoders_codes():
    mu = np.zeros((5000, 2), np.float32)
    vae = posterior_draws(_latents(mu, np.zeros_like(mu)), seed=0)
    assert abs(vae.std() - 1) < 0.05  # sigma 1 around 0: the prior itself
    assert np.array_equal(posterior_draws(_latents(mu)), mu)
    fit = prior_fit(_latents(mu, np.zeros_like(mu), np.zeros(5000, np.int64)), num_classes=1)
    assert fit.covered > 0.9 and fit.gap_nats < 0.01 and fit.label_gap == 0.0
    assert prior_fit(_latents(mu, np.zeros_like(mu))).label_gap is None
