"""Identity: a 2-D latent drawn as it is, its axes z0 and z1."""

from __future__ import annotations

import numpy as np

from explorer.projections.base import Method, Projection


def _fit(mu, params, seed, progress, stop) -> Projection:
    if mu.shape[1] != 2:
        raise ValueError(f"The identity map needs a 2-D latent; this one is {mu.shape[1]}-D. Use PCA instead.")
    return Projection(mu, "identity", ("z0", "z1"), lambda z: np.asarray(z, np.float32))


def _align(mus, seed, progress, stop):
    if mus[0].shape[1] != 2:
        raise ValueError("The identity map needs a 2-D latent; use PCA or UMAP.")
    return mus


METHOD = Method("identity", "Identity (z0, z1)", _fit, quick=True, latent_axes=True, align=_align)
