"""Scoring a model on a data split: ELBO terms, the IWAE log-likelihood bound and active units."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from explorer.budget import batches_of
from explorer.data import ImageDataset
from explorer.latent import batches, count_active_units
from explorer.model import VAE, evaluating
from explorer.objectives import elbo_terms, iwae_log_likelihood


class Evaluation(NamedTuple):
    elbo: float | None  # mean ELBO per image in nats (higher is better): -(recon + kl); None for an autoencoder
    recon: float  # mean -log p(x|z), nats per image
    kl: float | None  # mean KL(q(z|x) || p(z)), nats per image; None for an autoencoder
    iwae: float | None  # mean IWAE log p(x) estimate, nats per image (None when k == 0)
    k: int  # importance samples behind iwae
    active_units: int  # latent dimensions in use (-1: not counted, or an autoencoder's, where KL is undefined)
    n_images: int


@torch.no_grad()
def evaluate(
    model: VAE, dataset: ImageDataset, split: str = "test", k: int = 0, seed: int = 0, batch_size: int = 500,
    active_units: bool = True,
) -> Evaluation:
    """Average ELBO terms (and, with k > 0, the IWAE bound) over a split; the seed fixes the samples.

    active_units=False skips the extra encoding pass that counts them (reported as -1): training's
    per-epoch check does not need it.
    """
    index = dataset.split_index(split)
    posterior = model.kind.posterior
    if k > 0 and not posterior:
        k = 0  # an autoencoder has no likelihood bound: eval says so rather than failing
    active_units = active_units and posterior
    device = next(model.parameters()).device
    # Separate streams: the ELBO does not depend on k, so it matches the one reported at the end of training.
    generator = torch.Generator(device=device).manual_seed(seed)
    iwae_generator = torch.Generator(device=device).manual_seed(seed + 1)
    recon = kl = iwae = 0.0
    mus = []
    with evaluating(model), batches_of(model, batch_size, "both") as batch_size:
        for x, y in batches(dataset, index, batch_size, device):
            y = y if model.config.conditional else None
            terms = elbo_terms(model, x, y, generator=generator)
            recon += terms.recon.item() * len(x)
            kl += terms.kl.item() * len(x)
            if active_units:
                mus.append([t.cpu().numpy() for t in model.encode(x, y)])  # (mu, logvar)
            if k > 0:
                iwae += iwae_log_likelihood(model, x, y, k, iwae_generator).sum().item()
    n = len(index)
    return Evaluation(
        elbo=-(recon + kl) / n if posterior else None,
        recon=recon / n,
        kl=kl / n if posterior else None,
        iwae=iwae / n if k > 0 else None,
        k=k,
        active_units=count_active_units(*map(np.concatenate, zip(*mus))) if active_units else -1,
        n_images=n,
    )
