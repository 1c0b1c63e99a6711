"""The KL term's two forces, seen at its extremes: β 0 (no KL: the bubbles shrink and drift apart), β 1, and a very
large β (everything on the prior, and the codes say nothing about the image)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from explorer.history import History
from explorer.latent import Latents, decode_latents, prior_samples


class Forces(NamedTuple):
    """What the KL term pulls on, per recorded epoch: it pulls every μ toward 0 and every σ toward 1."""

    epochs: np.ndarray  # (E,)
    mean_abs_mu: np.ndarray  # (E,) |μ| averaged over images and dimensions
    mean_sigma: np.ndarray  # (E,) σ averaged over images and dimensions


def forces(history: History) -> Forces:
    sigma = np.exp(0.5 * history.logvar)
    return Forces(history.epochs, np.abs(history.mu).mean(axis=(1, 2)), sigma.mean(axis=(1, 2)))


def spread(mu: np.ndarray) -> float:
    """How far the means reach: the radius holding 90% of them."""
    return float(np.quantile(np.linalg.norm(mu, axis=1), 0.9))


class Extreme(NamedTuple):
    """One model of the β series, as trained."""

    name: str
    beta: float
    latents: Latents
    recon: float  # test reconstruction, nats per image, at the end of training
    kl: float  # test KL, nats per image
    images: np.ndarray  # (n, C, H, W) prior samples decoded
    forces: Forces

    @property
    def mean_sigma(self) -> float:
        return float(np.exp(0.5 * self.latents.logvar).mean())

    @property
    def reach(self) -> float:
        return spread(self.latents.mu)


def extreme(name: str, checkpoint, latents: Latents, history: History, n: int = 8, seed: int = 0) -> Extreme:
    last = checkpoint.history["epochs"][-1]
    images = decode_latents(checkpoint.model, prior_samples(n, latents.mu.shape[1], seed=seed))
    return Extreme(name, checkpoint.train_config.beta, latents, last["test_recon"], last["test_kl"], images,
                   forces(history))


def describe(e: Extreme) -> str:
    """One model's numbers, as its column's caption says them."""
    return (f"β {e.beta:g}: mean σ {e.mean_sigma:.3f}, 90% of means within {e.reach:.2f} of the origin; "
            f"reconstruction {e.recon:.1f} nats, KL {e.kl:.2f} nats.")


def forces_caption(series: list[Extreme]) -> str:
    ends = "; ".join(f"β {e.beta:g}: |μ| {e.forces.mean_abs_mu[-1]:.2f}, σ {e.forces.mean_sigma[-1]:.3f}"
                     for e in series)
    first = series[0].forces
    return (f"Average |μ| and σ of the test images' bubbles over training (every dimension, every image). All start "
            f"untrained at |μ| {first.mean_abs_mu[0]:.2f} and σ {first.mean_sigma[0]:.2f}; at epoch "
            f"{int(first.epochs[-1])}: {ends}.")
