"""Reading a run like an expert would: collapsed dimensions, a stalled test ELBO, time left.

The CLI, the Train page and Explore all use these, so a run gets the same verdict wherever it is read.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from explorer.latent import ACTIVE_NATS, active_units
from explorer.train import StepMetrics

STALL_EPOCHS = 5  # epochs without a better test ELBO before a run counts as stalled (early stopping's patience)
STALL_GAIN = 0.001  # a new best must beat the old by this fraction to count as better


class Diagnosis(NamedTuple):
    level: str  # "warning" (something is wrong) or "info" (worth knowing)
    text: str


def dimension_names(mask: np.ndarray, most: int = 8) -> str:
    """'z3, z5 and z9' for the True entries (the first few, then a count)."""
    names = [f"z{d}" for d in np.flatnonzero(mask)]
    if len(names) > most:
        return ", ".join(names[:most]) + f" and {len(names) - most} more"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def collapse(kl_per_dim: np.ndarray, weighs_kl: bool = True) -> Diagnosis | None:
    """Per-dimension posterior collapse, from each dimension's average KL over the test images (D,): which
    dimensions the model no longer uses.

    More than half collapsed is a warning (the model is close to ignoring z); a few is normal (the KL term
    switches off what the data does not need) and only reported. weighs_kl: whether the model's loss weighs the KL
    (a β to lower); an IWAE's does not, and more importance samples keep more dimensions (Burda et al. 2016).
    """
    active = active_units(kl_per_dim)
    dims, unused = len(active), int((~active).sum())
    if unused == 0:
        return None
    text = (f"{unused} of {dims} latent dimensions have collapsed ({dimension_names(~active)}): each carries less "
            f"than {ACTIVE_NATS} nats about a test image (its KL from the prior), so the decoder reads almost nothing "
            "from them.")
    remedy = "a smaller β" if weighs_kl else "more importance samples k"
    if unused * 2 > dims:
        more = ", a KL warm-up, or free bits" if weighs_kl else ""
        return Diagnosis("warning", f"Posterior collapse: {text} Try {remedy}{more}.")
    return Diagnosis("info", f"{text} A few unused dimensions are normal; {remedy} keeps more of them.")


def stall(metrics: list[StepMetrics], patience: int = STALL_EPOCHS, weighs_kl: bool = True) -> Diagnosis | None:
    """The per-epoch test ELBO (an autoencoder's: its test reconstruction) has not improved for `patience` epochs
    (batch noise plays no part). weighs_kl: whether a smaller β is a remedy to offer."""
    ends = [m for m in metrics if m.epoch_end]
    if len(ends) <= patience:
        return None
    vae = ends[0].test_elbo is not None
    score = np.array([m.test_elbo if vae else -m.test_recon for m in ends])  # higher is better
    before, recent = score[:-patience].max(), score[-patience:].max()
    if recent > before + STALL_GAIN * abs(before):
        return None
    best = ends[int(np.argmax(score))]
    what = f"test ELBO has not improved for {patience} epochs (best {best.test_elbo:.1f} nats" if vae else (
        f"test reconstruction has not improved for {patience} epochs (best {best.test_recon:.1f} nats")
    return Diagnosis("info", f"The {what} at epoch {best.epoch}): more epochs will not help; a larger model "
                             f"{'or a smaller β ' if vae and weighs_kl else ''}might.")


def seconds_left(metrics: list[StepMetrics]) -> float | None:
    """Time to finish at the pace so far (None before the first step)."""
    if not metrics:
        return None
    last = metrics[-1]
    return last.elapsed_s / last.step * (last.total_steps - last.step)
