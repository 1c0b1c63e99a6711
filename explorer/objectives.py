"""ELBO terms (reconstruction log-likelihood, analytic KL per dimension), beta schedule and the IWAE bound."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

import torch
from torch.nn import functional as F

if TYPE_CHECKING:  # a name only: the model imports this module (its noise), and the kinds its objectives
    from explorer.model import VAE

LOG_2PI = math.log(2 * math.pi)
MIN_LOG_STD = math.log(1e-3)  # a learned Gaussian std may not shrink to 0, where the likelihood is unbounded
NO_LIKELIHOOD = ("an autoencoder encodes each image to one point, not a distribution: it has no KL term, so no ELBO, "
                 "and no bound on log p(x)")


class LossTerms(NamedTuple):
    total: torch.Tensor  # scalar: the quantity minimised (the kind's: recon + beta * (free-bits) KL for a VAE)
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


def sample_noise(like: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Standard normal noise shaped like `like`; a run's own generator keeps concurrent runs reproducible."""
    return torch.randn(like.shape, generator=generator, dtype=like.dtype, device=like.device)


def log_weights(model: VAE, x: torch.Tensor, recon_logits: torch.Tensor, z: torch.Tensor, mu: torch.Tensor,
                logvar: torch.Tensor) -> torch.Tensor:
    """log p(x|z) + log p(z) - log q(z|x) per image (B,) for one draw z (B, D) and its decoder output: an
    importance weight of the bound on log p(x)."""
    log_px_z = -reconstruction_nll(model, recon_logits, x)
    log_pz = -0.5 * (z.pow(2) + LOG_2PI).sum(dim=1)
    log_qz_x = -0.5 * (((z - mu) / torch.exp(0.5 * logvar)).pow(2) + logvar + LOG_2PI).sum(dim=1)
    return log_px_z + log_pz - log_qz_x


def importance_weighted(model: VAE, x: torch.Tensor, labels: torch.Tensor | None, noise: torch.Tensor,
                        network: torch.nn.Module | None = None) -> LossTerms:
    """The IWAE training loss (Burda et al. 2016): minus the k-sample bound on log p(x), averaged over the batch,
    from noise (B, k, D); reconstruction is the mean over the k draws, KL the analytic one (reported only)."""
    out = (model if network is None else network)(x, labels, None, noise)  # k decodes per image
    batch, k, _ = out.z.shape
    repeated = x.repeat_interleave(k, dim=0)
    z, mu, logvar = (t.flatten(0, 1) for t in (out.z, out.mu[:, None].expand_as(out.z),
                                                out.logvar[:, None].expand_as(out.z)))
    weights = log_weights(model, repeated, out.recon_logits, z, mu, logvar).view(batch, k)
    bound = torch.logsumexp(weights, dim=1) - math.log(k)
    recon = reconstruction_nll(model, out.recon_logits, repeated).mean()
    kl_dims = kl_per_dimension(out.mu, out.logvar).mean(dim=0)
    return LossTerms(-bound.mean(), recon, kl_dims.sum(), kl_dims)


@torch.no_grad()
def iwae_log_likelihood(
    model: VAE,
    x: torch.Tensor,
    labels: torch.Tensor | None = None,
    k: int = 100,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """log p(x) estimate per image (B,) with k importance samples (Burda et al. 2016); k=1 is the ELBO."""
    if not model.kind.posterior:
        raise ValueError(NO_LIKELIHOOD)
    mu, logvar = model.encode(x, labels)
    std = torch.exp(0.5 * logvar)
    weights = []
    for _ in range(k):  # a loop over samples keeps memory at one batch of decodes
        z = mu + sample_noise(mu, generator) * std
        weights.append(log_weights(model, x, model.decode_logits(z, labels), z, mu, logvar))
    return torch.logsumexp(torch.stack(weights), dim=0) - math.log(k)
