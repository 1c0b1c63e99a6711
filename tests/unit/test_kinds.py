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
