"""PCA: the plane of the latent means' two largest directions of variance."""

from __future__ import annotations

import numpy as np

from explorer.projections.base import Method, Projection


def _fit(mu, params, seed, progress, stop) -> Projection:
    from sklearn.decomposition import PCA

    pca = PCA(n_components=2, random_state=seed).fit(mu)
    share = pca.explained_variance_ratio_ * 100
    titles = (f"PC1 ({share[0]:.0f}% of variance)", f"PC2 ({share[1]:.0f}%)")
    return Projection(pca.transform(mu).astype(np.float32), "pca", titles,
                      lambda z: pca.transform(np.asarray(z, np.float32)).astype(np.float32))


def frame(mus: list[np.ndarray], seed: int = 0, progress=None, stop=None) -> list[np.ndarray]:
    """One PCA, fitted on the newest snapshot, applied to all: a single linear frame, so no axis flips between
    epochs."""
    from sklearn.decomposition import PCA

    if len(mus[-1]) < 2:  # a single point: no axes to find
        return [np.zeros((len(m), 2), np.float32) for m in mus]
    pca = PCA(n_components=2, random_state=seed).fit(mus[-1])
    return [pca.transform(m).astype(np.float32) for m in mus]


METHOD = Method("pca", "PCA", _fit, quick=True, align=frame)
