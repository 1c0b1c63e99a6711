"""t-SNE (openTSNE): a map that keeps each point's nearest neighbours near it; it reports progress and stops on
request."""

from __future__ import annotations

import numpy as np

from explorer.projections.base import Method, Projection, Stopped, stopped
from explorer.settings import setting

PARAMETERS = {
    "perplexity": setting(30, "Perplexity", "t-SNE: roughly the number of neighbours each point keeps close.",
                          low=5, high=100, link="perp"),
}
EARLY_ITERATIONS = 250  # openTSNE's early exaggeration phase
ITERATIONS = 300  # the main phase (openTSNE's default: 500): the same trustworthiness, in less time
EVERY = 25  # iterations between progress reports and stop checks: a stop is heard within a second


def _fit(mu, params, seed, progress, stop) -> Projection:
    from openTSNE import TSNE

    total, calls = EARLY_ITERATIONS + ITERATIONS, [0]

    def report(iteration, error, embedding) -> bool:
        calls[0] += 1  # the iteration counter restarts in each phase: count the calls instead
        if progress is not None:
            progress(min(1.0, calls[0] * EVERY / total))
        return stopped(stop)  # True ends the phase

    embedding = TSNE(
        perplexity=float(params["perplexity"]), random_state=seed, n_jobs=2, neighbors="exact",
        n_iter=ITERATIONS, early_exaggeration_iter=EARLY_ITERATIONS, callbacks=report, callbacks_every_iters=EVERY,
    ).fit(mu)
    if stopped(stop):
        raise Stopped("t-SNE was stopped")
    return Projection(np.asarray(embedding, np.float32), "tsne", ("t-SNE 1", "t-SNE 2"),
                      lambda z: np.asarray(embedding.transform(np.asarray(z, np.float32)), np.float32), exact=False)


METHOD = Method("tsne", "t-SNE", _fit, PARAMETERS, random=True, reports_progress=True, stops=True)
