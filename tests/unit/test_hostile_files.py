"""Hostile and malformed files: every reader either loads a file or raises one ValueError, and the budgets hold
before the work they limit. Property-based (hypothesis) over the zip, npz and safetensors readers."""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from explorer.checkpoint import CheckpointError, checkpoint_bytes, load_checkpoint
from explorer.config import ModelConfig
from explorer.data import DataLimits, ImageDataset
from explorer.datafiles import load_dataset_file
from explorer.model import create_model

FUZZ = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def png(array: np.ndarray, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG", **options)
    return buffer.getvalue()


def zipped(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, payload in entries.items():
            archive.writestr(name, payload)
    return buffer.getvalue()


def npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def read(payload: bytes, name: str, limits: DataLimits = DataLimits()) -> ImageDataset:  # noqa: B008 - DataLimits is a frozen dataclass of ints: an immutable shared default
    return load_dataset_file(io.BytesIO(payload), name, limits=limits)


GOOD_ZIP = zipped({f"{label}/{i}.png": png(np.full((8, 8), 40 * i, np.uint8)) for label in "ab" for i in range(3)})
GOOD_NPZ = npz(images=np.arange(6 * 8 * 8, dtype=np.uint8).reshape(6, 8, 8), labels=np.array([0, 1, 0, 1, 2, 2]))


# --- the cases a hostile visitor tried ----------------------------------------------------------------------------


def _corrupt_first_crc(payload: bytes) -> bytes:
    """A wrong CRC in the first local header and in the directory: zipfile notices only when it reads the data."""
    data = bytearray(payload)
    for signature, offset in ((b"PK\x03\x04", 14), (b"PK\x01\x02", 16)):
        at = data.index(signature) + offset
        data[at] ^= 0xFF
    return bytes(data)


def _every_header(payload: bytes, local: int, central: int, change) -> bytes:
    """`change(data, at)` applied at a field of every local header (offset `local`) and directory entry (`central`)."""
    data = bytearray(payload)
    for signature, offset in ((b"PK\x03\x04", local), (b"PK\x01\x02", central)):
        start = 0
        while (at := data.find(signature, start)) >= 0:
            change(data, at + offset)
            start = at + 4
    return bytes(data)


def _set_flag(payload: bytes, bit: int) -> bytes:
    def set_bit(data, at):
        data[at] |= bit

    return _every_header(payload, 6, 8, set_bit)


def _set_method(payload: bytes, method: int) -> bytes:
    def set_method(data, at):
        data[at : at + 2] = struct.pack("<H", method)

    return _every_header(payload, 8, 10, set_method)


@pytest.mark.parametrize("name, payload", [("data.zip", GOOD_ZIP), ("data.npz", GOOD_NPZ)])
def test_a_wrong_crc_is_one_message(name, payload):
    with pytest.raises(ValueError, match=rf"'{name}' .* could not be read: its archive is damaged"):
        read(_corrupt_first_crc(payload), name)


@pytest.mark.parametrize("name, payload", [("data.zip", GOOD_ZIP), ("data.npz", GOOD_NPZ)])
def test_encrypted_entries_are_named(name, payload):
    with pytest.raises(ValueError, match=rf"'{name}' is password-protected; save it without a password"):
        read(_set_flag(payload, 0x1), name)


@pytest.mark.parametrize("name, payload", [("data.zip", GOOD_ZIP), ("data.npz", GOOD_NPZ)])
def test_unsupported_compression_is_named(name, payload):
    with pytest.raises(ValueError, match=rf"'{name}' uses a compression method this app does not read"):
        read(_set_method(payload, 99), name)  # 99: AES, which zipfile does not implement


def test_an_npz_header_claiming_a_giant_array_is_refused_unread():
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False, "shape": (10**9, 28, 28)})
    payload = zipped({"images.npy": header.getvalue() + b"\0" * 100})
    with pytest.raises(ValueError, match=r"damaged: the array 'images' claims \(1000000000, 28, 28\)"):
        read(payload, "giant.npz")


def test_an_npz_over_the_stored_budget_is_refused_before_it_is_read():
    payload = npz(images=np.zeros((300, 28, 28), np.uint8))  # 235 KB of pixels, compressed to almost nothing
    with pytest.raises(ValueError, match=r"holds images shaped \(300, 28, 28\): 0 MB of pixels, over the 0 MB limit"):
        read(payload, "big.npz", DataLimits(max_stored_bytes=100_000))


def test_object_arrays_in_an_npz_are_refused_unread():
    buffer = io.BytesIO()
    np.savez(buffer, images=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match=r"contains Python objects, which are never loaded"):
        read(buffer.getvalue(), "evil.npz")


def test_many_small_pngs_that_decode_large_are_refused_from_their_headers(monkeypatch):
    # The hostile visitor's zip: one-bit PNGs, each a few hundred bytes but megapixels when decoded.
    bits = png(np.zeros((1024, 1024), bool))
    payload = zipped({f"a/{i}.png": bits for i in range(6)})
    assert len(payload) < 20_000
    decoded = []
    monkeypatch.setattr(Image.Image, "load", lambda self: decoded.append(self) or pytest.fail("decoded an image"))
    with pytest.raises(ValueError, match=r"add up to more than 4 million pixels, over the limit per upload"):
        read(payload, "bits.zip", DataLimits(max_decoded_pixels=4 * 2**20))


