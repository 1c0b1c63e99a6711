"""Lesson e: adding an attribute through the latent space, the lectures' "glasses" vector: the mean code of images
with the attribute minus the mean of those without, added to another image's code. Glyphs carry named attributes as
faces carry glasses (bold or regular, italic or upright, serif or sans), and a reader that never saw the latents
judges what the vector does (explorer.vectors)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from explorer.data import ImageDataset
from explorer.groups import attribute_vector
from explorer.latent import Latents
from explorer.numbers import article, share
from explorer.vectors import (Strip, VectorScore, best_strip, class_reader, find_attribute, other_level, read_once,
                              score_vector)

ATTRIBUTES = ("bold", "italic", "serif")  # glyphs' two-level traits, each a vector that works (checkpoints/README)
TRIED = 60  # regular glyphs the shown strip is chosen from


class VectorLesson(NamedTuple):
    attribute: str
    opposite: str  # the other level: 'regular' for bold
    with_count: int  # test images with the attribute, and without
    without_count: int
    strip: Strip
    score: VectorScore
    reader_accuracy: float  # the share of test glyphs whose character the reader itself reads right


def vector_lesson(model, dataset: ImageDataset, latents: Latents, reader, attribute: str,
                  seed: int = 0) -> VectorLesson:
    """The attribute's vector over the split's latents, its strip on the best of TRIED images without the attribute
    (the class kept most often, then the attribute's reading changed most), and its score on the split."""
    read = read_once(reader.read)
    found = find_attribute(dataset, latents.index, attribute, read)
    vector = attribute_vector(latents, found.with_, found.without)
    read_class = class_reader(reader, read)
    tried = np.sort(np.random.default_rng(seed).choice(found.without, size=min(TRIED, len(found.without)),
                                                       replace=False))
    strip = best_strip(model, latents, tried, vector, found.measure, read_class)  # all the tried strips in one decode
    return VectorLesson(attribute, other_level(dataset, attribute), len(found.with_), len(found.without), strip,
                        score_vector(model, latents, found, vector, read_class, seed=seed), reader.accuracy["label"])


def strip_caption(lesson: VectorLesson, class_names: tuple[str, ...], class_noun: str) -> str:
    s, name = lesson.strip, lesson.attribute
    steps = len(s.measured) - 1
    own = class_names[s.read_as[len(s.read_as) // 2]]
    return (f"The {name} vector: the mean code of the {lesson.with_count:,} {name} test glyphs minus that of the "
            f"{lesson.without_count:,} {lesson.opposite} ones, added to {article(lesson.opposite)} {lesson.opposite} "
            f"'{own}' from −2 to +2 times (of {TRIED} {lesson.opposite} test glyphs tried, the one that keeps its "
            f"{class_noun} and changes most). The reader's probability of {name} goes from {share(s.measured[0])} to "
            f"{share(s.measured[-1])}, rising at {s.rises} of {steps} steps; "
            f"it reads {s.kept} of {len(s.read_as)} images as '{own}', the {class_noun} it started as.")


def score_caption(lesson: VectorLesson, class_noun: str) -> str:
    """The score table in words: at +2 and at −2, the share moved the intended way and the share kept."""
    plus, minus = lesson.score.at(2), lesson.score.at(-2)

    def kept(at) -> str:
        return "" if at.kept is None else f", {share(at.kept)} kept their {class_noun}"

    return (f"Not only the best one: at +2 on {plus.images} {lesson.opposite} test glyphs, {share(plus.moved)} read as "
            f"more {lesson.attribute}{kept(plus)}; at −2 on {minus.images} {lesson.attribute} ones, "
            f"{share(minus.moved)} read as less {lesson.attribute}{kept(minus)}. The reader reads "
            f"{share(lesson.reader_accuracy)} of the real "
            f"test glyphs' {class_noun}s right, so some of the glyphs counted as changed were misread, not changed.")
