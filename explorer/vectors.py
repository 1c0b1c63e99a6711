"""Attribute vectors that are scored: the mean latent of images with an attribute minus the mean of those without,
added to other images at strengths -2..+2, decoded, and measured by something that never saw the latents (the
pixels, or explorer.reader's network): did the attribute move the intended way, and did the image keep its class?"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple
from collections.abc import Callable

import numpy as np

from explorer.attributes import MEASURES, UNITS, quarters_within
from explorer.data import ImageDataset
from explorer.groups import STRENGTHS, along, attribute_vector
from explorer.latent import Latents, decode_latents
from explorer.numbers import share

SCORED_IMAGES = 300  # images a vector is scored on: 9 strengths x 300 decodes take about a second on a CPU
WORKS = 0.7  # a vector that changes nothing moves about half the images either way, by the measure's noise alone
EXAMPLES = 16  # typical images lacking an attribute that the Vectors page's example is chosen from


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


def measure_for(dataset: ImageDataset, name: str, read=None) -> Callable[[np.ndarray], np.ndarray]:
    """images -> (N,) how much of the attribute each shows. read: the data set's reader
    (explorer.reader.reader_for(dataset).read), which measures a known factor; pixel measures need none."""
    for factor in dataset.factors:
        if factor.categorical and name in factor.levels:
            return lambda images, f=factor.name, k=factor.levels.index(name): read(images)[f][:, k]  # noqa: B008 - binds this level's index (an int) when the lambda is made, on purpose
        if not factor.categorical and name == factor.name:
            return lambda images, f=factor.name: read(images)[f]
    if name in MEASURES:
        return MEASURES[name]
    raise ValueError(f"{dataset.name} has no attribute {name!r}; it has {', '.join(attribute_names(dataset))}.")


def unit_of(dataset: ImageDataset, name: str) -> str:
    """What an attribute's measure counts: a quantity's unit, the reader's probability for a named level."""
    for factor in dataset.factors:
        if factor.categorical and name in factor.levels:
            return "the reader's probability"
        if name == factor.name:
            return factor.unit
    return UNITS.get(name, "")


def other_level(dataset: ImageDataset, level: str) -> str | None:
    """The other level of the two-level known factor this level belongs to (bold: regular); None when none does."""
    for factor in dataset.factors:
        if len(factor.levels) == 2 and level in factor.levels:
            return factor.levels[1 - factor.levels.index(level)]
    return None


def find_attribute(dataset: ImageDataset, rows: np.ndarray, name: str, read=None) -> Attribute:
    """The attribute of this name on the images at `rows` (a split): who has it, who lacks it (a level's images
    against the rest; a quantity's top quarter against its bottom one, within each label), and its measure."""
    measure = measure_for(dataset, name, read)
    labels = dataset.labels[rows] if dataset.labels is not None else None
    for factor in dataset.factors:
        values = factor.values[rows]
        if factor.categorical and name in factor.levels:
            level = factor.levels.index(name)
            return Attribute(name, "level", np.flatnonzero(values == level), np.flatnonzero(values != level), measure)
        if not factor.categorical and name == factor.name:
            return Attribute(name, "factor", *quarters_within(values, labels), measure)
    return Attribute(name, "pixels", *quarters_within(measure(dataset.pixels(rows)), labels), measure)


@dataclass(frozen=True)
class StrengthScore:
    strength: float
    images: int  # how many it was added to: images lacking the attribute for a positive strength, having it for
    # a negative
    moved: float  # share of the images whose measured attribute moved the intended way from strength 0
    kept: float | None  # share read as the class they were read as at strength 0 (None: the data has no classes)


@dataclass(frozen=True)
class VectorScore:
    attribute: str
    strengths: tuple[StrengthScore, ...]

    def at(self, strength: float) -> StrengthScore:
        return min(self.strengths, key=lambda s: abs(s.strength - strength))

    def weak(self, strength: float = 2.0) -> list[StrengthScore]:
        """The ends (+strength, −strength) at which the vector moved under WORKS of the images the intended way."""
        return [at for at in (self.at(strength), self.at(-strength)) if at.moved < WORKS]


def _sample(pool: np.ndarray, n: int, seed: int) -> np.ndarray:
    return np.sort(np.random.default_rng(seed).choice(pool, size=min(n, len(pool)), replace=False))


def strip_readings(model, latents: Latents, chosen: np.ndarray, vector: np.ndarray, strengths: np.ndarray,
                  measure, read_class) -> tuple[np.ndarray, np.ndarray | None]:
    """Each chosen image's strip, decoded and measured: (images, strengths) attribute and class readings."""
    z = np.concatenate([along(latents.mu[i], vector, strengths) for i in chosen])  # image by image, S each
    images = decode_latents(model, z)
    measured = measure(images).reshape(len(chosen), len(strengths))
    classes = read_class(images).reshape(len(chosen), len(strengths)) if read_class is not None else None
    return measured, classes


