"""Data by name or path (load_dataset): a built-in set, or a user's data file (.npz of arrays, or .zip of label
folders of images) read into an ImageDataset.

Every size is checked against DataLimits from the file's headers before the work it would cost, and any failure
leaves as one ValueError that says what is wrong (explorer.files.reading).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import zipfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import numpy as np

from explorer.data import (BUILTIN_DATASETS, MIN_SIDE, DataLimits, ImageDataset, builtin_dataset, make_dataset,
                           to_image_array)
from explorer.files import reading

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
IMAGE_FORMATS = ("PNG", "JPEG")
ZIP_TARGET_SIDE = 64  # a zip's images are resized to their most common size, at most this on the long side
_READABLE_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)
_MAX_NPY_HEADER = 10_000  # numpy's own default: longer headers are refused unread
MAX_NPZ_ARRAYS = 100  # images, labels, names and a few more; thousands of entries only cost time to list
_IMAGE_KEYS = ("images", "x", "X", "x_train", "data", "arr_0")
_LABEL_KEYS = ("labels", "y", "Y", "y_train", "targets", "arr_1")


def load_dataset(name_or_path: str | os.PathLike, *, limits: DataLimits = DataLimits()) -> ImageDataset:  # noqa: B008 - DataLimits is a frozen dataclass of ints: an immutable shared default
    """A built-in data set by name, or a user's .npz / .zip file by path."""
    key = str(name_or_path)
    if key in BUILTIN_DATASETS:
        return builtin_dataset(key)
    path = Path(key)
    if not path.is_file():
        raise ValueError(
            f"No data set or file named {key!r}. Built-ins: {', '.join(BUILTIN_DATASETS)}; "
            "or give the path of a .npz or .zip file."
        )
    with open(path, "rb") as handle:
        return load_dataset_file(handle, path.name, limits=limits)


def load_dataset_file(source: BinaryIO, filename: str, *, limits: DataLimits = DataLimits()) -> ImageDataset:  # noqa: B008 - DataLimits is a frozen dataclass of ints: an immutable shared default
    """A user's .npz or .zip from an open binary file (an upload, say); the name picks the format."""
    suffix = Path(filename).suffix.lower()
    if suffix not in (".npz", ".zip"):
        raise ValueError(f"{filename!r} is neither a .npz array file nor a .zip of image folders; use one of those.")
    kind = ".npz file" if suffix == ".npz" else "zip of images"
    with reading(f"{filename!r} (a {kind})"):
        archive = _open_zip(source, filename, limits, kind)
        if suffix == ".npz":
            return _load_npz(archive, filename, limits)
        return _load_image_zip(archive, filename, limits)


def _open_zip(source: BinaryIO, filename: str, limits: DataLimits, kind: str) -> zipfile.ZipFile:
    """The archive, once its directory shows nothing it could not read within the limits."""
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise ValueError(f"{filename!r} is not a readable {kind}; it may be damaged or of another format.") from None
    infos = archive.infolist()
    if any(info.flag_bits & 0x1 for info in infos):
        raise ValueError(f"{filename!r} is password-protected; save it without a password.")
    if any(info.compress_type not in _READABLE_METHODS for info in infos):
        raise ValueError(f"{filename!r} uses a compression method this app does not read; save it with standard "
                         "(deflate) compression.")
    # The sizes its directory declares: zipfile never returns more than an entry declares, so these bound the work.
    expanded = sum(info.file_size for info in infos)
    if expanded > limits.max_uncompressed_bytes:
        raise ValueError(
            f"{filename!r} expands to {expanded / 2**20:,.0f} MB, over the "
            f"{limits.max_uncompressed_bytes / 2**20:,.0f} "
            "MB limit; use fewer or smaller images."
        )
    return archive


# ---------------------------------------------------------------------------------------------------------------
# .npz


