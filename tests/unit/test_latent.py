"""Latents: encoding a split, and counting the dimensions a model uses."""

from __future__ import annotations

import numpy as np
import torch

from explorer.config import ModelConfig
from explorer.latent import count_active_units, encode_dataset
from explorer.model import create_model


def test_encode_dataset_returns_the_posterior_of_every_row(tiny_dataset):
    ds = tiny_dataset(n=50)
    model = create_model(ModelConfig(latent_dim=4, hidden_dims=(16,)), ds.image_shape)
    latents = encode_dataset(model, ds, "test", batch_size=3)  # batches smaller than the split
    assert latents.mu.shape == latents.logvar.shape == (10, 4) and latents.mu.dtype == np.float32
    assert np.array_equal(latents.index, ds.test_index)
    assert np.array_equal(latents.labels, ds.labels[ds.test_index])
    mu, logvar = model.encode(torch.tensor(ds.images[ds.test_index]))
    assert np.allclose(latents.mu, mu.detach().numpy(), atol=1e-6)
    assert len(encode_dataset(model, ds, "all").index) == 50


def test_active_units_count_dimensions_that_vary():
    rng = np.random.default_rng(0)
    mu = np.concatenate([rng.normal(0, 1, (500, 3)), rng.normal(0, 0.01, (500, 2))], axis=1)
    assert count_active_units(mu) == 3
