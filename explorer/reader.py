"""An independent judge of what an image shows: a small convolutional network trained on a data set's labels and
known factors (the character a glyph is, whether it is bold, a sprite's rotation), never on a VAE's latents.

It scores what a latent vector does to decoded images (explorer.vectors) and names what each latent dimension
moves (explorer.traversal). Trained once per data set, seeded, and kept in the data cache by the data set's
fingerprint, so a second visitor, or a restarted server, reads it back in a fraction of a second."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save
from torch import nn

from explorer.checkpoint import BUNDLED_DIR
from explorer.data import ImageDataset, data_cache_dir
from explorer.files import write_atomically
from explorer.runtime import seed_everything

STEPS = 400  # batches of 128: 8 passes over the glyphs' training split, and enough for a small data set too
BATCH = 128
SEED = 0
VERSION = 1  # bump when the network or its training changes: older cached readers are then retrained
LABEL = "label"  # the head that reads the class (the character, the digit, the shape)


def _heads(dataset: ImageDataset) -> dict[str, int]:
    """Each output head's size: one logit per class or level, 1 for a quantity."""
    heads = {LABEL: dataset.num_classes} if dataset.labels is not None and dataset.num_classes > 1 else {}
    for factor in dataset.factors:
        heads[factor.name] = len(factor.levels) if factor.categorical else 1
    return heads


class _Net(nn.Module):
    def __init__(self, channels: int, side: int, heads: dict[str, int]):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * (side // 4) ** 2, 128), nn.ReLU(),
        )
        self.heads = nn.ModuleDict({name: nn.Linear(128, size) for name, size in heads.items()})

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.body(x)
        return {name: head(features) for name, head in self.heads.items()}


@dataclass(frozen=True, eq=False)
class Reader:
    """A trained judge: `read` gives, per head, the class/level probabilities or the predicted quantity."""

    net: _Net
    scale: dict[str, tuple[float, float]]  # a quantity's mean and std: the head predicts it standardised
    accuracy: dict[str, float]  # on the data's test split: a class's share read right, a quantity's R^2

    @torch.no_grad()
    def read(self, images: np.ndarray, batch: int = 1000) -> dict[str, np.ndarray]:
        """images (N, C, H, W) in [0, 1] -> {head: (N, K) probabilities, or (N,) the quantity}."""
        out: dict[str, list[np.ndarray]] = {name: [] for name in self.net.heads}
        self.net.eval()
        for start in range(0, len(images), batch):
            x = torch.as_tensor(np.asarray(images[start : start + batch], np.float32))
            for name, value in self.net(x).items():
                if name in self.scale:
                    mean, std = self.scale[name]
                    out[name].append(value[:, 0].numpy() * std + mean)
                else:
                    out[name].append(torch.softmax(value, dim=1).numpy())
        return {name: np.concatenate(parts) for name, parts in out.items()}


def _targets(dataset: ImageDataset,
             heads: dict[str, int]) -> tuple[dict[str, np.ndarray], dict[str, tuple[float, float]]]:
    targets, scale = {}, {}
    for name in heads:
        if name == LABEL:
            targets[name] = dataset.labels
            continue
        factor = dataset.factor(name)
        if factor.categorical:
            targets[name] = factor.values
        else:
            mean, std = float(factor.values.mean()), float(factor.values.std()) or 1.0
            scale[name] = (mean, std)
            targets[name] = ((factor.values - mean) / std).astype(np.float32)
    return targets, scale


def _loss(outputs: dict[str, torch.Tensor], targets: dict[str, torch.Tensor], scale) -> torch.Tensor:
    return sum(nn.functional.mse_loss(outputs[n][:, 0], t) if n in scale else nn.functional.cross_entropy(outputs[n], t)
               for n, t in targets.items())


def _accuracy(reader: Reader, dataset: ImageDataset) -> dict[str, float]:
    rows = dataset.test_index
    read = reader.read(dataset.pixels(rows))
    targets, _ = _targets(dataset, {name: 0 for name in read})
    result = {}
    for name, value in read.items():
        if name in reader.scale:
            truth = dataset.factor(name).values[rows]
            result[name] = float(1 - ((value - truth) ** 2).mean() / truth.var()) if truth.var() > 0 else 1.0
        else:
            result[name] = float((value.argmax(axis=1) == targets[name][rows]).mean())
    return result


