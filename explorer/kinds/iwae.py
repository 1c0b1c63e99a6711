"""The IWAE (Burda et al. 2016): a VAE trained on the k-sample importance-weighted bound on log p(x), tighter
than the ELBO as k grows; its KL is reported, not weighed."""

from __future__ import annotations

from explorer.kinds.base import Kind
from explorer.settings import setting

PARAMETERS = {
    "iwae_samples": setting(5, "Importance samples k (IWAE)", "IWAE: samples of z per image in each step; the loss "
                            "is the k-sample bound on log p(x), and a step decodes k times as many images.",
                            low=2, high=50, widget="number"),
}


def objective(model, x, labels, beta=1.0, free_bits=0.0, network=None, noise=None):
    """The importance-weighted bound over the step's draws, noise (B, k, D); β and free bits do not apply."""
    from explorer.objectives import importance_weighted

    return importance_weighted(model, x, labels, noise, network=network)


KIND = Kind("iwae", "IWAE", "a VAE trained on the k-sample importance-weighted bound on log p(x)",
            "the k-sample importance-weighted bound on log p(x)", objective, posterior=True,
            draws=lambda config: config.iwae_samples, parameters=PARAMETERS)
