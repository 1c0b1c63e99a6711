"""The VAE (Kingma & Welling 2014): each image encodes to a Gaussian bubble, trained on the ELBO, its KL term
weighed by β (with warm-up and free bits)."""

from __future__ import annotations

from explorer.kinds.base import Kind


def objective(model, x, labels, beta=1.0, free_bits=0.0, network=None, noise=None):
    """The one-sample ELBO; noise (B, 1, D), the step's draws."""
    from explorer.objectives import elbo_terms

    return elbo_terms(model, x, labels, beta, free_bits, network=network, noise=None if noise is None else noise[:, 0])


KIND = Kind("vae", "VAE", "each image encodes to a Gaussian bubble, trained on the ELBO",
            "the ELBO: reconstruction + β × KL", objective, posterior=True, weighs_kl=True, draws=lambda config: 1)