def _batches(rows: np.ndarray, steps: int, rng: np.random.Generator):
    """`steps` batches of rows, drawn pass after pass through seeded shuffles."""
    order = np.zeros(0, np.int64)
    for _ in range(steps):
        if len(order) < min(BATCH, len(rows)):
            order = np.concatenate([order, rng.permutation(rows)])
        batch, order = order[:BATCH], order[BATCH:]
        yield batch


def train_reader(dataset: ImageDataset, steps: int = STEPS, progress=None) -> Reader:
    """Train on the training split (seeded); `progress(fraction)` is called every 50 steps."""
    heads = _heads(dataset)
    if not heads:
        raise ValueError(f"{dataset.name} has no labels or known factors for a reader to learn.")
    seed_everything(SEED)
    c, h, w = dataset.image_shape
    net = _Net(c, min(h, w), heads)
    targets, scale = _targets(dataset, heads)
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
    net.train()
    for step, batch in enumerate(_batches(dataset.train_index, steps, np.random.default_rng(SEED)), start=1):
        loss = _loss(net(torch.as_tensor(dataset.pixels(batch))),
                     {n: torch.as_tensor(t[batch]) for n, t in targets.items()}, scale)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if progress is not None and (step % 50 == 0 or step == steps):
            progress(step / steps)
    reader = Reader(net, scale, {})
    return Reader(net, scale, _accuracy(reader, dataset))


BUNDLED_READERS = BUNDLED_DIR / "readers"  # trained ahead for the built-in data sets: no visitor waits for them


def _cached_path(dataset: ImageDataset) -> Path:
    return data_cache_dir() / "readers" / f"{dataset.fingerprint[:32]}-v{VERSION}.safetensors"


def _load(path: Path, dataset: ImageDataset) -> Reader:
    """A reader written by save_reader, if it was trained on exactly this data set (by fingerprint) and version."""
    with safe_open(path, "pt") as handle:
        meta = json.loads(handle.metadata()["reader"])
    if meta.get("fingerprint") != dataset.fingerprint or meta.get("version") != VERSION:
        raise ValueError("trained on other data, or by another version")
    c, h, w = dataset.image_shape
    net = _Net(c, min(h, w), _heads(dataset))
    net.load_state_dict(load_file(path))
    return Reader(net, {name: tuple(v) for name, v in meta["scale"].items()}, meta["accuracy"])


def save_reader(reader: Reader, dataset: ImageDataset, path: Path) -> Path:
    meta = {"fingerprint": dataset.fingerprint, "version": VERSION, "scale": reader.scale, "accuracy": reader.accuracy}
    return write_atomically(path, save(reader.net.state_dict(), metadata={"reader": json.dumps(meta)}))


@functools.lru_cache(maxsize=4)  # keyed by the data set object; its fingerprint keys the files
def reader_for(dataset: ImageDataset) -> Reader:
    """The data set's reader: the bundled one, else one trained before on this server, else trained now and kept."""
    for path in (BUNDLED_READERS / f"{dataset.name}.safetensors", _cached_path(dataset)):
        try:
            return _load(path, dataset)
        except (OSError, ValueError, KeyError, RuntimeError, TypeError, SafetensorError):
            continue  # absent, or for other data: try the next, then train
    reader = train_reader(dataset)
    try:
        save_reader(reader, dataset, _cached_path(dataset))
    except OSError:
        pass  # a read-only cache only costs training it again
    return reader


def main() -> None:
    """Train the built-in data sets' readers ahead, into checkpoints/readers (the bundled ones' maker)."""
    import argparse

    from explorer.datafiles import load_dataset

    parser = argparse.ArgumentParser(description="Train a built-in data set's reader and bundle it.")
    parser.add_argument("data", nargs="+")
    for name in parser.parse_args().data:
        dataset = load_dataset(name)
        reader = train_reader(dataset)
        path = save_reader(reader, dataset, BUNDLED_READERS / f"{name}.safetensors")
        print(f"{path}: " + ", ".join(f"{head} {value:.3f}" for head, value in reader.accuracy.items()))


if __name__ == "__main__":
    main()
