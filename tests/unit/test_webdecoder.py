"""The decoder as data for the browser: its numpy reading (the browser's steps) decodes exactly as the model does."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from explorer.config import ModelConfig
from explorer.model import create_model
from explorer.webdecoder import (
    FORMAT, Blob, bundle, decode_payload, decoder_blob, decoder_payload, read_bundle, read_payload, rows_blob,
)

CASES = {
    "mlp 8x8": (ModelConfig(latent_dim=3, hidden_dims=(32, 16)), (1, 8, 8), 0),
    "conv 28x28": (ModelConfig(arch="conv", latent_dim=2, hidden_dims=(32,), conv_channels=(8, 16)), (1, 28, 28), 0),
    "conditional conv, odd RGB": (ModelConfig(arch="conv", latent_dim=2, hidden_dims=(32,), conv_channels=(4, 8),
                                              conditional=True), (3, 9, 11), 4),
    "autoencoder, no hidden layer": (ModelConfig(kind="ae", latent_dim=2, hidden_dims=()), (1, 8, 8), 0),
}


@pytest.mark.parametrize("config, shape, classes", CASES.values(), ids=CASES.keys())
def test_the_payload_decodes_as_the_model_does(config, shape, classes):
    model = create_model(config, shape, classes, seed=3).eval()
    rng = np.random.default_rng(0)
    for label in ([0, classes - 1] if config.conditional else [None]):
        payload = decoder_payload(model, label)
        for z in rng.normal(0, 2, (3, config.latent_dim)).astype(np.float32):
            labels = torch.tensor([label]) if label is not None else None
            expected = model.decode(torch.from_numpy(z)[None], labels)[0].numpy()
            assert np.allclose(decode_payload(payload, z), expected, atol=1e-5)


def test_the_header_holds_shapes_and_the_pages_view_and_the_floats_start_aligned():
    model = create_model(ModelConfig(latent_dim=2, hidden_dims=(8,)), (1, 8, 8), seed=0)
    payload = decoder_payload(model, view={"mode": "map", "basis": [[1.0, 0.0], [0.0, 1.0]]})
    length = int.from_bytes(payload[:4], "little")
    assert (4 + length) % 4 == 0  # the browser views the floats in place
    header, floats = read_payload(payload)
    assert header["format"] == FORMAT and header["latent_dim"] == 2 and header["image_shape"] == [1, 8, 8]
    assert [layer["op"] for layer in header["layers"]] == ["linear", "linear"]
    assert header["view"] == {"mode": "map", "basis": [[1.0, 0.0], [0.0, 1.0]]}
    assert floats.size == sum(p.numel() for n, p in model.named_parameters()
                              if n.startswith(("decoder", "to_features")))
    assert set(json.loads(payload[4 : 4 + length])) == {"format", "view", "blobs"}


def test_a_bundle_carries_rows_and_values_each_aligned_and_refers_to_what_was_sent():
    rows, mu = np.array([4, 12, 26]), np.arange(6, dtype=np.float32).reshape(3, 2)
    images = np.arange(3 * 5, dtype=np.uint8).reshape(3, 1, 5)  # 15 bytes: the next part must start aligned
    model = create_model(ModelConfig(latent_dim=2, hidden_dims=(8,)), (1, 8, 8), seed=0)
    parts = [rows_blob("images", "i1", rows, images), rows_blob("latents", "l1", rows, mu), decoder_blob(model)]
    payload = bundle({"mode": "map"}, parts)
    header, data = read_bundle(payload)
    assert [e["offset"] % 4 for e in header["blobs"]] == [0, 0, 0]
    assert header["blobs"][0]["meta"] == {"n": 3, "shape": [1, 5]}
    assert np.array_equal(np.frombuffer(data["l1"][:12], "<i4"), rows)
    assert np.array_equal(np.frombuffer(data["l1"][12:], "<f4").reshape(3, 2), mu)
    assert data["i1"][12:] == images.tobytes()
    reference = bundle({"mode": "map"}, [Blob("decoder", "decoder", {}, None)])
    assert read_bundle(reference)[1] == {} and len(reference) < 100  # the weights are not sent again
    assert read_payload(reference) == ({"format": FORMAT, "view": {"mode": "map"}, "ref": "decoder"}, None)
