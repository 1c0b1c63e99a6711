"""Lesson b: what is wrong with a plain autoencoder's latent space for generating. Its codes sit wherever training
left them, far outside the prior, so prior samples land where its decoder was never trained; a VAE's KL term keeps
the codes on the prior. And the KL term's two extremes: β 0 and a very large β beside β 1."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from explorer.compare import COVERAGE_DRAWS, PriorFit, posterior_draws, prior_fit, prior_radius
from explorer.latent import Latents, decode_latents, prior_samples
from explorer.numbers import share


class Side(NamedTuple):
    """One model of a pair: how long its codes are, how they sit against the prior, what prior samples become."""

    name: str
    norms: np.ndarray  # (N,) |z| of one draw per test image (an autoencoder's: its code)
    fit: PriorFit
    images: np.ndarray  # (n, C, H, W) prior samples decoded
    sure: np.ndarray  # (n,) how sure a digit reader is of its reading of each sample (its top class probability)

    @property
    def legible(self) -> int:
        """Samples the reader reads with at least SURE confidence."""
        return int((self.sure >= SURE).sum())


SURE = 0.9


def side(name: str, model, latents: Latents, num_classes: int, reader, n: int = 16, seed: int = 0) -> Side:
    """reader: explorer.reader's network for the data, a judge of the samples that never saw this model."""
    images = decode_latents(model, prior_samples(n, latents.mu.shape[1], seed=seed))
    norms = np.linalg.norm(posterior_draws(latents, seed), axis=1)
    sure = reader.read(images)["label"].max(axis=1)
    return Side(name, norms, prior_fit(latents, num_classes, seed=seed), images, sure)


def prior_norm_density(dim: int, r: np.ndarray) -> np.ndarray:
    """The density of |z| for z ~ N(0, I_dim) (a χ distribution), at r."""
    from scipy.stats import chi

    return chi.pdf(r, dim)


def chosen(pairs: list[tuple[Side, Side]]) -> int:
    """The pair (autoencoder, VAE) where the difference shows most: the largest gap in prior coverage."""
    return int(np.argmax([vae.fit.covered - ae.fit.covered for ae, vae in pairs]))


def norms_caption(ae: Side, vae: Side, dim: int) -> str:
    ball = prior_radius(dim)
    return (f"The length |z| of each test image's code (the autoencoder's) or of one draw from its bubble (the VAE's), "
            f"against the prior's (grey curve). The prior's 99% ball ends at |z| = {ball:.1f}: "
            f"{share(ae.fit.inside)} of the autoencoder's codes lie inside it (median |z| {np.median(ae.norms):.1f}, "
            f"longest {ae.norms.max():.1f}), against {share(vae.fit.inside)} of the VAE's (median "
            f"{np.median(vae.norms):.1f}).")


def samples_caption(ae: Side, vae: Side, dim: int, other: tuple[int, float, float] | None) -> str:
    """dim: the pair's latent size; other: (latent size, AE coverage, VAE coverage) of the pair not shown."""
    n = len(ae.images)
    text = (f"The same {n} draws from N(0, I), decoded by each. A digit reader (a small network trained on the "
            f"labels, never on these models) is at least {SURE:.0%} sure which digit it sees in {ae.legible} of the "
            f"autoencoder's {n} and {vae.legible} of the VAE's. Of {COVERAGE_DRAWS:,} such draws, "
            f"{share(ae.fit.covered)} land near an autoencoder code and {share(vae.fit.covered)} near a draw from "
            "a VAE bubble.")
    if other is not None:
        other_dim, ae_covered, vae_covered = other
        text += (f" The {dim}-D pair is shown because this gap is widest there; in {other_dim}-D it is "
                 f"{share(ae_covered)} against {share(vae_covered)}.")
    return text
