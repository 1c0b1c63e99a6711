"""Latents: encoding a split, and counting the dimensions a model uses."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.config import ModelConfig
from explorer.evaluation import evaluate
from explorer.latent import count_active_units, decode_latents, encode_dataset, reconstruct
from explorer.model import create_model, evaluating


def test_encode_dataset_returns_the_posterior_of_every_row(tiny_dataset):
    ds = tiny_dataset(n=50)
    model = create_model(ModelConfig(latent_dim=4, hidden_dims=(16,)), ds.image_shape)
    latents = encode_dataset(model, ds, "test", batch_size=3)  # batches smaller than the split
    assert latents.mu.shape == latents.logvar.shape == (10, 4) and latents.mu.dtype == np.float32
    assert np.array_equal(latents.index, ds.test_index)
    assert np.array_equal(latents.labels, ds.labels[ds.test_index])
    mu, logvar = model.encode(torch.tensor(ds.pixels(ds.test_index)))
    assert np.allclose(latents.mu, mu.detach().numpy(), atol=1e-6)
    assert len(encode_dataset(model, ds, "all").index) == 50


def test_active_units_count_dimensions_that_carry_information():
    rng = np.random.default_rng(0)
    mu = np.concatenate([rng.normal(0, 1, (500, 3)), rng.normal(0, 0.01, (500, 2))], axis=1)
    assert count_active_units(mu, np.zeros_like(mu)) == 3
    # Means that vary a little, posteriors as wide as the prior: almost nothing carried, so not active.
    spread = rng.normal(0, 0.15, (500, 4))
    assert count_active_units(spread, np.zeros_like(spread)) == 0


@pytest.mark.parametrize("training", [True, False])
def test_inference_helpers_leave_the_models_mode_as_they_found_it(tiny_dataset, training):
    ds = tiny_dataset(n=20)
    model = create_model(ModelConfig(latent_dim=2, hidden_dims=(8,)), ds.image_shape).train(training)
    seen = []
    model.decoder_dense.register_forward_pre_hook(lambda module, args: seen.append(module.training))
    encode_dataset(model, ds)
    reconstruct(model, ds, np.arange(3))
    decode_latents(model, np.zeros((2, 2), np.float32))
    evaluate(model, ds, k=0)
    assert model.training is training and seen and not any(seen)  # decoded in eval mode, then restored
    with pytest.raises(RuntimeError), evaluating(model):
        raise RuntimeError("mid-way")
    assert model.training is training
