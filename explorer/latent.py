"""Encoding a dataset into latent means and log-variances, and what can be read off them."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from explorer.budget import batches_of
from explorer.config import Z_LIMIT
from explorer.data import ImageDataset
from explorer.model import VAE, evaluating

# The one definition of an active latent dimension, used by the CLI, the Train page and the maps alike: its KL
# from the prior, averaged over the data, exceeds 0.1 nats. That counts what the dimension tells the decoder,
# from the spread of its means and the narrowness of its posteriors together. (Burda et al.'s variance of the
# means > 0.01 agrees on a trained model, but counted 10 of 16 dimensions "active" at beta 8 where each carried
# 0.01-0.04 nats and the decoder drew the same blur for every image.)
ACTIVE_NATS = 0.1
DENSITY_CELLS = 120  # per side of a 2-D density's grid: finer than most bubbles (σ ~0.1)


class Latents(NamedTuple):
    mu: np.ndarray  # (N, D) float32 posterior means
    logvar: np.ndarray | None  # (N, D) float32 posterior log-variances; None for an autoencoder
    labels: np.ndarray | None  # (N,) int64, or None for unlabelled data
    index: np.ndarray  # (N,) rows of the dataset these came from


def batches(dataset: ImageDataset, index: np.ndarray, batch_size: int, device: torch.device | str = "cpu"):
    """Yield (x, labels) tensors over the given rows, in order."""
    for start in range(0, len(index), batch_size):
        rows = index[start : start + batch_size]
        x = torch.from_numpy(dataset.pixels(rows)).to(device)
        y = torch.from_numpy(dataset.labels[rows]).to(device) if dataset.labels is not None else None
        yield x, y


def encode_dataset(model: VAE, dataset: ImageDataset, split: str = "test", batch_size: int = 1000) -> Latents:
    """Posterior parameters for every image of a split."""
    return encode_rows(model, dataset, dataset.split_index(split), batch_size)


@torch.no_grad()
def encode_rows(model: VAE, dataset: ImageDataset, index: np.ndarray, batch_size: int = 1000) -> Latents:
    """Posterior parameters for the given dataset rows, in order."""
    device = next(model.parameters()).device
    mus, logvars = [], []
    with evaluating(model), batches_of(model, batch_size, "encode") as batch_size:
        for x, y in batches(dataset, index, batch_size, device):
            mu, logvar = model.encode(x, y if model.config.conditional else None)
            mus.append(mu.cpu())
            if logvar is not None:
                logvars.append(logvar.cpu())
    labels = dataset.labels[index] if dataset.labels is not None else None
    return Latents(torch.cat(mus).numpy(), torch.cat(logvars).numpy() if logvars else None, labels, index)


def active_units(kl_per_dim: np.ndarray, threshold: float = ACTIVE_NATS) -> np.ndarray:
    """(D,) bool: the latent dimensions whose average KL (nats, from mean_kl_per_dim) exceeds threshold."""
    return np.asarray(kl_per_dim) > threshold


def count_active_units(mu: np.ndarray, logvar: np.ndarray) -> int:
    """How many latent dimensions are active (the rest carry almost no information)."""
    return int(active_units(mean_kl_per_dim(mu, logvar)).sum())


def mean_kl_per_dim(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """Average KL(q(z_d|x) || N(0, 1)) per dimension (D,): how much each dimension carries, in nats."""
    return (0.5 * (mu**2 + np.exp(logvar) - 1.0 - logvar)).mean(axis=0)


def slider_reach(latents: Latents | None) -> float:
    """How far the latent sliders reach each way: the prior's +/- Z_LIMIT, or, for an autoencoder whose codes spread
    further (nothing pulls them toward the prior), far enough to reach every code."""
    if latents is None or latents.logvar is not None:
        return Z_LIMIT
    return float(max(Z_LIMIT, np.ceil(np.abs(latents.mu).max(initial=0.0))))


def dimension_weights(latents: Latents) -> tuple[np.ndarray, str]:
    """How much each latent dimension carries (D,) and what that is: a VAE's mean KL per dimension, in nats; an
    autoencoder's spread of codes (their standard deviation), as it has no KL."""
    if latents.logvar is None:
        return latents.mu.std(axis=0), "spread"
    return mean_kl_per_dim(latents.mu, latents.logvar), "KL"


