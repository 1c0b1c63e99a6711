"""Lesson e: adding an attribute through the latent space, the lectures' "glasses" vector: the mean latent of images
with the attribute minus the mean of those without, added to another image's code. On digits the attributes are
measured from the pixels (explorer.attributes), so what the vector does is measured too."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from explorer.attributes import MEASURES, quarters
from explorer.groups import STRENGTHS, along, attribute_vector as difference
from explorer.latent import Latents, decode_latents
from explorer.lessons.common import position, typical_row
from explorer.neighbours import read_labels, reencode


class AttributeVector(NamedTuple):
    attribute: str  # a name in explorer.attributes.MEASURES
    vector: np.ndarray  # (D,) mean latent of the "most" group minus the "least" group's
    group_size: int  # images in each group


def attribute_vector(latents: Latents, pixels: np.ndarray, attribute: str) -> AttributeVector:
    """pixels: (N, C, H, W) the images the latents encode, in order."""
    most, least = quarters(MEASURES[attribute](pixels))
    return AttributeVector(attribute, difference(latents, most, least), min(len(most), len(least)))


class Strip(NamedTuple):
    """The vector added to one image's mean at each strength, decoded and measured."""

    row: int
    label: int
    images: np.ndarray  # (S, C, H, W)
    measured: np.ndarray  # (S,) the attribute measured on each decoded image
    read_as: np.ndarray  # (S,) the label each decoded image is read as

    @property
    def rises(self) -> int:
        return int((np.diff(self.measured) > 0).sum())

    @property
    def kept(self) -> int:
        return int((self.read_as == self.label).sum())


def apply(model, latents: Latents, v: AttributeVector, row: int) -> Strip:
    i = position(latents, row)
    images = decode_latents(model, along(latents.mu[i], v.vector, STRENGTHS))
    return Strip(row, int(latents.labels[i]), images, MEASURES[v.attribute](images),
                 read_labels(latents, reencode(model, images)))


def strips(model, latents: Latents, v: AttributeVector, num_classes: int) -> list[Strip]:
    """The vector on the typical image of every label: its score card."""
    return [apply(model, latents, v, typical_row(latents, label)) for label in range(num_classes)
            if (latents.labels == label).any()]


def best(card: list[Strip]) -> Strip:
    """The strip to show: the one where the attribute rises at most steps, then keeps its label most often."""
    return max(card, key=lambda s: (s.rises, s.kept))


def strip_caption(v: AttributeVector, shown: Strip, card: list[Strip], label_names: tuple[str, ...]) -> str:
    steps = len(shown.measured) - 1
    everywhere = sum(s.rises == steps for s in card)
    held = sum(s.kept == len(s.read_as) for s in card)
    name = label_names[shown.label]
    return (f"The {v.attribute} vector: the mean code of the {v.group_size} test images with the most {v.attribute} minus "
            f"that of the {v.group_size} with the least. Added to a typical {name} from −2 to +2 times: measured on "
            f"the decoded images, {v.attribute} goes from {shown.measured[0]:.3f} to {shown.measured[-1]:.3f}, rising "
            f"at {shown.rises} of {steps} steps, and {shown.kept} of {len(shown.read_as)} read as a {name}. Added to "
            f"the typical image of each of the {len(card)} digits, {v.attribute} rises at every step for {everywhere} "
            f"of {len(card)}, and all {len(shown.read_as)} images keep the digit for {held} of {len(card)}.")
