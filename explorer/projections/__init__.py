"""Projections of latent means to a 2-D map, as a registry: one module per method (its parameters, whether it is
random or quick, and its fit), registered in METHODS below. The config's choices and parameters, the pages, the
caches, the alignment across epochs and the CLI all read METHODS.

To add a method: a module beside these with a `METHOD = Method(...)`, and one entry in METHODS.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from explorer.projections import identity, pacmap, pca, tsne, umap
from explorer.projections.base import Method, Projection, Stopped, neighbour_transform

METHODS: dict[str, Method] = {method.name: method for method in (
    identity.METHOD,
    pca.METHOD,
    umap.METHOD,
    tsne.METHOD,
    pacmap.METHOD,
)}
__all__ = ["METHODS", "Method", "Projection", "Stopped", "methods_for", "neighbour_transform", "project"]


def methods_for(latent_dim: int) -> tuple[str, ...]:
    """The projections that make sense for a latent size: those drawn on the latent's own axes for 2-D alone."""
    return tuple(name for name, method in METHODS.items() if latent_dim == 2 or not method.latent_axes)


def project(
    mu: np.ndarray,
    method: str = "identity",
    params: dict[str, Any] | None = None,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
    stop: threading.Event | None = None,
) -> Projection:
    """(N, D) latent means -> a Projection; `progress` (0..1) is called where the method reports it, and a set
    `stop` ends the work with Stopped where the method checks it."""
    if method not in METHODS:
        raise ValueError(f"Unknown projection {method!r}; choose one of {', '.join(METHODS)}.")
    chosen = METHODS[method]
    mu = np.asarray(mu, np.float32)
    if mu.shape[1] == 1 and not chosen.latent_axes:
        # One dimension: spread the points by z0 and keep y at 0, so the map is still a map.
        return Projection(
            np.column_stack([mu[:, 0], np.zeros(len(mu), np.float32)]), method, ("z0", ""),
            lambda z: np.column_stack([np.asarray(z, np.float32)[:, 0], np.zeros(len(z), np.float32)]),
        )
    return chosen.fit(mu, {**chosen.defaults(), **(params or {})}, seed, progress, stop)


def warm_up_projections() -> None:
    """Run the slow methods once on a little random data: numba compiles their kernels on first use in a process.

    Also builds one optimiser: torch imports torch._dynamo for the first one in a process, which would otherwise
    delay a visitor's first training run.
    """
    import torch

    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    data = np.random.default_rng(0).normal(size=(300, 8)).astype(np.float32)
    for name, method in METHODS.items():
        if not method.quick:
            project(data, name).transform(data[:5])  # placing new points compiles kernels of its own