def density_grid(mu: np.ndarray, logvar: np.ndarray | None = None, n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Cell centres (n,), (n,) of a square grid around the origin that holds the prior's 3σ circle and every
    2-D mean with 2σ of its bubble around it, so both densities are drawn whole on the same axes."""
    sigma = np.exp(0.5 * logvar) if logvar is not None else np.zeros_like(mu)
    reach = max(3.5, float(np.max(np.abs(mu) + 2 * sigma, initial=0.0)))
    xs = np.linspace(-reach, reach, n)
    return xs, xs.copy()


def aggregate_density(mu: np.ndarray, logvar: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """The aggregate posterior q(z) = (1/N) sum_i N(z; mu_i, diag sigma_i^2) of 2-D posteriors on the grid
    xs x ys: (len(ys), len(xs)), row j at ys[j].

    A diagonal Gaussian factorises, N(z; mu, diag s^2) = N(x; mu_x, s_x) N(y; mu_y, s_y), so the sum over
    images is one matrix product of the per-axis densities: (ny, N) @ (N, nx), no (N, ny, nx) array.
    """
    mu, logvar = np.asarray(mu, np.float64), np.asarray(logvar, np.float64)
    if mu.ndim != 2 or mu.shape[1] != 2 or logvar.shape != mu.shape:
        raise ValueError(f"The aggregate density is drawn for 2-D latents, not means of shape {mu.shape}.")
    sigma = np.exp(0.5 * logvar)  # (N, 2)
    px = _normal_pdf(np.asarray(xs, np.float64)[None], mu[:, :1], sigma[:, :1])  # (N, nx)
    py = _normal_pdf(np.asarray(ys, np.float64)[None], mu[:, 1:], sigma[:, 1:])  # (N, ny)
    return py.T @ px / len(mu)


def point_histogram(points: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """A histogram of 2-D points on the cells centred at xs x ys (evenly spaced), as a density (per unit area):
    all an autoencoder's codes give, with no σ to spread them. (len(ys), len(xs))."""
    def edges(c):
        half = (c[1] - c[0]) / 2
        return np.append(c - half, c[-1] + half)

    counts, _, _ = np.histogram2d(points[:, 1], points[:, 0], bins=(edges(np.asarray(ys)), edges(np.asarray(xs))))
    area = (xs[1] - xs[0]) * (ys[1] - ys[0])
    return counts / max(len(points), 1) / area


def _normal_pdf(x, mu, sigma):
    return np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))


def interpolate(z0: np.ndarray, z1: np.ndarray, steps: int, method: str = "linear") -> np.ndarray:
    """(steps, D) points from z0 to z1 inclusive, on a straight line or along the shell (slerp).

    In high dimensions prior samples concentrate on a shell, and a straight line between two of them cuts through
    the low-density centre. Slerp turns the direction along the great circle and moves the norm straight from
    one end's to the other's, so every step stays between the two ends' norms (White 2016's formula, used on
    unequal norms, swings out: between near-opposite points it overshoots both).
    """
    if steps < 2:
        raise ValueError("An interpolation needs at least 2 steps.")
    t = np.linspace(0.0, 1.0, steps)[:, None]  # (steps, 1)
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    if method == "linear":
        return ((1 - t) * z0 + t * z1).astype(np.float32)
    if method != "slerp":
        raise ValueError(f"Interpolation must be linear or slerp, not {method!r}.")
    r0, r1 = np.linalg.norm(z0), np.linalg.norm(z1)
    if r0 == 0 or r1 == 0:  # no direction to turn from: the line
        return ((1 - t) * z0 + t * z1).astype(np.float32)
    u0, u1 = z0 / r0, z1 / r1
    omega = np.arccos(np.clip(np.dot(u0, u1), -1.0, 1.0))
    if np.sin(omega) < 1e-6:
        if np.dot(u0, u1) > 0:  # the same direction: only the norm changes
            return ((1 - t) * z0 + t * z1).astype(np.float32)
        u1 = _perpendicular(u0)  # exactly opposite: every great circle joins them; turn through a fixed one
        direction = np.where(t <= 0.5, _arc(u0, u1, 2 * t, np.pi / 2), _arc(u1, -u0, 2 * t - 1, np.pi / 2))
    else:
        direction = _arc(u0, u1, t, omega)
    return (((1 - t) * r0 + t * r1) * direction).astype(np.float32)


