"""Per-image scores of a VAE on a data split: the IWAE bound on log p(x), the ELBO and its two terms, one row per
image (what `python -m explorer score` writes, and what finds the least typical images)."""

from __future__ import annotations

from typing import NamedTuple
from collections.abc import Callable

import numpy as np
import torch

from explorer.budget import batches_of
from explorer.data import ImageDataset
from explorer.latent import batches
from explorer.model import VAE, evaluating
from explorer.objectives import NO_LIKELIHOOD, iwae_log_likelihood, kl_per_dimension, reconstruction_nll


class ImageScores(NamedTuple):
    index: np.ndarray  # (N,) rows of the data set
    labels: np.ndarray | None  # (N,)
    log_px: np.ndarray  # (N,) IWAE lower bound on log p(x), nats (k importance samples)
    elbo: np.ndarray  # (N,) one-sample ELBO, nats
    recon: np.ndarray  # (N,) -log p(x|z), nats
    kl: np.ndarray  # (N,) KL(q(z|x) || p(z)), nats
    k: int


@torch.no_grad()
def score_images(model: VAE, dataset: ImageDataset, index: np.ndarray, k: int = 100, seed: int = 0,
                 batch_size: int = 500, progress: Callable[[float], None] | None = None) -> ImageScores:
    """Every image's scores, in batches; the seed fixes the samples (separate streams for the ELBO and the bound,
    as in explorer.evaluation). progress gets the share done after each batch."""
    if not model.kind.posterior:
        raise ValueError(f"scores need a VAE: {NO_LIKELIHOOD}")
    if k < 1:
        raise ValueError(f"k must be at least 1 importance sample, not {k}.")
    device = next(model.parameters()).device
    generator = torch.Generator(device=device).manual_seed(seed)
    iwae_generator = torch.Generator(device=device).manual_seed(seed + 1)
    columns: dict[str, list[torch.Tensor]] = {"log_px": [], "recon": [], "kl": []}
    with evaluating(model), batches_of(model, batch_size, "both") as batch_size:
        for x, y in batches(dataset, index, batch_size, device):
            y = y if model.config.conditional else None
            out = model(x, y, generator)
            columns["recon"].append(reconstruction_nll(model, out.recon_logits, x))
            columns["kl"].append(kl_per_dimension(out.mu, out.logvar).sum(dim=1))
            columns["log_px"].append(iwae_log_likelihood(model, x, y, k, iwae_generator))
            if progress is not None:
                progress(min(1.0, len(columns["log_px"]) * batch_size / max(1, len(index))))
    log_px, recon, kl = (torch.cat(columns[name]).cpu().numpy().astype(np.float64)
                         for name in ("log_px", "recon", "kl"))
    labels = dataset.labels[index] if dataset.labels is not None else None
    return ImageScores(np.asarray(index), labels, log_px, -(recon + kl), recon, kl, k)


def score_array(model: VAE, images: np.ndarray, k: int = 100, seed: int = 0) -> ImageScores:
    """Scores of images that belong to no data set (an upload): (N, C, H, W) uint8 of the model's shape."""
    if model.config.conditional:
        raise ValueError("A conditional model scores p(x | label), and these images have no label; choose a model "
                         "that is not conditional.")
    rows = np.arange(len(images))
    loose = ImageDataset("scored images", images, None, (), rows, rows)
    return score_images(model, loose, rows, k=k, seed=seed)


def percentile_of(reference: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each value's percentile among the reference scores: the share (%) of them at or below it."""
    ordered = np.sort(reference)
    return 100.0 * np.searchsorted(ordered, values, side="right") / len(ordered)


def outside(percentiles: np.ndarray, low: float, high: float) -> np.ndarray:
    """Which images fall outside the chosen band of the data's percentiles."""
    return (percentiles < low) | (percentiles > high)
