"""A training run's latent map at each epoch (the test images' posteriors, before training and after chosen epochs),
recorded by `train --history` and shipped beside its checkpoint, so the map's forming can be shown without a run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import numpy as np

from explorer.files import npz_bytes, write_atomically
from explorer.latent import Latents


class History(NamedTuple):
    """The test split's posteriors at each recorded epoch (0: the untrained model)."""

    epochs: np.ndarray  # (E,) int, ascending, starting at 0
    mu: np.ndarray  # (E, N, D) float32
    logvar: np.ndarray | None  # (E, N, D) float32; None for an autoencoder
    labels: np.ndarray | None  # (N,)
    index: np.ndarray  # (N,) the data set's rows

    def at(self, i: int) -> Latents:
        """The i-th recorded epoch as Latents."""
        return Latents(self.mu[i], None if self.logvar is None else self.logvar[i], self.labels, self.index)


def recorded_epoch(epoch: int, last: int) -> bool:
    """Which epochs a history keeps: every one up to 10 (where the map changes most), then every 5th, and the last."""
    return epoch <= 10 or epoch % 5 == 0 or epoch == last


def history_path(checkpoint_path: Path) -> Path:
    """checkpoints/mnist5k-z2.safetensors -> checkpoints/mnist5k-z2.test.history.npz"""
    return checkpoint_path.with_name(f"{checkpoint_path.stem}.test.history.npz")


def stack_history(epochs: list[int], snapshots: list[Latents]) -> History:
    first = snapshots[0]
    logvar = None if first.logvar is None else np.stack([s.logvar for s in snapshots])
    return History(np.asarray(epochs), np.stack([s.mu for s in snapshots]), logvar, first.labels, first.index)


def save_history(path: Path, history: History, *, fingerprint: str) -> Path:
    """Write it atomically, as plain arrays (float16: a map needs no more), with the checkpoint's sha256."""
    arrays = dict(epochs=history.epochs.astype(np.int32), mu=history.mu.astype(np.float16),
                  index=np.asarray(history.index), meta=np.asarray(json.dumps(dict(fingerprint=fingerprint))))
    if history.logvar is not None:
        arrays["logvar"] = history.logvar.astype(np.float16)
    if history.labels is not None:
        arrays["labels"] = np.asarray(history.labels)
    return write_atomically(path, npz_bytes(**arrays))


def load_history(path: Path, *, fingerprint: str) -> History | None:
    """The stored history, if it was recorded by the run that wrote exactly these weights; else None."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            if json.loads(str(stored["meta"])).get("fingerprint") != fingerprint:
                return None
            logvar = stored["logvar"].astype(np.float32) if "logvar" in stored else None
            labels = stored["labels"].astype(np.int64) if "labels" in stored else None
            return History(stored["epochs"].astype(np.int64), stored["mu"].astype(np.float32), logvar, labels,
                           stored["index"].astype(np.int64))
    except (OSError, ValueError, KeyError):
        return None
