"""Model kinds as a registry (explorer.kinds): the config, the model and the training step ask the kind."""

import torch

from explorer.config import ModelConfig, TrainConfig
from explorer.kinds import KINDS
from explorer.model import create_model
from explorer.settings import specs


def test_the_kind_setting_is_the_registry():
    field, spec = specs(ModelConfig)["kind"]
    assert spec.choices == tuple(KINDS) and field.default in KINDS
    assert all(spec.names[name] == kind.label and kind.help in spec.help for name, kind in KINDS.items())
    declared = specs(TrainConfig)
    for kind in KINDS.values():
        assert set(kind.parameters) <= set(declared)  # each kind's own settings are training settings


def test_each_kind_builds_its_model_and_trains_one_step(tiny_dataset):
    dataset = tiny_dataset()
    x = torch.from_numpy(dataset.pixels(dataset.train_index[:16]))
    for name, kind in KINDS.items():
        model = create_model(ModelConfig(kind=name, hidden_dims=(16,)), dataset.image_shape)
        mu, logvar = model.encode(x)
        assert (logvar is not None) == kind.posterior
        draws = kind.draws(TrainConfig()) if kind.draws else 0
        noise = torch.randn(16, draws, model.latent_dim) if draws else None
        terms = kind.objective(model, x, None, 1.0, 0.0, noise=noise)
        terms.total.backward()
        assert torch.isfinite(terms.total) and all(p.grad is not None for p in model.parameters() if p.requires_grad)
        assert (terms.kl.item() > 0) == kind.posterior  # a kind without a posterior reports no KL


def test_the_iwae_loss_is_the_k_sample_bound_and_tightens_with_k(tiny_dataset):
    from explorer.objectives import importance_weighted, log_weights

    dataset = tiny_dataset()
    x = torch.from_numpy(dataset.pixels(dataset.train_index[:32]))
    model = create_model(ModelConfig(kind="iwae", hidden_dims=(16,)), dataset.image_shape)
    generator = torch.Generator().manual_seed(0)
    noise = torch.randn(32, 1, model.latent_dim, generator=generator)
    one = importance_weighted(model, x, None, noise)
    mu, logvar = model.encode(x)
    z = mu + noise[:, 0] * torch.exp(0.5 * logvar)
    single = log_weights(model, x, model.decode_logits(z), z, mu, logvar)
    assert torch.allclose(one.total, -single.mean(), atol=1e-4)  # k = 1: the one-sample ELBO estimate
    losses = [importance_weighted(model, x, None, torch.randn(32, k, model.latent_dim, generator=generator)).total
              for k in (1, 50)]
    assert losses[1] < losses[0]  # more samples, a tighter (higher) bound, a lower loss
