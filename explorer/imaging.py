"""Turning image arrays into things people look at: enlarged pixels, strips, grids, PNG and GIF bytes."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def to_uint8(images: np.ndarray) -> np.ndarray:
    """(N, C, H, W) or (C, H, W) floats in [0, 1] -> (N, H, W, C) / (H, W, C) uint8; grey keeps C=1 squeezed."""
    array = np.clip(np.asarray(images) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    array = np.moveaxis(array, -3, -1)  # channels last
    return array[..., 0] if array.shape[-1] == 1 else array


def enlarge(image: np.ndarray, size: int) -> np.ndarray:
    """Nearest-neighbour upscale so the longer side is about `size` pixels: crisp pixels, no browser blur."""
    scale = max(1, round(size / max(image.shape[0], image.shape[1])))
    return np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)


def tile(images: np.ndarray, columns: int, pad: int = 2, background: int = 255) -> np.ndarray:
    """(N, H, W[, C]) uint8 -> one mosaic image, row-major, `columns` wide, separated by `pad` pixels."""
    n, h, w = images.shape[:3]
    rows = -(-n // columns)
    shape = (rows * (h + pad) - pad, columns * (w + pad) - pad, *images.shape[3:])
    mosaic = np.full(shape, background, np.uint8)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        mosaic[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = image
    return mosaic


def png_bytes(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def gif_bytes(frames: np.ndarray, frame_ms: int = 120, bounce: bool = True) -> bytes:
    """An animated, looping GIF of (N, H, W[, C]) uint8 frames; bounce plays it forth and back."""
    sequence = list(frames) + (list(frames[-2:0:-1]) if bounce and len(frames) > 2 else [])
    pictures = [Image.fromarray(f).convert("RGB" if f.ndim == 3 else "L") for f in sequence]
    buffer = io.BytesIO()
    pictures[0].save(buffer, format="GIF", save_all=True, append_images=pictures[1:], duration=frame_ms, loop=0)
    return buffer.getvalue()
