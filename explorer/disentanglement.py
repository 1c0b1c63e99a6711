"""How disentangled a latent space is, measured against a data set's known factors: the mutual information gap
(MIG, Chen et al. 2018, "Isolating Sources of Disentanglement in VAEs"), computed as disentanglement_lib does."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import mutual_info_score

from explorer.data import Factor

BINS = 20  # the means and each measured factor are cut into 20 equal-width bins, as in disentanglement_lib


@dataclass(frozen=True)
class FactorGap:
    """One factor's share in the MIG: the latent dimension that tells most about it, and by how much more."""

    factor: str
    dimension: int  # the latent dimension with the most mutual information about the factor
    gap: float  # (the most - the second most) information, as a share of the factor's entropy: 0 to 1


@dataclass(frozen=True)
class Mig:
    score: float  # the mean of the factors' gaps: 0 entangled (or uninformative), 1 each factor in one dimension
    factors: tuple[FactorGap, ...]


def discretize(values: np.ndarray, bins: int = BINS) -> np.ndarray:
    """(N,) values -> bin indices 0..bins-1 over their own range (a constant gives one bin)."""
    edges = np.histogram_bin_edges(values, bins=bins)
    return np.digitize(values, edges[1:-1])


def _codes(factor: Factor) -> np.ndarray:
    return factor.values if factor.categorical else discretize(factor.values)


def mutual_information(means: np.ndarray, factors: tuple[Factor, ...]) -> np.ndarray:
    """(latent dims, factors) mutual information in nats between each binned dimension and each factor."""
    binned = [discretize(column) for column in np.asarray(means, np.float64).T]
    return np.array([[mutual_info_score(_codes(factor), dim) for factor in factors] for dim in binned])


def mig(means: np.ndarray, factors: tuple[Factor, ...]) -> Mig:
    """The mutual information gap of these latent means against the factors of the same images."""
    if not factors:
        raise ValueError("The MIG needs a data set with known factors (glyphs, sprites).")
    if means.shape[1] < 2:
        raise ValueError("The MIG compares a factor's two most informative dimensions; this latent has one.")
    information = mutual_information(means, factors)
    gaps = []
    for column, factor in zip(information.T, factors):
        entropy = mutual_info_score(_codes(factor), _codes(factor))  # I(y; y) = H(y)
        second, first = np.sort(column)[-2:]
        gaps.append(FactorGap(factor.name, int(np.argmax(column)),
                              float((first - second) / entropy) if entropy > 0 else 0.0))
    return Mig(float(np.mean([g.gap for g in gaps])), tuple(gaps))
