"""Writing files safely: whole or not at all."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import numpy as np


def write_atomically(path: str | os.PathLike, payload: bytes) -> Path:
    """Write to a temp file in the same folder, flush it to disk, then rename it into place.

    A crash mid-write leaves the old file (or none) under the real name, never half a file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False)
    try:
        with handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, 0o644)  # temp files are private (0600); these are ordinary files
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return path


def npz_bytes(**arrays: np.ndarray) -> bytes:
    """Plain arrays as the bytes of an .npz file (loadable with allow_pickle=False)."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()