@contextlib.contextmanager
def _array_of(filename: str, key: str):
    """Around numpy reading one array of an .npz: its complaints about a damaged or hostile header (which quote the
    header, or advise trusting the file with allow_pickle) become one message in our words."""
    try:
        yield
    except (ValueError, SyntaxError):
        raise ValueError(f"{filename!r} holds an array {key[:60]!r} that is not a plain numpy array: its header is "
                         "damaged or holds something else. Save plain numeric arrays with "
                         "numpy.savez(file, images=..., labels=...).") from None


def _npy_header(archive: zipfile.ZipFile, info: zipfile.ZipInfo, filename: str) -> tuple[tuple[int, ...], np.dtype]:
    """An .npz member's shape and dtype, read from its header without reading its data."""
    with archive.open(info) as member, _array_of(filename, info.filename[:-4]):
        version = np.lib.format.read_magic(member)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read(member, max_header_size=_MAX_NPY_HEADER)
    return tuple(int(s) for s in shape), dtype


def _check_npz(archive: zipfile.ZipFile, filename: str) -> dict[str, tuple]:
    """Every array's (shape, dtype) by key, refused before loading if it holds objects or more than it can."""
    headers = {}
    members = [info for info in archive.infolist() if info.filename.endswith(".npy")]
    if len(members) > MAX_NPZ_ARRAYS:
        raise ValueError(f"{filename!r} holds {len(members):,} arrays; save the images (and labels) alone, with "
                         "numpy.savez(file, images=..., labels=...).")
    for info in members:
        shape, dtype = _npy_header(archive, info, filename)
        if dtype.hasobject:
            raise ValueError(
                f"{filename!r} contains Python objects, which are never loaded (they could run code); "
                "save plain numeric arrays with numpy.savez."
            )
        if int(np.prod(shape, dtype=object)) * dtype.itemsize > info.file_size:
            raise ValueError(f"{filename!r} is damaged: the array {info.filename[:-4]!r} claims {shape}, more data "
                             "than the file holds.")
        headers[info.filename[:-4]] = (shape, dtype)
    return headers


def _load_npz(archive: zipfile.ZipFile, filename: str, limits: DataLimits) -> ImageDataset:
    headers = _check_npz(archive, filename)
    keys = list(headers)
    image_key = next((k for k in _IMAGE_KEYS if k in keys), keys[0] if len(keys) == 1 else None)
    if image_key is None:
        raise ValueError(f"{filename!r} holds arrays {keys[:10]}; name the image array 'images' (and the labels "
                         "'labels').")
    limits.check_stored(headers[image_key][0], filename)
    label_key = next((k for k in _LABEL_KEYS if k in keys and k != image_key), None)
    images = _npz_array(archive, image_key, filename)
    labels = _npz_array(archive, label_key, filename) if label_key else None
    names = _npz_array(archive, "label_names", filename) if "label_names" in keys else None
    return make_dataset(Path(filename).stem, images, labels, names, limits=limits)


def _npz_array(archive: zipfile.ZipFile, key: str, filename: str) -> np.ndarray:
    with archive.open(key + ".npy") as member, _array_of(filename, key):
        return np.lib.format.read_array(member, allow_pickle=False, max_header_size=_MAX_NPY_HEADER)


# ---------------------------------------------------------------------------------------------------------------
# .zip of label folders


