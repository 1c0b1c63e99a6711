"""Maps of the same points at several epochs, on common axes (the projections that can align them)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from explorer.projections import METHODS

ALIGN_METHODS = tuple(name for name, method in METHODS.items() if method.align is not None)


def align_snapshots(
    snapshots: list[np.ndarray],
    method: str = "pca",
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
    stop: threading.Event | None = None,
) -> list[np.ndarray] | None:
    """2-D maps of the same points at several epochs, on common axes (each method's `align`); None if `stop` was
    set before the end. `progress` (0..1) is called as the work advances."""
    if method not in ALIGN_METHODS:
        raise ValueError(f"Snapshots can be aligned by {', '.join(ALIGN_METHODS)}, not {method!r}.")
    mus = [np.asarray(m, np.float32) for m in snapshots]
    if not mus:
        return []
    if mus[0].shape[1] == 1:  # one dimension: z0 across, nothing up, whatever the method
        maps = [np.column_stack([m[:, 0], np.zeros(len(m), np.float32)]) for m in mus]
    else:
        maps = METHODS[method].align(mus, seed, progress or (lambda fraction: None), stop)
    if maps is not None and progress is not None:
        progress(1.0)
    return maps


def common_range(maps: list[np.ndarray], margin: float = 0.05) -> tuple[tuple[float, float], tuple[float, float]]:
    """One (x, y) range that holds every map, with a margin: fixed axes across snapshots."""
    stacked = np.concatenate(maps)
    low, high = stacked.min(axis=0), stacked.max(axis=0)
    pad = (high - low) * margin + 1e-6
    return (float(low[0] - pad[0]), float(high[0] + pad[0])), (float(low[1] - pad[1]), float(high[1] + pad[1]))
