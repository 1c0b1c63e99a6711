"""Encoding a dataset into latent means and log-variances, and what can be read off them."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from explorer.data import ImageDataset
from explorer.model import VAE

ACTIVE_UNIT_THRESHOLD = 0.01  # Burda et al. (2016): a unit is active when Cov_x(E_q[z_u]) exceeds this


class Latents(NamedTuple):
    mu: np.ndarray  # (N, D) float32 posterior means
    logvar: np.ndarray  # (N, D) float32 posterior log-variances
    labels: np.ndarray | None  # (N,) int64, or None for unlabelled data
    index: np.ndarray  # (N,) rows of the dataset these came from


def batches(dataset: ImageDataset, index: np.ndarray, batch_size: int, device: torch.device | str = "cpu"):
    """Yield (x, labels) tensors over the given rows, in order."""
    for start in range(0, len(index), batch_size):
        rows = index[start : start + batch_size]
        x = torch.from_numpy(dataset.images[rows]).to(device)  # fancy indexing copies: writeable
        y = torch.from_numpy(dataset.labels[rows]).to(device) if dataset.labels is not None else None
        yield x, y


@torch.no_grad()
def encode_dataset(model: VAE, dataset: ImageDataset, split: str = "test", batch_size: int = 1000) -> Latents:
    """Posterior parameters for every image of a split."""
    index = dataset.split_index(split)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    mus, logvars = [], []
    for x, y in batches(dataset, index, batch_size, device):
        mu, logvar = model.encode(x, y if model.config.conditional else None)
        mus.append(mu.cpu())
        logvars.append(logvar.cpu())
    model.train(was_training)
    labels = dataset.labels[index] if dataset.labels is not None else None
    return Latents(torch.cat(mus).numpy(), torch.cat(logvars).numpy(), labels, index)


def count_active_units(mu: np.ndarray, threshold: float = ACTIVE_UNIT_THRESHOLD) -> int:
    """Latent dimensions whose mean varies across the data by more than threshold (the rest carry no information)."""
    return int((np.var(mu, axis=0) > threshold).sum())
