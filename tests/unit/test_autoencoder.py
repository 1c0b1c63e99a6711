"""The plain autoencoder (kind "ae"): a point per image, reconstruction alone, and everything downstream says what
does not apply instead of failing."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.checkpoint import checkpoint_bytes, load_checkpoint
from explorer.config import ModelConfig, TrainConfig
from explorer.evaluation import evaluate
from explorer.export import latents_csv
from explorer.latent import dimension_weights, encode_dataset
from explorer.model import create_model
from explorer.objectives import elbo_terms, iwae_log_likelihood, reconstruction_nll
from explorer.train import train_steps

SMALL = dict(latent_dim=3, hidden_dims=(32,), conv_channels=(8,))


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_an_autoencoder_encodes_a_point_and_trains_on_reconstruction_alone(tiny_dataset, arch):
    data = tiny_dataset((1, 8, 8), n=48)
    model = create_model(ModelConfig(kind="ae", arch=arch, **SMALL), data.image_shape, seed=1)
    assert model.to_mu_logvar.out_features == 3  # no variance half
    x = torch.tensor(data.pixels(slice(0, 6)))
    mu, logvar = model.encode(x)
    assert mu.shape == (6, 3) and logvar is None
    out = model(x)
    assert torch.equal(out.z, out.mu)  # deterministic: no noise, whatever the generator
    terms = elbo_terms(model, x, generator=torch.Generator().manual_seed(5))
    assert terms.kl.item() == 0 and torch.equal(terms.total, terms.recon)
    assert torch.allclose(terms.recon, reconstruction_nll(model, out.recon_logits, x).mean())
    with pytest.raises(ValueError, match="no bound on log p"):
        iwae_log_likelihood(model, x)
    before = terms.recon.item()
    metrics = list(train_steps(model, data, TrainConfig(epochs=3, batch_size=16, beta=4.0)))
    assert all(m.kl == 0 and m.loss == m.recon for m in metrics)  # beta has nothing to weigh
    assert metrics[-1].epoch_end and metrics[-1].test_elbo is None and metrics[-1].test_recon < before


def test_an_autoencoder_evaluates_encodes_and_exports_what_applies(tiny_dataset):
    data = tiny_dataset((1, 8, 8), n=48)
    model = create_model(ModelConfig(kind="ae", **SMALL), data.image_shape)
    scores = evaluate(model, data, "test", k=10)
    assert scores.elbo is None and scores.kl is None and scores.iwae is None and scores.active_units == -1
    assert scores.recon > 0
    latents = encode_dataset(model, data, "test")
    assert latents.logvar is None and latents.mu.shape == (len(data.test_index), 3)
    weights, what = dimension_weights(latents)
    assert what == "spread" and np.allclose(weights, latents.mu.std(axis=0))
    header = latents_csv(latents, data.label_names).splitlines()[0]
    assert header == "index,label,label_name,mu_0,mu_1,mu_2"


def test_the_kind_survives_a_checkpoint_and_old_checkpoints_read_as_vaes(tiny_dataset):
    data = tiny_dataset((1, 8, 8), n=48)
    model = create_model(ModelConfig(kind="ae", **SMALL), data.image_shape)
    loaded = load_checkpoint(checkpoint_bytes(model, dataset="tiny"), name="ae.safetensors")
    assert loaded.model_config.kind == "ae" and not loaded.model.kind.posterior
    x = torch.tensor(data.pixels(slice(0, 4)))
    assert torch.allclose(loaded.model.encode(x)[0], model.encode(x)[0])
    assert ModelConfig.from_dict({"latent_dim": 3}).kind == "vae"  # checkpoints from before the kind existed
    with pytest.raises(ValueError, match="kind must be one of vae, ae"):
        ModelConfig(kind="gan")
