"""Which known factor each latent dimension moves: walk one dimension at a time from real images' codes, decode,
and read the known factors off the decoded images with the data set's reader (explorer.reader), which never saw
the latents. A dimension is named by the factor whose reading changes most along it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.data import ImageDataset
from explorer.latent import Latents, decode_latents
from explorer.reader import LABEL, Reader

STEPS = 7  # points along each dimension, from -reach to +reach
STARTS = 40  # real images' codes each dimension is walked from
NOTHING = 0.1  # a dimension whose largest change is under a tenth of a factor's range moves nothing measurable


@dataclass(frozen=True)
class DimensionFactor:
    dimension: int
    factor: str | None  # the factor this dimension moves most; None when it moves none measurably
    change: float  # how much: the reading's mean change along the walk, as a share of the factor's range (0 to 1;
    # a walk past the data's range, which decodes to shapes larger than any in it, counts as the whole range)


def _spans(readings: dict[str, np.ndarray], scale: dict[str, tuple[float, float]], ranges: dict[str, float]) -> dict[str, float]:
    """Each head's change along the walks: a category's largest swing in probability of any level, a quantity's
    swing as a share of its range in the data; both averaged over the starting images."""
    spans = {}
    for name, value in readings.items():  # value: (starts, steps, K) probabilities or (starts, steps) quantities
        if name in scale:
            spans[name] = float((np.ptp(value, axis=1) / ranges[name]).mean()) if ranges[name] > 0 else 0.0
        else:
            spans[name] = float(np.ptp(value, axis=1).max(axis=-1).mean())
    return spans


def dimension_factors(model, latents: Latents, dataset: ImageDataset, reader: Reader, reach: float = 2.0,
                      seed: int = 0, class_noun: str = "class") -> list[DimensionFactor]:
    """For each latent dimension, the known factor (or the class, named class_noun) it moves most."""
    starts = latents.mu[np.random.default_rng(seed).choice(len(latents.mu), size=min(STARTS, len(latents.mu)),
                                                          replace=False)]
    ranges = {f.name: float(np.ptp(f.values)) for f in dataset.factors if not f.categorical}
    out = []
    for d in range(latents.mu.shape[1]):
        z = np.repeat(starts[:, None, :], STEPS, axis=1)
        z[:, :, d] = np.linspace(-reach, reach, STEPS, dtype=np.float32)[None, :]
        images = decode_latents(model, z.reshape(-1, z.shape[-1]))
        readings = {name: value.reshape(len(starts), STEPS, *value.shape[1:])
                    for name, value in reader.read(images).items()}
        spans = _spans(readings, reader.scale, ranges)
        name, change = max(spans.items(), key=lambda item: item[1])
        shown = class_noun if name == LABEL else name
        out.append(DimensionFactor(d, shown if change >= NOTHING else None, min(change, 1.0)))
    return out