def test_images_are_resized_one_at_a_time(monkeypatch):
    """Each image is decoded, then resized before the next is decoded: never all full-size at once."""
    payload = zipped({f"a/{i}.png": png(np.full((512, 512), i * 20, np.uint8)) for i in range(5)})
    alive, peak = set(), [0]
    original_resize = Image.Image.resize

    def resize(self, size, *args, **kwargs):
        alive.add(id(self))
        peak[0] = max(peak[0], len(alive))
        result = original_resize(self, size, *args, **kwargs)
        alive.discard(id(self))
        return result

    monkeypatch.setattr(Image.Image, "resize", resize)
    ds = read(payload, "big-images.zip")
    assert ds.image_shape == (1, 64, 64) and ds.images.dtype == np.uint8 and peak[0] == 1


def _with_meta(payload: bytes, meta) -> bytes:
    (size,) = struct.unpack("<Q", payload[:8])
    header = json.loads(payload[8 : 8 + size])
    header["__metadata__"] = meta
    data = json.dumps(header).encode()
    data += b" " * (-len(data) % 8)
    return struct.pack("<Q", len(data)) + data + payload[8 + size :]


@pytest.fixture(scope="module")
def model_bytes() -> bytes:
    model = create_model(ModelConfig(latent_dim=2, hidden_dims=(8,)), (1, 8, 8), 0)
    return checkpoint_bytes(model, dataset="x")


def _meta(payload: bytes) -> dict:
    (size,) = struct.unpack("<Q", payload[:8])
    return json.loads(payload[8 : 8 + size])["__metadata__"]


@pytest.mark.parametrize("change, message", [
    (lambda m: ["not", "an", "object"], r"not one written by VAE Latent Explorer"),
    (lambda m: {**m, "format_version": ["1"]}, r"no readable format version"),
    (lambda m: {**m, "model_config": "[1, 2]"}, r"damaged or inconsistent metadata"),
    (lambda m: {**m, "image_shape": "[1, 1e400, 8]"}, r"damaged or inconsistent metadata"),
    (lambda m: {**m, "num_classes": "1e400"}, r"damaged or inconsistent metadata"),
    (lambda m: {**m, "history": "[" * 100_000 + "]" * 100_000}, r"damaged metadata \(nested too deeply\)"),
    (lambda m: {**m, "label_names": "{\"a\": 1}"}, r"loads|damaged or inconsistent metadata"),
])
def test_metadata_of_the_wrong_type_is_one_message(model_bytes, change, message):
    payload = _with_meta(model_bytes, change(_meta(model_bytes)))
    try:
        load_checkpoint(payload, name="m.safetensors")
    except CheckpointError as error:
        assert "m.safetensors" in str(error)
        assert re.search(message, str(error)), str(error)
    else:
        assert message.startswith("loads")


def test_finite_but_huge_weights_are_refused():
    model = create_model(ModelConfig(latent_dim=16, hidden_dims=(8,)), (1, 8, 8), 0)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.fill_(3e38)
    with pytest.raises(CheckpointError, match=r"outputs overflow to infinity or NaN"):
        load_checkpoint(checkpoint_bytes(model, dataset="x"))


# --- properties: loads, or one clear error, never another exception -----------------------------------------------


def _mutations(payload: bytes):
    """Byte flips, truncations and insertions of a valid file."""
    size = len(payload)
    flip = st.tuples(st.integers(0, size - 1), st.integers(1, 255)).map(
        lambda f: payload[: f[0]] + bytes([payload[f[0]] ^ f[1]]) + payload[f[0] + 1 :])
    flips = st.lists(st.tuples(st.integers(0, size - 1), st.integers(1, 255)), min_size=1, max_size=8).map(
        lambda fs: _apply(payload, fs))
    cut = st.integers(0, size - 1).map(lambda n: payload[:n])
    insert = st.tuples(st.integers(0, size), st.binary(min_size=1, max_size=64)).map(
        lambda f: payload[: f[0]] + f[1] + payload[f[0] :])
    return st.one_of(flip, flips, cut, insert, st.binary(max_size=512))


def _apply(payload: bytes, flips) -> bytes:
    data = bytearray(payload)
    for at, mask in flips:
        data[at] ^= mask
    return bytes(data)


def _loads_or_one_message(load) -> None:
    try:
        load()
    except ValueError as error:
        text = str(error)
        assert text and "\n" not in text and "Traceback" not in text, text


@FUZZ
@given(_mutations(GOOD_ZIP))
def test_zip_reader_loads_or_gives_one_message(payload):
    _loads_or_one_message(lambda: read(payload, "fuzz.zip"))


@FUZZ
@given(_mutations(GOOD_NPZ))
def test_npz_reader_loads_or_gives_one_message(payload):
    _loads_or_one_message(lambda: read(payload, "fuzz.npz"))


@FUZZ
@given(st.data())
def test_safetensors_reader_loads_or_gives_one_message(model_bytes, data):
    payload = data.draw(_mutations(model_bytes))
    _loads_or_one_message(lambda: load_checkpoint(payload, name="fuzz.safetensors"))


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12)


@FUZZ
@given(st.data())
def test_any_metadata_value_loads_or_gives_one_message(model_bytes, data):
    meta = _meta(model_bytes)
    key = data.draw(st.sampled_from(sorted(meta)))
    value = data.draw(JSON)
    meta[key] = json.dumps(value) if data.draw(st.booleans()) else value  # as text, or as the wrong JSON type
    _loads_or_one_message(lambda: load_checkpoint(_with_meta(model_bytes, meta), name="fuzz.safetensors"))
