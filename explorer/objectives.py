"""ELBO terms (reconstruction log-likelihood, analytic KL per dimension), beta schedule and the IWAE bound."""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch.nn import functional as F

from explorer.model import VAE, sample_noise

LOG_2PI = math.log(2 * math.pi)
MIN_LOG_STD = math.log(1e-3)  # a learned Gaussian std may not shrink to 0, where the likelihood is unbounded
NO_LIKELIHOOD = ("an autoencoder encodes each image to one point, not a distribution: it has no KL term, so no ELBO, "
                 "and no bound on log p(x)")


class LossTerms(NamedTuple):
    total: torch.Tensor  # scalar: recon + beta * (free-bits) KL, the quantity minimised
    recon: torch.Tensor  # scalar: -log p(x|z), nats per image, batch mean
    kl: torch.Tensor  # scalar: KL(q(z|x) || p(z)), nats per image, batch mean
    kl_per_dim: torch.Tensor  # (D,) KL of each latent dimension, batch mean


def reconstruction_nll(model: VAE, recon_logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x|z) per image (B,), summed over pixels, in nats."""
    if model.config.likelihood == "bernoulli":
        per_pixel = F.binary_cross_entropy_with_logits(recon_logits, x, reduction="none")
    else:
        # Gaussian with mean sigmoid(logits) and std exp(log_std): 0.5*((x-m)/s)^2 + log s + 0.5*log(2*pi)
        log_std = model.log_std.clamp(min=MIN_LOG_STD)
        per_pixel = 0.5 * ((x - torch.sigmoid(recon_logits)) * torch.exp(-log_std)) ** 2 + log_std + 0.5 * LOG_2PI
    return per_pixel.flatten(1).sum(dim=1)


def kl_per_dimension(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, 1)) per image and dimension (B, D), analytic (Kingma & Welling 2014, App. B)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


def beta_at(step: int, beta: float, warmup_steps: int) -> float:
    """KL warm-up: beta ramps linearly from 0 to its target over warmup_steps (Bowman et al. 2016)."""
    if warmup_steps <= 0:
        return beta
    return beta * min(1.0, step / warmup_steps)


def elbo_terms(
    model: VAE,
    x: torch.Tensor,
    labels: torch.Tensor | None = None,
    beta: float = 1.0,
    free_bits: float = 0.0,
    generator: torch.Generator | None = None,
    network: torch.nn.Module | None = None,
    noise: torch.Tensor | None = None,
) -> LossTerms:
    """One-sample ELBO terms for a batch; total is what training minimises (an autoencoder's: reconstruction alone,
    its KL reported as 0: it has no posterior to compare with the prior).

    `network` runs the forward pass in place of `model`: its DistributedDataParallel wrapper under torchrun;
    `noise` (B, D), if given, is the reparameterisation's standard normal draws.
    """
    out = (model if network is None else network)(x, labels, generator, noise)
    recon = reconstruction_nll(model, out.recon_logits, x).mean()
    if out.logvar is None:
        zero = recon.new_zeros(())
        return LossTerms(recon, recon, zero, recon.new_zeros(out.mu.shape[1]))
    kl_dims = kl_per_dimension(out.mu, out.logvar).mean(dim=0)  # (D,)
    kl = kl_dims.sum()
    # Free bits: dimensions under the floor cost a constant, so the optimiser is not pushed to collapse them.
    kl_penalised = torch.clamp(kl_dims, min=free_bits).sum() if free_bits > 0 else kl
    return LossTerms(recon + beta * kl_penalised, recon, kl, kl_dims)


@torch.no_grad()
def iwae_log_likelihood(
    model: VAE,
    x: torch.Tensor,
    labels: torch.Tensor | None = None,
    k: int = 100,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """log p(x) estimate per image (B,) with k importance samples (Burda et al. 2016); k=1 is the ELBO."""
    if not model.is_vae:
        raise ValueError(NO_LIKELIHOOD)
    mu, logvar = model.encode(x, labels)
    std = torch.exp(0.5 * logvar)
    weights = []
    for _ in range(k):  # a loop over samples keeps memory at one batch of decodes
        z = mu + sample_noise(mu, generator) * std
        log_px_z = -reconstruction_nll(model, model.decode_logits(z, labels), x)
        log_pz = -0.5 * (z.pow(2) + LOG_2PI).sum(dim=1)
        log_qz_x = -0.5 * (((z - mu) / std).pow(2) + logvar + LOG_2PI).sum(dim=1)
        weights.append(log_px_z + log_pz - log_qz_x)
    return torch.logsumexp(torch.stack(weights), dim=0) - math.log(k)
