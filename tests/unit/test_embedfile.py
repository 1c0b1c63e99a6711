"""Stored projections: written by `embed`, used only when they match, placed new points near their neighbours."""

from __future__ import annotations

import numpy as np

from explorer.__main__ import main
from explorer.checkpoint import bundled_checkpoints, load_checkpoint
from explorer.datafiles import load_dataset
from explorer.embedfile import embedding_path, load_embedding, save_embedding
from explorer.latent import encode_dataset
from explorer.projections import neighbour_transform, project


def test_shipped_maps_match_their_bundled_models():
    data = load_dataset("mnist5k")
    for name in ("mnist5k-z2", "mnist5k-z16"):
        path = bundled_checkpoints()[name]
        checkpoint = load_checkpoint(path)
        latents = encode_dataset(checkpoint.model, data, "test")
        for method, params in (("umap", {"n_neighbors": 15, "min_dist": 0.1}), ("tsne", {"perplexity": 30.0})):
            stored = load_embedding(embedding_path(path, "test", method), latents.mu, latents.index,
                                    fingerprint=checkpoint.fingerprint, split="test", method=method, params=params,
                                    seed=0)
            assert stored is not None, (name, method)
            assert stored.points.shape == (1000, 2) and not stored.exact


def test_embed_cli_writes_a_map_the_loader_accepts_only_for_the_same_settings(tmp_path, capsys):
    checkpoint_path = tmp_path / "m.safetensors"
    checkpoint_path.write_bytes(bundled_checkpoints()["mnist5k-z16"].read_bytes())
    assert main(["embed", str(checkpoint_path), "--method", "pca"]) == 0
    assert "wrote the pca map of 1,000 test images" in capsys.readouterr().out
    checkpoint = load_checkpoint(checkpoint_path)
    latents = encode_dataset(checkpoint.model, load_dataset("mnist5k"), "test")
    path = embedding_path(checkpoint_path, "test", "pca")
    args = dict(fingerprint=checkpoint.fingerprint, split="test", method="pca", params={}, seed=0)
    stored = load_embedding(path, latents.mu, latents.index, **args)
    assert np.allclose(stored.points, project(latents.mu, "pca").points, atol=1e-4)
    assert load_embedding(path, latents.mu, latents.index, **{**args, "seed": 1}) is None
    assert load_embedding(path, latents.mu, latents.index, **{**args, "fingerprint": "other"}) is None
    assert load_embedding(path, latents.mu[:10], latents.index[:10], **args) is None
    path.write_bytes(b"garbage")
    assert load_embedding(path, latents.mu, latents.index, **args) is None


def test_neighbour_transform_places_known_points_on_themselves():
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(200, 5)).astype(np.float32)
    points = rng.normal(size=(200, 2)).astype(np.float32)
    assert np.allclose(neighbour_transform(mu, points, mu[:3]), points[:3], atol=1e-3)


def test_save_embedding_is_plain_arrays(tmp_path):
    mu = np.zeros((4, 2), np.float32)
    path = save_embedding(tmp_path / "e.npz", project(mu + np.arange(8).reshape(4, 2), "identity"), np.arange(4),
                          fingerprint="f", split="test", params={}, seed=0)
    with np.load(path, allow_pickle=False) as stored:  # loads without pickle
        assert set(stored.files) == {"points", "index", "meta"}