class Strip(NamedTuple):
    """A vector added to one image's mean at each strength, decoded and read."""

    position: int  # the image's position among the split's latents
    row: int  # ... and its row in the data set
    images: np.ndarray  # (S, C, H, W)
    measured: np.ndarray  # (S,) the attribute's measure on each decoded image
    read_as: np.ndarray | None  # (S,) the class read on each (None: the data has no classes)

    @property
    def rises(self) -> int:
        """Steps at which the measure rises as the strip's captions show it (probabilities as shares: 99.9% to 99.9%
        is no rise, 0.1% to 0.3% is one)."""
        shown = [share(v) for v in self.measured]
        return sum(b > a and shown[i] != shown[i + 1] for i, (a, b) in enumerate(zip(self.measured, self.measured[1:])))

    @property
    def kept(self) -> int:
        """Steps read as the class of the image's own decoding (strength 0); 0 when nothing reads classes."""
        return 0 if self.read_as is None else int((self.read_as == self.read_as[len(self.read_as) // 2]).sum())


def typical(latents: Latents, where: np.ndarray, n: int) -> np.ndarray:
    """Positions of the (up to) n images at `where` nearest their mean latent, nearest first: real, typical images."""
    where = np.asarray(where)
    distance = ((latents.mu[where] - latents.mu[where].mean(axis=0)) ** 2).sum(axis=1)
    return where[np.argsort(distance, kind="stable")[:n]]


def best_strip(model, latents: Latents, candidates: np.ndarray, vector: np.ndarray, measure, read_class,
               strengths=STRENGTHS) -> Strip:
    """Of the candidate images (lacking the attribute), the one whose strip shows the vector best: its class kept at
    the most steps, then its measure changed most (to a tenth), then rising at the most steps."""
    strengths = np.asarray(strengths, np.float32)
    measured, classes = strip_readings(model, latents, candidates, vector, strengths, measure, read_class)
    strips = [Strip(int(i), int(latents.index[i]), None, m, None if classes is None else classes[j])
              for j, (i, m) in enumerate(zip(candidates, measured))]
    best = max(strips, key=lambda s: (s.kept, round(float(s.measured[-1] - s.measured[0]), 1), s.rises))
    return best._replace(images=decode_latents(model, along(latents.mu[best.position], vector, strengths)))


def score_vector(model, latents: Latents, attribute: Attribute, vector: np.ndarray,
                 read_class: Callable[[np.ndarray], np.ndarray] | None = None, n: int = SCORED_IMAGES,
                 seed: int = 0, strengths=STRENGTHS) -> VectorScore:
    """Add the vector at each positive strength to up to `n` images that lack the attribute, and at each negative one
    to up to `n` that have it; decode and measure. read_class: images -> (N,) class read from them, or None."""
    strengths = np.asarray(strengths, np.float32)
    base = int(np.argmin(np.abs(strengths)))  # strength 0: the image's own reconstruction
    pools = {1: _sample(attribute.without, n, seed), -1: _sample(attribute.with_, n, seed)}
    readings = {sign: strip_readings(model, latents, chosen, vector, strengths, attribute.measure, read_class)
                for sign, chosen in pools.items()}
    rows = []
    for j, strength in enumerate(strengths):
        if strength == 0:
            rows.append(StrengthScore(0.0, len(pools[1]), 0.0, None if read_class is None else 1.0))
            continue
        measured, classes = readings[1 if strength > 0 else -1]
        change = (measured[:, j] - measured[:, base]) * np.sign(strength)
        kept = None if classes is None else float((classes[:, j] == classes[:, base]).mean())
        rows.append(StrengthScore(float(strength), len(measured), float((change > 0).mean()), kept))
    return VectorScore(attribute.name, tuple(rows))


def read_once(read: Callable[[np.ndarray], dict]) -> Callable[[np.ndarray], dict]:
    """The reader's read, remembering its last answer: a measure and a class reader built on it read the same
    decoded images once, not twice. Keep it local to one scoring: it holds the last images."""
    last: list = [None, None]

    def remembered(images: np.ndarray) -> dict:
        if last[0] is not images:
            last[:] = [images, read(images)]
        return last[1]

    return remembered


def class_reader(reader, read=None) -> Callable[[np.ndarray], np.ndarray] | None:
    """images -> (N,) the class the reader reads each as; None without a reader or when it reads no class.
    read: the reader's read to use (read_once's, shared with a measure); its own by default."""
    if reader is None or "label" not in reader.net.heads:
        return None
    read = read or reader.read
    return lambda images: read(images)["label"].argmax(axis=1)


def scored(model, dataset: ImageDataset, latents: Latents, name: str, reader=None, **options) -> VectorScore:
    """The vector 'name' (mean of those with it minus those without, over the split's latents), scored."""
    read = read_once(reader.read) if reader is not None else None
    rows = latents.index
    attribute = find_attribute(dataset, rows, name, read)
    if attribute.source != "pixels" and read is None:
        raise ValueError(f"{name!r} is measured by the data set's reader; pass one (explorer.reader.reader_for).")
    vector = attribute_vector(latents, attribute.with_, attribute.without)
    return score_vector(model, latents, attribute, vector, class_reader(reader, read), **options)


def score_line(score: VectorScore, strength: float, data_noun: str, class_noun: str) -> str:
    """'bold vector, +2: 88% of 300 test glyphs without it measured more bold; 93% kept their character'."""
    at = score.at(strength)
    line = (f"{score.attribute} vector, {at.strength:+g}: {share(at.moved)} of {at.images:,} test {data_noun} "
            f"{'without' if at.strength > 0 else 'with'} it measured {'more' if at.strength > 0 else 'less'} "
            f"{score.attribute}")
    return line + (f"; {share(at.kept)} kept their {class_noun}" if at.kept is not None else "")
