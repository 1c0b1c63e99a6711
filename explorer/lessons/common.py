"""What several lessons need: a typical image of a class, and where a data row sits among the latents."""

from __future__ import annotations

import numpy as np

from explorer.latent import Latents


def typical_row(latents: Latents, label: int) -> int:
    """The data row of this label whose mean lies nearest the label's average mean: a typical one, not an odd one."""
    mine = latents.labels == label
    if not mine.any():
        raise ValueError(f"There is no image labelled {label} in this split.")
    mu = latents.mu[mine]
    return int(latents.index[mine][np.argmin(np.linalg.norm(mu - mu.mean(axis=0), axis=1))])


def position(latents: Latents, row: int) -> int:
    """Where a data row sits in the latents' arrays."""
    return int(np.searchsorted(latents.index, row))