def _safe_member(name: str, filename: str) -> PurePosixPath:
    """A zip entry's path, refused if it could escape the archive's folder (zip slip): absolute, through '..', or
    from a drive ('C:/'). Entries are never written to disk, and a folder's name is only a label, so a ':' inside
    one ('a:b/0/1.png') is kept."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and re.fullmatch(r"[A-Za-z]:", path.parts[0])):
        raise ValueError(
            f"{filename!r} has an entry {name!r} that points outside the archive's folder; "
            "re-create the zip from a folder of label folders."
        )
    return path


def _image_entries(archive: zipfile.ZipFile, filename: str,
                   limits: DataLimits) -> list[tuple[PurePosixPath, zipfile.ZipInfo]]:
    entries = []
    for info in archive.infolist():
        path = _safe_member(info.filename, filename)
        hidden = any(part.startswith((".", "__MACOSX")) for part in path.parts)
        if not info.is_dir() and not hidden and path.suffix.lower() in IMAGE_SUFFIXES:
            if len(path.parts) < 2:
                raise ValueError(
                    f"{filename!r} has the image {info.filename!r} outside any folder; put each image in a "
                    "folder named after its label (e.g. cats/1.png)."
                )
            entries.append((path, info))
    if not entries:
        raise ValueError(f"{filename!r} holds no PNG or JPEG images; zip one folder per label with images inside.")
    if len(entries) > limits.max_images:
        raise ValueError(f"{filename!r} holds {len(entries):,} images; the limit is {limits.max_images:,}.")
    return sorted(entries, key=lambda entry: str(entry[0]))


@contextlib.contextmanager
def _image_of(info: zipfile.ZipInfo, filename: str):
    """Around reading one image of a zip: Pillow's failures on it become one message naming it."""
    from PIL import Image, UnidentifiedImageError

    try:
        yield
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValueError(f"The image {info.filename!r} in {filename!r} could not be read; "
                         "replace or remove it.") from None


def _sizes(archive: zipfile.ZipFile, entries, filename: str, limits: DataLimits) -> list[tuple[int, int]]:
    """Every image's (width, height) from its header, checked against the per-image and total pixel budgets
    before any image is decoded (a small PNG can decode to hundreds of MB)."""
    from PIL import Image

    sizes, total = [], 0
    for _, info in entries:
        with (_image_of(info, filename), archive.open(info) as member,
              Image.open(member, formats=IMAGE_FORMATS) as picture):
            width, height = picture.size
        if width * height > limits.max_image_pixels:
            raise ValueError(f"The image {info.filename!r} in {filename!r} is {width}x{height} pixels, too large; "
                             "scale it down first.")
        total += width * height
        if total > limits.max_decoded_pixels:
            raise ValueError(
                f"The images in {filename!r} add up to more than {limits.max_decoded_pixels / 2**20:,.0f} million "
                "pixels, over the limit per upload; scale them down (64 pixels a side is plenty here) or use fewer."
            )
        sizes.append((width, height))
    return sizes


def _load_image_zip(archive: zipfile.ZipFile, filename: str, limits: DataLimits) -> ImageDataset:
    """Each image decoded and resized to the common size at once, so only one full-size image is held at a time."""
    from PIL import Image

    entries = _image_entries(archive, filename, limits)
    size = _common_size(_sizes(archive, entries, filename, limits))
    pictures, labels = [], []
    for path, info in entries:
        with _image_of(info, filename):
            with archive.open(info) as member:
                payload = member.read()  # at most the declared size, which the directory check bounded
            with Image.open(io.BytesIO(payload), formats=IMAGE_FORMATS) as picture:  # the header _sizes checked
                picture.draft(None, size)  # JPEG decodes at a fraction of full size when it is much larger
                flat = _flatten(picture)
                pictures.append(np.asarray(flat if flat.size == size else flat.resize(size, Image.Resampling.LANCZOS)))
        labels.append(path.parts[-2])
    if any(p.ndim == 3 for p in pictures):  # some colour: every image gets three channels
        pictures = [p if p.ndim == 3 else np.repeat(p[..., None], 3, axis=2) for p in pictures]
    array = np.stack(pictures)
    if array.ndim == 4 and (array[..., 0] == array[..., 1]).all() and (array[..., 1] == array[..., 2]).all():
        array = array[..., :1]  # colour files that are all grey: keep one channel
    return make_dataset(Path(filename).stem, array, np.asarray(labels), limits=limits)


def _flatten(picture):
    """Any Pillow mode -> L (grey) or RGB; transparent pixels go white (drawings are often strokes on transparency)."""
    from PIL import Image

    if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
        rgba = picture.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return picture.convert("L" if picture.mode in ("1", "L", "I", "I;16", "F") else "RGB")


