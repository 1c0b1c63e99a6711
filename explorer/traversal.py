"""Which known factor each latent dimension moves: walk one dimension at a time from real images' codes, decode,
and read the known factors off the decoded images with the data set's reader (explorer.reader), which never saw
the latents. A dimension is named by the factor whose reading changes most along it, measured against how much that
reading swings across real images that share the factor's value (the reader's own noise: on sprites, its reading of
the shape moves when only the position does)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from explorer.data import ImageDataset
from explorer.latent import Latents, decode_latents
from explorer.reader import LABEL, Reader

STEPS = 7  # points along each dimension, from -reach to +reach
STARTS = 40  # real images' codes each dimension is walked from
NOTHING = 0.1  # a dimension whose largest change is under a tenth of a factor's range moves nothing measurable
SIGNAL = 1.0  # ... and one whose change is within the reader's noise on that factor moves nothing it can tell apart
NOISE_DRAWS = 200  # sets of STEPS real images sharing a factor's value that the reader's noise is averaged over
CLOSE = 0.75  # a runner-up whose signal is within this share of the winner's is named beside it: both move
BINS = 20  # a quantity's images share its value when they fall in the same twentieth of its distribution


@dataclass(frozen=True)
class DimensionFactor:
    dimension: int
    factor: str | None  # the factor this dimension moves most; None when it moves none measurably
    change: float  # how much: the reading's mean change along the walk, as a share of the factor's range (0 to 1;
    # a walk past the data's range, which decodes to shapes larger than any in it, counts as the whole range)
    signal: float  # that change over the reader's noise on the factor (reading_noise)
    also: str | None = None  # a second factor moved nearly as far above its noise (the dimension mixes both)


def _spans(readings: dict[str, np.ndarray], scale: dict[str, tuple[float, float]],
           ranges: dict[str, float]) -> dict[str, float]:
    """Each head's change along the walks: a category's largest swing in probability of any level, a quantity's
    swing as a share of its range in the data; both averaged over the starting images."""
    spans = {}
    for name, value in readings.items():  # value: (starts, steps, K) probabilities or (starts, steps) quantities
        if name in scale:
            spans[name] = float((np.ptp(value, axis=1) / ranges[name]).mean()) if ranges[name] > 0 else 0.0
        else:
            spans[name] = float(np.ptp(value, axis=1).max(axis=-1).mean())
    return spans


def _truth(dataset: ImageDataset, head: str, rows: np.ndarray) -> np.ndarray:
    """Which images share a head's true value: its level, or its twentieth of a quantity's distribution."""
    values = dataset.labels[rows] if head == LABEL else dataset.factor(head).values[rows]
    if head != LABEL and not dataset.factor(head).categorical:
        return np.digitize(values, np.quantile(values, np.linspace(0, 1, BINS + 1)[1:-1]))
    return values


def reading_noise(reader: Reader, dataset: ImageDataset, rows: np.ndarray, seed: int = 0) -> dict[str, float]:
    """Each head's swing, measured as along a walk (_spans), across STEPS real images that share its true value:
    how far its reading moves while that factor stays put and everything else changes."""
    readings = reader.read(dataset.pixels(rows))
    ranges = {f.name: float(np.ptp(f.values)) for f in dataset.factors if not f.categorical}
    rng = np.random.default_rng(seed)
    noise = {}
    for head, value in readings.items():
        truth = _truth(dataset, head, rows)
        values, counts = np.unique(truth, return_counts=True)
        shared = values[counts >= STEPS]
        sets = [rng.choice(np.flatnonzero(truth == rng.choice(shared)), STEPS, replace=False)
                for _ in range(NOISE_DRAWS)]
        noise[head] = _spans({head: value[np.stack(sets)]}, reader.scale, ranges)[head]
    return noise


def dimension_factors(model, latents: Latents, dataset: ImageDataset, reader: Reader, reach: float = 2.0,
                      seed: int = 0, class_noun: str = "class") -> list[DimensionFactor]:
    """For each latent dimension, the known factor (or the class, named class_noun) it moves most."""
    starts = latents.mu[np.random.default_rng(seed).choice(len(latents.mu), size=min(STARTS, len(latents.mu)),
                                                          replace=False)]
    ranges = {f.name: float(np.ptp(f.values)) for f in dataset.factors if not f.categorical}
    noise = reading_noise(reader, dataset, latents.index, seed)
    out = []
    for d in range(latents.mu.shape[1]):
        z = np.repeat(starts[:, None, :], STEPS, axis=1)
        z[:, :, d] = np.linspace(-reach, reach, STEPS, dtype=np.float32)[None, :]
        images = decode_latents(model, z.reshape(-1, z.shape[-1]))
        readings = {name: value.reshape(len(starts), STEPS, *value.shape[1:])
                    for name, value in reader.read(images).items()}
        spans = _spans(readings, reader.scale, ranges)
        signal = {name: change / max(noise[name], 1e-6) for name, change in spans.items()}
        name, second = sorted(signal, key=signal.get, reverse=True)[:2] + [None] * (len(signal) < 2)
        shown = {n: class_noun if n == LABEL else n for n in signal}
        if spans[name] < NOTHING or signal[name] < SIGNAL:
            out.append(DimensionFactor(d, None, min(spans[name], 1.0), signal[name]))
            continue
        also = shown[second] if second and signal[second] >= CLOSE * signal[name] and spans[second] >= NOTHING else None
        out.append(DimensionFactor(d, shown[name], min(spans[name], 1.0), signal[name], also))
    return out


def moved_factors(found: list[DimensionFactor]) -> Counter:
    """How many latent dimensions move each factor (most, or nearly as far as the most)."""
    return Counter(name for f in found for name in (f.factor, f.also) if name)
