"""Lesson a: why the decoder turns samples from N(0, I) into digits. It is trained on draws from each image's bubble,
not on the bubble's centre, and the KL term packs the bubbles into the prior, so prior samples land where it was
trained."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from explorer.compare import PriorFit, prior_fit, prior_radius
from explorer.latent import Latents, decode_latents, prior_samples
from explorer.lessons.common import position
from explorer.neighbours import read_labels, reencode
from explorer.model import VAE
from explorer.numbers import share


class BubbleDraws(NamedTuple):
    """One image's bubble and what the decoder makes of draws from it."""

    row: int
    label: int
    mu: np.ndarray  # (D,)
    sigma: np.ndarray  # (D,)
    draws: np.ndarray  # (n, D) z = mu + sigma * eps
    images: np.ndarray  # (1 + n, C, H, W): the mean decoded, then each draw
    read_as: np.ndarray  # (n,) the label each decoded draw is read as (re-encoded, its nearest test images)


def bubble_draws(model: VAE, latents: Latents, row: int, n: int = 8, seed: int = 0) -> BubbleDraws:
    """n draws from the image's posterior, decoded, as the decoder meets them in training (the reparameterisation
    z = μ + σ·ε, ε ~ N(0, I))."""
    i = position(latents, row)
    mu, sigma = latents.mu[i], np.exp(0.5 * latents.logvar[i])
    eps = np.random.default_rng(seed).standard_normal((n, len(mu))).astype(np.float32)
    draws = mu + sigma * eps
    images = decode_latents(model, np.vstack([mu[None], draws]))
    return BubbleDraws(row, int(latents.labels[i]), mu, sigma, draws, images,
                       read_labels(latents, reencode(model, images[1:])))


def draws_caption(b: BubbleDraws, label_names: tuple[str, ...]) -> str:
    name = label_names[b.label]
    same = int((b.read_as == b.label).sum())
    return (f"The bubble of a typical {name} (test image {b.row}): σ per latent dimension, from {b.sigma.min():.2f} to "
            f"{b.sigma.max():.2f} (dimensions near the prior's 1 are ones the model leaves unused). Right of it, the "
            f"bubble's mean decoded, then {len(b.draws)} draws z = μ + σ·ε, decoded: {same} of {len(b.draws)} read "
            f"as a {name} (re-encoded, the label most of their 5 nearest test images carry).")


class PriorReach(NamedTuple):
    """Samples from the prior, where they land against the encoded data, and what they decode to."""

    samples: np.ndarray  # (n, D) from N(0, I)
    images: np.ndarray  # (n, C, H, W)
    read_as: np.ndarray  # (n,) labels the decoded samples are read as
    fit: PriorFit


def prior_reach(model: VAE, latents: Latents, num_classes: int, n: int = 36, seed: int = 0) -> PriorReach:
    samples = prior_samples(n, latents.mu.shape[1], seed=seed)
    images = decode_latents(model, samples)
    return PriorReach(samples, images, read_labels(latents, reencode(model, images)),
                      prior_fit(latents, num_classes, seed=seed))


def reach_caption(r: PriorReach, num_classes: int) -> str:
    kinds = len(set(r.read_as.tolist()))
    radius = prior_radius(r.samples.shape[1])
    where = f" (radius {radius:.2f}" + (", just past the outer 3σ circle)" if r.samples.shape[1] == 2 else ")")
    return (f"{len(r.samples)} draws from the prior N(0, I) (white crosses) over q(z), all the test images' bubbles "
            f"averaged. {share(r.fit.inside)} of the encoded images lie inside the prior's 99% disc{where}, and "
            f"{share(r.fit.covered)} of prior draws land near an encoded image (95% when q(z) is the prior itself). "
            f"Decoded (right), the {len(r.samples)} read as {kinds} of the {num_classes} digits.")
