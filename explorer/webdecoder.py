"""What the browser needs to draw without asking the server: a model's decoder as plain data (layer shapes and
float32 weights, with a numpy forward pass that runs exactly the steps the browser runs, so what the page draws
while dragging is checked here), and a split's latent means and images, bundled with the page's view (see bundle).
A blob sent once is referred to by its key after that. The header holds numbers, fixed words made here and group
names (checked by explorer.groups.check_name); the browser shows text only as text.
"""

from __future__ import annotations

import json
import struct
from typing import NamedTuple

import numpy as np
import torch

from explorer.model import VAE

FORMAT = "vae-bundle-1"


def _add(blobs: list[np.ndarray], array) -> int:
    """Append an array to the payload's floats; its offset, in floats."""
    offset = sum(b.size for b in blobs)
    blobs.append(np.ascontiguousarray(np.asarray(array, np.float32)).ravel())
    return offset


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().cpu().float().numpy()


class Blob(NamedTuple):
    """One part of a bundle for the browser: a decoder, a split's latent means or its images. data None: a
    reference to a part the browser already holds under this key (sent earlier in the session)."""

    kind: str  # "decoder" | "latents" | "images"
    key: str
    meta: dict
    data: bytes | None


def decoder_blob(model: VAE, label: int | None = None, key: str = "decoder") -> Blob:
    """The decoder's layer shapes (meta) and float32 weights (data). A conditional model's label is folded into the
    first layer's bias (its one-hot column of the weights), so the browser decodes z alone."""
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
    meta = {"latent_dim": dim, "image_shape": [int(s) for s in model.image_shape], "layers": layers}
    return Blob("decoder", key, meta, np.concatenate(blobs).astype("<f4").tobytes())


def rows_blob(role: str, key: str, rows: np.ndarray, values: np.ndarray) -> Blob:
    """Values (N, ...) of data rows (N,): a split's latent means ("latents", float32) or its images ("images",
    uint8). Data: the rows as int32, then the values; meta: their count and shape."""
    values = np.ascontiguousarray(values, "<f4" if role == "latents" else np.uint8)
    return Blob(role, key, {"n": int(len(rows)), "shape": [int(s) for s in values.shape[1:]]},
                np.asarray(rows, "<i4").tobytes() + values.tobytes())


def bundle(view: dict, blobs: list[Blob] | tuple[Blob, ...] = ()) -> bytes:
    """Bytes for the browser: 4 bytes (little-endian uint32) header length, the JSON header (the page's view, and
    each blob's kind, key, meta and place), zero padding to a multiple of 4, then the blobs' data, each 4-aligned."""
    parts, entries, offset = [], [], 0
    for blob in blobs:
        entry = {"kind": blob.kind, "key": blob.key}
        if blob.data is not None:
            entry |= {"meta": blob.meta, "offset": offset, "length": len(blob.data)}
            padded = blob.data + b"\0" * (-len(blob.data) % 4)
            parts.append(padded)
            offset += len(padded)
        entries.append(entry)
    header = {"format": FORMAT, "view": view, "blobs": entries}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-(len(text) + 4) % 4)  # the data starts 4-aligned, so the browser can view floats in place
    return struct.pack("<I", len(text)) + text + b"".join(parts)


def read_bundle(payload: bytes) -> tuple[dict, dict[str, bytes]]:
    """The header of a bundle and the data it carries, by blob key (references carry none)."""
    (length,) = struct.unpack_from("<I", payload)
    header = json.loads(payload[4 : 4 + length])
    start = 4 + length
    return header, {e["key"]: payload[start + e["offset"] : start + e["offset"] + e["length"]]
                    for e in header["blobs"] if "offset" in e}


def decoder_payload(model: VAE, label: int | None = None, view: dict | None = None) -> bytes:
    """A bundle of the decoder alone, with the page's view (numbers and fixed words of the page's own)."""
    return bundle(view or {}, [decoder_blob(model, label)])


def read_payload(payload: bytes) -> tuple[dict, np.ndarray | None]:
    """The first decoder of a bundle: its meta with the bundle's view, and its float32 weights (None when the
    bundle only refers to a decoder the browser holds)."""
    header, data = read_bundle(payload)
    entry = next(e for e in header["blobs"] if e["kind"] == "decoder")
    if entry["key"] not in data:
        return {"format": header["format"], "view": header["view"], "ref": entry["key"]}, None
    floats = np.frombuffer(data[entry["key"]], "<f4")
    return {"format": header["format"], "view": header["view"], **entry["meta"]}, floats


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
