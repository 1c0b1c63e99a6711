"""Objectives: the analytic KL, both likelihoods, beta warm-up, free bits and the IWAE bound."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from explorer.config import ModelConfig, TrainConfig
from explorer.evaluation import evaluate
from explorer.model import VAE, create_model
from explorer.objectives import beta_at, elbo_terms, iwae_log_likelihood, kl_per_dimension, reconstruction_nll
from explorer.train import train_steps


def test_kl_matches_torch_distributions():
    mu, logvar = torch.randn(5, 4), torch.randn(5, 4)
    expected = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0))
    assert torch.allclose(kl_per_dimension(mu, logvar), expected, atol=1e-5)
    assert kl_per_dimension(torch.zeros(2, 3), torch.zeros(2, 3)).abs().max() == 0


def test_bernoulli_reconstruction_is_summed_bce_in_nats():
    model = VAE(ModelConfig(hidden_dims=(8,)), (1, 4, 4))
    logits, x = torch.randn(3, 1, 4, 4), torch.rand(3, 1, 4, 4)
    p = torch.sigmoid(logits)
    expected = -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).flatten(1).sum(1)
    assert torch.allclose(reconstruction_nll(model, logits, x), expected, atol=1e-4)


def test_gaussian_reconstruction_is_the_normal_log_likelihood():
    model = VAE(ModelConfig(likelihood="gaussian", gaussian_std=0.3, hidden_dims=(8,)), (1, 4, 4))
    logits, x = torch.randn(3, 1, 4, 4), torch.rand(3, 1, 4, 4)
    expected = -Normal(torch.sigmoid(logits), 0.3).log_prob(x).flatten(1).sum(1)
    assert torch.allclose(reconstruction_nll(model, logits, x), expected, atol=1e-4)


def test_beta_warmup_ramps_linearly_from_zero():
    assert [beta_at(s, 2.0, 4) for s in (0, 1, 2, 4, 100)] == [0.0, 0.5, 1.0, 2.0, 2.0]
    assert beta_at(0, 3.0, 0) == 3.0


def test_elbo_terms_combine_recon_and_weighted_kl():
    model = create_model(ModelConfig(latent_dim=4, hidden_dims=(16,)), (1, 8, 8))
    x = torch.rand(6, 1, 8, 8)
    terms = elbo_terms(model, x, beta=0.5, generator=torch.Generator().manual_seed(0))
    assert terms.kl_per_dim.shape == (4,)
    assert torch.isclose(terms.kl, terms.kl_per_dim.sum())
    assert torch.isclose(terms.total, terms.recon + 0.5 * terms.kl)


def test_free_bits_floor_each_dimension():
    model = create_model(ModelConfig(latent_dim=4, hidden_dims=(16,)), (1, 8, 8))
    x = torch.rand(6, 1, 8, 8)
    terms = elbo_terms(model, x, beta=1.0, free_bits=5.0, generator=torch.Generator().manual_seed(0))
    # A fresh model's KL per dimension is far below 5 nats: each costs exactly the floor.
    assert terms.kl < 4 * 5.0
    assert torch.isclose(terms.total, terms.recon + 4 * 5.0)


def test_iwae_with_one_sample_is_the_elbo_and_tightens_with_k(tiny_dataset):
    ds = tiny_dataset((1, 8, 8), n=96)
    model = create_model(ModelConfig(latent_dim=2, hidden_dims=(32,)), ds.image_shape)
    list(train_steps(model, ds, TrainConfig(epochs=5, batch_size=16, lr=3e-3)))
    x = torch.tensor(ds.pixels(slice(0, 32)))
    g = lambda: torch.Generator().manual_seed(1)  # noqa: E731
    one = iwae_log_likelihood(model, x, k=1, generator=g())
    terms = elbo_terms(model, x, generator=g())
    assert torch.isclose(one.mean(), -(terms.recon + terms.kl), rtol=0.05)
    many = [iwae_log_likelihood(model, x, k=k, generator=g()).mean().item() for k in (1, 10, 100)]
    assert many[0] < many[1] < many[2]  # Burda et al.: the bound tightens as k grows
    scores = evaluate(model, ds, "test", k=20)
    assert scores.iwae > scores.elbo and math.isclose(scores.elbo, -(scores.recon + scores.kl))


def test_evaluate_is_reproducible_with_a_seed(tiny_dataset):
    ds = tiny_dataset((1, 8, 8), n=40)
    model = create_model(ModelConfig(hidden_dims=(16,)), ds.image_shape)
    assert evaluate(model, ds, k=5, seed=3) == evaluate(model, ds, k=5, seed=3)
    assert evaluate(model, ds, k=5, seed=3) != evaluate(model, ds, k=5, seed=4)


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_training_improves_the_test_elbo(tiny_dataset, likelihood):
    ds = tiny_dataset((1, 8, 8), n=200)
    model = create_model(ModelConfig(likelihood=likelihood, hidden_dims=(64,)), ds.image_shape)
    metrics = [m for m in train_steps(model, ds, TrainConfig(epochs=8, batch_size=32, lr=3e-3)) if m.epoch_end]
    assert metrics[-1].test_elbo > metrics[0].test_elbo + 1.0


def test_latents_and_logits_stay_float32_under_bf16_autocast():
    model = create_model(ModelConfig(latent_dim=3, hidden_dims=(16,)), (1, 8, 8))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(torch.rand(4, 1, 8, 8))
        terms = elbo_terms(model, torch.rand(4, 1, 8, 8))
    assert out.mu.dtype == out.logvar.dtype == out.recon_logits.dtype == torch.float32
    assert terms.kl.dtype == terms.recon.dtype == torch.float32
