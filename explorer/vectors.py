"""Attribute vectors that are scored: the mean latent of images with an attribute minus the mean of those without,
added to other images at strengths -2..+2, decoded, and measured by something that never saw the latents (the
pixels, or explorer.reader's network): did the attribute move the intended way, and did the image keep its class?"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from explorer.attributes import MEASURES, quarters
from explorer.data import ImageDataset
from explorer.groups import STRENGTHS, along, attribute_vector
from explorer.latent import Latents, decode_latents

SCORED_IMAGES = 300  # images a vector is scored on: 9 strengths x 300 decodes take about a second on a CPU


@dataclass(frozen=True, eq=False)
class Attribute:
    """What a vector adds: the images that have it, those that lack it, and how to measure it on any image."""

    name: str  # 'bold', 'ink', 'scale'
    source: str  # 'pixels' (measured), 'level' (a factor's named level) or 'factor' (a known quantity)
    with_: np.ndarray  # positions, among the split's images, of those that have it
    without: np.ndarray  # ... and of those that lack it
    measure: Callable[[np.ndarray], np.ndarray]  # (N, C, H, W) images -> (N,) more of the attribute = higher


def attribute_names(dataset: ImageDataset, grey: bool = True) -> list[str]:
    """Every attribute a vector can be built from: the factors' named levels and quantities, then the pixel measures."""
    names: list[str] = []
    for factor in dataset.factors:
        names += [level for level in factor.levels if level not in names] if factor.categorical else [factor.name]
    return names + [name for name in MEASURES if grey and name not in names]


def quarters_within(values: np.ndarray, labels: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The quarter with the most and the quarter with the least, taken within each class and pooled: a measure that
    differs between classes (a W is wider than an i) then gives a vector of the measure, not of the class."""
    if labels is None:
        return quarters(values)
    most, least = [], []
    for label in np.unique(labels):
        where = np.flatnonzero(labels == label)
        high, low = quarters(values[where])
        most.append(where[high])
        least.append(where[low])
    return np.sort(np.concatenate(most)), np.sort(np.concatenate(least))


def find_attribute(dataset: ImageDataset, rows: np.ndarray, name: str, read=None) -> Attribute:
    """The attribute of this name on the images at `rows` (a split). read: the data set's reader
    (explorer.reader.reader_for(dataset).read), needed for a factor; pixel measures need none."""
    labels = dataset.labels[rows] if dataset.labels is not None else None
    for factor in dataset.factors:
        values = factor.values[rows]
        if factor.categorical and name in factor.levels:
            level = factor.levels.index(name)
            return Attribute(name, "level", np.flatnonzero(values == level), np.flatnonzero(values != level),
                             lambda images, f=factor.name, k=level: read(images)[f][:, k])
        if not factor.categorical and name == factor.name:
            most, least = quarters_within(values, labels)
            return Attribute(name, "factor", most, least, lambda images, f=factor.name: read(images)[f])
    if name in MEASURES:
        measure = MEASURES[name]
        most, least = quarters_within(measure(dataset.pixels(rows)), labels)
        return Attribute(name, "pixels", most, least, measure)
    raise ValueError(f"{dataset.name} has no attribute {name!r}; it has {', '.join(attribute_names(dataset))}.")


@dataclass(frozen=True)
class StrengthScore:
    strength: float
    moved: float  # share of the images whose measured attribute moved the intended way from strength 0
    kept: float | None  # share read as the class they were read as at strength 0 (None: the data has no classes)


@dataclass(frozen=True)
class VectorScore:
    attribute: str
    n_images: int  # images the vector was added to: a sample of those that lack the attribute
    strengths: tuple[StrengthScore, ...]

    def at(self, strength: float) -> StrengthScore:
        return min(self.strengths, key=lambda s: abs(s.strength - strength))


def score_vector(model, latents: Latents, attribute: Attribute, vector: np.ndarray,
                 read_class: Callable[[np.ndarray], np.ndarray] | None = None, n: int = SCORED_IMAGES,
                 seed: int = 0, strengths=STRENGTHS) -> VectorScore:
    """Add the vector at each strength to up to `n` images that lack the attribute, decode and measure.
    read_class: images -> (N,) class read from them (explorer.reader's label head), or None."""
    pool = attribute.without
    chosen = np.sort(np.random.default_rng(seed).choice(pool, size=min(n, len(pool)), replace=False))
    strengths = np.asarray(strengths, np.float32)
    z = np.concatenate([along(latents.mu[i], vector, strengths) for i in chosen])  # image by image, S each
    images = decode_latents(model, z)
    measured = attribute.measure(images).reshape(len(chosen), len(strengths))
    classes = read_class(images).reshape(len(chosen), len(strengths)) if read_class is not None else None
    base = int(np.argmin(np.abs(strengths)))  # strength 0: the image's own reconstruction
    rows = []
    for j, strength in enumerate(strengths):
        change = (measured[:, j] - measured[:, base]) * np.sign(strength)
        kept = None if classes is None else float((classes[:, j] == classes[:, base]).mean())
        rows.append(StrengthScore(float(strength), float((change > 0).mean()) if strength else 0.0, kept))
    return VectorScore(attribute.name, len(chosen), tuple(rows))


def scored(model, dataset: ImageDataset, latents: Latents, name: str, reader=None, **options) -> VectorScore:
    """The vector 'name' (mean of those with it minus those without, over the split's latents), scored."""
    read = reader.read if reader is not None else None
    rows = latents.index
    attribute = find_attribute(dataset, rows, name, read)
    if attribute.source != "pixels" and read is None:
        raise ValueError(f"{name!r} is measured by the data set's reader; pass one (explorer.reader.reader_for).")
    vector = attribute_vector(latents, attribute.with_, attribute.without)
    read_class = (lambda images: read(images)["label"].argmax(axis=1)) if read and "label" in reader.net.heads else None
    return score_vector(model, latents, attribute, vector, read_class, **options)


def score_line(score: VectorScore, strength: float, data_noun: str, class_noun: str) -> str:
    """'bold vector, +2: 88% of 300 test glyphs measured more bold; 93% kept their character'."""
    at = score.at(strength)
    line = (f"{score.attribute} vector, {at.strength:+g}: {at.moved:.0%} of {score.n_images:,} test {data_noun} "
            f"measured {'more' if at.strength > 0 else 'less'} {score.attribute}")
    return line + (f"; {at.kept:.0%} kept their {class_noun}" if at.kept is not None else "")