def _common_size(sizes: list[tuple[int, int]]) -> tuple[int, int]:
    """The most common (width, height), scaled down to fit ZIP_TARGET_SIDE on its long side."""
    values, counts = np.unique(np.asarray(sizes), axis=0, return_counts=True)
    width, height = (int(v) for v in values[np.argmax(counts)])
    scale = min(1.0, ZIP_TARGET_SIDE / max(width, height))
    return max(MIN_SIDE, round(width * scale)), max(MIN_SIDE, round(height * scale))


# ---------------------------------------------------------------------------------------------------------------
# Images to score against a model

MAX_SCORED_IMAGES = 500  # per upload: a handful the page scores while its visitor waits


def images_for_model(files: list[tuple[str, BinaryIO]], image_shape: tuple[int, int, int], *,
                     limits: DataLimits = DataLimits()) -> tuple[list[str], np.ndarray]:  # noqa: B008 - DataLimits is a frozen dataclass of ints: an immutable shared default
    """PNG/JPEG files, each converted to the model's channels and resized to its size, or one .npz of images of
    exactly its shape -> (a name per image, (N, C, H, W) uint8). Any problem is one ValueError naming the file."""
    names, arrays = [], []
    for filename, source in files:
        suffix = Path(filename).suffix.lower()
        with reading(repr(filename)):
            if suffix == ".npz":
                images = _npz_images(source, filename, image_shape, limits)
                names += [f"{filename}[{i}]" for i in range(len(images))]
            elif suffix in IMAGE_SUFFIXES:
                images = _one_image(source, filename, image_shape, limits)[None]
                names.append(filename)
            else:
                raise ValueError(f"{filename!r} is not a PNG, JPEG or .npz file; upload images or an .npz of them.")
        arrays.append(images)
        if len(names) > MAX_SCORED_IMAGES:
            raise ValueError(f"That is more than {MAX_SCORED_IMAGES} images; score them in smaller batches, or all "
                             "of them with 'python -m explorer score'.")
    if not arrays:
        raise ValueError("No files to score.")
    return names, np.concatenate(arrays)


def _npz_images(source: BinaryIO, filename: str, image_shape, limits: DataLimits) -> np.ndarray:
    archive = _open_zip(source, filename, limits, ".npz file")
    headers = _check_npz(archive, filename)
    key = next((k for k in _IMAGE_KEYS if k in headers), next(iter(headers), None))
    if key is None:
        raise ValueError(f"{filename!r} holds no arrays; save the images with numpy.savez(file, images=...).")
    limits.check_stored(headers[key][0], filename)
    images = to_image_array(_npz_array(archive, key, filename))
    if images.shape[1:] != tuple(image_shape):
        raise ValueError(f"{filename!r} holds images shaped {images.shape[1:]} (C, H, W), but the model takes "
                         f"{tuple(image_shape)}; save them at that size, or upload them as PNG files to be resized.")
    return images


def _one_image(source: BinaryIO, filename: str, image_shape, limits: DataLimits) -> np.ndarray:
    """One picture as (C, H, W) uint8 of the model's shape: grey or RGB as the model is, resized to its size."""
    from PIL import Image

    channels, height, width = image_shape
    try:
        opened = Image.open(source, formats=IMAGE_FORMATS)
    except Image.DecompressionBombError:  # Pillow's own cap (~179 million pixels), before ours can be checked
        raise ValueError(f"{filename!r} is far too large to read; scale it down to the model's "
                         f"{width}x{height}.") from None
    with opened as picture:
        if picture.size[0] * picture.size[1] > limits.max_image_pixels:
            raise ValueError(f"{filename!r} is {picture.size[0]}x{picture.size[1]} pixels, too large; scale it down.")
        picture.draft(None, (width, height))
        flat = _flatten(picture).convert("L" if channels == 1 else "RGB")
        if flat.size != (width, height):
            flat = flat.resize((width, height), Image.Resampling.LANCZOS)
        array = np.asarray(flat)
    return array[None] if channels == 1 else array.transpose(2, 0, 1)
