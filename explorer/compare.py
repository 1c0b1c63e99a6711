"""Comparing two models' latent spaces against the prior: a shared 2-D plane, the region the data occupies, and
how well the encoded data covers N(0, I), each computed the same way for a VAE and a plain autoencoder."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from explorer.latent import Latents

COVERAGE_DRAWS = 2000  # prior draws the coverage is measured at
COVERAGE_QUANTILE = 0.95  # of prior-to-prior nearest distances: the radius a draw counts as covered within


class Plane(NamedTuple):
    """A 2-D plane through the origin of latent space: coordinates c = z @ basis.T, back to z = c @ basis.

    Through the origin (not the data's centre), so the prior N(0, I) projects onto it as N(0, I2) and its circles
    keep their radii: the basis rows are orthonormal.
    """

    basis: np.ndarray  # (2, D) orthonormal rows (for D = 1, the second row is zero)
    titles: tuple[str, str]

    def to_plane(self, z: np.ndarray) -> np.ndarray:
        return (np.asarray(z, np.float32) @ self.basis.T).astype(np.float32)

    def from_plane(self, c: np.ndarray) -> np.ndarray:
        return (np.asarray(c, np.float32) @ self.basis).astype(np.float32)


def plane_for(mu: np.ndarray) -> Plane:
    """z0 and z1 for a 1- or 2-D latent; else the two principal directions of the means (PCA without centring
    the coordinates, so the origin stays the prior's centre)."""
    dim = mu.shape[1]
    if dim <= 2:
        return Plane(np.eye(2, dim, dtype=np.float32), ("z0", "z1" if dim == 2 else "(none)"))
    centred = mu - mu.mean(axis=0)
    _, _, vt = np.linalg.svd(centred.astype(np.float64), full_matrices=False)
    return Plane(vt[:2].astype(np.float32), ("PC 1", "PC 2"))


def region(points: np.ndarray, margin: float = 0.08) -> tuple[tuple[float, float], tuple[float, float]]:
    """A square (x_range, y_range) around the points, with a margin: where the data actually lies."""
    low, high = points.min(axis=0), points.max(axis=0)
    centre, half = (low + high) / 2, max(float((high - low).max()) / 2, 1e-3) * (1 + margin)
    return (float(centre[0] - half), float(centre[0] + half)), (float(centre[1] - half), float(centre[1] + half))


def region_grid(x_range: tuple[float, float], y_range: tuple[float, float], n: int) -> np.ndarray:
    """(n*n, 2) plane points on an n x n grid over the ranges; row 0 is the top (high y), as images are drawn."""
    xs = np.linspace(x_range[0], x_range[1], n)
    ys = np.linspace(y_range[1], y_range[0], n)
    return np.stack([np.tile(xs, n), np.repeat(ys, n)], axis=1).astype(np.float32)


def posterior_draws(latents: Latents, seed: int = 0) -> np.ndarray:
    """One z ~ q(z|x) per image (N, D): the aggregate posterior's sample. An autoencoder's posterior is a point, so
    its draws are its codes."""
    if latents.logvar is None:
        return latents.mu
    noise = np.random.default_rng(seed).standard_normal(latents.mu.shape).astype(np.float32)
    return latents.mu + noise * np.exp(0.5 * latents.logvar)


def prior_coverage(draws: np.ndarray, n: int = COVERAGE_DRAWS, quantile: float = COVERAGE_QUANTILE,
                   seed: int = 0) -> float:
    """The share of prior draws that have an encoded draw nearby: "nearby" is the distance within which `quantile`
    of prior draws find one of as many other prior draws. Data whose aggregate posterior is the prior scores about
    `quantile`; clusters with gaps, or codes far from the origin, score less. The radius adapts to the dimension."""
    from scipy.spatial import cKDTree

    draws = np.asarray(draws, np.float64)
    rng = np.random.default_rng(seed)
    probes = rng.standard_normal((n, draws.shape[1]))
    reference = rng.standard_normal(draws.shape)  # as many prior draws as data: the same density of points
    radius = np.quantile(cKDTree(reference).query(probes)[0], quantile)
    return float((cKDTree(draws).query(probes)[0] <= radius).mean())


def label_gap(draws: np.ndarray, labels: np.ndarray, num_classes: int, n: int = COVERAGE_DRAWS, seed: int = 0) -> float:
    """How far the labels prior samples land on (each prior draw takes its nearest encoded image's label) are from the
    data's own label mix, as a total variation distance: 0 when sampling reaches every class as often as the data
    holds it, 1 when it reaches none of them."""
    from scipy.spatial import cKDTree

    probes = np.random.default_rng(seed).standard_normal((n, draws.shape[1]))
    nearest = cKDTree(np.asarray(draws, np.float64)).query(probes)[1]
    reached = np.bincount(labels[nearest], minlength=num_classes) / n
    held = np.bincount(labels, minlength=num_classes) / len(labels)
    return float(0.5 * np.abs(reached - held).sum())


def aggregate_kl(draws: np.ndarray) -> float:
    """KL(N(m, S) || N(0, I)) in nats, for the Gaussian with the draws' mean m and covariance S: how far the encoded
    data as a whole sits from the prior (0 when it matches in mean and spread)."""
    draws = np.asarray(draws, np.float64)
    m, s = draws.mean(axis=0), np.atleast_2d(np.cov(draws, rowvar=False))
    sign, logdet = np.linalg.slogdet(s)
    if sign <= 0:
        return float("inf")  # the codes lie in a lower-dimensional subspace: infinitely far from a full Gaussian
    return float(0.5 * (np.trace(s) + m @ m - len(m) - logdet))


def prior_radius(dim: int, mass: float = 0.99) -> float:
    """The radius of the ball around the origin that holds this share of the prior N(0, I)'s samples in dim
    dimensions (3.03 in 2-D, 5.7 in 16-D at 99%)."""
    from scipy.stats import chi2

    return float(np.sqrt(chi2.ppf(mass, dim)))


def inside_prior(draws: np.ndarray, mass: float = 0.99) -> float:
    """The share of encoded draws inside the prior's central region of this mass (a ball: |z|² under the
    chi-squared quantile), where prior samples land: codes outside it are never reached by sampling."""
    draws = np.asarray(draws, np.float64)
    return float((np.sqrt((draws**2).sum(axis=1)) <= prior_radius(draws.shape[1], mass)).mean())


class PriorFit(NamedTuple):
    """How the encoded data as a whole sits against the prior; the same numbers for a VAE and an autoencoder."""

    covered: float  # share of prior draws with an encoded draw nearby (prior_coverage)
    inside: float  # share of encoded draws inside the prior's 99% region (inside_prior)
    gap_nats: float  # KL of a Gaussian fit to the encoded draws from N(0, I) (aggregate_kl)
    label_gap: float | None  # how far prior samples' labels are from the data's mix (label_gap); None: no labels


def prior_fit(latents: Latents, num_classes: int = 0, seed: int = 0) -> PriorFit:
    """The measures, on one draw per image from its posterior (an autoencoder's: its code)."""
    draws = posterior_draws(latents, seed)
    labels = None
    if latents.labels is not None and num_classes > 0:
        labels = label_gap(draws, latents.labels, num_classes, seed=seed)
    return PriorFit(prior_coverage(draws, seed=seed), inside_prior(draws), aggregate_kl(draws), labels)
