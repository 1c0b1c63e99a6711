"""The plain autoencoder: each image encodes to one point, trained on reconstruction alone."""

from __future__ import annotations

from explorer.kinds.base import Kind


def objective(model, x, labels, beta=1.0, free_bits=0.0, network=None, noise=None):
    from explorer.objectives import elbo_terms

    return elbo_terms(model, x, labels, network=network)  # no posterior: reconstruction alone, its KL reported 0


KIND = Kind("ae", "Autoencoder", "a plain autoencoder, each image to one point, trained on reconstruction alone",
            "reconstruction alone", objective, posterior=False)
