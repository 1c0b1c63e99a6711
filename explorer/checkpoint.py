"""Checkpoints: one .safetensors file holding the weights, with config and history as JSON metadata.

A checkpoint is data, never code: nothing here unpickles, and every field is checked before a model is built.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import hashlib
import io
import json
import logging
import os
import re
import struct
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO
from collections.abc import Callable

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors

from explorer import __version__
from explorer.config import ModelConfig, TrainConfig
from explorer.cost import ModelCost, model_cost
from explorer.files import reading, write_atomically, write_new
from explorer.data import MAX_CLASSES
from explorer.model import VAE

FORMAT_NAME = "vae-latent-explorer"
FORMAT_VERSION = 1
MAX_CHECKPOINT_BYTES = 512 * 2**20  # ours are a few MB; refuse to read anything absurd
MAX_HEADER_BYTES = 8 * 2**20  # ours hold at most ~3 MB (2,000 history rows of a 128-D model's KL per dimension)
MAX_PARSED_METADATA_BYTES = 48 * 2**20  # the metadata's JSON once parsed, as bounded by `_parsed_size`
MAX_METADATA_DEPTH = 6  # ours nest 4 deep (history -> steps -> column -> a row's KL per dimension)
SAVED_QUOTA_MB = 512  # disk for the models visitors save, all together ($EXPLORER_MODELS_QUOTA_MB overrides)
MAX_HISTORY_ROWS = 2000  # per-step history is thinned to this many rows to keep the header small
BUNDLED_DIR = Path(__file__).resolve().parent.parent / "checkpoints"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # names of saved models: safe as file names
_SAVING = threading.Lock()  # one save at a time in this process: the case-insensitive check, then the link
_log = logging.getLogger(__name__)


class CheckpointError(ValueError):
    """The file is not a checkpoint this app can load; the message says why and what to do."""


@dataclass(frozen=True, eq=False)
class Checkpoint:
    """A loaded model with everything needed to use and describe it."""

    model: VAE
    model_config: ModelConfig
    train_config: TrainConfig | None
    dataset: str  # the data set's name (or file name) it was trained on
    image_shape: tuple[int, int, int]  # (C, H, W)
    label_names: tuple[str, ...]
    history: dict[str, Any] = field(default_factory=dict)  # {"steps": {column: [...]}, "epochs": [...]}
    created: str = ""  # ISO 8601, UTC
    fingerprint: str = ""  # sha256 of the file: identifies the weights for caches
    world_size: int = 1  # processes that trained it (torchrun); 1 for the CLI's and the app's own runs
    payload: bytes = field(default=b"", repr=False)  # the file's bytes, for downloads
    metadata_bytes: int = 0  # what its parsed metadata (history, label names) holds in memory, at most
    data_fingerprint: str = ""  # the fingerprint of the data it was trained on ("" in files from before it was kept)


def _thin(steps: list[dict[str, Any]]) -> dict[str, list]:
    """Per-step metrics as columns, evenly thinned to MAX_HISTORY_ROWS rows (the last row always kept)."""
    if len(steps) > MAX_HISTORY_ROWS:
        stride = len(steps) / MAX_HISTORY_ROWS
        keep = sorted({int(i * stride) for i in range(MAX_HISTORY_ROWS)} | {len(steps) - 1})
        steps = [steps[i] for i in keep]
    columns = ("step", "epoch", "recon", "kl", "beta", "loss", "kl_per_dim")
    return {c: [_short(row[c]) for row in steps] for c in columns if steps and c in steps[0]}


def _short(value):
    """Five significant digits: plenty for a chart, and a third of the JSON of a full float."""
    if isinstance(value, float):
        return float(f"{value:.5g}")
    if isinstance(value, (list, tuple)):
        return [_short(v) for v in value]
    return value


def _metadata(model: VAE, *, dataset: str, label_names: tuple[str, ...] | list[str] = (),
              train_config: TrainConfig | None = None, step_history: list[dict[str, Any]] | None = None,
              world_size: int = 1, data_fingerprint: str = "") -> dict[str, str]:
    steps = step_history or []
    epochs = [
        {k: row[k] for k in ("epoch", "step", "test_elbo", "test_recon", "test_kl")}
        for row in steps
        if row.get("test_recon") is not None
    ]
    return {
        "format": FORMAT_NAME,
        "format_version": str(FORMAT_VERSION),
        "explorer_version": __version__,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "model_config": json.dumps(model.config.to_dict()),
        "train_config": json.dumps(train_config.to_dict() if train_config else None),
        "dataset": dataset,
        "data_fingerprint": data_fingerprint,  # which data exactly: names of uploads are not unique
        "image_shape": json.dumps(list(model.image_shape)),
        "num_classes": str(model.num_classes),
        "label_names": json.dumps(list(label_names)),
        "history": json.dumps({"steps": _thin(steps), "epochs": epochs}),
        "world_size": str(world_size),
    }


def write_checkpoint(handle: BinaryIO, model: VAE, **kwargs) -> None:
    """Write a model as a .safetensors checkpoint to an open file, tensor by tensor: no second copy of the weights
    is made in memory (safetensors' own writer makes one). kwargs: dataset (its name), label_names, train_config,
    step_history, world_size, data_fingerprint."""
    tensors = {name: t.detach().cpu().float().contiguous() for name, t in model.state_dict().items()}
    header: dict[str, Any] = {"__metadata__": _metadata(model, **kwargs)}
    offset = 0
    for name, tensor in tensors.items():
        size = tensor.numel() * tensor.element_size()
        header[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the format aligns the data to 8 bytes
    handle.write(struct.pack("<Q", len(text)) + text)
    for tensor in tensors.values():
        handle.write(memoryview(tensor.numpy()).cast("B"))


def checkpoint_bytes(model: VAE, **kwargs) -> bytes:
    """A model as the bytes of a .safetensors checkpoint (for a download); kwargs as `write_checkpoint`."""
    buffer = io.BytesIO()
    write_checkpoint(buffer, model, **kwargs)
    return buffer.getvalue()


def save_checkpoint(path: str | os.PathLike, model: VAE, **kwargs) -> Path:
    """Write a checkpoint atomically: a temp file in the same folder, then a rename.

    A crash mid-write leaves the old file (or none) under the real name, never half a file.
    """
    path = Path(path)
    if path.suffix != ".safetensors":
        raise ValueError(f"Checkpoints are .safetensors files; name it {path.with_suffix('.safetensors').name!r}.")
    return write_atomically(path, lambda handle: write_checkpoint(handle, model, **kwargs))


def load_checkpoint(source: str | os.PathLike | bytes, name: str | None = None,
                    limit: Callable[[ModelCost], str | None] | None = None) -> Checkpoint:
    """Load a checkpoint from a path or from bytes (an upload); anything else raises CheckpointError, as does a
    model whose cost `limit` objects to (in its words), before its weights are read."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        payload, name = bytes(source), name or "the uploaded file"
    else:
        path = Path(source)
        name = name or path.name
        if not path.is_file():
            raise CheckpointError(f"No checkpoint file at {str(path)!r}.")
        if path.stat().st_size > MAX_CHECKPOINT_BYTES:
            raise CheckpointError(f"{name} is larger than any checkpoint of this app; it is not loaded.")
        payload = path.read_bytes()
    with reading(name, CheckpointError):
        return _parse(payload, name, limit)


def _header(payload: bytes, name: str) -> dict[str, Any]:
    """Read the safetensors JSON header by hand, naming the common wrong files (pickles, zips) clearly."""
    if payload[:2] in (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05") or payload[:4] == b"PK\x03\x04":
        raise CheckpointError(
            f"{name} is a pickle or torch.save file. It was not opened, because unpickling can run code. "
            "Load a .safetensors checkpoint made by this app (python -m explorer train, or the Train page)."
        )
    if len(payload) < 8:
        raise CheckpointError(f"{name} is too short to be a checkpoint; it may be empty or truncated.")
    (size,) = struct.unpack("<Q", payload[:8])
    if size > len(payload) - 8:
        raise CheckpointError(f"{name} is not a complete .safetensors file; it may be truncated or of another format.")
    if size > MAX_HEADER_BYTES:
        raise CheckpointError(f"{name}'s description is {size / 2**20:,.0f} MB, more than any checkpoint of this app "
                              f"holds ({MAX_HEADER_BYTES // 2**20} MB at most); it is not loaded.")
    try:
        header = json.loads(payload[8 : 8 + size])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CheckpointError(f"{name} is not a .safetensors file (its header is not readable).") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{name} is not a .safetensors file (its header is not a table).")
    return header


def _ours(header: dict, name: str) -> dict:
    """The metadata of a checkpoint this app wrote, at a format version it reads; CheckpointError otherwise."""
    meta = header.get("__metadata__") or {}
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise CheckpointError(
            f"{name} is a .safetensors file, but not one written by VAE Latent Explorer (its metadata lacks the "
            "model description); train a model with this app or its CLI."
        )
    try:
        version = int(meta["format_version"])
    except (KeyError, ValueError, TypeError, OverflowError):
        raise CheckpointError(f"{name} has no readable format version; it is damaged.") from None
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{name} was written by a newer VAE Latent Explorer (format {version}; this one reads up to "
            f"{FORMAT_VERSION}); update the app to load it."
        )
    return meta


def _described(meta: dict, name: str) -> dict[str, Any]:
    """What the metadata says, parsed and checked, with a shape-only model of it on the meta device (checks the
    description without allocating what it claims)."""
    try:
        train_values = json.loads(meta.get("train_config") or "null")
        found = dict(
            model_config=ModelConfig.from_dict(json.loads(meta["model_config"])),
            train_config=TrainConfig.from_dict(train_values) if train_values else None,
            image_shape=tuple(int(s) for s in json.loads(meta["image_shape"])),
            num_classes=int(meta.get("num_classes", "0")),
            label_names=tuple(str(s) for s in json.loads(meta.get("label_names") or "[]")),
            history=json.loads(meta.get("history") or "{}"),
            world_size=int(meta.get("world_size", "1")),  # absent from files written before distributed training
        )
        if len(found["label_names"]) > MAX_CLASSES:
            raise ValueError(f"{len(found['label_names']):,} label names, more than the {MAX_CLASSES:,} classes a "
                             "model has")
        if found["world_size"] < 1:
            raise ValueError(f"world_size {found['world_size']}")
        with torch.device("meta"):
            found["skeleton"] = VAE(found["model_config"], found["image_shape"], found["num_classes"])
        return found
    except RecursionError:
        raise CheckpointError(f"{name} has damaged metadata (nested too deeply); it cannot be loaded.") from None
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as error:
        raise CheckpointError(f"{name} has damaged or inconsistent metadata ({_short_reason(error)}); it cannot be "
                              "loaded.") from None


def _weights(payload: bytes, header: dict, skeleton: VAE, name: str) -> VAE:
    """The file's weights in the skeleton, once their names, shapes and dtypes match it and all are finite."""
    expected = {k: list(t.shape) for k, t in skeleton.state_dict().items()}
    found = {k: v.get("shape") for k, v in header.items() if k != "__metadata__" and isinstance(v, dict)}
    wrong = sorted(k for k in expected.keys() | found.keys() if expected.get(k) != found.get(k))
    wrong += sorted(k for k, v in header.items() if isinstance(v, dict) and k in expected and v.get("dtype") != "F32")
    if wrong:
        raise CheckpointError(
            f"{name}'s weights do not match the model its metadata describes ({', '.join(wrong[:3])}"
            f"{' ...' if len(wrong) > 3 else ''}); it cannot be loaded."
        )
    try:
        tensors = load_tensors(payload)
    except (SafetensorError, ValueError, RuntimeError):
        raise CheckpointError(f"{name} has damaged weights; it may be truncated.") from None
    if not all(torch.isfinite(t).all() for t in tensors.values()):
        raise CheckpointError(f"{name} holds NaN or infinite weights; it cannot be used.")
    # The weights go straight into the skeleton: no random initialisation first, which would also draw from
    # the process-wide RNG that another thread may just have seeded to build its own model.
    skeleton.load_state_dict(tensors, assign=True)
    return skeleton.eval()


def _parse(payload: bytes, name: str, limit: Callable[[ModelCost], str | None] | None = None) -> Checkpoint:
    header = _header(payload, name)
    meta = _ours(header, name)
    metadata_bytes = _parsed_size(meta, name)
    found = _described(meta, name)
    reason = limit(model_cost(found["model_config"], found["image_shape"], found["num_classes"])) if limit else None
    if reason:
        raise CheckpointError(f"{name} cannot be used on this server: {reason}")
    model = _weights(payload, header, found["skeleton"], name)
    _check_outputs(model, name)
    history = found["history"]
    return Checkpoint(
        model=model,
        model_config=found["model_config"],
        train_config=found["train_config"],
        dataset=str(meta.get("dataset", "")),
        image_shape=found["image_shape"],
        label_names=found["label_names"],
        history=history if isinstance(history, dict) else {},
        created=str(meta.get("created", "")),
        fingerprint=hashlib.sha256(payload).hexdigest(),
        data_fingerprint=str(meta.get("data_fingerprint", ""))[:64],
        payload=payload,
        world_size=found["world_size"],
        metadata_bytes=metadata_bytes,
    )


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')


def _parsed_size(meta: dict[str, Any], name: str) -> int:
    """An upper bound on what the metadata's JSON values hold once parsed, read before any is parsed: a file can
    pack millions of tiny values (`[[],[],...]`, 56 bytes each parsed from 3 characters) into a small header.
    Each value costs at most 64 bytes and a pointer, plus its characters; a file past the bound, or nested
    deeper than ours ever are, is refused."""
    total = 0
    for value in meta.values():
        text = str(value).encode()
        values = 1 + text.count(b",") + text.count(b"[") + text.count(b"{")
        total += 72 * values + len(text)
        brackets = np.frombuffer(_STRING.sub(b"", text), np.uint8)
        steps = (np.isin(brackets, (ord("["), ord("{"))).astype(np.int32)
                 - np.isin(brackets, (ord("]"), ord("}"))).astype(np.int32))
        if steps.size and np.cumsum(steps).max() > MAX_METADATA_DEPTH:
            raise CheckpointError(f"{name} has damaged metadata (nested too deeply); it cannot be loaded.")
    if total > MAX_PARSED_METADATA_BYTES:
        raise CheckpointError(f"{name}'s metadata (its history or label names) would take {total / 2**20:,.0f} MB "
                              f"of memory once read, more than any checkpoint of this app ("
                              f"{MAX_PARSED_METADATA_BYTES // 2**20} MB at most); it is not loaded.")
    return total


def _short_reason(error: Exception) -> str:
    """An exception's words, cut to one short line (metadata can be megabytes)."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text if len(text) <= 160 else text[:157] + "..."


@torch.no_grad()
def _check_outputs(model: VAE, name: str) -> None:
    """Refuse weights that are finite but so large that the model's outputs overflow: such a model would give
    every page NaN maps and blank images, far from the file that caused them."""
    probe = torch.rand((4, *model.image_shape), generator=torch.Generator().manual_seed(0))
    labels = torch.zeros(4, dtype=torch.long) if model.config.conditional else None
    mu, logvar = model.encode(probe, labels)
    decoded = model.decode(mu, labels)
    if not all(torch.isfinite(t).all() for t in (mu, logvar, decoded) if t is not None):
        raise CheckpointError(f"{name}'s weights are so large that the model's outputs overflow to infinity or NaN; "
                              "it cannot be used.")


def bundled_checkpoints() -> dict[str, Path]:
    """The checkpoints shipped with the app, by name (file stem), sorted."""
    return {p.stem: p for p in sorted(BUNDLED_DIR.glob("*.safetensors"))}


def saved_models_dir() -> Path:
    """Where models saved from the app go: $EXPLORER_MODELS_DIR, else checkpoints/saved beside the bundled ones."""
    folder = os.environ.get("EXPLORER_MODELS_DIR")
    return Path(folder) if folder else BUNDLED_DIR / "saved"


def known_checkpoints() -> dict[str, Path]:
    """Every server-side checkpoint by name: the bundled ones, then saved ones (which never shadow a bundled name).

    A saved file whose header is not a checkpoint of this app (damaged, or put there by hand) is left out, so no
    visitor is offered a model that cannot load.
    """
    known = bundled_checkpoints()
    taken = {name.lower() for name in known}
    folder = saved_models_dir()
    if folder.is_dir():
        for path in sorted(folder.glob("*.safetensors")):
            if not NAME_PATTERN.fullmatch(path.stem) or path.stem.lower() in taken:
                _unlisted(str(path))
                continue
            try:
                stat = path.stat()
            except OSError:
                continue
            if _listable(str(path), stat.st_mtime_ns, stat.st_size):
                known[path.stem] = path
                taken.add(path.stem.lower())
    return known


@functools.lru_cache(maxsize=1024)
def _unlisted(path: str) -> None:
    """One log line per file left out of the list for its name."""
    _log.warning("not listing %s: not a name a save makes (hidden, or other characters), or a second file of a "
                 "listed name in another case", path)


@functools.lru_cache(maxsize=1024)
def _listable(path: str, modified_ns: int, size: int) -> bool:
    """Whether a file's header describes a checkpoint of this app (read once per version of the file)."""
    try:
        if size > MAX_CHECKPOINT_BYTES:
            raise CheckpointError("larger than any checkpoint of this app")
        with open(path, "rb") as handle:
            head = handle.read(8)
            length = struct.unpack("<Q", head)[0] if len(head) == 8 else 0
            if length > MAX_HEADER_BYTES:
                raise CheckpointError("its header is too large")
            header = _header(head + handle.read(length), Path(path).name)
        meta = header.get("__metadata__")
        if not (isinstance(meta, dict) and meta.get("format") == FORMAT_NAME):
            raise CheckpointError("it was not written by this app")
        return True
    except (OSError, ValueError, RecursionError) as error:
        _log.warning("not listing %s: %s", path, error)
        return False


def saved_quota_bytes() -> int:
    """The disk space saved models may take together: $EXPLORER_MODELS_QUOTA_MB, else SAVED_QUOTA_MB."""
    try:
        return int(float(os.environ.get("EXPLORER_MODELS_QUOTA_MB", SAVED_QUOTA_MB)) * 2**20)
    except ValueError:
        return SAVED_QUOTA_MB * 2**20


def saved_bytes(folder: Path) -> int:
    """What the files in the saved-models folder take on disk (models, and temp files of saves under way)."""
    total = 0
    for path in folder.iterdir() if folder.is_dir() else ():
        with contextlib.suppress(OSError):
            total += path.stat().st_size if path.is_file() else 0
    return total


def save_new_model(name: str, model: VAE, **kwargs) -> Path:
    """Save a model in the saved-models folder under a new name, within the folder's disk quota, written straight
    from its weights; a ValueError says why not. kwargs as `write_checkpoint`.

    Names are unique regardless of case (a case-insensitive disk would mix them up, and so would people), and the
    file is created exclusively, so two visitors saving one name at once cannot both succeed.
    """
    if not NAME_PATTERN.fullmatch(name):
        raise ValueError(f"{name!r} is not a usable name. Use 1 to 64 letters, digits, '-', '_' or '.', starting "
                         "with a letter or digit.")
    folder = saved_models_dir()
    size = sum(t.numel() * 4 for t in model.state_dict().values()) + MAX_HEADER_BYTES // 8  # header: ~1 MB at most
    with _SAVING:
        names = [*bundled_checkpoints(), *(p.stem for p in folder.glob("*.safetensors"))]
        existing = {n.lower(): n for n in names}.get(name.lower())
        if existing is not None:
            case = " (names count as the same in any case)" if existing != name else ""
            raise ValueError(f"A model named {existing!r} already exists{case}; choose another name.")
        used, quota = saved_bytes(folder), saved_quota_bytes()
        if used + size > quota:
            raise ValueError(f"The server's space for saved models is full ({used / 2**20:,.0f} of "
                             f"{quota / 2**20:,.0f} MB used, and this model needs {size / 2**20:,.1f} MB); download "
                             "the model instead, and load it from the sidebar when you need it.")
        try:
            return write_new(folder / f"{name}.safetensors", lambda handle: write_checkpoint(handle, model, **kwargs))
        except FileExistsError:
            raise ValueError(f"A model named {name!r} already exists; choose another name.") from None
