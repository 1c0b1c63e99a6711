"""Stored projections: a map computed once (by `python -m explorer embed`) and shipped beside its checkpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from explorer.files import npz_bytes, write_atomically
from explorer.projections import METHODS, Projection, neighbour_transform


def embedding_path(checkpoint_path: Path, split: str, method: str) -> Path:
    """checkpoints/mnist5k-z2.safetensors -> checkpoints/mnist5k-z2.test.umap.npz"""
    return checkpoint_path.with_name(f"{checkpoint_path.stem}.{split}.{method}.npz")


def save_embedding(path: Path, projection: Projection, index: np.ndarray, *, fingerprint: str, split: str,
                   params: dict[str, Any], seed: int) -> Path:
    """Write the map and what it was made from, atomically (plain arrays: loading it never unpickles)."""
    meta = dict(method=projection.method, params=params, seed=seed, fingerprint=fingerprint, split=split,
                axis_titles=list(projection.axis_titles))
    return write_atomically(path, npz_bytes(points=projection.points.astype(np.float32), index=np.asarray(index),
                                            meta=np.asarray(json.dumps(meta))))


def _axes(method: str) -> tuple[str, str]:
    label = METHODS[method].label
    return f"{label} 1", f"{label} 2"


def load_embedding(path: Path, mu: np.ndarray, index: np.ndarray, *, fingerprint: str, split: str, method: str,
                   params: dict[str, Any], seed: int) -> Projection | None:
    """The stored map, if it was made from exactly these weights, rows, method, parameters and seed; else None."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            meta = json.loads(str(stored["meta"]))
            points, rows = stored["points"], stored["index"]
    except (OSError, ValueError, KeyError):
        return None
    wanted = dict(method=method, params=params, seed=seed, fingerprint=fingerprint, split=split)
    if (any(meta.get(k) != v for k, v in wanted.items()) or not np.array_equal(rows, index)
            or points.shape != (len(mu), 2)):
        return None
    return Projection(points.astype(np.float32), method, tuple(meta.get("axis_titles", _axes(method))),
                      lambda z: neighbour_transform(mu, points, z), exact=False)
