"""What every projection method is: its declaration (Method) and its result (Projection)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Progress = Callable[[float], None]  # the share of the work done, 0..1
# umap-learn and PaCMAP run numba `parallel=True` kernels. Where numba's only threading layer is "workqueue" (no
# OpenMP or TBB runtime on the host), two threads launching them at once abort the whole process: two visitors, or
# a visitor and the server's warm-up. One at a time, then; on 2 cores running them side by side gains nothing.
NUMBA_PARALLEL = threading.Lock()


class Stopped(Exception):
    """The work was asked to stop (its stop event was set) before it finished."""


@dataclass(frozen=True, eq=False)
class Projection:
    """Map coordinates for the encoded points, and how to place new latent vectors on the same map."""

    points: np.ndarray  # (N, 2) float32
    method: str
    axis_titles: tuple[str, str]
    transform: Callable[[np.ndarray], np.ndarray] = field(repr=False)  # (M, D) latents -> (M, 2)
    exact: bool = True  # False where new points are placed approximately (by their neighbours)


Fit = Callable[[np.ndarray, dict[str, Any], int, Progress | None, threading.Event | None], Projection]
Align = Callable[[list[np.ndarray], int, Progress, threading.Event | None], list[np.ndarray] | None]


@dataclass(frozen=True)
class Method:
    """A projection method, declared once: the config's choices, its parameters' settings (and so their widgets,
    link parameters and CLI flags), the pages' behaviour and the caches all read it."""

    name: str  # the setting's value: in links, CLI flags and shipped map files
    label: str  # how the picker shows it
    fit: Fit  # (N, D) means, its parameters, seed, progress, stop -> a Projection; raises Stopped
    parameters: dict[str, dataclasses.Field] = field(default_factory=dict)  # its own settings (explorer.settings)
    random: bool = False  # the seed changes the map
    quick: bool = False  # computed at once, without a progress bar or a preview meanwhile
    reports_progress: bool = False  # fit calls `progress`
    stops: bool = False  # fit checks `stop` where it reports progress, and raises Stopped soon after it is set
    latent_axes: bool = False  # the map is the 2-D latent itself (only for one): its axes carry a σ, its points decode
    align: Align | None = None  # maps of several epochs' snapshots on common axes; None: not offered for that

    def defaults(self) -> dict[str, Any]:
        return {name: declared.default for name, declared in self.parameters.items()}


def neighbour_transform(mu: np.ndarray, points: np.ndarray, z: np.ndarray, k: int = 10) -> np.ndarray:
    """Place new latents on a map: the inverse-distance-weighted mean of their k nearest data points' positions."""
    z = np.asarray(z, np.float32)
    distance = np.linalg.norm(z[:, None, :] - mu[None, :, :], axis=-1)  # (M, N)
    nearest = np.argsort(distance, axis=1)[:, :k]
    weights = 1.0 / (np.take_along_axis(distance, nearest, axis=1) + 1e-6)
    weights /= weights.sum(axis=1, keepdims=True)
    return (points[nearest] * weights[..., None]).sum(axis=1).astype(np.float32)


def stopped(stop: threading.Event | None) -> bool:
    return stop is not None and stop.is_set()
