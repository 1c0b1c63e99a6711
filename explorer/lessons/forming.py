"""Lesson d: how the map of encoded means forms over training, from a recorded history (explorer.history): untrained,
every bubble sits on the prior; then reconstruction spreads the means out and sorts them by digit, and the KL term
keeps them inside the prior's circles."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from explorer.history import History
from explorer.latent import Latents
from explorer.neighbours import NEIGHBOURS, majority, nearest
from explorer.lessons.extremes import spread


class Stage(NamedTuple):
    """The map at one recorded epoch, in numbers."""

    epoch: int
    reach: float  # the radius holding 90% of the means
    mean_sigma: float  # σ averaged over images and dimensions
    agreement: float  # share of means whose `neighbours` nearest other means mostly carry their label (NaN: none)
    chance: float  # that share for labels dealt at random (the sum of squared label shares)
    neighbours: int = NEIGHBOURS  # fewer in a split of NEIGHBOURS images or fewer


def agreement(latents: Latents, k: int = NEIGHBOURS) -> float:
    """How sorted by label the map is: the share of images whose k nearest other means mostly share their label
    (fewer neighbours for a split of k images or fewer; NaN for one of a single image)."""
    k = min(k, len(latents.mu) - 1)
    if k < 1:
        return float("nan")
    others = nearest(latents, latents.mu, k + 1)[1][:, 1:]  # the first is the image itself
    return float((majority(latents.labels[others]) == latents.labels).mean())


def stage(epoch: int, latents: Latents) -> Stage:
    shares = np.bincount(latents.labels) / len(latents.labels)
    neighbours = min(NEIGHBOURS, len(latents.mu) - 1)
    return Stage(int(epoch), spread(latents.mu), float(np.exp(0.5 * latents.logvar).mean()),
                 agreement(latents, neighbours), float((shares**2).sum()), neighbours)


def stages(history: History) -> list[Stage]:
    return [stage(epoch, history.at(i)) for i, epoch in enumerate(history.epochs)]


def small_multiples(history: History) -> list[int]:
    """The positions in the history of epochs 0, 5, 10 and the last (those it holds)."""
    wanted = [0, 5, 10, int(history.epochs[-1])]
    return sorted({int(np.searchsorted(history.epochs, e)) for e in wanted if e in set(history.epochs.tolist())})


def stage_caption(s: Stage) -> str:
    when = "Before training" if s.epoch == 0 else f"Epoch {s.epoch}"
    text = f"{when}: 90% of the means within {s.reach:.2f} of the origin, mean σ {s.mean_sigma:.2f}"
    if np.isnan(s.agreement):
        return text + "."
    nearest_means = "nearest mean" if s.neighbours == 1 else f"{s.neighbours} nearest means"
    return (text + f"; {s.agreement:.0%} of images share their label with most of their {nearest_means} "
            f"({s.chance:.0%} if labels were dealt at random).")
