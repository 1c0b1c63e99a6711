"""PaCMAP (its authors' package): a map that keeps neighbours, mid-near pairs and far pairs in their places, so
its global shape holds better than UMAP's or t-SNE's (Wang et al. 2021)."""

from __future__ import annotations

import logging

import numpy as np

from explorer.projections.base import NUMBA_PARALLEL, Method, Projection, neighbour_transform
from explorer.settings import setting

PARAMETERS = {
    "pacmap_neighbors": setting(10, "Neighbours", "PaCMAP: the near pairs each point keeps.", low=2, high=100,
                                link="pnn"),
    "mn_ratio": setting(0.5, "Mid-near pairs", "PaCMAP: mid-near pairs per neighbour, which hold the global "
                        "shape.", low=0.0, high=5.0, step=0.1, link="mn"),
    "fp_ratio": setting(2.0, "Far pairs", "PaCMAP: far pairs per neighbour, which keep clusters apart.",
                        low=0.5, high=10.0, step=0.5, link="fp"),  # PaCMAP needs at least one far pair
}


def _fit(mu, params, seed, progress, stop) -> Projection:
    import pacmap  # heavy (numba): imported only when asked for

    # Its notices (the seed it was given, pairs reduced on small samples) describe choices made here on purpose.
    logging.getLogger("pacmap").setLevel(logging.ERROR)

    reducer = pacmap.PaCMAP(n_components=2, n_neighbors=int(min(params["pacmap_neighbors"], len(mu) - 1)),
                            MN_ratio=float(params["mn_ratio"]), FP_ratio=float(params["fp_ratio"]),
                            random_state=seed)
    with NUMBA_PARALLEL:
        points = np.asarray(reducer.fit_transform(mu, init="pca"), np.float32)
    return Projection(points, "pacmap", ("PaCMAP 1", "PaCMAP 2"), lambda z: neighbour_transform(mu, points, z),
                      exact=False)


METHOD = Method("pacmap", "PaCMAP", _fit, PARAMETERS, random=True)