def _arc(u0: np.ndarray, u1: np.ndarray, t: np.ndarray, omega: float) -> np.ndarray:
    """Unit vectors along the great circle from u0 to u1 (omega apart), at fractions t."""
    return (np.sin((1 - t) * omega) * u0 + np.sin(t * omega) * u1) / np.sin(omega)


def _perpendicular(u: np.ndarray) -> np.ndarray:
    """A unit vector at right angles to u: the axis it leans on least, with u's share removed."""
    axis = np.zeros_like(u)
    axis[np.argmin(np.abs(u))] = 1.0
    v = axis - np.dot(axis, u) * u
    return v / np.linalg.norm(v)


def prior_samples(n: int, dim: int, temperature: float = 1.0, seed: int = 0) -> np.ndarray:
    """(n, dim) draws from N(0, temperature^2 I): temperature < 1 trades variety for typical-looking samples."""
    return (np.random.default_rng(seed).standard_normal((n, dim)) * temperature).astype(np.float32)


def grid_latents(
    base: np.ndarray, dims: tuple[int, int], extent: float, n: int, centre: tuple[float, float] | None = None
) -> np.ndarray:
    """(n*n, D) points on an n x n grid over two dimensions, others fixed at base; row 0 is the top (high y).

    The grid spans centre +/- extent in each of the two dimensions (centre defaults to base's values there).
    """
    dx, dy = dims
    cx, cy = centre if centre is not None else (float(base[dx]), float(base[dy]))
    xs = np.linspace(cx - extent, cx + extent, n)
    ys = np.linspace(cy + extent, cy - extent, n)
    points = np.repeat(np.asarray(base, np.float32)[None], n * n, axis=0)
    points[:, dx] = np.tile(xs, n)
    points[:, dy] = np.repeat(ys, n)
    return points


@torch.no_grad()
def reconstruct(model: VAE, dataset: ImageDataset, rows: np.ndarray) -> np.ndarray:
    """Decoded posterior means of the given rows (K, C, H, W) in [0, 1]; conditional models use each row's label."""
    x = torch.from_numpy(dataset.pixels(rows)).to(next(model.parameters()).device)
    labels = torch.from_numpy(dataset.labels[rows]).to(x.device) if model.config.conditional else None
    with evaluating(model), batches_of(model, len(rows), "both"):  # a handful of rows: one batch
        return model.decode(model.encode(x, labels)[0], labels).cpu().numpy()


@torch.no_grad()
def decode_latents(model: VAE, z: np.ndarray, label: int | None = None, batch_size: int = 1000) -> np.ndarray:
    """(N, D) latents -> (N, C, H, W) float32 images in [0, 1]; conditional models take one label for all."""
    device = next(model.parameters()).device
    out = []
    with evaluating(model), batches_of(model, batch_size) as batch_size:
        for start in range(0, len(z), batch_size):
            chunk = torch.as_tensor(np.asarray(z[start : start + batch_size], np.float32), device=device)
            labels = None
            if model.config.conditional:
                labels = torch.full((len(chunk),), 0 if label is None else int(label), dtype=torch.long, device=device)
            out.append(model.decode(chunk, labels).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, *model.image_shape), np.float32)
