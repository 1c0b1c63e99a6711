"""Model: both architectures on 8x8 grey, 28x28 grey and 32x32 RGB, conditional on and off, and config checks."""

from __future__ import annotations

import pytest
import torch

from explorer.config import ModelConfig, TrainConfig
from explorer.model import VAE, create_model
from explorer.train import train_steps
from tests.conftest import SHAPES

SMALL = dict(hidden_dims=(32,), conv_channels=(8, 16))


@pytest.mark.parametrize("conditional", [False, True], ids=["plain", "conditional"])
@pytest.mark.parametrize("arch", ["mlp", "conv"])
@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_architectures_fit_every_shape_and_train(tiny_dataset, shape, arch, conditional):
    ds = tiny_dataset(shape, n=40)
    model = create_model(ModelConfig(arch=arch, latent_dim=3, conditional=conditional, **SMALL), shape, ds.num_classes)
    x = torch.tensor(ds.pixels(slice(0, 5)))
    y = torch.tensor(ds.labels[:5])
    out = model(x, y)
    assert out.recon_logits.shape == (5, *shape)
    assert out.mu.shape == out.logvar.shape == out.z.shape == (5, 3)
    images = model.decode(torch.zeros(2, 3), y[:2])
    assert images.shape == (2, *shape) and 0 <= images.min() and images.max() <= 1
    metrics = list(train_steps(model, ds, TrainConfig(epochs=1, batch_size=16)))
    assert len(metrics) == metrics[0].steps_per_epoch == 2
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert metrics[-1].test_elbo is not None and metrics[-1].test_elbo < 0


@pytest.mark.parametrize("shape", [(1, 9, 9), (1, 7, 12), (3, 5, 5)])
def test_conv_hits_odd_sizes_exactly(shape):
    model = VAE(ModelConfig(arch="conv", conv_channels=(4, 4)), shape)
    assert model.decode(torch.zeros(1, 2)).shape == (1, *shape)


@pytest.mark.parametrize("latent_dim", [1, 2, 16, 64])
def test_latent_sizes(latent_dim):
    model = VAE(ModelConfig(latent_dim=latent_dim, hidden_dims=(16,)), (1, 8, 8))
    assert model.encode(torch.rand(3, 1, 8, 8))[0].shape == (3, latent_dim)


def test_same_seed_same_initial_weights():
    a = create_model(ModelConfig(hidden_dims=(16,)), (1, 8, 8), seed=3)
    b = create_model(ModelConfig(hidden_dims=(16,)), (1, 8, 8), seed=3)
    c = create_model(ModelConfig(hidden_dims=(16,)), (1, 8, 8), seed=4)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))


def test_conditional_decoder_uses_the_label():
    model = create_model(ModelConfig(conditional=True, hidden_dims=(16,)), (1, 8, 8), num_classes=3)
    z = torch.zeros(1, 2)
    assert not torch.allclose(model.decode(z, torch.tensor([0])), model.decode(z, torch.tensor([2])))


def test_conditional_needs_labels(tiny_dataset):
    with pytest.raises(ValueError, match="needs labelled data"):
        VAE(ModelConfig(conditional=True), (1, 8, 8), num_classes=0)
    model = VAE(ModelConfig(conditional=True, hidden_dims=(8,)), (1, 8, 8), num_classes=2)
    with pytest.raises(ValueError, match="needs a label for every image"):
        model.encode(torch.rand(1, 1, 8, 8))


def test_conv_refuses_too_many_layers_for_tiny_images():
    with pytest.raises(ValueError, match="too small for 4 conv layers"):
        VAE(ModelConfig(arch="conv", conv_channels=(4, 4, 4, 4)), (1, 8, 8))


def test_learned_gaussian_std_is_trained(tiny_dataset):
    ds = tiny_dataset((1, 8, 8), n=64)
    config = ModelConfig(likelihood="gaussian", learn_std=True, gaussian_std=0.5, hidden_dims=(32,))
    model = create_model(config, ds.image_shape)
    before = model.log_std.item()
    list(train_steps(model, ds, TrainConfig(epochs=3, batch_size=16, lr=1e-2)))
    assert model.log_std.item() < before  # the data is far closer than std 0.5: the std shrinks
    fixed = create_model(ModelConfig(likelihood="gaussian", gaussian_std=0.5, hidden_dims=(32,)), ds.image_shape)
    list(train_steps(fixed, ds, TrainConfig(epochs=1, batch_size=16)))
    assert fixed.log_std.item() == pytest.approx(torch.log(torch.tensor(0.5)).item())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(arch="rnn"), "arch must be one of mlp, conv"),
        (dict(latent_dim=0), "latent_dim must be a whole number from 1 to 128"),
        (dict(latent_dim=500), "latent_dim must be a whole number from 1 to 128"),
        (dict(likelihood="poisson"), "likelihood must be one of bernoulli, gaussian"),
        (dict(hidden_dims=(0,)), "hidden_dims must be a list of whole numbers from 1 to 8192"),
            (dict(hidden_dims=(8,) * 9), "hidden_dims must be at most 8 layer widths"),
        (dict(hidden_dims=(10**6,)), "hidden_dims must be a list of whole numbers from 1 to 8192"),
        (dict(gaussian_std=0), "gaussian_std must be a number from 0.0001 to 10"),
        (dict(arch="conv", conv_channels=()), "conv_channels must list at least one"),
    ],
)
def test_model_config_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ModelConfig(**kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(epochs=0), "epochs must be a whole number from 1 to"),
        (dict(epochs=2.5), "epochs must be a whole number"),
        (dict(batch_size=0), "batch_size must be a whole number from 1 to"),
        (dict(lr=0), "lr must be a number from 1e-06 to 100"),
        (dict(lr=float("nan")), "lr must be a number"),
        (dict(beta=-1), "beta must be a number from 0 to 100"),
        (dict(warmup_steps=-5), "warmup_steps must be a whole number from 0"),
        (dict(free_bits=-0.1), "free_bits must be a number from 0 to 10"),
        (dict(device="tpu"), "device must be one of auto, cpu, cuda"),
    ],
)
def test_train_config_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)


def test_configs_round_trip_through_dicts_and_refuse_unknown_keys():
    config = ModelConfig(arch="conv", latent_dim=5, hidden_dims=[64, 32])
    assert ModelConfig.from_dict(config.to_dict()) == config
    assert TrainConfig.from_dict(TrainConfig(beta=4).to_dict()) == TrainConfig(beta=4)
    with pytest.raises(ValueError, match="unknown ModelConfig settings: evil"):
        ModelConfig.from_dict({"evil": 1})


def test_unsupported_image_shapes():
    with pytest.raises(ValueError, match="use 1 or 3 channels"):
        VAE(ModelConfig(), (4, 8, 8))
