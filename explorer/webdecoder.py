"""A model's decoder as plain data for the browser: layer shapes in a JSON header and float32 weights, with a numpy
forward pass that runs exactly the steps the browser runs (so what the page draws while dragging is checked here).

Payload: 4 bytes (little-endian uint32) header length, the JSON header, zero padding to a multiple of 4, then every
layer's weights as little-endian float32, at the offsets (in floats) the header gives. The header holds only numbers
and fixed words made here: nothing from a user's file goes into it.
"""

from __future__ import annotations

import json
import struct

import numpy as np
import torch

from explorer.model import VAE

FORMAT = "vae-decoder-1"


def _add(blobs: list[np.ndarray], array) -> int:
    """Append an array to the payload's floats; its offset, in floats."""
    offset = sum(b.size for b in blobs)
    blobs.append(np.ascontiguousarray(np.asarray(array, np.float32)).ravel())
    return offset


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().cpu().float().numpy()


def decoder_payload(model: VAE, label: int | None = None, view: dict | None = None) -> bytes:
    """The decoder as bytes (see the module's docstring). A conditional model's label is folded into the first
    layer's bias (its one-hot column of the weights), so the browser decodes z alone. view: what the page asks the
    browser to do with it (numbers and fixed words of the page's own, carried in the header)."""
    blobs: list[np.ndarray] = []
    layers: list[dict] = []
    dense = [m for m in model.decoder_dense if isinstance(m, torch.nn.Linear)] + [model.to_features]
    dim = model.latent_dim
    for i, layer in enumerate(dense):
        weight, bias = _numpy(layer.weight), _numpy(layer.bias)  # (out, in), (out,)
        if i == 0:
            if model.config.conditional:
                bias = bias + weight[:, dim + (0 if label is None else int(label))]
            weight = weight[:, :dim]
        layers.append({"op": "linear", "in": int(weight.shape[1]), "out": int(weight.shape[0]),
                       "relu": i < len(dense) - 1, "w": _add(blobs, weight), "b": _add(blobs, bias)})
    if model.config.arch == "conv":
        layers.append({"op": "reshape", "shape": [int(s) for s in model.feature_shape]})
        sizes = list(reversed(model.conv_sizes[:-1]))
        for i, (deconv, size) in enumerate(zip(model.decoder_convs, sizes)):
            weight = _numpy(deconv.weight)  # (C_in, C_out, k, k)
            layers.append({"op": "deconv", "cin": int(weight.shape[0]), "cout": int(weight.shape[1]),
                           "k": int(weight.shape[2]), "stride": int(deconv.stride[0]), "pad": int(deconv.padding[0]),
                           "out": [int(size[0]), int(size[1])], "relu": i < len(model.decoder_convs) - 1,
                           "w": _add(blobs, weight), "b": _add(blobs, _numpy(deconv.bias))})
    header = {"format": FORMAT, "latent_dim": dim, "image_shape": [int(s) for s in model.image_shape], "layers": layers,
              "view": view or {}}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-(len(text) + 4) % 4)  # the floats start 4-aligned, so the browser can view them in place
    floats = np.concatenate(blobs).astype("<f4")
    return struct.pack("<I", len(text)) + text + floats.tobytes()


def read_payload(payload: bytes) -> tuple[dict, np.ndarray]:
    """The header and the float32 weights of a payload."""
    (length,) = struct.unpack_from("<I", payload)
    header = json.loads(payload[4 : 4 + length])
    return header, np.frombuffer(payload, "<f4", offset=4 + length)


def decode_payload(payload: bytes, z: np.ndarray) -> np.ndarray:
    """Decode (D,) z as the browser does: the same layers in the same order; (C, H, W) in [0, 1]."""
    header, floats = read_payload(payload)
    h = np.asarray(z, np.float32)
    for layer in header["layers"]:
        if layer["op"] == "linear":
            w = floats[layer["w"] : layer["w"] + layer["in"] * layer["out"]].reshape(layer["out"], layer["in"])
            h = w @ h.ravel() + floats[layer["b"] : layer["b"] + layer["out"]]
        elif layer["op"] == "reshape":
            h = h.reshape(layer["shape"])
        else:
            h = _deconv(h, floats, layer)
        if layer.get("relu"):
            h = np.maximum(h, 0)
    return (1 / (1 + np.exp(-h.reshape(header["image_shape"])))).astype(np.float32)


def _deconv(h: np.ndarray, floats: np.ndarray, layer: dict) -> np.ndarray:
    """A transposed convolution as scatter-adds (what the browser's loop does): each input pixel adds its kernel,
    scaled, into the output at stride steps, shifted by the padding."""
    cin, cout, k, stride, pad = (layer[n] for n in ("cin", "cout", "k", "stride", "pad"))
    out_h, out_w = layer["out"]
    w = floats[layer["w"] : layer["w"] + cin * cout * k * k].reshape(cin, cout, k, k)
    full = np.zeros((cout, (h.shape[1] - 1) * stride + k, (h.shape[2] - 1) * stride + k), np.float32)
    for i in range(h.shape[1]):
        for j in range(h.shape[2]):
            full[:, i * stride : i * stride + k, j * stride : j * stride + k] += np.einsum("c,cokl->okl", h[:, i, j], w)
    bias = floats[layer["b"] : layer["b"] + cout]
    return full[:, pad : pad + out_h, pad : pad + out_w] + bias[:, None, None]
